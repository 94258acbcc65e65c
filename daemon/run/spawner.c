/*
 * spawner.c: the process that starts, ends and outlives futured's children
 * (issue #11).  futured runs it as `futured --spawner ...` (spawn.c) and
 * asks it over a socket pair (spawn-proto.h).
 *
 * Why a process of its own: an attempt's processes must never outlive the
 * attempt, not even when futured is killed with SIGKILL in the loop turn
 * that spawned them, before the commit that records them.  The spawner:
 * - starts each child in a process group of its own, with
 *   PR_SET_PDEATHSIG(SIGKILL) tied to the spawner;
 * - is a child subreaper, so a task's orphaned grandchildren become its
 *   children, are reaped by it, and can be found and ended;
 * - when a child exits, ends what is left of its group (SIGTERM, SIGKILL
 *   after the grace) and reports the exit only once the group is empty;
 * - when futured goes away (end of file on the socket), ends every group
 *   and every process it adopted, waits until they are gone, then exits;
 *   it holds the state dir's tasks lock until then, so the next futured
 *   cannot start (and re-run an attempt) while any of them lives.
 * It is single-threaded, blocking, and uses nothing of libevent.
 */
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "run/run.h"
#include "run/spawn-proto.h"

#define SP_CLOSING_EXTRA	10.0	/* seconds past the grace, at most */
#define SP_CHECK_MS		50	/* lingering groups are looked at */

struct sp_child {
	uint64_t	 tag;
	pid_t		 pid;		/* and pgid */
	int		 exited;	/* the child itself was reaped */
	int		 status;
	double		 kill_at;	/* SIGKILL then (0: not armed) */
	struct sp_child	*next;
};

static struct sp_child	*sp_children;
static double		 sp_grace = 5;
static int		 sp_closing;		/* futured went away */
static double		 sp_closing_until;

static void
sp_reply(int type, uint64_t tag, int value, uint64_t started, int what)
{
	struct spawn_rep	rep;
	ssize_t			n;

	memset(&rep, 0, sizeof rep);
	rep.type = (uint32_t)type;
	rep.tag = tag;
	rep.value = value;
	rep.start_time = started;
	rep.what = what;
	if (sp_closing)
		return;
	do
		n = send(SPAWN_FD, &rep, sizeof rep, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof rep)
		sp_closing = 1;	/* futured is gone: the loop notices */
}

/* Reads exactly len bytes, collecting any descriptors; 0 at end of file. */
static int
sp_read(void *buf, size_t len, int *fds, int *nfds)
{
	char		 ctl[CMSG_SPACE(8 * sizeof(int))];
	struct msghdr	 m;
	struct iovec	 iov;
	struct cmsghdr	*c;
	size_t		 got = 0, i, k;
	ssize_t		 n;
	int		*in;

	while (got < len) {
		memset(&m, 0, sizeof m);
		iov.iov_base = (char *)buf + got;
		iov.iov_len = len - got;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof ctl;
		n = recvmsg(SPAWN_FD, &m, MSG_CMSG_CLOEXEC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			in = (int *)CMSG_DATA(c);
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < k; i++) {
				if (*nfds < 4)
					fds[(*nfds)++] = in[i];
				else
					close(in[i]);
			}
		}
		got += (size_t)n;
	}
	return 1;
}

/*
 * execvp along the task's own PATH; a relative entry counts from the
 * task's cwd, and the program gets the whole path, as a shell gives it.
 */
static void
sp_exec_path(char **argv, char **envp, const char *path, const char *cwd)
{
	char		 file[PATH_MAX];
	const char	*dir, *end;
	size_t		 len;
	int		 eacces = 0;

	for (dir = path; ; dir = end + 1) {
		end = strchr(dir, ':');
		len = end != NULL ? (size_t)(end - dir) : strlen(dir);
		if (snprintf(file, sizeof file, "%s%s%.*s%s%s",
		    *dir == '/' ? "" : cwd, *dir == '/' || *cwd == '\0' ? "" :
		    "/", (int)len, dir, len > 0 ? "/" : "", argv[0]) <
		    (int)sizeof file) {
			execve(file, argv, envp);
			if (errno == EACCES)
				eacces = 1;
		}
		if (end == NULL)
			break;
	}
	errno = eacces ? EACCES : ENOENT;
}

