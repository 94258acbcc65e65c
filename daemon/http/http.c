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
 * Paths: POST /rpc (and /) go to rpc.c; GET /metrics, /events and the
 * dashboard (/ui, /login, /logout) to http-metrics.c, http-events.c and
 * http-ui.c.  On TCP a request carries the token, or the cookie of a
 * dashboard session (http-session.c), whose calls to /rpc must also
 * carry its CSRF token.
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
	HTTP_STREAMING,		/* /events: written to as events come */
};

enum http_route {
	HTTP_ROUTE_NONE,
	HTTP_ROUTE_RPC,
	HTTP_ROUTE_METRICS,
	HTTP_ROUTE_EVENTS,
	HTTP_ROUTE_UI,
	HTTP_ROUTE_LOGIN,	/* /login, /logout: reached without a session */
};

struct http_conn {
	struct bufferevent	*bev;		/* NULL: the client went away */
	struct http_parse	*parse;
	enum http_conn_state	 state;
	int			 need_auth;
	int			 keep_alive;
	enum http_route		 route;
	int			 trusted;	/* Unix socket, or the token */
	int64_t			 as_task;	/* a task's credential: its id */
	int			 by_session;	/* TCP, a dashboard session */
	struct rpc_batch	*batch;		/* while HTTP_BUSY */
	int			 dispatching;	/* in http_conn_dispatch */
	size_t			 lingered;
	time_t			 linger_until;
	TAILQ_ENTRY(http_conn)	 entry;
};

static TAILQ_HEAD(, http_conn)	http_conns = TAILQ_HEAD_INITIALIZER(http_conns);
static size_t			http_nconns, http_nbusy;
static struct metric		*http_requests_metric, *http_refused_metric;
static const char *const	 http_route_names[] = {
	"none", "rpc", "metrics", "events", "ui", "login",
};

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
	case 303: return "See Other";
	case 403: return "Forbidden";
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
http_write_head_as(struct http_conn *c, int status, const char *type,
    size_t len, const char *extra)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s%s\r\n", status, http_status_text(status),
	    http_date(), type, len, c->keep_alive ? "" : "Connection: close\r\n",
	    extra != NULL ? extra : "");
}

