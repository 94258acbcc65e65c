/*
 * http.c: the HTTP transport.  evhttp serves POST /rpc (and POST /) on the
 * Unix socket, whose file mode is the access control, and on TCP only when
 * asked, where every request must carry the bearer token.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "futured.h"

#define HTTP_MAX_SERVERS	8
#define HTTP_BACKLOG		1024
#define HTTP_TOKEN_BYTES	32
#define HTTP_IDLE_TIMEOUT	300	/* seconds: well above max_wait */

struct http_server {
	struct evhttp		*http;
	struct evconnlistener	*listener;
	struct event		*resume_ev;	/* after EMFILE */
	int			 need_auth;
	char			*where;		/* unix:PATH or tcp:HOST:PORT */
	char			*unlink_path;	/* socket file we created */
};

static struct http_server	http_servers[HTTP_MAX_SERVERS];
static int			http_nservers;
static char			http_token[256];

/* Compares in time independent of where the strings differ. */
static int
http_token_ok(const char *given)
{
	size_t		 want = strlen(http_token), have = strlen(given), i;
	unsigned char	 diff = want != have;

	for (i = 0; i < want; i++)
		diff |= (unsigned char)(i < have ? given[i] : 0) ^
		    (unsigned char)http_token[i];
	return diff == 0;
}

static int
http_authorized(struct evhttp_request *req)
{
	const char	*h = evhttp_find_header(
			    evhttp_request_get_input_headers(req),
			    "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return http_token_ok(h);
}

static void
http_close_cb(struct evhttp_connection *evcon, void *arg)
{
	rpc_batch_gone(arg, 1);
}

/*
 * While a request is being answered evhttp does not read its connection,
 * so a client that hangs up during a long-poll goes unnoticed.  This peeks
 * at the socket: end of file or an error means it is gone; data (a
 * pipelined request) means it is alive, and the watch ends.
 */
struct http_watch {
	struct event	*ev;
	void		(*gone)(void *);
	void		*arg;
};

static void
http_watch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_watch	*w = arg;
	char			 c;
	ssize_t			 n;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		w->gone(w->arg);
	else if (n == -1)
		event_add(w->ev, NULL);
}

struct http_watch *
http_watch_client(struct evhttp_request *req, void (*gone)(void *), void *arg)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	struct http_watch		*w;
	evutil_socket_t			 fd;

	if (evcon == NULL ||
	    (fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)))
	    == -1)
		return NULL;
	w = xcalloc(1, sizeof *w);
	w->gone = gone;
	w->arg = arg;
	w->ev = event_new(loop_base, fd, EV_READ, http_watch_cb, w);
	event_add(w->ev, NULL);
	return w;
}

void
http_unwatch_client(struct http_watch *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	free(w);
}

/* Answers an HTTP-level error; returns 1 when req was answered. */
static int
http_refuse(struct evhttp_request *req, struct http_server *srv)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*path = evhttp_uri_get_path(
				    evhttp_request_get_evhttp_uri(req));

	if (srv->need_auth && !http_authorized(req)) {
		evhttp_add_header(out, "WWW-Authenticate", "Bearer");
		evhttp_send_error(req, 401, "Unauthorized");
	} else if (path == NULL || (strcmp(path, "/rpc") != 0 &&
	    strcmp(path, "/") != 0))
		evhttp_send_error(req, HTTP_NOTFOUND, "Not Found");
	else if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(out, "Allow", "POST");
		evhttp_send_error(req, 405, "Method Not Allowed");
	} else if ((long)rpc_in_flight() >= cfg.max_requests) {
		evhttp_add_header(out, "Retry-After", "1");
		evhttp_send_error(req, HTTP_SERVUNAVAIL, "Saturated");
	} else
		return 0;
	return 1;
}

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http_server	*srv = arg;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct rpc_batch	*b;
	size_t			 len = evbuffer_get_length(in);
	const char		*body;

	if (http_refuse(req, srv))
		return;
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	b = rpc_handle(req, body, len);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    http_close_cb, b);
}