/*
 * A child shares the spawner's memory until it execs (CLONE_VM |
 * CLONE_VFORK, as posix_spawn does), so the spawner waits only for the
 * exec, not for a copy of itself and a pipe's word: the child says why it
 * failed in here.  It runs on a stack of its own.
 */
struct sp_exec {
	const int	*fds;
	const char	*cwd, *path;
	char		**argv, **envp;
	pid_t		 spawner;
	int		 what, error;	/* the child failed: what, errno */
};
#define SP_STACK	(256 * 1024)

static int	sp_ignored[NSIG];	/* signals the spawner ignores */
static int	sp_nignored;

/* The child: becomes the task's program, or says why not and exits. */
static int
sp_child(void *arg)
{
	struct sp_exec	*x = arg;
	sigset_t	 none;
	int		 i;

	/* handlers do not survive the exec; ignored signals would */
	for (i = 0; i < sp_nignored; i++)
		signal(sp_ignored[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	/* the spawner dies, so does the child: nothing runs unsupervised */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != x->spawner)
		_exit(127);
	for (i = 0; i < 4; i++)
		if (dup2(x->fds[i], i) == -1)
			_exit(127);
	if (close_range(4, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		for (i = 4; i < 1024; i++)
			close(i);
	x->what = SPAWN_WHAT_EXEC;
	if (*x->cwd != '\0' && chdir(x->cwd) == -1)
		x->what = SPAWN_WHAT_CWD;
	else if (*x->path == '\0' || strchr(x->argv[0], '/') != NULL)
		execvpe(x->argv[0], x->argv, x->envp);
	else
		sp_exec_path(x->argv, x->envp, x->path, x->cwd);
	x->error = errno != 0 ? errno : EINVAL;
	_exit(127);
}

/*
 * libfiu's failure point "spawner/clone" (tests/integration/faults.sh;
 * libfiu's own posix/proc/fork does not see clone): looked up at run
 * time, so it exists only in a spawner that fiu-run started.  Its
 * failinfo is the errno.
 */
static int
sp_clone_fault(void)
{
	static int	(*fail)(const char *);
	static void	*(*info)(void);
	static int	 looked;

	if (!looked) {
		looked = 1;
		*(void **)&fail = dlsym(RTLD_DEFAULT, "fiu_fail");
		*(void **)&info = dlsym(RTLD_DEFAULT, "fiu_failinfo");
	}
	if (fail == NULL || info == NULL || !fail("spawner/clone"))
		return 0;
	return (int)(intptr_t)info();
}

/* Notes the signals the spawner ignores: its children get them back. */
static void
sp_note_ignored(void)
{
	struct sigaction	sa;
	int			i;

	for (i = 1; i < NSIG; i++)
		if (sigaction(i, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sp_ignored[sp_nignored++] = i;
}

/* The strings of a SPAWN_RUN payload; -1 when it is malformed. */
static int
sp_payload(char *p, size_t len, const char **cwd, const char **path,
    char ***argv, char ***envp)
{
	uint32_t	 n[2];
	char		*end = p + len, **v;
	size_t		 i, total;

	if (len < sizeof n)
		return -1;
	memcpy(n, p, sizeof n);
	p += sizeof n;
	if (n[0] == 0 || n[0] > len || n[1] > len)
		return -1;
	total = 2 + (size_t)n[0] + n[1];
	if ((v = calloc(total + 2, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < total; i++) {
		v[i + (i >= 2 + n[0])] = p;	/* a NULL after argv */
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL) {
			free(v);
			return -1;
		}
		p++;
	}
	*cwd = v[0];
	*path = v[1];
	*argv = v + 2;
	*envp = v + 3 + n[0];
	return 0;
}

static void
sp_run(uint64_t tag, char *payload, size_t len, int fds[4], int nfds)
{
	static char	*stack;
	struct sp_child	*c;
	struct sp_exec	 x = { .fds = fds, .spawner = getpid() };
	pid_t		 pid;
	uint64_t	 ticks = 0;
	int		 i;

	if (nfds != 4 || sp_payload(payload, len, &x.cwd, &x.path, &x.argv,
	    &x.envp) == -1) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		sp_reply(SPAWN_FAILED, tag, EINVAL, 0, SPAWN_WHAT_FORK);
		return;
	}
	if ((i = sp_clone_fault()) != 0) {
		errno = i;
		pid = -1;
	} else if (stack == NULL && (stack = malloc(SP_STACK)) == NULL)
		pid = -1;
	else
		pid = clone(sp_child, stack + SP_STACK, CLONE_VM | CLONE_VFORK |
		    SIGCHLD, &x);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	free(x.argv - 2);
	if (pid == -1) {
		sp_reply(SPAWN_FAILED, tag, errno, 0, SPAWN_WHAT_FORK);
		return;
	}
	if (x.error != 0) {
		waitpid(pid, NULL, 0);
		sp_reply(SPAWN_FAILED, tag, x.error, 0, x.what);
		return;
	}
	proc_start_time(pid, &ticks);
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		sp_reply(SPAWN_FAILED, tag, ENOMEM, 0, SPAWN_WHAT_FORK);
		return;
	}
	c->tag = tag;
	c->pid = pid;
	c->next = sp_children;
	sp_children = c;
	sp_reply(SPAWN_STARTED, tag, (int)pid, ticks, 0);
}

static struct sp_child *
sp_find_tag(uint64_t tag)
{
	struct sp_child	*c;

	for (c = sp_children; c != NULL; c = c->next)
		if (c->tag == tag)
			return c;
	return NULL;
}

/* SIGTERM (and SIGCONT, for a stopped group), SIGKILL after grace. */
static void
sp_terminate(struct sp_child *c, double grace)
{
	killpg(c->pid, SIGTERM);
	killpg(c->pid, SIGCONT);
	if (c->kill_at == 0 || loop_mono() + grace < c->kill_at)
		c->kill_at = loop_mono() + grace;
}

static void
sp_stop(const struct spawn_req *r)
{
	struct sp_child	*c = sp_find_tag(r->tag);

	if (c == NULL)
		return;		/* already reported */
	if (r->now)
		killpg(c->pid, SIGKILL);
	else
		sp_terminate(c, r->grace_ms / 1000.0);
}

/* When the lease futured holds may end (SPAWN_FENCE); 0: none. */
static double	sp_fence_at;

static void	sp_close(void);

/* The lease may end before futured renews it: nothing may run on. */
static void
sp_fence(void)
{
	if (sp_fence_at == 0 || sp_closing || loop_mono() < sp_fence_at)
		return;
	log_warnx("spawner: futured did not renew its lease in time: "
	    "ending every task");
	sp_closing = 1;
	sp_close();
	sp_closing_until = loop_mono();		/* SIGKILL, no grace */
}

/* One message from futured; 0 when futured has gone. */
static int
sp_message(void)
{
	struct spawn_req	 r;
	char			*payload = NULL;
	int			 fds[4], nfds = 0, rv, i;

	if ((rv = sp_read(&r, sizeof r, fds, &nfds)) != 1)
		goto done;
	rv = 0;
	if (r.len > SPAWN_MAX_PAYLOAD || (payload = malloc(r.len + 1)) ==
	    NULL)
		goto done;
	if ((rv = sp_read(payload, r.len, fds, &nfds)) != 1)
		goto done;
	payload[r.len] = '\0';
	if (r.type == SPAWN_RUN) {
		sp_run(r.tag, payload, r.len, fds, nfds);
		nfds = 0;
	} else if (r.type == SPAWN_STOP)
		sp_stop(&r);
	else if (r.type == SPAWN_FENCE)
		sp_fence_at = r.grace_ms > 0 ? loop_mono() + r.grace_ms /
		    1000.0 : 0;
done:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(payload);
	return rv == 1;
}

/* Children that exited: their groups are ended, their exits reported. */
static void
sp_reap(void)
{
	struct sp_child	*c;
	pid_t		 pid;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (c = sp_children; c != NULL; c = c->next)
			if (c->pid == pid && !c->exited)
				break;
		if (c == NULL)
			continue;	/* an adopted orphan */
		c->exited = 1;
		c->status = st;
		if (proc_group_alive(c->pid))
			sp_terminate(c, sp_grace);
	}
}

/* Reports each exited child whose group is empty; SIGKILLs overdue ones. */
static void
sp_settle(void)
{
	struct sp_child	**pp = &sp_children, *c;
	double		  now = loop_mono();

	while ((c = *pp) != NULL) {
		if (c->kill_at > 0 && now >= c->kill_at) {
			killpg(c->pid, SIGKILL);
			c->kill_at = -1;
		}
		if (c->exited && !proc_group_alive(c->pid)) {
			sp_reply(SPAWN_EXITED, c->tag, c->status, 0, 0);
			*pp = c->next;
			free(c);
			continue;
		}
		pp = &c->next;
	}
}

/* Signals every process the spawner adopted (those outside the groups). */
static void
sp_signal_adopted(int sig)
{
	char	 path[64], buf[4096], *p, *end;
	ssize_t	 n;
	long	 pid;
	int	 fd;

	snprintf(path, sizeof path, "/proc/self/task/%ld/children",
	    (long)getpid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	while ((n = read(fd, buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		for (p = buf; (pid = strtol(p, &end, 10)) > 0; p = end)
			kill((pid_t)pid, sig);
	}
	close(fd);
}

/* futured went away: everything it started ends, then so does this. */
static void
sp_close(void)
{
	struct sp_child	*c;

	if (sp_closing_until > 0)
		return;
	sp_closing = 1;
	sp_closing_until = loop_mono() + sp_grace;
	for (c = sp_children; c != NULL; c = c->next)
		sp_terminate(c, sp_grace);
	sp_signal_adopted(SIGTERM);
	sp_signal_adopted(SIGCONT);
}

/* Closing: done once no child and no group is left (or time is up). */
static int
sp_closed(void)
{
	struct sp_child	*c;
	siginfo_t	 si;
	double		 now = loop_mono();
	int		 left = 0;

	if (now >= sp_closing_until)
		sp_signal_adopted(SIGKILL);
	for (c = sp_children; c != NULL; c = c->next) {
		if (now >= sp_closing_until)
			killpg(c->pid, SIGKILL);
		if (!c->exited || proc_group_alive(c->pid))
			left++;
	}
	/* any child left, exited or not? (WNOWAIT: sp_reap reaps it) */
	if (left == 0 && waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    -1 && errno == ECHILD)
		return 1;
	return now >= sp_closing_until + SP_CLOSING_EXTRA;
}

static int
sp_setup(int argc, char **argv)
{
	struct rlimit	rl;
	sigset_t	mask;
	int		sfd;

	if (argc != 5)
		return -1;
	sp_grace = strtod(argv[2], NULL);
	rl.rlim_cur = (rlim_t)strtoull(argv[3], NULL, 10);
	rl.rlim_max = (rlim_t)strtoull(argv[4], NULL, 10);
	/* children get the limit futured was started with */
	if (rl.rlim_cur > 0)
		setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGINT, SIG_IGN);	/* futured decides when tasks end */
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sp_note_ignored();
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return -1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_NAME, "futured-spawn");
	return sfd;
}

int
spawner_main(int argc, char **argv)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	int			 sfd, timeout;

	log_init(LOG_LEVEL_WARN);
	if ((sfd = sp_setup(argc, argv)) == -1) {
		log_warn("spawner: cannot start");
		return 1;
	}
	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sp_closing ? -1 : SPAWN_FD;
		pfd[1].events = POLLIN;
		timeout = sp_children != NULL || sp_closing || sp_fence_at > 0 ?
		    SP_CHECK_MS : -1;
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				;
		if (!sp_closing && pfd[1].revents != 0 && !sp_message())
			sp_closing = 1;
		sp_reap();
		sp_fence();
		if (sp_closing)
			sp_close();
		sp_settle();
		if (sp_closing && sp_closed())
			break;
	}
	while (sp_children != NULL) {
		struct sp_child *c = sp_children;

		sp_children = c->next;
		free(c);
	}
	close(sfd);
	return 0;
}
