/*
 * test-httpd.c: the HTTP server the http kind's tests fetch from (issue
 * #4).  It binds 127.0.0.1 on a port the kernel chooses (or -p PORT),
 * prints that port as the first line of stdout and serves until SIGTERM
 * or SIGINT:
 *
 *	/page/N		200 text/html, "line one of N" to "line four of N"
 *			with blank lines between
 *	/bytes/N	N bytes of 'x'
 *	/binary		the bytes 0 to 255 (not UTF-8)
 *	/status/CODE	that status with a small body; ?bytes=N: N bytes of 'x',
 *			?h=Name:Value (repeatable): response headers
 *	/redirect/N	302 to /redirect/N-1, /redirect/1 (and 0) to /page/0
 *	/redirect-loop	302 to itself
 *	/slow/MS	/page/MS after MS milliseconds (a timer, not a sleep)
 *	/never		accepts the request and never answers
 *	/reset		closes the connection (RST) without answering
 *	/echo		the request's method, uri, headers and body as JSON
 *	/huge		a 200 MiB body in chunks, one at a time
 *	/connections	how many connections it has accepted, as text
 *
 * Everything runs on one libevent loop.  Requests answered later (slow,
 * never, reset) wait in one list; evhttp keeps such a request alive even
 * when its client leaves (it only detaches it from the connection), so
 * each is answered or freed exactly once, at the latest at shutdown.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define HTTPD_MAX_BYTES		(256L * 1024 * 1024)
#define HTTPD_MAX_SLOW		(10L * 60 * 1000)
#define HTTPD_MAX_REDIRECTS	1000L
#define HTTPD_HUGE_SIZE		(200L * 1024 * 1024)
#define HTTPD_CHUNK		(64 * 1024)
#define HTTPD_BACKLOG		4096

/* A request answered later: after a delay, never, or by a reset. */
struct pending {
	TAILQ_ENTRY(pending)	 entry;
	struct evhttp_request	*req;
	struct event		*ev;		/* NULL for /never */
	long			 ms;
	int			 reset;
};
TAILQ_HEAD(pendings, pending);

/* A /huge body being sent, one chunk per completed write. */
struct huge {
	struct evhttp_request	*req;
	long			 left;
};

static struct event_base	*base;
static struct pendings		 pendings = TAILQ_HEAD_INITIALIZER(pendings);
static char			 chunk[HTTPD_CHUNK];

static void
httpd_send(struct evhttp_request *req, int code, const char *type,
    struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_send_reply(req, code, NULL, body);
}