static void
http_body_free_cb(const void *data, size_t len, void *arg)
{
	free(arg);
}

void
http_send_text(struct evhttp_request *req, char *body, size_t len)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	struct evbuffer			*out = evhttp_request_get_output_buffer(req);

	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (len > 0)
		evbuffer_add_reference(out, body, len, http_body_free_cb, body);
	else
		free(body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void
http_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_server	*srv = arg;

	evconnlistener_enable(srv->listener);
}

/* Out of file descriptors: stop accepting for a second (as tmux does). */
static void
http_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct http_server	*srv = NULL;
	struct timeval		 tv = { 1, 0 };
	int			 i, error = errno;

	/* arg is evhttp's, not ours: find the server by its listener. */
	for (i = 0; i < http_nservers; i++)
		if (http_servers[i].listener == l)
			srv = &http_servers[i];
	errno = error;
	if (srv == NULL)
		return;
	log_warn("accept on %s", srv->where);
	if (errno != EMFILE && errno != ENFILE)
		return;
	evconnlistener_disable(l);
	evtimer_add(srv->resume_ev, &tv);
}

/* Serves fd (a listening socket) with its own evhttp. */
static void
http_serve(int fd, int need_auth, char *where, char *unlink_path)
{
	struct http_server	*srv;

	if (http_nservers == HTTP_MAX_SERVERS)
		fatalx("too many listening sockets");
	srv = &http_servers[http_nservers++];
	srv->need_auth = need_auth;
	srv->where = where;
	srv->unlink_path = unlink_path;
	if ((srv->http = evhttp_new(loop_base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_max_body_size(srv->http, cfg.max_request);
	/*
	 * A body over the limit is read and dropped (not kept) before the
	 * 413: closing on a client still sending makes its kernel report a
	 * reset or EPIPE, and the 413 is lost.
	 */
	if (evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE) != 0)
		log_warnx("evhttp: no lingering close; an oversized request "
		    "may see a reset instead of 413");
	evhttp_set_timeout(srv->http, HTTP_IDLE_TIMEOUT);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(srv->http, http_request_cb, srv);
	srv->listener = evconnlistener_new(loop_base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (srv->listener == NULL)
		fatalx("cannot listen on %s", where);
	srv->resume_ev = evtimer_new(loop_base, http_resume_cb, srv);
	if (evhttp_bind_listener(srv->http, srv->listener) == NULL)
		fatalx("cannot serve %s", where);
	/* evhttp set its own callback; put our error callback back. */
	evconnlistener_set_error_cb(srv->listener, http_accept_error_cb);
	log_info("listening on %s%s", where, need_auth ? " (token)" : "");
}

/* Is another daemon answering on path? A stale file is removed. */
static void
http_claim_path(const char *path, struct sockaddr_un *sun)
{
	struct stat	sb;
	int		fd;

	if (lstat(path, &sb) == -1)
		return;
	if (!S_ISSOCK(sb.st_mode))
		fatalx("%s exists and is not a socket", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)sun, sizeof *sun) == 0)
		fatalx("another futured is listening on %s", path);
	close(fd);
	if (unlink(path) == -1)
		fatal("cannot remove stale socket %s", path);
	log_info("removed stale socket %s", path);
}

static void
http_listen_unix(const char *path)
{
	struct sockaddr_un	sun;
	mode_t			old;
	char			*where;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		fatalx("socket path too long (%zu bytes, at most %zu): %s",
		    strlen(path), sizeof sun.sun_path - 1, path);
	strcpy(sun.sun_path, path);
	http_claim_path(path, &sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		fatal("socket");
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0600) == -1 || listen(fd, HTTP_BACKLOG) == -1)
		fatal("listen %s", path);
	xasprintf(&where, "unix:%s", path);
	http_serve(fd, 0, where, xstrdup(path));
}

