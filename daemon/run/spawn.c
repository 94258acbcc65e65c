/*
 * spawn.c: futured's side of the spawner process (spawner.c).  Starts it,
 * sends it what to run and what to end, and turns its answers into the
 * callbacks exec.c registered for each child.
 *
 * Writes never block the loop: messages wait in a queue until the socket
 * takes them, each child's descriptors riding on the first bytes of its
 * message.  If the spawner dies, every child it held is ended (their main
 * processes got SIGKILL from the kernel; futured kills the rest of their
 * groups), reported lost, and a new spawner is started.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "base/base.h"
#include "run/run.h"
#include "run/spawn-proto.h"

#define SPAWN_RESTARTS		5	/* in SPAWN_RESTART_WINDOW, then fatal */
#define SPAWN_RESTART_WINDOW	60.0

extern char **environ;

struct spawn_job {
	const struct spawn_ops	*ops;
	void			*arg;
	pid_t			 pid;		/* 0 until started */
};

struct spawn_out {
	char			*buf;
	size_t			 len, off;
	int			 fds[4];
	int			 nfds;
	TAILQ_ENTRY(spawn_out)	 entry;
};

static pid_t		 spawn_pid = -1;
static int		 spawn_fd = -1;
static int		 spawn_lock_fd = -1;
static char		*spawn_exe;	/* the futured binary */
static struct event	*spawn_read_ev, *spawn_write_ev;
static struct idmap	*spawn_jobs;		/* tag -> job */
static uint64_t		 spawn_next_tag = 1;
static TAILQ_HEAD(, spawn_out) spawn_queue =
    TAILQ_HEAD_INITIALIZER(spawn_queue);
static char		 spawn_in[sizeof(struct spawn_rep)];
static size_t		 spawn_in_len;
static double		 spawn_restarts[SPAWN_RESTARTS];

static void	spawn_lost(void);

size_t
spawn_count(void)
{
	return spawn_jobs != NULL ? idmap_count(spawn_jobs) : 0;
}

static void
spawn_out_free(struct spawn_out *o)
{
	int	i;

	for (i = 0; i < o->nfds; i++)
		close(o->fds[i]);
	free(o->buf);
	free(o);
}

/* Sends what the socket takes; the rest waits for it to be writable. */
static void
spawn_flush(void)
{
	struct spawn_out	*o;
	struct msghdr		 m;
	struct iovec		 iov;
	char			 ctl[CMSG_SPACE(4 * sizeof(int))];
	struct cmsghdr		*c;
	ssize_t			 n;

	while ((o = TAILQ_FIRST(&spawn_queue)) != NULL) {
		memset(&m, 0, sizeof m);
		iov.iov_base = o->buf + o->off;
		iov.iov_len = o->len - o->off;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		if (o->off == 0 && o->nfds > 0) {
			memset(ctl, 0, sizeof ctl);
			m.msg_control = ctl;
			m.msg_controllen = CMSG_SPACE(o->nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&m);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(o->nfds * sizeof(int));
			memcpy(CMSG_DATA(c), o->fds, o->nfds * sizeof(int));
		}
		n = sendmsg(spawn_fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			event_add(spawn_write_ev, NULL);
			return;
		}
		if (n == -1)
			return;		/* the spawner is gone: the read says */
		o->off += (size_t)n;
		if (o->off < o->len)
			continue;
		TAILQ_REMOVE(&spawn_queue, o, entry);
		spawn_out_free(o);
	}
}

static void
spawn_write_cb(evutil_socket_t fd, short events, void *arg)
{
	spawn_flush();
}

static void
spawn_send(const struct spawn_req *r, const char *payload, const int *fds,
    int nfds)
{
	struct spawn_out	*o = xcalloc(1, sizeof *o);

	o->len = sizeof *r + r->len;
	o->buf = xmalloc(o->len);
	memcpy(o->buf, r, sizeof *r);
	if (r->len > 0)
		memcpy(o->buf + sizeof *r, payload, r->len);
	if (nfds > 0)
		memcpy(o->fds, fds, nfds * sizeof(int));
	o->nfds = nfds;
	TAILQ_INSERT_TAIL(&spawn_queue, o, entry);
	if (TAILQ_FIRST(&spawn_queue) == o)
		spawn_flush();
}

static void
spawn_reply(const struct spawn_rep *rep)
{
	struct spawn_job	*j = idmap_get(spawn_jobs, (int64_t)rep->tag);
	const struct spawn_ops	*ops;
	void			*arg;

	if (j == NULL) {
		log_warnx("spawner: answer %u for unknown child %llu", rep->type,
		    (unsigned long long)rep->tag);
		return;
	}
	ops = j->ops;
	arg = j->arg;
	if (rep->type == SPAWN_STARTED) {
		j->pid = rep->value;
		ops->started(arg, rep->value, rep->start_time);
		return;
	}
	idmap_remove(spawn_jobs, (int64_t)rep->tag);
	free(j);
	if (rep->type == SPAWN_FAILED)
		ops->failed(arg, rep->value, rep->what);
	else
		ops->exited(arg, rep->value);
}

