/*
 * http-server.c: where futured listens.  The Unix socket, whose file mode
 * is the access control; TCP only when asked, where every request must
 * carry the bearer token; or the sockets systemd hands over.  New
 * connections go to http.c.  Out of descriptors, accepting pauses (the
 * clients wait in the backlog) until a connection closes or a second
 * passes, so a full table costs no CPU.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "base/base.h"
#include "store/store.h"
#include "rpc/rpc.h"
#include "http/http.h"

#define HTTP_MAX_SERVERS	8
/* The kernel caps it at net.core.somaxconn (4096 on current kernels). */
#define HTTP_BACKLOG		INT_MAX
#define HTTP_TOKEN_BYTES	32

struct http_server {
	struct evconnlistener	*listener;
	int			 need_auth;
	char			*where;		/* unix:PATH or tcp:HOST:PORT */
	char			*unlink_path;	/* socket file we created */
};

static struct http_server	http_servers[HTTP_MAX_SERVERS];
static int			http_nservers;
static char			http_token[256];
static struct event		*http_resume_ev;	/* after EMFILE */
static int			 http_paused, http_stopped;
static double			 http_exhausted_at;	/* last logged (mono) */

int
http_server_token_is(const char *given, size_t len)
{
	return secret_equal(http_token, given, len);
}

int
http_server_token_ok(const char *authorization)
{
	const char	*h = authorization;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return secret_equal(http_token, h, strlen(h));
}

int64_t
http_server_task_of(const char *authorization)
{
	const char	*h = authorization;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	for (h += 7; *h == ' '; h++)
		;
	return task_credential_check(h, strlen(h));
}

static void
http_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct http_server	*srv = arg;

	http_conn_accept(fd, srv->need_auth);
}

/* Accepts again on every listener (a descriptor was freed, or 1 s passed). */
void
http_server_resume(void)
{
	int	i;

	if (!http_paused || http_stopped)
		return;
	http_paused = 0;
	evtimer_del(http_resume_ev);
	for (i = 0; i < http_nservers; i++)
		evconnlistener_enable(http_servers[i].listener);
}

static void
http_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	http_server_resume();
}

static void
http_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct http_server	*srv = arg;
	struct timeval		 tv = { 1, 0 };
	int			 i, error = EVUTIL_SOCKET_ERROR();

	if (error != EMFILE && error != ENFILE && error != ENOBUFS &&
	    error != ENOMEM) {
		log_debug("%s: accept on %s: %s", __func__, srv->where,
		    strerror(error));
		return;
	}
	/* once a minute at most: it flaps as connections come and go */
	if (http_exhausted_at == 0 || loop_mono() - http_exhausted_at >= 60) {
		log_warnx("accept on %s: %s; pausing until a connection closes",
		    srv->where, strerror(error));
		http_exhausted_at = loop_mono();
	} else
		log_debug("%s: accept on %s: %s", __func__, srv->where,
		    strerror(error));
	http_paused = 1;
	for (i = 0; i < http_nservers; i++)
		evconnlistener_disable(http_servers[i].listener);
	evtimer_add(http_resume_ev, &tv);
}

/* Serves fd, a listening socket. */
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
	/*
	 * Backlog 0: fd listens already.  (-1, which futured passed before,
	 * makes libevent call listen(fd, 128) again, and a burst of more
	 * than 128 connects saw EAGAIN: issue #11, defect 9.)
	 */
	srv->listener = evconnlistener_new(loop_base, http_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (srv->listener == NULL)
		fatalx("cannot listen on %s", where);
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

/*
 * The listener as a task on this host reaches it (FUTURED_URL): the port
 * bound (--listen HOST:0 picks one), a wildcard address as the loopback.
 */
static void
http_task_url(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 port[NI_MAXSERV];
	const char		*h = cfg.listen_host;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, NULL, 0, port, sizeof port,
	    NI_NUMERICSERV) != 0)
		return;
	if (*h == '\0' || strcmp(h, "*") == 0 || strcmp(h, "0.0.0.0") == 0)
		h = "127.0.0.1";
	else if (strcmp(h, "::") == 0)
		h = "::1";
	free(cfg.listen_url);
	xasprintf(&cfg.listen_url, "http://%s%s%s:%s", strchr(h, ':') != NULL ?
	    "[" : "", h, strchr(h, ':') != NULL ? "]" : "", port);
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
	http_task_url(fd);
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
static void
http_listen_activated(const int *fds, int n)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			*where;
	int			 i;

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
}

int
http_server_init(const int *activated, int n)
{
	http_resume_ev = evtimer_new(loop_base, http_resume_cb, NULL);
	http_load_token();
	if (n > 0) {
		http_listen_activated(activated, n);
		return 0;
	}
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

/* Where a browser reaches the TCP listeners: http://HOST:PORT. */
json_t *
http_server_urls(void)
{
	json_t		*a = xjson(json_array());
	const char	*hp;
	char		*url;
	int		 i;

	for (i = 0; i < http_nservers; i++) {
		if (!http_servers[i].need_auth ||
		    strncmp(http_servers[i].where, "tcp:", 4) != 0)
			continue;
		hp = http_servers[i].where + 4;
		/* a wildcard address: this host's own */
		if (strncmp(hp, "0.0.0.0:", 8) == 0)
			xasprintf(&url, "http://127.0.0.1%s", hp + 7);
		else if (strncmp(hp, "[::]:", 5) == 0)
			xasprintf(&url, "http://[::1]%s", hp + 4);
		else
			xasprintf(&url, "http://%s", hp);
		json_array_append_new(a, json_string(url));
		free(url);
	}
	return a;
}

void
http_stop_accepting(void)
{
	int	i;

	http_stopped = 1;
	evtimer_del(http_resume_ev);
	for (i = 0; i < http_nservers; i++) {
		evconnlistener_disable(http_servers[i].listener);
		if (http_servers[i].unlink_path != NULL)
			unlink(http_servers[i].unlink_path);
	}
}

void
http_server_free(void)
{
	struct http_server	*srv;
	int			 i;

	for (i = 0; i < http_nservers; i++) {
		srv = &http_servers[i];
		evconnlistener_free(srv->listener);
		free(srv->where);
		free(srv->unlink_path);
	}
	http_nservers = 0;
	if (http_resume_ev != NULL)
		event_free(http_resume_ev);
	http_resume_ev = NULL;
}
