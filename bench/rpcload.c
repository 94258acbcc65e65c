/*
 * rpcload.c: the load generator of the benchmark suite.  It speaks futured's
 * JSON-RPC 2.0 over HTTP/1.1 on the Unix socket through persistent
 * keep-alive connections, one request in flight on each, all driven by one
 * epoll loop so that the generator is not the bottleneck, not even with
 * 10,000 connections.  Request bodies are built once and copied.
 *
 * usage: rpcload -s SOCKET [-c CONNS] [-n COUNT] [-b BATCH] [-p PARAMS]
 *                [-m METHOD] [-P PID] MODE [-- ARGV...]
 *   submit     CONNS connections, each sending COUNT requests in sequence:
 *              one task.submit of PARAMS, or a batch of BATCH of them
 *   roundtrip  COUNT times on one connection: task.submit of PARAMS, then
 *              task.result with timeout null; latency submit -> result
 *   run        submit COUNT tasks in batches of BATCH, then task.wait for
 *              all of them; rate of tasks done, and the final counts
 *   call       COUNT calls of METHOD with PARAMS on one connection
 *   waiters    submit one task of PARAMS, hold CONNS connections each
 *              long-polling task.wait on it, report the daemon's RSS (PID)
 *              once they are registered and when each answer came after
 *              the task's finished_at
 *   start      run ARGV (a futured) and time until METHOD (default
 *              daemon.info) answers on SOCKET; then SIGTERM it and time
 *              its exit
 * Each mode prints one line of key=value pairs; exit status 1 on failure.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define WAIT_MAX_IDS	10000	/* task.wait takes at most this many ids */

struct conn {
	int		 fd;
	char		*out;
	size_t		 outlen, outoff, outcap;
	char		*in;
	size_t		 inlen, incap;
	int		 busy;		/* a request is in flight */
	int		 finished;	/* nothing more to send */
	int		 want_out;	/* registered for EPOLLOUT */
	double		 sent_at;
	double		 t0;		/* mode-specific start time */
	long		 nsent;
	int		 state;		/* mode-specific */
	int64_t		 id;		/* mode-specific task id */
};

/* A mode: queue the next request (1), nothing now (0) or none more (-1). */
typedef int	(*next_fn)(struct conn *);
typedef void	(*answer_fn)(struct conn *, char *, size_t, int);

static const char	*opt_socket;
static int		 opt_conns = 1;
static long		 opt_count = 1;
static int		 opt_batch;
static const char	*opt_params = "{\"kind\":\"sleep\",\"seconds\":0}";
static const char	*opt_method = "task.submit";
static int		 opt_method_set;
static pid_t		 opt_pid;

static int		 ep = -1;
static long		 n_errors, n_http_errors, n_tasks, n_answers;
static size_t		 n_bytes;
static struct bench_samples lat;
static char		*req_body;	/* the request body modes reuse */
static size_t		 req_len;

static void
buf_reserve(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	if ((*buf = realloc(*buf, *cap)) == NULL)
		bench_die("out of memory");
}

/* Appends to a growing string. */
static void
str_add(char **s, size_t *len, size_t *cap, const char *add, size_t n)
{
	buf_reserve(s, cap, *len + n + 1);
	memcpy(*s + *len, add, n);
	*len += n;
	(*s)[*len] = '\0';
}

static int
sock_connect(void)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(opt_socket) >= sizeof sun.sun_path)
		bench_die("socket path too long");
	strcpy(sun.sun_path, opt_socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		bench_die("socket:");
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
conn_init(struct conn *c, int nonblock)
{
	memset(c, 0, sizeof *c);
	if ((c->fd = sock_connect()) == -1)
		bench_die("connect %s:", opt_socket);
	if (nonblock) {
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		if (ep != -1) {
			struct epoll_event ev = { .events = EPOLLIN,
			    .data.ptr = c };
			if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
				bench_die("epoll_ctl:");
		}
	}
}

static void
conn_watch_out(struct conn *c, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
	    .data.ptr = c };

	if (ep == -1 || c->want_out == on)
		return;
	c->want_out = on;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		bench_die("epoll_ctl:");
}

