/*
 * exec.c: tasks that are child processes.
 *
 * The spawner process (spawn.c, spawner.c) starts each child in its own
 * process group, ends the group on a timeout or a cancel, and reports the
 * exit only once no process of the group is left: background processes a
 * task leaves behind get SIGTERM when its main process exits, SIGKILL
 * after --kill-grace.  Its stdout and stderr are non-blocking pipes read
 * by the loop and capped; fd 3 is the yield pipe.  At the exit what is
 * left in the pipes is read, then the outcome is recorded and the slot
 * released.  The group of the running attempt is recorded with the task,
 * so that a futured started after a crash ends it before anything else.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "base/base.h"
#include "run/run.h"
#include "run/spawn-proto.h"

#define EXEC_TAIL	4096		/* stderr kept for ProcessError */
#define EXEC_READ	65536

extern char **environ;

struct exec_stream {
	int		 fd;
	struct event	*ev;
	char		*buf;
	size_t		 len;
	size_t		 limit;
	int		 truncated;
	char		 tail[EXEC_TAIL];	/* last bytes, ring */
	size_t		 tail_pos;
	int		 tail_full;
};

struct exec_proc {
	int64_t			 id;		/* the task's */
	json_t			*spec;		/* a reference, until done */
	double			 timeout;	/* < 0: none */
	const struct run_ops	*ops;		/* the owner's callbacks */
	void			*arg;
	uint64_t		 tag;		/* the spawner's name for it */
	pid_t			 pid;		/* 0 until started */
	int			 status;
	int			 lost;		/* the spawner died */
	int			 timed_out;
	int			 abandoned;	/* outcome decided elsewhere */
	double			 started;
	struct exec_stream	 out;
	struct exec_stream	 err;
	struct exec_stream	 yield;		/* its fd and event only */
	struct fp_yield		 lines;		/* its partial line */
	int			 in_fd;
	struct event		*in_ev;
	size_t			 in_off;
	struct event		*timeout_ev;
};

static struct idmap	*exec_procs;	/* tag -> proc */
static void		 exec_proc_free(struct exec_proc *);
static char		 exec_boot_id[PROC_BOOT_ID_LEN];

size_t
exec_running(void)
{
	return exec_procs != NULL ? idmap_count(exec_procs) : 0;
}

static void
exec_stream_close(struct exec_stream *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	s->ev = NULL;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

static void
exec_tail_add(struct exec_stream *s, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		s->tail[s->tail_pos++] = p[i];
		if (s->tail_pos == EXEC_TAIL) {
			s->tail_pos = 0;
			s->tail_full = 1;
		}
	}
}

/* Keeps what fits under the limit; counts the rest as truncated. */
static void
exec_stream_add(struct exec_stream *s, const char *p, size_t n)
{
	size_t	keep = n;

	exec_tail_add(s, p, n);
	if (s->len + keep > s->limit) {
		keep = s->limit - s->len;
		s->truncated = 1;
	}
	if (keep == 0)
		return;
	s->buf = xreallocarray(s->buf, s->len + keep + 1, 1);
	memcpy(s->buf + s->len, p, keep);
	s->len += keep;
}

static void
exec_yield_line_cb(void *arg, const char *line, size_t len)
{
	struct exec_proc	*p = arg;

	p->ops->yield(p->arg, line, len);
}

static void
exec_yield_long_cb(void *arg)
{
	struct exec_proc	*p = arg;

	p->ops->yield_dropped(p->arg);
}

static const struct fp_yield_cbs exec_yield_cbs = {
	exec_yield_line_cb, exec_yield_long_cb,
};

/* What arrives on fd 3, split into lines for stream.c (fp-yield.c). */
static void
exec_yield_add(struct exec_proc *p, const char *data, size_t n)
{
	if (fp_yield_feed(&p->lines, data, n, &exec_yield_cbs, p) == -1)
		fatalx("out of memory");
}

/* The yield pipe is done: its last line counts without a newline. */
static void
exec_yield_end(struct exec_proc *p)
{
	fp_yield_end(&p->lines, &exec_yield_cbs, p);
}

int
exec_output(struct exec_proc *p, int which, const char **buf, size_t *len)
{
	struct exec_stream	*s;

	if (p == NULL)
		return -1;
	s = which == 1 ? &p->out : &p->err;
	*buf = s->buf != NULL ? s->buf : "";
	*len = s->len;
	return 0;
}