static void
http_write_head(struct http_conn *c, int status, size_t len,
    const char *extra)
{
	http_write_head_as(c, status, "application/json", len, extra);
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
	char		 code[8];
	const char	*v[1] = { code };

	snprintf(code, sizeof code, "%d", status);
	metric_add(http_refused_metric, v, 1);
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

static enum http_route
http_route_of(const char *path)
{
	if (strcmp(path, "/rpc") == 0 || strcmp(path, "/") == 0)
		return HTTP_ROUTE_RPC;
	if (strcmp(path, "/metrics") == 0)
		return HTTP_ROUTE_METRICS;
	if (strcmp(path, "/events") == 0)
		return HTTP_ROUTE_EVENTS;
	if (strcmp(path, "/login") == 0 || strcmp(path, "/logout") == 0)
		return HTTP_ROUTE_LOGIN;
	if (http_ui_path(path))
		return HTTP_ROUTE_UI;
	return HTTP_ROUTE_NONE;
}

/*
 * Who asks: trusted (the Unix socket, or the token), a dashboard session,
 * or nobody.  A session's call to /rpc must carry its CSRF token.
 */
static void
http_conn_who(struct http_conn *c, const struct http_head *h)
{
	struct http_session	*s;

	c->trusted = !c->need_auth || http_server_token_ok(h->authorization);
	c->by_session = 0;
	c->as_task = 0;
	if (!c->trusted && c->route == HTTP_ROUTE_RPC)
		c->as_task = http_server_task_of(h->authorization);
	if (c->trusted || c->as_task != 0 ||
	    (s = http_session_find(h->cookie)) == NULL)
		return;
	if (c->route == HTTP_ROUTE_RPC && !http_session_csrf_ok(s, h->csrf))
		return;
	c->by_session = 1;
}

/* The headers are in: refuse now what must be refused. */
static void
http_conn_head(struct http_conn *c)
{
	const struct http_head	*h = http_parse_head(c->parse);
	int			 allowed;

	c->route = http_route_of(h->path);
	http_conn_who(c, h);
	allowed = c->trusted || c->by_session || c->as_task != 0 ||
	    c->route == HTTP_ROUTE_LOGIN ||
	    (c->route == HTTP_ROUTE_METRICS && cfg.metrics_public);
	if (!allowed && c->route == HTTP_ROUTE_UI && h->is_get)
		c->route = HTTP_ROUTE_LOGIN;	/* answered at its end */
	else if (!allowed)
		http_conn_refuse(c, 401, "this listener needs "
		    "'Authorization: Bearer TOKEN'", "WWW-Authenticate: Bearer\r\n",
		    h->is_head);
	else if (c->route == HTTP_ROUTE_NONE)
		http_conn_refuse(c, 404, "JSON-RPC is served on POST /rpc, "
		    "metrics on /metrics, events on /events, the dashboard "
		    "on /ui", NULL, h->is_head);
	else if (c->route == HTTP_ROUTE_RPC && !h->is_post)
		http_conn_refuse(c, 405, "JSON-RPC requests are POSTed",
		    "Allow: POST\r\n", h->is_head);
	else if ((c->route == HTTP_ROUTE_METRICS ||
	    c->route == HTTP_ROUTE_EVENTS || c->route == HTTP_ROUTE_UI) &&
	    !h->is_get)
		http_conn_refuse(c, 405, "this path is read with GET",
		    "Allow: GET, HEAD\r\n", h->is_head);
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

static void	http_conn_written(struct http_conn *, int);

/*
 * Writes an answer at once: a socket takes a whole answer in the usual
 * case, which then costs no write event and no loop turn of its own.
 * What it does not take, and its errors, go by the write event.
 */
static void
http_conn_send(struct http_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	/* answered from inside the dispatch: its caller still holds c */
	if (c->dispatching) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	/*
	 * A bufferevent freezes its output's start for its own writes:
	 * evbuffer_write refuses until it is thawed, as libevent's write
	 * callback does.
	 */
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(c->bev));
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	http_conn_written(c, 0);
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
	bufferevent_disable(c->bev, EV_WRITE);	/* http_conn_send decides */
	http_write_head(c, 200, len, NULL);
	if (len > 0)
		evbuffer_add_reference(bufferevent_get_output(c->bev), body,
		    len, http_body_free_cb, body);
	else
		free(body);
	http_conn_send(c);
}

/* A whole request: rpc.c answers it, or the module of its path. */
static void
http_conn_dispatch(struct http_conn *c)
{
	const struct http_head	*h = http_parse_head(c->parse);
	const char		*body;
	size_t			 len;

	metric_add(http_requests_metric, &http_route_names[c->route], 1);
	c->keep_alive = h->keep_alive;
	body = http_parse_body(c->parse, &len);
	c->state = HTTP_BUSY;
	http_nbusy++;
	/* no idle timeout while it waits; pipelined bytes wait, bounded */
	http_timeouts(c, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_PIPELINE_MAX);
	c->dispatching = 1;
	switch (c->route) {
	case HTTP_ROUTE_RPC:
		if (c->as_task != 0)	/* only as its children's parent */
			c->batch = rpc_handle_task(body, len, c->as_task,
			    http_rpc_reply_cb, c);
		else
			c->batch = rpc_handle_as(body, len, c->by_session &&
			    cfg.ui_read_only, http_rpc_reply_cb, c);
		break;
	case HTTP_ROUTE_METRICS:
		http_metrics_serve(c);
		break;
	case HTTP_ROUTE_EVENTS:
		http_events_serve(c);
		break;
	case HTTP_ROUTE_UI:
		http_ui_serve(c);
		break;
	default:
		http_login_serve(c);
		break;
	}
	c->dispatching = 0;
}

/* ---- for the modules of the layer ---- */

void
http_respond(struct http_conn *c, int status, const char *type,
    const char *extra, const char *body, size_t len)
{
	http_nbusy--;
	if (c->bev == NULL) {
		http_conn_free(c);
		return;
	}
	c->state = HTTP_WRITING;
	bufferevent_disable(c->bev, EV_WRITE);	/* http_conn_send decides */
	http_write_head_as(c, status, type, len, extra);
	if (len > 0 && !http_parse_head(c->parse)->is_head)
		evbuffer_add(bufferevent_get_output(c->bev), body, len);
	http_conn_send(c);
}

const struct http_head *
http_conn_head_of(const struct http_conn *c)
{
	return http_parse_head(c->parse);
}

const char *
http_conn_body(const struct http_conn *c, size_t *len)
{
	return http_parse_body(c->parse, len);
}

int
http_conn_trusted(const struct http_conn *c)
{
	return c->trusted;
}

/*
 * A stream's answer has no length: it ends when the connection closes.
 * It no longer counts as a request in flight (--max-requests bounds
 * those), and is read only to notice the client leave.
 */
void
http_stream_begin(struct http_conn *c, const char *type, const char *extra)
{
	http_nbusy--;
	c->state = HTTP_STREAMING;
	c->keep_alive = 0;
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
	    http_date(), type, extra != NULL ? extra : "");
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int
http_stream_write(struct http_conn *c, const char *buf, size_t len)
{
	if (c->bev == NULL || evbuffer_add(bufferevent_get_output(c->bev),
	    buf, len) == -1)
		return -1;
	return 0;
}

size_t
http_stream_queued(const struct http_conn *c)
{
	return c->bev == NULL ? 0 :
	    evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Ends a stream (its module has forgotten it). */
void
http_stream_close(struct http_conn *c)
{
	http_conn_free(c);
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
	else if (c->state == HTTP_STREAMING)
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
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
	if (c->state == HTTP_WRITING)
		http_conn_written(c, 1);
}

/*
 * An answer is out: the connection closes or reads the next request.
 * Written at once (not from the write event), a pipelined request waits
 * for a deferred read callback, so that answers given at once do not
 * nest one in the other.
 */
static void
http_conn_written(struct http_conn *c, int from_event)
{
	if (!c->keep_alive) {
		http_conn_free(c);
		return;
	}
	http_parse_next(c->parse);
	c->state = HTTP_READING;
	http_timeouts(c, HTTP_IDLE_TIMEOUT);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_enable(c->bev, EV_READ);
	if (from_event)
		http_conn_process(c);
	else if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
		    BEV_TRIG_DEFER_CALLBACKS);
}

static void
http_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state == HTTP_STREAMING) {
		/* the stream's client left (or its writes timed out) */
		http_events_gone(c);
		http_conn_free(c);
		return;
	}
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
	if (c->batch != NULL)
		rpc_batch_gone(c->batch);
	/* else another module answers it (http_respond frees it) */
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
	rpc_admin_set_login(http_ui_login_link);
	if (http_requests_metric == NULL) {
		http_requests_metric = metric_new(METRIC_COUNTER,
		    "futured_http_requests_total", "HTTP requests read whole, "
		    "by what they asked for", "path", NULL, 0);
		http_refused_metric = metric_new(METRIC_COUNTER,
		    "futured_http_refused_total", "HTTP requests refused, by "
		    "status", "status", NULL, 0);
	}
	http_metrics_init();
	http_events_init();
	return http_server_init(activated, n);
}

void
http_free(void)
{
	struct http_conn	*c;

	http_events_free();	/* forgets its streams: freed below */
	http_session_free_all();
	while ((c = TAILQ_FIRST(&http_conns)) != NULL) {
		/* the loop ends once every batch answered (loop.c) */
		if (c->batch != NULL)
			fatalx("%s: a request is still being answered", __func__);
		http_conn_free(c);
	}
	http_server_free();
}