/* Writes what it can; returns -1 when the peer is gone. */
static int
conn_write(struct conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		c->outoff += (size_t)n;
	}
	conn_watch_out(c, c->outoff < c->outlen);
	return 0;
}

/* Queues one POST /rpc with this body and starts writing it. */
static void
conn_request(struct conn *c, const char *body, size_t len)
{
	char	hdr[160];
	int	h;

	h = snprintf(hdr, sizeof hdr, "POST /rpc HTTP/1.1\r\nHost: localhost"
	    "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    len);
	buf_reserve(&c->out, &c->outcap, (size_t)h + len);
	memcpy(c->out, hdr, (size_t)h);
	memcpy(c->out + h, body, len);
	c->outlen = (size_t)h + len;
	c->outoff = 0;
	c->busy = 1;
	c->nsent++;
	c->sent_at = bench_now();
	if (conn_write(c) == -1)
		bench_die("write to futured:");
}

/*
 * A whole response in the input buffer: its body (NUL-terminated in place;
 * one request is in flight per connection so nothing follows it), body
 * length and HTTP status; returns the bytes it spans, or 0 if incomplete.
 */
static size_t
conn_response(struct conn *c, char **body, size_t *blen, int *status)
{
	char	*end, *p, *eol;
	size_t	 hlen, clen = 0;
	int	 have_len = 0;

	if (c->inlen < 4)
		return 0;
	if ((end = memmem(c->in, c->inlen, "\r\n\r\n", 4)) == NULL)
		return 0;
	hlen = (size_t)(end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
		bench_die("bad HTTP status line");
	for (p = c->in; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2)) == NULL)
			break;
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			clen = strtoul(p + 15, NULL, 10);
			have_len = 1;
		}
	}
	if (!have_len)
		bench_die("response without Content-Length");
	if (c->inlen < hlen + clen)
		return 0;
	buf_reserve(&c->in, &c->incap, hlen + clen + 1);
	*body = c->in + hlen;
	*blen = clen;
	return hlen + clen;
}

/* Counts occurrences of a string in a NUL-terminated body. */
static long
count_str(const char *body, const char *what)
{
	long	n = 0;
	size_t	l = strlen(what);

	while ((body = strstr(body, what)) != NULL) {
		n++;
		body += l;
	}
	return n;
}

/* The integer after the first occurrence of key, or -1. */
static long long
int_after(const char *body, const char *key)
{
	const char	*p = strstr(body, key);

	return p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Reads; on a whole response hands it to answer; -1 when the peer left. */
static int
conn_read(struct conn *c, answer_fn answer)
{
	char	*body, save;
	size_t	 blen, used;
	ssize_t	 n;
	int	 status;

	for (;;) {
		buf_reserve(&c->in, &c->incap, c->inlen + 65536);
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->inlen += (size_t)n;
		if ((used = conn_response(c, &body, &blen, &status)) == 0)
			continue;
		save = body[blen];
		body[blen] = '\0';
		c->busy = 0;
		n_answers++;
		n_bytes += blen;
		if (status != 200)
			n_http_errors++;
		n_errors += count_str(body, "\"error\":{");
		answer(c, body, blen, status);
		body[blen] = save;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		return 0;
	}
}

/* One blocking call on a blocking connection; the body stays in c->in. */
static char *
conn_call(struct conn *c, const char *body, size_t len)
{
	char	*rb;
	size_t	 blen, used;
	ssize_t	 n;
	int	 status;

	c->inlen = 0;
	conn_request(c, body, len);
	for (;;) {
		buf_reserve(&c->in, &c->incap, c->inlen + 65536);
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			bench_die("read from futured:");
		c->inlen += (size_t)n;
		if ((used = conn_response(c, &rb, &blen, &status)) != 0)
			break;
	}
	rb[blen] = '\0';
	c->busy = 0;
	if (status != 200)
		bench_die("HTTP %d: %s", status, rb);
	return rb;
}

static void
conn_call_str(struct conn *c, char **out, const char *fmt, ...)
{
	va_list	ap;
	char	*body;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		bench_die("out of memory");
	*out = conn_call(c, body, (size_t)n);
	free(body);
}

static double	engine_wake;	/* when a mode that said "not now" retries */

static void
engine_kick(struct conn *c, next_fn next)
{
	int	r;

	if (c->busy || c->finished)
		return;
	if ((r = next(c)) < 0)
		c->finished = 1;
}

/* Runs n connections until every one has finished. */
static void
engine_run(struct conn *cs, int n, next_fn next, answer_fn answer)
{
	struct epoll_event	 evs[512];
	struct conn		*c;
	int			 i, k, active, timeout;

	for (i = 0; i < n; i++)
		engine_kick(&cs[i], next);
	for (;;) {
		active = 0;
		for (i = 0; i < n; i++)
			active += !cs[i].finished;
		if (active == 0)
			break;
		timeout = -1;
		if (engine_wake > 0) {
			timeout = (int)((engine_wake - bench_now()) * 1e3) + 1;
			if (timeout < 0)
				timeout = 0;
		}
		k = epoll_wait(ep, evs, 512, timeout);
		if (k == -1 && errno != EINTR)
			bench_die("epoll_wait:");
		for (i = 0; i < k; i++) {
			c = evs[i].data.ptr;
			if ((evs[i].events & EPOLLOUT) && conn_write(c) == -1)
				bench_die("futured closed a connection");
			if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    conn_read(c, answer) == -1)
				bench_die("futured closed a connection");
			engine_kick(c, next);
		}
		if (engine_wake > 0 && bench_now() >= engine_wake) {
			engine_wake = 0;
			for (i = 0; i < n; i++)
				engine_kick(&cs[i], next);
		}
	}
}

