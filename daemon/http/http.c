/*
 * http.c: HTTP/1.1 connections.  Each accepted socket is a bufferevent
 * whose bytes go through http-parse.c; a request is refused as soon as its
 * headers show it must be (401, 404, 405, 413, 503), before its body is
 * read, and answered with a JSON body.  An accepted request goes down to
 * rpc.c, whose answer comes back through http_rpc_reply_cb.
 *
 * One request at a time per connection: bytes a client pipelines wait in
 * the input buffer (up to HTTP_PIPELINE_MAX) until the answer is written.
 * While a request waits (a long-poll), the connection is still read, so a
 * client that hangs up is noticed and its calls answered at once.
 *
 * A refused request is answered with "Connection: close", then the
 * connection lingers (nginx's lingering close): what the client still
 * sends is read and dropped, for at most HTTP_LINGER_TIME seconds and
 * HTTP_LINGER_FACTOR times --max-request bytes, so that a client still
 * sending reads the answer instead of a reset.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "http/http-parse.h"

#define HTTP_IDLE_TIMEOUT	300	/* seconds: well above max_wait */
#define HTTP_LINGER_TIME	10	/* seconds at most, in all */
#define HTTP_LINGER_IDLE	2	/* seconds without a byte: done */
#define HTTP_LINGER_FACTOR	64
#define HTTP_PIPELINE_MAX	(1024 * 1024)

enum http_conn_state {
	HTTP_READING,		/* a request (or the next) comes in */
	HTTP_BUSY,		/* rpc.c answers it */
	HTTP_WRITING,		/* its answer goes out */
	HTTP_LINGERING,		/* refused: draining what the client sends */
};

struct http_conn {
	struct bufferevent	*bev;		/* NULL: the client went away */
	struct http_parse	*parse;
	enum http_conn_state	 state;
	int			 need_auth;
	int			 keep_alive;
	struct rpc_batch	*batch;		/* while HTTP_BUSY */
	size_t			 lingered;
	time_t			 linger_until;
	TAILQ_ENTRY(http_conn)	 entry;
};

static TAILQ_HEAD(, http_conn)	http_conns = TAILQ_HEAD_INITIALIZER(http_conns);
static size_t			http_nconns, http_nbusy;

static void	http_conn_process(struct http_conn *);

size_t
http_busy(void)
{
	return http_nbusy;
}

size_t
http_connections(void)
{
	return http_nconns;
}

static void
http_conn_free(struct http_conn *c)
{
	TAILQ_REMOVE(&http_conns, c, entry);
	http_nconns--;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	http_parse_free(c->parse);
	free(c);
	http_server_resume();	/* a descriptor is free again */
}

static void
http_timeouts(struct http_conn *c, int read_secs)
{
	struct timeval	rd = { read_secs, 0 }, wr = { HTTP_IDLE_TIMEOUT, 0 };

	bufferevent_set_timeouts(c->bev, read_secs > 0 ? &rd : NULL, &wr);
}

/* RFC 9110's Date, formatted once a second. */
static const char *
http_date(void)
{
	static char	buf[64];
	static time_t	last;
	time_t		now = time(NULL);
	struct tm	tm;

	if (now != last && gmtime_r(&now, &tm) != NULL) {
		strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

static const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* The status line and headers of an answer of len bytes. */
static void
http_write_head(struct http_conn *c, int status, size_t len,
    const char *extra)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s%s\r\n", status, http_status_text(status),
	    http_date(), len, c->keep_alive ? "" : "Connection: close\r\n",
	    extra != NULL ? extra : "");
}

/*
 * Refuses the request: a JSON body {status, error, reason}, then the
 * connection lingers and closes.
 */
static void
http_conn_refuse(struct http_conn *c, int status, const char *why,
    const char *extra, int no_body)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct fp_text	 body = { 0 };

	log_debug("%s: %d %s", __func__, status, why);
	fp_text_cstr(&body, "{\"status\":");
	fp_text_int(&body, status);
	fp_text_cstr(&body, ",\"error\":");
	fp_text_str(&body, http_status_text(status));
	fp_text_cstr(&body, ",\"reason\":");
	fp_text_str(&body, why);
	fp_text_add(&body, "}", 1);
	c->keep_alive = 0;
	c->state = HTTP_LINGERING;
	c->linger_until = time(NULL) + HTTP_LINGER_TIME;
	c->lingered += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	http_write_head(c, status, body.len, extra);
	if (!no_body && body.buf != NULL)
		evbuffer_add(bufferevent_get_output(c->bev), body.buf,
		    body.len);
	fp_text_clear(&body);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* The headers are in: refuse now what must be refused. */