static void
spawn_read_cb(evutil_socket_t fd, short events, void *arg)
{
	ssize_t	n;

	for (;;) {
		n = read(spawn_fd, spawn_in + spawn_in_len,
		    sizeof spawn_in - spawn_in_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			log_warnx("spawner: connection lost%s%s",
			    n == 0 ? "" : ": ", n == 0 ? "" : strerror(errno));
			spawn_lost();
			return;
		}
		spawn_in_len += (size_t)n;
		if (spawn_in_len == sizeof spawn_in) {
			spawn_in_len = 0;
			spawn_reply((struct spawn_rep *)(void *)spawn_in);
		}
	}
}

/* A descriptor of ours at 10 or above, so that dup2 to 3 and 4 is safe. */
static int
spawn_high_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* Runs `futured --spawner GRACE NOFILE_CUR NOFILE_MAX` on a new socket. */
static int
spawn_start(void)
{
	const struct rlimit		*nofile = config_nofile_started();
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 mask;
	char				 grace[32], cur[32], max[32];
	char				*argv[] = { "futured", "--spawner", grace, cur,
					    max, NULL };
	int				 sv[2], hs = -1, hl = -1, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	snprintf(grace, sizeof grace, "%g", cfg.kill_grace);
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)nofile->rlim_cur);
	snprintf(max, sizeof max, "%llu", (unsigned long long)nofile->rlim_max);
	hs = spawn_high_fd(sv[1]);
	hl = spawn_high_fd(spawn_lock_fd);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, hs, SPAWN_FD);
	posix_spawn_file_actions_adddup2(&fa, hl, SPAWN_LOCK_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, SPAWN_LOCK_FD + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&mask);
	posix_spawnattr_setsigmask(&attr, &mask);
	sigfillset(&mask);
	posix_spawnattr_setsigdefault(&attr, &mask);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = hs == -1 || hl == -1 ? errno : posix_spawn(&spawn_pid,
	    spawn_exe, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (hs != -1)
		close(hs);
	if (hl != -1)
		close(hl);
	if (rc != 0) {
		close(sv[0]);
		errno = rc;
		return -1;
	}
	spawn_fd = sv[0];
	evutil_make_socket_nonblocking(spawn_fd);
	spawn_read_ev = event_new(loop_base, spawn_fd, EV_READ | EV_PERSIST,
	    spawn_read_cb, NULL);
	spawn_write_ev = event_new(loop_base, spawn_fd, EV_WRITE,
	    spawn_write_cb, NULL);
	event_add(spawn_read_ev, NULL);
	log_debug("%s: spawner pid %ld", __func__, (long)spawn_pid);
	return 0;
}

int
spawn_init(int lock_fd, const char *exe)
{
	spawn_lock_fd = lock_fd;
	free(spawn_exe);
	spawn_exe = xstrdup(exe);
	if (spawn_jobs == NULL)
		spawn_jobs = idmap_create();
	return spawn_start();
}

uint64_t
spawn_run(const struct spawn_cmd *cmd, const struct spawn_ops *ops, void *arg)
{
	struct spawn_job	*j = xcalloc(1, sizeof *j);
	struct spawn_req	 r;
	struct fp_text		 p = { 0 };
	uint32_t		 n[2] = { 0, 0 };
	size_t			 i;
	char			*payload;

	while (cmd->argv[n[0]] != NULL)
		n[0]++;
	while (cmd->envp[n[1]] != NULL)
		n[1]++;
	fp_text_add(&p, (const char *)n, sizeof n);
	fp_text_cstr(&p, cmd->cwd != NULL ? cmd->cwd : "");
	fp_text_add(&p, "", 1);
	fp_text_cstr(&p, cmd->path != NULL ? cmd->path : "");
	fp_text_add(&p, "", 1);
	for (i = 0; i < n[0]; i++) {
		fp_text_cstr(&p, cmd->argv[i]);
		fp_text_add(&p, "", 1);
	}
	for (i = 0; i < n[1]; i++) {
		fp_text_cstr(&p, cmd->envp[i]);
		fp_text_add(&p, "", 1);
	}
	memset(&r, 0, sizeof r);
	r.type = SPAWN_RUN;
	r.tag = spawn_next_tag++;
	r.len = (uint32_t)p.len;
	if ((payload = fp_text_take(&p, &i)) == NULL)
		fatalx("spawn: out of memory");
	j->ops = ops;
	j->arg = arg;
	idmap_put(spawn_jobs, (int64_t)r.tag, j);
	spawn_send(&r, payload, cmd->fds, 4);
	free(payload);
	return r.tag;
}