static struct conn *
conns_open(int n)
{
	struct conn	*cs = bench_alloc((size_t)n * sizeof *cs);
	int		 i;

	if (ep == -1 && (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		bench_die("epoll_create1:");
	for (i = 0; i < n; i++)
		conn_init(&cs[i], 1);
	return cs;
}

static void
conns_close(struct conn *cs, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (cs[i].fd != -1)
			close(cs[i].fd);
		free(cs[i].out);
		free(cs[i].in);
	}
	free(cs);
}

/* The body of one call, or of a batch of count submits when count > 0. */
static void
build_body(int count, const char *method, const char *params)
{
	char	 one[65536];
	size_t	 cap = 0;
	int	 i, n;

	free(req_body);
	req_body = NULL;
	req_len = 0;
	if (count == 0) {
		n = snprintf(one, sizeof one, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"%s\",\"params\":%s}", method, params);
		str_add(&req_body, &req_len, &cap, one, (size_t)n);
		return;
	}
	str_add(&req_body, &req_len, &cap, "[", 1);
	for (i = 0; i < count; i++) {
		n = snprintf(one, sizeof one, "%s{\"jsonrpc\":\"2.0\",\"id\":%d,"
		    "\"method\":\"%s\",\"params\":%s}", i ? "," : "", i + 1,
		    method, params);
		str_add(&req_body, &req_len, &cap, one, (size_t)n);
	}
	str_add(&req_body, &req_len, &cap, "]", 1);
}

/* Appends the task ids of a submit answer (single or batch) to ids. */
static long
parse_ids(const char *body, int64_t **ids, size_t *nids, size_t *cap)
{
	const char	*key = "\"result\":{\"id\":";
	long		 found = 0;

	while ((body = strstr(body, key)) != NULL) {
		body += strlen(key);
		if (*nids == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			if ((*ids = realloc(*ids, *cap * sizeof **ids)) == NULL)
				bench_die("out of memory");
		}
		(*ids)[(*nids)++] = strtoll(body, NULL, 10);
		found++;
	}
	return found;
}

/* --- submit --- */

/* Sends the same request until each connection has sent opt_count. */
static int
repeat_next(struct conn *c)
{
	if (c->nsent >= opt_count)
		return -1;
	conn_request(c, req_body, req_len);
	return 1;
}

static void
submit_answer(struct conn *c, char *body, size_t len, int status)
{
	bench_sample_add(&lat, bench_now() - c->sent_at);
	n_tasks += count_str(body, "\"result\":{\"id\":");
}

static int
mode_submit(void)
{
	struct conn	*cs;
	double		 t0, el;

	build_body(opt_batch, "task.submit", opt_params);
	cs = conns_open(opt_conns);
	t0 = bench_now();
	engine_run(cs, opt_conns, repeat_next, submit_answer);
	el = bench_now() - t0;
	conns_close(cs, opt_conns);
	printf("requests=%ld tasks=%ld errors=%ld http_errors=%ld "
	    "elapsed=%.6f rate=%.1f", n_answers, n_tasks, n_errors,
	    n_http_errors, el, (double)n_tasks / el);
	bench_print_pcts("req", &lat);
	printf("\n");
	free(lat.v);
	free(req_body);
	return n_errors || n_http_errors;
}

/* --- roundtrip --- */

static long	rt_done;

static int
rt_next(struct conn *c)
{
	char	body[256];
	int	n;

	if (c->state == 0) {
		if (rt_done >= opt_count)
			return -1;
		c->t0 = bench_now();
		conn_request(c, req_body, req_len);
		return 1;
	}
	n = snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"task.result\",\"params\":{\"id\":%lld,"
	    "\"timeout\":null}}", (long long)c->id);
	conn_request(c, body, (size_t)n);
	return 1;
}