static void
exec_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_proc	*p = arg;
	struct exec_stream	*s;
	char			 buf[EXEC_READ];
	ssize_t			 n;

	s = fd == p->out.fd ? &p->out : fd == p->err.fd ? &p->err : &p->yield;
	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (s == &p->yield)
			exec_yield_end(p);
		exec_stream_close(s);
		return;
	}
	if (s != &p->yield) {
		exec_stream_add(s, buf, (size_t)n);
		p->ops->output(p->arg);
	} else
		exec_yield_add(p, buf, (size_t)n);
}

static void
exec_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_proc	*p = arg;
	const char		*in = json_string_value(json_object_get(
				    p->spec, "stdin"));
	size_t			 len = json_string_length(json_object_get(
				    p->spec, "stdin"));
	ssize_t			 n;

	n = write(fd, in + p->in_off, len - p->in_off);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		p->in_off += (size_t)n;
	if (n == -1 || p->in_off == len) {
		event_free(p->in_ev);
		p->in_ev = NULL;
		close(p->in_fd);
		p->in_fd = -1;
	}
}

/*
 * futured's Unix socket, as an absolute path (a task may change its
 * directory before it submits), or NULL.
 */
static const char *
exec_socket(void)
{
	static char	*path;
	char		 cwd[PATH_MAX];

	if (path != NULL || cfg.socket_path == NULL ||
	    cfg.socket_path[0] == '\0')
		return path;
	if (cfg.socket_path[0] == '/')
		path = xstrdup(cfg.socket_path);
	else if (getcwd(cwd, sizeof cwd) != NULL)
		xasprintf(&path, "%s/%s", cwd, cfg.socket_path);
	return path;
}

/*
 * The environment: futured's own, the task's overrides, the yield fd,
 * and what the task needs to submit children.
 */
static char **
exec_envp(const struct run_attempt *a)
{
	json_t		*env = json_object_get(a->spec, "env"), *v;
	const char	*k, *s;
	char		**envp;
	size_t		 n = 0, i, klen;

	while (environ[n] != NULL)
		n++;
	envp = xcalloc(n + json_object_size(env) + 6, sizeof *envp);
	n = 0;
	for (i = 0; environ[i] != NULL; i++) {
		klen = strcspn(environ[i], "=");
		if (strncmp(environ[i], "FUTURED_", 8) == 0)
			continue;
		json_object_foreach(env, k, v)
			if (strlen(k) == klen && strncmp(k, environ[i], klen) == 0)
				break;
		if (k == NULL)
			envp[n++] = xstrdup(environ[i]);
	}
	json_object_foreach(env, k, v)
		xasprintf(&envp[n++], "%s=%s", k, json_string_value(v));
	envp[n++] = xstrdup("FUTURED_YIELD_FD=3");
	xasprintf(&envp[n++], "FUTURED_TASK_ID=%lld", (long long)a->id);
	if ((s = exec_socket()) != NULL)	/* what it submits: children */
		xasprintf(&envp[n++], "FUTURED_SOCKET=%s", s);
	if (a->credential != NULL && cfg.listen_url != NULL) {
		/* over TCP: only as its children's parent (task_credential) */
		xasprintf(&envp[n++], "FUTURED_URL=%s", cfg.listen_url);
		xasprintf(&envp[n++], "FUTURED_TOKEN=%s", a->credential);
	}
	return envp;
}