static void
httpd_sendf(struct evhttp_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A small text/plain answer. */
static void
httpd_sendf(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct evbuffer	*b = evbuffer_new();
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	httpd_send(req, code, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* The number ending the path after prefix, or -1. */
static long
httpd_arg(const char *path, const char *prefix, long max)
{
	size_t	 n = strlen(prefix);
	char	*end;
	long	 v;

	if (strncmp(path, prefix, n) != 0 || path[n] < '0' || path[n] > '9')
		return -1;
	errno = 0;
	v = strtol(path + n, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return -1;
	return v;
}

static void
httpd_page(struct evhttp_request *req, long n)
{
	struct evbuffer	*b = evbuffer_new();

	/* blank lines, one of spaces, for previews that skip them */
	evbuffer_add_printf(b, "\nline one of %ld\n\nline two of %ld\n  \n"
	    "line three of %ld\nline four of %ld\n", n, n, n, n);
	httpd_send(req, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

static void
httpd_bytes_code(struct evhttp_request *req, int code, long n)
{
	struct evbuffer	*b = evbuffer_new();
	long		 k;

	for (; n > 0; n -= k) {
		k = n < HTTPD_CHUNK ? n : HTTPD_CHUNK;
		evbuffer_add_reference(b, chunk, (size_t)k, NULL, NULL);
	}
	httpd_send(req, code, "application/octet-stream", b);
	evbuffer_free(b);
}

static void
httpd_bytes(struct evhttp_request *req, long n)
{
	httpd_bytes_code(req, 200, n);
}

static unsigned long	httpd_connections;

/* evhttp asks for a bufferevent for each connection it accepts. */
static struct bufferevent *
httpd_bev_cb(struct event_base *evbase, void *arg)
{
	httpd_connections++;
	return bufferevent_socket_new(evbase, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void
httpd_connections_page(struct evhttp_request *req, long unused)
{
	httpd_sendf(req, 200, "%lu\n", httpd_connections);
}

static void
httpd_binary(struct evhttp_request *req, long unused)
{
	struct evbuffer	*b = evbuffer_new();
	unsigned char	 c[256];
	int		 i;

	for (i = 0; i < 256; i++)
		c[i] = (unsigned char)i;
	evbuffer_add(b, c, sizeof c);
	httpd_send(req, 200, "application/octet-stream", b);
	evbuffer_free(b);
}

static void
httpd_redirect(struct evhttp_request *req, const char *to)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    to);
	httpd_sendf(req, 302, "see %s\n", to);
}

/* s as the inside of a JSON string; bytes past ASCII pass through. */
static void
httpd_json_chars(struct evbuffer *b, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			evbuffer_add_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", c);
		else
			evbuffer_add(b, &c, 1);
	}
}

static void
httpd_json_str(struct evbuffer *b, const char *s, size_t len)
{
	evbuffer_add(b, "\"", 1);
	httpd_json_chars(b, s, len);
	evbuffer_add(b, "\"", 1);
}

static const char *
httpd_method(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "?";
}

/* A header's name lowercased, then the values of all its lines. */
static void
httpd_echo_header(struct evbuffer *b, struct evkeyval *first)
{
	struct evkeyval	*kv;
	const char	*p, *sep = "";
	char		 c;

	evbuffer_add(b, "\"", 1);
	for (p = first->key; *p != '\0'; p++) {
		c = *p >= 'A' && *p <= 'Z' ? *p + 'a' - 'A' : *p;
		httpd_json_chars(b, &c, 1);
	}
	evbuffer_add(b, "\":\"", 3);
	for (kv = first; kv != NULL; kv = TAILQ_NEXT(kv, next)) {
		if (strcasecmp(kv->key, first->key) != 0)
			continue;
		evbuffer_add_printf(b, "%s", sep);
		httpd_json_chars(b, kv->value, strlen(kv->value));
		sep = ", ";
	}
	evbuffer_add(b, "\"", 1);
}

/*
 * {"method", "uri", "headers": {name: value}, "body"}: names lowercased,
 * a repeated header's values joined with ", ".  A body that is not UTF-8
 * makes invalid JSON; the tests send text.
 */
static void
httpd_echo(struct evhttp_request *req, long unused)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evbuffer		*b = evbuffer_new(), *body;
	struct evkeyval		*kv, *seen;
	const char		*uri = evhttp_request_get_uri(req), *sep = "";

	evbuffer_add_printf(b, "{\"method\":\"%s\",\"uri\":",
	    httpd_method(evhttp_request_get_command(req)));
	httpd_json_str(b, uri, strlen(uri));
	evbuffer_add_printf(b, ",\"headers\":{");
	TAILQ_FOREACH(kv, in, next) {
		/* a repeated name was written with its first line */
		for (seen = TAILQ_FIRST(in); seen != kv; seen = TAILQ_NEXT(seen,
		    next))
			if (strcasecmp(seen->key, kv->key) == 0)
				break;
		if (seen != kv)
			continue;
		evbuffer_add_printf(b, "%s", sep);
		httpd_echo_header(b, kv);
		sep = ",";
	}
	body = evhttp_request_get_input_buffer(req);
	evbuffer_add_printf(b, "},\"body\":");
	httpd_json_str(b, (const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body));
	evbuffer_add_printf(b, "}\n");
	httpd_send(req, 200, "application/json", b);
	evbuffer_free(b);
}

/* The query's h=Name:Value pairs as response headers, in order. */
static void
httpd_add_headers(struct evhttp_request *req, struct evkeyvalq *q)
{
	struct evkeyval	*kv;
	char		*name, *value;

	TAILQ_FOREACH(kv, q, next) {
		if (strcmp(kv->key, "h") != 0 ||
		    (value = strchr(kv->value, ':')) == NULL)
			continue;
		if ((name = strndup(kv->value, (size_t)(value - kv->value))) ==
		    NULL)
			abort();
		evhttp_add_header(evhttp_request_get_output_headers(req), name,
		    value + 1);
		free(name);
	}
}

/*
 * "status CODE", or with ?bytes=N a body of N 'x' (HttpError keeps 4 KiB);
 * each h=Name:Value adds a response header.
 */
static void
httpd_status(struct evhttp_request *req, long code)
{
	struct evkeyvalq	 q;
	const char		*query, *bytes;
	char			*end;
	long			 n = -1;

	/* 1xx would be interim answers: the client would wait on */
	if (code < 200) {
		httpd_sendf(req, 400, "no final status %ld\n", code);
		return;
	}
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0) {
		if ((bytes = evhttp_find_header(&q, "bytes")) != NULL) {
			n = strtol(bytes, &end, 10);
			if (*end != '\0' || n < 0 || n > HTTPD_MAX_BYTES)
				n = -1;
		}
		httpd_add_headers(req, &q);
		evhttp_clear_headers(&q);
	}
	if (n == -1)
		httpd_sendf(req, (int)code, "status %ld\n", code);
	else
		httpd_bytes_code(req, (int)code, n);
}

static void
httpd_redirect_n(struct evhttp_request *req, long n)
{
	char	to[64];

	if (n <= 1)
		snprintf(to, sizeof to, "/page/0");
	else
		snprintf(to, sizeof to, "/redirect/%ld", n - 1);
	httpd_redirect(req, to);
}

static void
httpd_redirect_loop(struct evhttp_request *req, long unused)
{
	httpd_redirect(req, "/redirect-loop");
}

/*
 * Aborts the connection with a RST.  evhttp_connection_free would send a
 * FIN first (shutdown SHUT_WR), so the socket is closed here, with
 * SO_LINGER 0, by putting an unconnected one in its place.
 */
static void
httpd_abort(struct evhttp_connection *evcon)
{
	struct linger	l = { 1, 0 };
	int		fd, spare;

	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd != -1 && setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
	    sizeof l) == 0 && (spare = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
		dup2(spare, fd);
		close(spare);
	}
	evhttp_connection_free(evcon);
}

static void
httpd_pending_free(struct pending *p)
{
	TAILQ_REMOVE(&pendings, p, entry);
	if (p->ev != NULL)
		event_free(p->ev);
	free(p);
}

/*
 * A pending request's time came.  Its connection is NULL when the client
 * left meanwhile; answering then only frees the request.
 */
static void
httpd_pending_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pending			*p = arg;
	struct evhttp_request		*req = p->req;
	struct evhttp_connection	*evcon;

	evcon = evhttp_request_get_connection(req);
	if (!p->reset)
		httpd_page(req, p->ms);
	else if (evcon == NULL)
		evhttp_request_free(req);
	else
		httpd_abort(evcon);	/* frees req */
	httpd_pending_free(p);
}

/* Keeps req for later: after ms milliseconds, or never when ms < 0. */
static void
httpd_defer(struct evhttp_request *req, long ms, int reset)
{
	struct pending	*p;
	struct timeval	 tv;

	if ((p = calloc(1, sizeof *p)) == NULL)
		abort();
	p->req = req;
	p->ms = ms;
	p->reset = reset;
	TAILQ_INSERT_TAIL(&pendings, p, entry);
	if (ms < 0)
		return;
	p->ev = evtimer_new(base, httpd_pending_cb, p);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->ev, &tv);
}