static void
rt_answer(struct conn *c, char *body, size_t len, int status)
{
	if (c->state == 0) {
		c->id = int_after(body, "\"result\":{\"id\":");
		if (c->id <= 0)
			bench_die("submit failed: %s", body);
		c->state = 1;
		return;
	}
	bench_sample_add(&lat, bench_now() - c->t0);
	rt_done++;
	n_tasks++;
	c->state = 0;
}

static int
mode_roundtrip(void)
{
	struct conn	*cs;
	double		 t0, el;

	build_body(0, "task.submit", opt_params);
	cs = conns_open(1);
	t0 = bench_now();
	engine_run(cs, 1, rt_next, rt_answer);
	el = bench_now() - t0;
	printf("tasks=%ld errors=%ld elapsed=%.6f rate=%.1f", n_tasks,
	    n_errors, el, (double)n_tasks / el);
	bench_print_pcts("rt", &lat);
	printf("\n");
	return n_errors != 0;
}

/* --- run --- */

static int64_t	*run_ids;
static size_t	 run_nids, run_cap, run_waited;
static long	 run_submitted;
static double	 run_submit_end;
static long long run_counts[3];

static const char wait_head[] = "{\"jsonrpc\":\"2.0\",\"id\":3,"
    "\"method\":\"task.wait\",\"params\":{\"timeout\":null,\"ids\":[";

static int
run_next(struct conn *c)
{
	char	*body = NULL, num[32];
	size_t	 len = 0, cap = 0, i, end;
	int	 n;

	if (c->state == 0) {
		n = opt_batch;
		if (opt_count - run_submitted < n) {
			n = (int)(opt_count - run_submitted);
			build_body(n, "task.submit", opt_params);
		}
		run_submitted += n;
		conn_request(c, req_body, req_len);
		return 1;
	}
	if (c->state == 1) {
		end = run_waited + WAIT_MAX_IDS;
		if (end > run_nids)
			end = run_nids;
		str_add(&body, &len, &cap, wait_head, sizeof wait_head - 1);
		for (i = run_waited; i < end; i++) {
			n = snprintf(num, sizeof num, "%s%lld", i > run_waited ?
			    "," : "", (long long)run_ids[i]);
			str_add(&body, &len, &cap, num, (size_t)n);
		}
		str_add(&body, &len, &cap, "]}}", 3);
		conn_request(c, body, len);
		free(body);
		return 1;
	}
	if (c->state == 2) {
		static const char info[] = "{\"jsonrpc\":\"2.0\",\"id\":4,"
		    "\"method\":\"daemon.info\"}";
		conn_request(c, info, sizeof info - 1);
		return 1;
	}
	return -1;
}

static void
run_answer(struct conn *c, char *body, size_t len, int status)
{
	if (c->state == 0) {
		n_tasks += parse_ids(body, &run_ids, &run_nids, &run_cap);
		if (run_submitted >= opt_count) {
			run_submit_end = bench_now();
			c->state = 1;
		}
		return;
	}
	if (c->state == 1) {
		if (strstr(body, "\"pending\":[]") == NULL)
			return;		/* the cap ran out: ask again */
		run_waited += WAIT_MAX_IDS;
		if (run_waited >= run_nids)
			c->state = 2;
		return;
	}
	run_counts[0] = int_after(body, "\"succeeded\":");
	run_counts[1] = int_after(body, "\"failed\":");
	run_counts[2] = int_after(body, "\"cancelled\":");
	c->state = 3;
}