static void
exec_strv_free(char **v)
{
	size_t	i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char **
exec_argv(json_t *spec)
{
	json_t	*argv = json_object_get(spec, "argv");
	char	**v;
	size_t	 i;

	if (argv == NULL) {
		v = xcalloc(4, sizeof *v);
		v[0] = xstrdup("/bin/sh");
		v[1] = xstrdup("-c");
		v[2] = xstrdup(json_string_value(json_object_get(spec,
		    "shell")));
		return v;
	}
	v = xcalloc(json_array_size(argv) + 1, sizeof *v);
	for (i = 0; i < json_array_size(argv); i++)
		v[i] = xstrdup(json_string_value(json_array_get(argv, i)));
	return v;
}

/* pipes[k][0] read end, [1] write end; all close-on-exec. */
struct exec_pipes {
	int	fds[4][2];		/* stdin, stdout, stderr, yield */
};

static void
exec_pipes_close(struct exec_pipes *pp, int end)
{
	int	k;

	for (k = 0; k < 4; k++) {
		if (pp->fds[k][end] != -1)
			close(pp->fds[k][end]);
		pp->fds[k][end] = -1;
	}
}

static int
exec_pipes_open(struct exec_pipes *pp, int want_stdin)
{
	int	k;

	memset(pp, -1, sizeof *pp);
	for (k = 0; k < 4; k++) {
		if (k == 0 && !want_stdin) {
			pp->fds[0][0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (pp->fds[0][0] == -1)
				goto fail;
			continue;
		}
		if (pipe2(pp->fds[k], O_CLOEXEC) == -1)
			goto fail;
	}
	return 0;
fail:
	exec_pipes_close(pp, 0);
	exec_pipes_close(pp, 1);
	return -1;
}

static void
exec_stream_watch(struct exec_proc *p, struct exec_stream *s, int fd,
    size_t limit)
{
	s->fd = fd;
	s->limit = limit;
	evutil_make_socket_nonblocking(fd);
	s->ev = event_new(loop_base, fd, EV_READ | EV_PERSIST, exec_read_cb, p);
	event_add(s->ev, NULL);
}

static void
exec_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_proc	*p = arg;

	log_info("task %lld: timed out after %.3gs", (long long)p->id,
	    p->timeout);
	p->timed_out = 1;
	exec_stop(p, 1);
}

/* Sets up the loop's side of a child asked for (our ends of the pipes). */
static struct exec_proc *
exec_proc_create(const struct run_attempt *a, const struct run_ops *ops,
    void *arg, struct exec_pipes *pp)
{
	struct exec_proc	*p = xcalloc(1, sizeof *p);
	json_t			*mo = json_object_get(a->spec, "max_output");
	size_t			 limit = mo != NULL ?
				    (size_t)json_integer_value(mo) :
				    (size_t)cfg.max_output;

	p->id = a->id;
	p->spec = json_incref(a->spec);
	p->timeout = a->timeout;
	p->ops = ops;
	p->arg = arg;
	p->started = loop_mono();
	p->out.fd = p->err.fd = p->yield.fd = p->in_fd = -1;
	exec_stream_watch(p, &p->out, pp->fds[1][0], limit);
	exec_stream_watch(p, &p->err, pp->fds[2][0], limit);
	exec_stream_watch(p, &p->yield, pp->fds[3][0], 0);
	pp->fds[1][0] = pp->fds[2][0] = pp->fds[3][0] = -1;
	if (pp->fds[0][1] != -1) {
		p->in_fd = pp->fds[0][1];
		pp->fds[0][1] = -1;
		evutil_make_socket_nonblocking(p->in_fd);
		p->in_ev = event_new(loop_base, p->in_fd, EV_WRITE | EV_PERSIST,
		    exec_write_cb, p);
		event_add(p->in_ev, NULL);
	}
	if (p->timeout > 0) {
		p->timeout_ev = evtimer_new(loop_base, exec_timeout_cb, p);
		loop_timer_add(p->timeout_ev, p->timeout);
	}
	return p;
}

/* Why a child could not start: SpawnError. */
static json_t *
exec_spawn_error(json_t *spec, const char *what, int error)
{
	const char	*prog = json_object_get(spec, "argv") != NULL ?
			    json_string_value(json_array_get(json_object_get(
			    spec, "argv"), 0)) : "/bin/sh";

	return xjson(fp_exception_create("SpawnError",
	    "cannot start %s '%s': %s", what, what[0] == 'p' ? prog :
	    json_string_value(json_object_get(spec, "cwd")),
	    strerror(error)));
}

/* Reads what the pipes still hold (the group is gone), then closes them. */
static void
exec_drain(struct exec_proc *p)
{
	struct exec_stream	*s[3] = { &p->out, &p->err, &p->yield };
	char			 buf[EXEC_READ];
	ssize_t			 n;
	int			 i;

	for (i = 0; i < 3; i++) {
		while (s[i]->fd != -1 && (n = read(s[i]->fd, buf,
		    sizeof buf)) > 0) {
			if (s[i] != &p->yield)
				exec_stream_add(s[i], buf, (size_t)n);
			else
				exec_yield_add(p, buf, (size_t)n);
		}
		if (s[i] == &p->yield && s[i]->fd != -1)
			exec_yield_end(p);
		exec_stream_close(s[i]);
	}
}

/*
 * The attempt is over: its outcome (result or exception; neither when it
 * was stopped) goes to the owner, and the proc is freed.
 */
static void
exec_finish(struct exec_proc *p, json_t *result, json_t *exception)
{
	const struct run_ops	*ops = p->ops;
	void			*arg = p->arg;

	idmap_remove(exec_procs, (int64_t)p->tag);
	if (p->abandoned) {
		json_decref(result);
		json_decref(exception);
		result = exception = NULL;
	}
	exec_proc_free(p);
	ops->done(arg, result, exception);
}

static void
exec_started_cb(void *arg, pid_t pid, uint64_t started)
{
	struct exec_proc	*p = arg;

	p->pid = pid;
	log_debug("%s: task %lld pid %ld", __func__, (long long)p->id,
	    (long)pid);
	if (exec_boot_id[0] == '\0')
		proc_boot_id(exec_boot_id);
	p->ops->started(p->arg, xjson(json_pack("{s:I,s:I,s:s}", "pgid",
	    (json_int_t)pid, "start", (json_int_t)started, "boot",
	    exec_boot_id)));
}

static void
exec_failed_cb(void *arg, int error, int what)
{
	struct exec_proc	*p = arg;

	exec_drain(p);
	exec_finish(p, NULL, exec_spawn_error(p->spec, what == SPAWN_WHAT_CWD ?
	    "in directory" : "program", error));
}

static void	exec_done(struct exec_proc *);

static void
exec_exited_cb(void *arg, int status)
{
	struct exec_proc	*p = arg;

	p->status = status;
	exec_drain(p);
	exec_done(p);
}

static void
exec_lost_cb(void *arg)
{
	struct exec_proc	*p = arg;

	p->lost = 1;
	exec_drain(p);
	exec_done(p);
}

static const struct spawn_ops exec_spawn_ops = {
	exec_started_cb, exec_failed_cb, exec_exited_cb, exec_lost_cb,
};

struct exec_proc *
exec_start(const struct run_attempt *a, const struct run_ops *ops, void *arg)
{
	struct exec_pipes	 pp;
	struct spawn_cmd	 cmd;
	struct exec_proc	*p;
	char			**argv, **envp;

	if (exec_pipes_open(&pp, json_object_get(a->spec, "stdin") != NULL)
	    == -1) {
		ops->done(arg, NULL, exec_spawn_error(a->spec, "program",
		    errno));
		return NULL;
	}
	argv = exec_argv(a->spec);
	envp = exec_envp(a);
	cmd.cwd = json_string_value(json_object_get(a->spec, "cwd"));
	cmd.path = json_string_value(json_object_get(json_object_get(a->spec,
	    "env"), "PATH"));
	cmd.argv = argv;
	cmd.envp = envp;
	cmd.fds[0] = pp.fds[0][0];
	cmd.fds[1] = pp.fds[1][1];
	cmd.fds[2] = pp.fds[2][1];
	cmd.fds[3] = pp.fds[3][1];
	pp.fds[0][0] = pp.fds[1][1] = pp.fds[2][1] = pp.fds[3][1] = -1;
	p = exec_proc_create(a, ops, arg, &pp);
	p->tag = spawn_run(&cmd, &exec_spawn_ops, p);
	if (exec_procs == NULL)
		exec_procs = idmap_create();
	idmap_put(exec_procs, (int64_t)p->tag, p);
	exec_strv_free(argv);
	exec_strv_free(envp);
	return p;
}

void
exec_stop(struct exec_proc *p, int graceful)
{
	if (p == NULL)
		return;
	if (!p->timed_out)
		p->abandoned = 1;
	if (p->timeout_ev != NULL)
		evtimer_del(p->timeout_ev);
	spawn_stop(p->tag, !graceful, cfg.kill_grace);
}

void
exec_recover(json_t *attempt_state)
{
	struct proc_group	g;
	const char		*boot;

	memset(&g, 0, sizeof g);
	g.pgid = (pid_t)json_integer_value(json_object_get(attempt_state,
	    "pgid"));
	g.start_time = (uint64_t)json_integer_value(json_object_get(
	    attempt_state, "start"));
	boot = json_string_value(json_object_get(attempt_state, "boot"));
	if (g.pgid <= 0 || boot == NULL)
		return;
	snprintf(g.boot_id, sizeof g.boot_id, "%s", boot);
	proc_group_end(&g, cfg.kill_grace);
}

static json_t *
exec_text(const struct exec_stream *s)
{
	return xjson(fp_string_from_bytes(s->buf != NULL ? s->buf : "",
	    s->len));
}

/* The last EXEC_TAIL bytes of stderr, in order. */
static json_t *
exec_tail(const struct exec_stream *s)
{
	char	buf[EXEC_TAIL];
	size_t	n = 0, first;

	if (s->tail_full) {
		first = EXEC_TAIL - s->tail_pos;
		memcpy(buf, s->tail + s->tail_pos, first);
		memcpy(buf + first, s->tail, s->tail_pos);
		n = EXEC_TAIL;
	} else {
		memcpy(buf, s->tail, s->tail_pos);
		n = s->tail_pos;
	}
	return xjson(fp_string_from_bytes(buf, n));
}

/* The fields every exec outcome carries. */
static json_t *
exec_outcome(struct exec_proc *p, json_t *o)
{
	json_object_set_new(o, "stdout", exec_text(&p->out));
	json_object_set_new(o, "stderr", exec_text(&p->err));
	json_object_set_new(o, "stdout_truncated",
	    json_boolean(p->out.truncated));
	json_object_set_new(o, "stderr_truncated",
	    json_boolean(p->err.truncated));
	json_object_set_new(o, "duration", json_real(loop_mono() - p->started));
	return o;
}

/* Exit 0: the result (or ResultDecodeError for capture json). */
static void
exec_succeeded(struct exec_proc *p)
{
	json_error_t	 jerr;
	json_t		*v;
	const char	*capture = json_string_value(json_object_get(p->spec,
			    "capture"));

	if (capture == NULL || strcmp(capture, "json") != 0) {
		v = xjson(json_object());
		json_object_set_new(v, "exit_code", json_integer(0));
		exec_finish(p, exec_outcome(p, v), NULL);
		return;
	}
	v = p->out.truncated ? NULL : json_loadb(p->out.buf != NULL ?
	    p->out.buf : "", p->out.len, JSON_DECODE_ANY, &jerr);
	if (v != NULL) {
		exec_finish(p, v, NULL);
		return;
	}
	v = xjson(fp_exception_create("ResultDecodeError",
	    "stdout is not JSON: %s", p->out.truncated ?
	    "output was truncated" : jerr.text));
	exec_finish(p, NULL, exec_outcome(p, v));
}

static void
exec_failed(struct exec_proc *p)
{
	json_t	*e;
	int	 st = p->status;

	if (p->timed_out) {
		e = xjson(fp_exception_create("TimeoutError",
		    "task did not finish within %gs", p->timeout));
		json_object_set_new(e, "timeout", json_real(p->timeout));
	} else if (WIFSIGNALED(st)) {
		e = xjson(fp_exception_create("ProcessError",
		    "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st))));
		json_object_set_new(e, "signal", json_integer(WTERMSIG(st)));
	} else {
		e = xjson(fp_exception_create("ProcessError",
		    "exited with status %d", WEXITSTATUS(st)));
		json_object_set_new(e, "exit_code",
		    json_integer(WEXITSTATUS(st)));
	}
	json_object_set_new(e, "stderr_tail", exec_tail(&p->err));
	exec_finish(p, NULL, exec_outcome(p, e));
}

static void
exec_proc_free(struct exec_proc *p)
{
	exec_stream_close(&p->out);
	exec_stream_close(&p->err);
	exec_stream_close(&p->yield);
	if (p->in_ev != NULL)
		event_free(p->in_ev);
	if (p->in_fd != -1)
		close(p->in_fd);
	if (p->timeout_ev != NULL)
		event_free(p->timeout_ev);
	free(p->out.buf);
	free(p->err.buf);
	fp_yield_clear(&p->lines);
	json_decref(p->spec);
	free(p);
}

/* Exited (its group gone) and drained: the outcome. */
static void
exec_done(struct exec_proc *p)
{
	if (p->lost)
		exec_finish(p, NULL, xjson(fp_exception_create(
		    "DaemonRestarted", "futured's process spawner died; the "
		    "attempt's processes were killed")));
	else if (!p->timed_out && WIFEXITED(p->status) &&
	    WEXITSTATUS(p->status) == 0)
		exec_succeeded(p);
	else
		exec_failed(p);
}
