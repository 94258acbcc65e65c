/*
 * beanload.c: beanstalkd baselines.  Puts COUNT jobs of SIZE bytes on one
 * TCP connection, keeping WINDOW puts in flight: 1 is "put and wait for
 * INSERTED" (submit-single), more is pipelined (submit-batch).  With -x,
 * WORKERS processes also run the jobs as a beanstalkd user would run
 * commands (exec-throughput): each reserves a job, starts PROG with
 * posix_spawn(3), waits for it and deletes the job.  The workers start
 * before the puts, as futured's slots exist before its submissions.
 *
 * usage: beanload -p PORT [-n COUNT] [-w WINDOW] [-s SIZE] [-x WORKERS PROG]
 * prints: jobs= elapsed= rate= (and latency percentiles with -w 1; with
 * -x, failed= and elapsed up to the last job deleted)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include "bench.h"

extern char	**environ;

struct bean_conn {
	int	 fd;
	char	 in[65536];
	size_t	 inlen;
};

static void
bean_connect(struct bean_conn *c, int port)
{
	struct sockaddr_in	sin;
	int			one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		bench_die("socket:");
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		bench_die("connect 127.0.0.1:%d:", port);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->inlen = 0;
}

static void
bean_send(struct bean_conn *c, const char *buf, size_t len)
{
	if (write(c->fd, buf, len) != (ssize_t)len)
		bench_die("write to beanstalkd:");
}

/* The next line of an answer, without its CRLF; NULL at end of file. */
static char *
bean_line(struct bean_conn *c, char *line, size_t size)
{
	char	*nl;
	ssize_t	 r;
	size_t	 n;

	while ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
		if (c->inlen == sizeof c->in)
			bench_die("beanstalkd: line too long");
		if ((r = read(c->fd, c->in + c->inlen,
		    sizeof c->in - c->inlen)) <= 0)
			return NULL;
		c->inlen += (size_t)r;
	}
	n = (size_t)(nl - c->in) + 1;
	if (n > size)
		bench_die("beanstalkd: line too long");
	memcpy(line, c->in, n);
	line[n - (n >= 2 && line[n - 2] == '\r' ? 2 : 1)] = '\0';
	c->inlen -= n;
	memmove(c->in, c->in + n, c->inlen);
	return line;
}

/* Drops SIZE bytes of a job's body and its CRLF. */
static void
bean_skip(struct bean_conn *c, size_t size)
{
	char	line[65536];

	if (size + 2 > sizeof line || bean_line(c, line, sizeof line) == NULL ||
	    strlen(line) != size)
		bench_die("beanstalkd: bad job body");
}