static int
mode_run(void)
{
	struct conn	*cs;
	double		 t0, el;

	if (opt_batch <= 0)
		opt_batch = 1;
	build_body(opt_batch, "task.submit", opt_params);
	cs = conns_open(1);
	t0 = bench_now();
	engine_run(cs, 1, run_next, run_answer);
	el = bench_now() - t0;
	printf("tasks=%ld errors=%ld elapsed=%.6f rate=%.1f submit_s=%.6f "
	    "succeeded=%lld failed=%lld cancelled=%lld\n", n_tasks, n_errors,
	    el, (double)n_tasks / el, run_submit_end - t0, run_counts[0],
	    run_counts[1], run_counts[2]);
	return n_errors != 0 || n_tasks != opt_count;
}

/* --- call --- */

static void
call_answer(struct conn *c, char *body, size_t len, int status)
{
	bench_sample_add(&lat, bench_now() - c->sent_at);
}

static int
mode_call(void)
{
	struct conn	*cs;

	build_body(0, opt_method, opt_params);
	cs = conns_open(1);
	engine_run(cs, 1, repeat_next, call_answer);
	printf("calls=%ld errors=%ld bytes_per_answer=%zu", n_answers,
	    n_errors, n_answers ? n_bytes / (size_t)n_answers : 0);
	bench_print_pcts("call", &lat);
	printf("\n");
	return n_errors != 0;
}

/* --- waiters --- */

static struct bench_samples	 w_at;	/* wall time of each answer */
static int64_t			 w_id;
static long			 w_bad;

static long
rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* An RFC 3339 UTC timestamp with milliseconds, as seconds since epoch. */
static double
parse_time(const char *s)
{
	struct tm	tm;
	int		ms = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1e3;
}

static int
waiter_next(struct conn *c)
{
	return c->nsent == 0 ? (conn_request(c, req_body, req_len), 1) : -1;
}

static void
waiter_answer(struct conn *c, char *body, size_t len, int status)
{
	char	want[64];

	bench_sample_add(&w_at, bench_wall());
	snprintf(want, sizeof want, "\"done\":[%lld]", (long long)w_id);
	if (strstr(body, want) == NULL)
		w_bad++;
}

static int
mode_waiters(void)
{
	struct conn	 ctl, *cs;
	char		*rb, *p, params[128];
	double		 t0, t_conn, t_reg = 0, reg_wall = 0, fin, deadline;
	long		 rss0, rss = -1, i;

	conn_init(&ctl, 0);
	build_body(0, "task.submit", opt_params);
	rb = conn_call(&ctl, req_body, req_len);
	if ((w_id = int_after(rb, "\"result\":{\"id\":")) <= 0)
		bench_die("submit failed: %s", rb);
	rss0 = opt_pid ? rss_kb(opt_pid) : -1;
	snprintf(params, sizeof params, "{\"ids\":[%lld],\"timeout\":null}",
	    (long long)w_id);
	build_body(0, "task.wait", params);
	t0 = bench_now();
	cs = conns_open(opt_conns);
	t_conn = bench_now() - t0;
	for (i = 0; i < opt_conns; i++)
		waiter_next(&cs[i]);
	/* Registered once daemon.info counts them all. */
	deadline = bench_now() + 120;
	while (bench_now() < deadline) {
		conn_call_str(&ctl, &rb, "{\"jsonrpc\":\"2.0\",\"id\":5,"
		    "\"method\":\"daemon.info\"}");
		if (int_after(rb, "\"waiters\":") >= opt_conns) {
			t_reg = bench_now() - t0;
			reg_wall = bench_wall();
			rss = opt_pid ? rss_kb(opt_pid) : -1;
			break;
		}
		if (int_after(rb, "\"running\":") == 0 &&
		    int_after(rb, "\"pending\":") == 0)
			break;	/* finished before all registered: late */
		usleep(5000);
	}
	engine_run(cs, opt_conns, waiter_next, waiter_answer);
	conn_call_str(&ctl, &rb, "{\"jsonrpc\":\"2.0\",\"id\":6,"
	    "\"method\":\"task.get\",\"params\":{\"id\":%lld}}",
	    (long long)w_id);
	if ((p = strstr(rb, "\"finished_at\":\"")) == NULL)
		bench_die("no finished_at: %s", rb);
	fin = parse_time(p + 15);
	for (i = 0; i < (long)w_at.n; i++)
		w_at.v[i] -= fin;
	qsort(w_at.v, w_at.n, sizeof *w_at.v, bench_cmp_double);
	printf("waiters=%ld connect_s=%.3f register_s=%.3f rss0_kb=%ld "
	    "rss_kb=%ld first_ms=%.1f p50_ms=%.1f last_ms=%.1f late=%d "
	    "bad=%ld errors=%ld http_errors=%ld\n", (long)w_at.n, t_conn,
	    t_reg, rss0, rss, bench_pct(&w_at, 0) * 1e3,
	    bench_pct(&w_at, 50) * 1e3, bench_pct(&w_at, 100) * 1e3,
	    t_reg == 0 || reg_wall > fin,
	    w_bad, n_errors, n_http_errors);
	return t_reg == 0 || w_bad || n_errors || n_http_errors;
}