static char *
http_sockname(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	char			host[NI_MAXHOST], port[NI_MAXSERV], *where;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port,
	    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return xstrdup("tcp:?");
	xasprintf(&where, strchr(host, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s",
	    host, port);
	return where;
}

static void
http_listen_tcp(const char *spec)
{
	struct addrinfo	 hints, *ai = NULL;
	const char	*host = cfg.listen_host, *port = cfg.listen_port;
	int		 fd, rc, on = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		fatalx("--listen %s: %s", spec, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd == -1)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, HTTP_BACKLOG) == -1)
		fatal("listen %s", spec);
	freeaddrinfo(ai);
	http_serve(fd, 1, http_sockname(fd), NULL);
}

/* Reads the token file, or creates it with a fresh random token. */
static void
http_load_token(void)
{
	unsigned char	 raw[HTTP_TOKEN_BYTES];
	char		 buf[256];
	FILE		*f;
	size_t		 i;
	int		 fd;

	if ((f = fopen(cfg.token_file, "re")) != NULL) {
		if (fgets(buf, sizeof buf, f) == NULL)
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, " \t\r\n")] = '\0';
		if (strlen(buf) < 16)
			fatalx("token file %s holds no token of 16 characters "
			    "or more", cfg.token_file);
		snprintf(http_token, sizeof http_token, "%s", buf);
		return;
	}
	if (errno != ENOENT)
		fatal("cannot read token file %s", cfg.token_file);
	if (getrandom(raw, sizeof raw, 0) != sizeof raw)
		fatal("getrandom");
	for (i = 0; i < sizeof raw; i++)
		snprintf(http_token + 2 * i, 3, "%02x", raw[i]);
	fd = open(cfg.token_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, http_token, strlen(http_token)) == -1 ||
	    write(fd, "\n", 1) == -1 || close(fd) == -1)
		fatal("cannot write token file %s", cfg.token_file);
	log_info("created token file %s", cfg.token_file);
}

/* Socket activation: serve what systemd handed over. */
static int
http_listen_activated(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			*fds = NULL, n, i;
	char			*where;

	n = notify_listen_fds(&fds);
	for (i = 0; i < n; i++) {
		len = sizeof ss;
		if (getsockname(fds[i], (struct sockaddr *)&ss, &len) == -1)
			fatal("socket-activated fd %d", fds[i]);
		evutil_make_socket_nonblocking(fds[i]);
		evutil_make_socket_closeonexec(fds[i]);
		if (ss.ss_family == AF_UNIX) {
			xasprintf(&where, "unix:%s",
			    ((struct sockaddr_un *)&ss)->sun_path);
			http_serve(fds[i], 0, where, NULL);
		} else
			http_serve(fds[i], 1, http_sockname(fds[i]), NULL);
	}
	free(fds);
	return n;
}

int
http_init(void)
{
	http_load_token();
	if (http_listen_activated() > 0)
		return 0;
	http_listen_unix(cfg.socket_path);
	if (cfg.listen != NULL)
		http_listen_tcp(cfg.listen);
	return 0;
}

json_t *
http_listen_info(void)
{
	json_t	*a = xjson(json_array());
	int	 i;

	for (i = 0; i < http_nservers; i++)
		json_array_append_new(a, json_string(http_servers[i].where));
	return a;
}

void
http_stop_accepting(void)
{
	int	i;

	for (i = 0; i < http_nservers; i++) {
		evconnlistener_disable(http_servers[i].listener);
		evtimer_del(http_servers[i].resume_ev);
		if (http_servers[i].unlink_path != NULL)
			unlink(http_servers[i].unlink_path);
	}
}

void
http_free(void)
{
	struct http_server	*srv;
	int			 i;

	for (i = 0; i < http_nservers; i++) {
		srv = &http_servers[i];
		evhttp_free(srv->http);	/* frees the listener too */
		event_free(srv->resume_ev);
		free(srv->where);
		free(srv->unlink_path);
	}
	http_nservers = 0;
}