static int
run_prog(char **prog)
{
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	int				 status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	errno = posix_spawn(&pid, prog[0], &fa, NULL, prog, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno != 0)
		bench_die("posix_spawn %s:", prog[0]);
	if (waitpid(pid, &status, 0) == -1)
		bench_die("waitpid:");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * One worker: reserve, run, delete until the queue stays empty for a
 * second (the producer is done by then).  Writes "jobs failed last" to OUT,
 * last being when its last job was deleted.
 */
static void
worker(int port, char **prog, int out)
{
	struct bean_conn	c;
	static const char	res[] = "reserve-with-timeout 1\r\n";
	char			line[256], del[64];
	unsigned long long	id;
	size_t			size;
	long			jobs = 0, failed = 0;
	double			last = 0;
	int			n;

	bean_connect(&c, port);
	for (;;) {
		bean_send(&c, res, sizeof res - 1);
		if (bean_line(&c, line, sizeof line) == NULL)
			bench_die("beanstalkd closed the connection");
		if (strcmp(line, "TIMED_OUT") == 0)
			break;
		if (sscanf(line, "RESERVED %llu %zu", &id, &size) != 2)
			bench_die("beanstalkd: %s", line);
		bean_skip(&c, size);
		if (run_prog(prog) == -1)
			failed++;
		n = snprintf(del, sizeof del, "delete %llu\r\n", id);
		bean_send(&c, del, (size_t)n);
		if (bean_line(&c, line, sizeof line) == NULL ||
		    strcmp(line, "DELETED") != 0)
			bench_die("beanstalkd: delete: %s", line);
		jobs++;
		last = bench_now();
	}
	n = snprintf(line, sizeof line, "%ld %ld %.9f\n", jobs, failed, last);
	if (write(out, line, (size_t)n) != n)
		bench_die("write:");
	_exit(0);
}

/* Puts N jobs of SIZE bytes, W in flight; adds put latencies when W is 1. */
static long
put_jobs(struct bean_conn *c, long n, long w, size_t size,
    struct bench_samples *lat)
{
	char	 hdr[64], line[256], *put;
	long	 sent = 0, got = 0, bad = 0;
	size_t	 hl, plen;
	double	 tput = 0;

	hl = (size_t)snprintf(hdr, sizeof hdr, "put 0 0 60 %zu\r\n", size);
	plen = hl + size + 2;
	put = bench_alloc(plen);
	memcpy(put, hdr, hl);
	memset(put + hl, 'x', size);
	memcpy(put + hl + size, "\r\n", 2);
	while (got < n) {
		while (sent < n && sent - got < w) {
			if (w == 1)
				tput = bench_now();
			bean_send(c, put, plen);
			sent++;
		}
		if (bean_line(c, line, sizeof line) == NULL)
			bench_die("read from beanstalkd:");
		if (strncmp(line, "INSERTED ", 9) != 0)
			bad++;
		got++;
		if (w == 1)
			bench_sample_add(lat, bench_now() - tput);
	}
	free(put);
	return bad;
}

/* Starts K workers; their reports come on the returned descriptor. */
static int
workers_start(int k, int port, char **prog)
{
	pid_t	pid;
	int	p[2], i;

	if (pipe(p) == -1)
		bench_die("pipe:");
	for (i = 0; i < k; i++) {
		if ((pid = fork()) == -1)
			bench_die("fork:");
		if (pid == 0) {
			close(p[0]);
			worker(port, prog, p[1]);
		}
	}
	close(p[1]);
	return p[0];
}

/* Waits for the workers; the time of the last delete, jobs and failures. */
static double
workers_wait(int fd, long *jobs, long *failed)
{
	char	 buf[4096];
	FILE	*f = fdopen(fd, "r");
	long	 j, fl;
	double	 t, last = 0;

	if (f == NULL)
		bench_die("fdopen:");
	*jobs = *failed = 0;
	while (fgets(buf, sizeof buf, f) != NULL) {
		if (sscanf(buf, "%ld %ld %lf", &j, &fl, &t) != 3)
			bench_die("worker report: %s", buf);
		*jobs += j;
		*failed += fl;
		if (t > last)
			last = t;
	}
	fclose(f);
	while (wait(NULL) > 0)
		;
	return last;
}

int
main(int argc, char **argv)
{
	struct bench_samples	 lat = { 0 };
	struct bean_conn	 c;
	long			 n = 1000, w = 1, bad, jobs, failed = 0;
	size_t			 size = 40;
	double			 t0, el;
	int			 port = 0, ch, workers = 0, rfd = -1;

	while ((ch = getopt(argc, argv, "p:n:w:s:x:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'w': w = atol(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		case 'x': workers = atoi(optarg); break;
		default: port = 0; break;
		}
	}
	if (port <= 0 || n < 1 || w < 1 || workers < 0 ||
	    (workers > 0) != (optind < argc)) {
		fprintf(stderr, "usage: beanload -p PORT [-n COUNT] "
		    "[-w WINDOW] [-s SIZE] [-x WORKERS PROG [ARGS...]]\n");
		return 2;
	}
	t0 = bench_now();
	if (workers > 0)
		rfd = workers_start(workers, port, argv + optind);
	bean_connect(&c, port);
	bad = put_jobs(&c, n, w, size, &lat);
	close(c.fd);
	jobs = n;
	el = bench_now() - t0;
	if (workers > 0)
		el = workers_wait(rfd, &jobs, &failed) - t0;
	printf("jobs=%ld bad=%ld elapsed=%.6f rate=%.1f", jobs, bad, el,
	    (double)jobs / el);
	if (workers > 0)
		printf(" failed=%ld", failed);
	if (w == 1)
		bench_print_pcts("lat", &lat);
	printf("\n");
	return bad != 0 || failed != 0 || jobs != n;
}