/* --- start --- */

static pid_t	start_pid;

/* Whatever happens, the daemon that start started does not outlive it. */
static void
start_cleanup(void)
{
	if (start_pid > 0) {
		kill(start_pid, SIGTERM);
		waitpid(start_pid, NULL, 0);
	}
}

static int
mode_start(char **argv)
{
	struct conn	 c;
	double		 t0, t_ready, t1;
	pid_t		 pid;
	int		 fd, st;
	char		*rb;

	if (argv[0] == NULL)
		bench_die("start: no command");
	build_body(0, opt_method_set ? opt_method : "daemon.info", "{}");
	t0 = bench_now();
	if ((pid = fork()) == -1)
		bench_die("fork:");
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	start_pid = pid;
	atexit(start_cleanup);
	for (;;) {
		if ((fd = sock_connect()) != -1)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			start_pid = 0;
			bench_die("%s exited before it was ready", argv[0]);
		}
		if (bench_now() - t0 > 120)
			bench_die("%s not ready after 120 s", argv[0]);
		usleep(200);
	}
	memset(&c, 0, sizeof c);
	c.fd = fd;
	rb = conn_call(&c, req_body, req_len);
	t_ready = bench_now() - t0;
	if (strstr(rb, "\"result\"") == NULL)
		bench_die("%s failed: %s", opt_method, rb);
	close(fd);
	t1 = bench_now();
	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) == -1)
		bench_die("waitpid:");
	start_pid = 0;
	printf("start_ms=%.3f stop_ms=%.3f\n", t_ready * 1e3,
	    (bench_now() - t1) * 1e3);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rpcload -s SOCKET [-c CONNS] [-n COUNT] "
	    "[-b BATCH] [-p PARAMS] [-m METHOD] [-P PID]\n"
	    "               submit|roundtrip|run|call|waiters|start "
	    "[-- ARGV...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*mode;
	int		 ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+s:c:n:b:p:m:P:")) != -1) {
		switch (ch) {
		case 's': opt_socket = optarg; break;
		case 'c': opt_conns = atoi(optarg); break;
		case 'n': opt_count = atol(optarg); break;
		case 'b': opt_batch = atoi(optarg); break;
		case 'p': opt_params = optarg; break;
		case 'm': opt_method = optarg; opt_method_set = 1; break;
		case 'P': opt_pid = (pid_t)atol(optarg); break;
		default: usage();
		}
	}
	if (opt_socket == NULL || optind >= argc || opt_conns < 1 ||
	    opt_count < 1 || opt_batch < 0)
		usage();
	mode = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (strcmp(mode, "submit") == 0)
		return mode_submit();
	if (strcmp(mode, "roundtrip") == 0)
		return mode_roundtrip();
	if (strcmp(mode, "run") == 0)
		return mode_run();
	if (strcmp(mode, "call") == 0)
		return mode_call();
	if (strcmp(mode, "waiters") == 0)
		return mode_waiters();
	if (strcmp(mode, "start") == 0)
		return mode_start(argv + optind);
	usage();
	return 2;
}
