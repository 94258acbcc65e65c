/*
 * ipcfloor.c: the round-trip floor of submit-single.  A parent and a child
 * on a Unix socket pair, each waiting in epoll like a daemon and its
 * client: the parent sends REQ bytes, the child answers ANS bytes, COUNT
 * times.  No parsing, no storage: what one request and its answer between
 * two processes cost on this machine before any work is done.  The two are
 * pinned to different CPUs, where the scheduler puts a busy daemon and its
 * client on two cores: waking a process on the other CPU costs an
 * inter-processor interrupt, which on a VM is far dearer than the rest
 * (about 0.1 ms here, against 0.013 ms when both share one CPU).
 *
 * usage: ipcfloor [-n COUNT] [-q REQ] [-a ANS]
 * prints: trips= elapsed= rate= rt_p50_ms= ...
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include "bench.h"

/* On CPU cpu when the machine has it; the measure holds either way. */
static void
ipc_pin(int cpu)
{
	cpu_set_t	set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

/* Waits until fd is readable, then reads exactly n bytes; 0 at EOF. */
static int
ipc_read(int ep, int fd, char *buf, size_t n)
{
	struct epoll_event	ev;
	size_t			got = 0;
	ssize_t			r;

	while (got < n) {
		if (epoll_wait(ep, &ev, 1, -1) == -1)
			bench_die("epoll_wait:");
		if ((r = read(fd, buf + got, n - got)) == 0)
			return 0;
		if (r == -1)
			bench_die("read:");
		got += (size_t)r;
	}
	return 1;
}

static int
ipc_epoll(int fd)
{
	struct epoll_event	ev = { .events = EPOLLIN };
	int			ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		bench_die("epoll:");
	return ep;
}

static void
ipc_answerer(int fd, size_t req, size_t ans)
{
	char	*buf = bench_alloc(req > ans ? req : ans);
	int	 ep = ipc_epoll(fd);

	while (ipc_read(ep, fd, buf, req))
		if (write(fd, buf, ans) != (ssize_t)ans)
			bench_die("write:");
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct bench_samples	 lat = { 0 };
	long			 n = 10000, i;
	size_t			 req = 150, ans = 600;
	double			 t0, t, el;
	char			*buf;
	pid_t			 pid;
	int			 ch, sv[2], ep;

	while ((ch = getopt(argc, argv, "n:q:a:")) != -1) {
		switch (ch) {
		case 'n': n = atol(optarg); break;
		case 'q': req = (size_t)atol(optarg); break;
		case 'a': ans = (size_t)atol(optarg); break;
		default: n = 0; break;
		}
	}
	if (n < 1 || req < 1 || ans < 1) {
		fprintf(stderr, "usage: ipcfloor [-n COUNT] [-q REQ] [-a ANS]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		bench_die("socketpair:");
	if ((pid = fork()) == -1)
		bench_die("fork:");
	if (pid == 0) {
		close(sv[0]);
		ipc_pin(1);
		ipc_answerer(sv[1], req, ans);
	}
	ipc_pin(0);
	close(sv[1]);
	buf = bench_alloc(req > ans ? req : ans);
	memset(buf, 'x', req);
	ep = ipc_epoll(sv[0]);
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		t = bench_now();
		if (write(sv[0], buf, req) != (ssize_t)req)
			bench_die("write:");
		if (!ipc_read(ep, sv[0], buf, ans))
			bench_die("the answerer went away");
		bench_sample_add(&lat, bench_now() - t);
	}
	el = bench_now() - t0;
	close(sv[0]);
	waitpid(pid, NULL, 0);
	printf("trips=%ld elapsed=%.6f rate=%.1f", n, el, (double)n / el);
	bench_print_pcts("rt", &lat);
	printf("\n");
	return 0;
}