static void
http_conn_head(struct http_conn *c)
{
	const struct http_head	*h = http_parse_head(c->parse);

	if (c->need_auth && !http_server_token_ok(h->authorization))
		http_conn_refuse(c, 401, "this listener needs "
		    "'Authorization: Bearer TOKEN'", "WWW-Authenticate: Bearer\r\n",
		    h->is_head);
	else if (strcmp(h->path, "/rpc") != 0 && strcmp(h->path, "/") != 0)
		http_conn_refuse(c, 404, "JSON-RPC is served on POST /rpc",
		    NULL, h->is_head);
	else if (!h->is_post)
		http_conn_refuse(c, 405, "JSON-RPC requests are POSTed",
		    "Allow: POST\r\n", h->is_head);
	else if ((long)http_nbusy >= cfg.max_requests)
		http_conn_refuse(c, 503, "too many requests in flight "
		    "(--max-requests)", "Retry-After: 1\r\n", 0);
	else if (h->expect_continue)
		evbuffer_add(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

static void
http_body_free_cb(const void *data, size_t len, void *arg)
{
	free(arg);
}

/* rpc.c's answer; body (taken) is NULL when the client had gone. */
static void
http_rpc_reply_cb(void *arg, char *body, size_t len)
{
	struct http_conn	*c = arg;

	c->batch = NULL;
	http_nbusy--;
	if (c->bev == NULL) {
		free(body);
		http_conn_free(c);
		return;
	}
	c->state = HTTP_WRITING;
	http_write_head(c, 200, len, NULL);
	if (len > 0)
		evbuffer_add_reference(bufferevent_get_output(c->bev), body,
		    len, http_body_free_cb, body);
	else
		free(body);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* A whole request: rpc.c answers it. */
static void
http_conn_dispatch(struct http_conn *c)
{
	const char	*body;
	size_t		 len;

	c->keep_alive = http_parse_head(c->parse)->keep_alive;
	body = http_parse_body(c->parse, &len);
	c->state = HTTP_BUSY;
	http_nbusy++;
	/* no idle timeout while it waits; pipelined bytes wait, bounded */
	http_timeouts(c, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_PIPELINE_MAX);
	c->batch = rpc_handle(body, len, http_rpc_reply_cb, c);
}

static void
http_conn_failed(struct http_conn *c)
{
	const char	*why;
	int		 status = http_parse_status(c->parse, &why);

	http_conn_refuse(c, status, why, NULL, 0);
}

/* Reads what has arrived, up to the next request or refusal. */
static void
http_conn_process(struct http_conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v;
	enum http_parse_event	 ev;
	size_t			 used;

	while (c->state == HTTP_READING &&
	    evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		ev = http_parse_feed(c->parse, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (ev == HTTP_PARSE_HEAD)
			http_conn_head(c);
		else if (ev == HTTP_PARSE_DONE)
			http_conn_dispatch(c);
		else if (ev == HTTP_PARSE_ERROR)
			http_conn_failed(c);
	}
}

/* Lingering: drop what arrives; done at the byte or time bound. */
static void
http_conn_linger(struct http_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);

	c->lingered += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->lingered > (size_t)cfg.max_request * HTTP_LINGER_FACTOR ||
	    time(NULL) >= c->linger_until)
		http_conn_free(c);
}

static void
http_read_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state == HTTP_READING)
		http_conn_process(c);
	else if (c->state == HTTP_LINGERING)
		http_conn_linger(c);
	/* HTTP_BUSY, HTTP_WRITING: a pipelined request waits its turn */
}

/* The output went out. */
static void
http_write_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state == HTTP_LINGERING) {
		/* the answer is out: tell the client, then drain */
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		http_timeouts(c, HTTP_LINGER_IDLE);
		return;
	}
	if (c->state != HTTP_WRITING)
		return;
	if (!c->keep_alive) {
		http_conn_free(c);
		return;
	}
	http_parse_next(c->parse);
	c->state = HTTP_READING;
	http_timeouts(c, HTTP_IDLE_TIMEOUT);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_enable(c->bev, EV_READ);
	http_conn_process(c);
}

static void
http_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state != HTTP_BUSY) {
		/* idle, written, lingered out, or an error: it ends */
		http_conn_free(c);
		return;
	}
	/* the client hung up (or broke) while its request waits */
	log_debug("%s: client gone with a request in flight", __func__);
	bufferevent_free(c->bev);
	c->bev = NULL;
	http_server_resume();
	rpc_batch_gone(c->batch);
}

void
http_conn_accept(int fd, int need_auth)
{
	struct http_conn	*c = xcalloc(1, sizeof *c);
	int			 on = 1;

	/* answers go out whole: no reason to wait for more (TCP only) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	c->need_auth = need_auth;
	c->parse = http_parse_create((size_t)cfg.max_request);
	c->bev = bufferevent_socket_new(loop_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("cannot serve a new connection");
		close(fd);
		http_parse_free(c->parse);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&http_conns, c, entry);
	http_nconns++;
	bufferevent_setcb(c->bev, http_read_cb, http_write_cb, http_event_cb, c);
	http_timeouts(c, HTTP_IDLE_TIMEOUT);
	bufferevent_enable(c->bev, EV_READ);
}

int
http_init(const int *activated, int n)
{
	rpc_admin_set_listen(http_listen_info);
	return http_server_init(activated, n);
}

void
http_free(void)
{
	struct http_conn	*c;

	while ((c = TAILQ_FIRST(&http_conns)) != NULL) {
		/* the loop ends once every batch answered (loop.c) */
		if (c->batch != NULL)
			fatalx("%s: a request is still being answered", __func__);
		http_conn_free(c);
	}
	http_server_free();
}