void
spawn_stop(uint64_t tag, int now, double grace)
{
	struct spawn_req	r;

	if (idmap_get(spawn_jobs, (int64_t)tag) == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.type = SPAWN_STOP;
	r.tag = tag;
	r.now = now;
	r.grace_ms = (uint32_t)(grace * 1000);
	spawn_send(&r, NULL, NULL, 0);
}

/* When the spawner must end everything unless told again (loop_mono). */
static double	spawn_fence_at;

static void
spawn_fence_send(void)
{
	struct spawn_req	r;
	double			left = spawn_fence_at - loop_mono();

	if (spawn_fence_at <= 0 || spawn_fd == -1)
		return;
	if (left <= 0)
		return;		/* futured itself stops (cluster.c) */
	memset(&r, 0, sizeof r);
	r.type = SPAWN_FENCE;
	r.grace_ms = left > 0.001 ? (uint32_t)(left * 1000) : 1;
	spawn_send(&r, NULL, NULL, 0);
}

void
spawn_fence(double at)
{
	spawn_fence_at = at;
	spawn_fence_send();
}

static void
spawn_close(void)
{
	struct spawn_out	*o;

	while ((o = TAILQ_FIRST(&spawn_queue)) != NULL) {
		TAILQ_REMOVE(&spawn_queue, o, entry);
		spawn_out_free(o);
	}
	if (spawn_read_ev != NULL)
		event_free(spawn_read_ev);
	if (spawn_write_ev != NULL)
		event_free(spawn_write_ev);
	spawn_read_ev = spawn_write_ev = NULL;
	if (spawn_fd != -1)
		close(spawn_fd);
	spawn_fd = -1;
	spawn_in_len = 0;
}

/* Restarts within the window so far; fatal past SPAWN_RESTARTS. */
static void
spawn_count_restart(void)
{
	double	now = loop_mono();
	size_t	i, recent = 0;

	for (i = 0; i < SPAWN_RESTARTS; i++)
		if (now - spawn_restarts[i] < SPAWN_RESTART_WINDOW)
			recent++;
	if (recent == SPAWN_RESTARTS)
		fatalx("the spawner died %d times within %gs", SPAWN_RESTARTS,
		    SPAWN_RESTART_WINDOW);
	memmove(spawn_restarts + 1, spawn_restarts,
	    (SPAWN_RESTARTS - 1) * sizeof *spawn_restarts);
	spawn_restarts[0] = now;
}

struct spawn_lost_list {
	struct spawn_job	**jobs;
	size_t			  n;
};

static void
spawn_collect_cb(int64_t tag, void *value, void *arg)
{
	struct spawn_lost_list	*l = arg;

	l->jobs[l->n++] = value;
}

/*
 * The spawner is gone: its children's main processes were killed with it
 * (PR_SET_PDEATHSIG); the rest of their groups is killed here.  A new
 * spawner starts before the owners hear, since they may start more.
 */
static void
spawn_lost(void)
{
	struct spawn_lost_list	l = { NULL, 0 };
	struct spawn_job	*j;
	size_t			 i;

	spawn_close();
	spawn_pid = -1;
	l.jobs = xcalloc(idmap_count(spawn_jobs) + 1, sizeof *l.jobs);
	idmap_foreach(spawn_jobs, spawn_collect_cb, &l);
	idmap_free(spawn_jobs);
	spawn_jobs = idmap_create();
	for (i = 0; i < l.n; i++)
		if (l.jobs[i]->pid > 0)
			killpg(l.jobs[i]->pid, SIGKILL);
	spawn_count_restart();
	if (spawn_start() == -1)
		fatal("cannot restart the spawner");
	spawn_fence_send();
	log_warnx("spawner restarted; %zu running tasks were ended", l.n);
	for (i = 0; i < l.n; i++) {
		j = l.jobs[i];
		j->ops->lost(j->arg);
		free(j);
	}
	free(l.jobs);
}

void
spawn_child_exited(pid_t pid, int status)
{
	if (pid != spawn_pid)
		return;
	log_warnx("spawner (pid %ld) %s %d", (long)pid, WIFSIGNALED(status) ?
	    "killed by signal" : "exited with status", WIFSIGNALED(status) ?
	    WTERMSIG(status) : WEXITSTATUS(status));
	spawn_lost();
}

void
spawn_free(void)
{
	struct timespec	ts = { 0, 10000000 };
	int		i;
	pid_t		pid = spawn_pid;

	spawn_close();
	spawn_pid = -1;
	/* with the socket closed it ends what is left, then exits */
	for (i = 0; pid > 0 && i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (spawn_jobs != NULL)
		idmap_free(spawn_jobs);
	spawn_jobs = NULL;
	free(spawn_exe);
	spawn_exe = NULL;
}