static void
httpd_slow(struct evhttp_request *req, long ms)
{
	httpd_defer(req, ms, 0);
}

static void
httpd_never(struct evhttp_request *req, long unused)
{
	httpd_defer(req, -1, 0);
}

/* Not from inside evhttp's callback: it still uses the connection. */
static void
httpd_reset(struct evhttp_request *req, long unused)
{
	httpd_defer(req, 0, 1);
}

/* The /huge client went away (or the server stops). */
static void
httpd_huge_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct huge	*h = arg;

	/* detached by evhttp, the request is ours; else its connection's */
	if (evhttp_request_get_connection(h->req) == NULL)
		evhttp_request_free(h->req);
	free(h);
}

/* The last chunk was written: the next one, or the end. */
static void
httpd_huge_next(struct evhttp_connection *evcon, void *arg)
{
	struct huge	*h = arg;
	struct evbuffer	*b;
	long		 k;

	if (h->left == 0) {
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		evhttp_send_reply_end(h->req);
		free(h);
		return;
	}
	k = h->left < HTTPD_CHUNK ? h->left : HTTPD_CHUNK;
	h->left -= k;
	b = evbuffer_new();
	evbuffer_add_reference(b, chunk, (size_t)k, NULL, NULL);
	evhttp_send_reply_chunk_with_cb(h->req, b, httpd_huge_next, h);
	evbuffer_free(b);
}

/* One chunk at a time keeps the memory of a huge answer to one chunk. */
static void
httpd_huge(struct evhttp_request *req, long unused)
{
	struct evhttp_connection	*evcon;
	struct huge			*h;

	if ((h = calloc(1, sizeof *h)) == NULL)
		abort();
	h->req = req;
	h->left = HTTPD_HUGE_SIZE;
	evcon = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(evcon, httpd_huge_close_cb, h);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/octet-stream");
	evhttp_send_reply_start(req, 200, NULL);
	httpd_huge_next(evcon, h);
}

static const struct route {
	const char	*path;		/* a prefix when it ends in '/' */
	long		 max;		/* of the number after the prefix */
	void		(*fn)(struct evhttp_request *, long);
} routes[] = {
	{ "/page/",		LONG_MAX,		httpd_page },
	{ "/bytes/",		HTTPD_MAX_BYTES,	httpd_bytes },
	{ "/binary",		0,			httpd_binary },
	{ "/status/",		599,			httpd_status },
	{ "/redirect/",		HTTPD_MAX_REDIRECTS,	httpd_redirect_n },
	{ "/redirect-loop",	0,			httpd_redirect_loop },
	{ "/slow/",		HTTPD_MAX_SLOW,		httpd_slow },
	{ "/never",		0,			httpd_never },
	{ "/reset",		0,			httpd_reset },
	{ "/echo",		0,			httpd_echo },
	{ "/huge",		0,			httpd_huge },
	{ "/connections",	0,			httpd_connections_page },
};

static void
httpd_request_cb(struct evhttp_request *req, void *arg)
{
	const struct route	*r;
	const char		*path;
	size_t			 i, n;
	long			 v;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "/";
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		r = &routes[i];
		n = strlen(r->path);
		if (r->path[n - 1] != '/') {
			if (strcmp(path, r->path) == 0) {
				r->fn(req, 0);
				return;
			}
		} else if ((v = httpd_arg(path, r->path, r->max)) != -1) {
			r->fn(req, v);
			return;
		}
	}
	httpd_sendf(req, 404, "no such page: %s\n", path);
}

/*
 * Stops the loop.  Answering what still waits (503) frees the requests
 * whose client left; the others go with their connections in evhttp_free,
 * before the answer gets out.
 */
static void
httpd_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&pendings)) != NULL) {
		httpd_sendf(p->req, 503, "shutting down\n");
		httpd_pending_free(p);
	}
	event_base_loopbreak(base);
}

/* 127.0.0.1:port (0: any) with a backlog for a thousand clients at once. */
static int
httpd_listen(struct evhttp *http, int port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, HTTPD_BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    evutil_make_socket_nonblocking(fd) == -1 ||
	    evutil_make_socket_closeonexec(fd) == -1 ||
	    evhttp_accept_socket(http, fd) == -1) {
		perror("test-httpd: listen");
		exit(1);
	}
	return ntohs(sin.sin_port);
}

/* Thousands of clients at once need as many descriptors. */
static void
httpd_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct evhttp	*http;
	struct event	*sigterm, *sigint;
	int		 ch, port = 0;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		switch (ch) {
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: test-httpd [-p port]\n");
			return 2;
		}
	}
	httpd_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	memset(chunk, 'x', sizeof chunk);
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL) {
		fprintf(stderr, "test-httpd: cannot start libevent\n");
		return 1;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, httpd_request_cb, NULL);
	evhttp_set_bevcb(http, httpd_bev_cb, NULL);
	printf("%d\n", httpd_listen(http, port));
	fflush(stdout);
	sigterm = evsignal_new(base, SIGTERM, httpd_signal_cb, NULL);
	sigint = evsignal_new(base, SIGINT, httpd_signal_cb, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(base);
	/* frees every connection, the requests on them and /huge's state */
	evhttp_free(http);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	return 0;
}
