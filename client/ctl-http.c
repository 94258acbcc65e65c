/*
 * ctl-http.c: futurectl's HTTP/1.1 client, one kept-alive connection to
 * futured over its Unix socket or TCP.
 *
 * futured speaks plain HTTP/1.1 and futurectl only ever POSTs small JSON
 * bodies to it, so the request is written here and the response is parsed
 * by http-parser (Node's parser, packaged as libhttp-parser).  libcurl did
 * this before; loading it and the TLS, LDAP and SSH libraries it pulls in
 * took 7 ms of every futurectl run, more than the rest of a `run -- true`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <http_parser.h>

#include "ctl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

struct ctl_http {
	char		*unix_path;	/* or NULL for TCP */
	char		*host;
	char		*port;
	char		*path;		/* what we POST to */
	char		*auth;		/* "Authorization: ..." or NULL */
	int		 fd;		/* -1: not connected */
	int		 reused;	/* fd already carried an exchange */

	http_parser	 parser;
	int		 done;		/* the whole response arrived */
	char		*body;
	size_t		 len, size;
};

/* Milliseconds left until deadline (CLOCK_MONOTONIC seconds), >= 0. */
static int
ctl_http_left(double deadline)
{
	struct timespec	ts;
	double		left;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	left = deadline - ((double)ts.tv_sec + ts.tv_nsec / 1e9);
	return left > 0 ? (int)(left * 1000) + 1 : 0;
}

static double
ctl_http_deadline(double secs)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9 + secs;
}

/* Set by ctl_http_interrupt_on: a signal that sets it ends a wait. */
static volatile sig_atomic_t	*ctl_http_interrupt;

void
ctl_http_interrupt_on(volatile sig_atomic_t *flag)
{
	ctl_http_interrupt = flag;
}

static int
ctl_http_interrupted(void)
{
	return ctl_http_interrupt != NULL && *ctl_http_interrupt != 0;
}

/*
 * Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error
 * or interrupted.
 */
static int
ctl_http_poll(int fd, short events, double deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int		n;

	if (ctl_http_interrupted())
		return -1;
	do {
		n = poll(&pfd, 1, ctl_http_left(deadline));
	} while (n == -1 && errno == EINTR && !ctl_http_interrupted());
	return n;
}

static void
ctl_http_err(struct ctl_http_error *e, enum ctl_http_status st, int err,
    const char *fmt, const char *what)
{
	e->status = st;
	e->os_errno = err;
	snprintf(e->text, sizeof e->text, fmt, what);
}

/* A failure while interrupted was the interrupt's doing. */
static void
ctl_http_why_interrupted(struct ctl_http_error *e)
{
	if (ctl_http_interrupted())
		ctl_http_err(e, CTL_HTTP_INTERRUPTED, EINTR, "%s",
		    "interrupted");
}

/* A non-blocking connect of fd to sa, within deadline. */
static int
ctl_http_connect_fd(int fd, const struct sockaddr *sa, socklen_t len,
    double deadline, struct ctl_http_error *e)
{
	socklen_t	elen = sizeof(int);
	int		err = 0;

	/*
	 * A Unix socket whose listen backlog is full answers EAGAIN (not
	 * EINPROGRESS): try again until the deadline, as a blocking connect
	 * would wait.
	 */
	while (connect(fd, sa, len) == -1) {
		if (errno != EAGAIN || sa->sa_family != AF_UNIX)
			goto pending;
		if (ctl_http_left(deadline) == 0) {
			ctl_http_err(e, CTL_HTTP_TIMEOUT, 0, "%s",
			    "connection timed out (the daemon is busy)");
			return -1;
		}
		poll(NULL, 0, 5);
	}
	return 0;
pending:
	if (errno != EINPROGRESS) {
		ctl_http_err(e, CTL_HTTP_CONNECT, errno, "%s", strerror(errno));
		return -1;
	}
	if (ctl_http_poll(fd, POLLOUT, deadline) <= 0) {
		ctl_http_err(e, CTL_HTTP_TIMEOUT, 0, "%s",
		    "connection timed out");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		err = errno;
	if (err != 0) {
		ctl_http_err(e, CTL_HTTP_CONNECT, err, "%s", strerror(err));
		return -1;
	}
	return 0;
}

static int
ctl_http_socket(int family)
{
	return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int
ctl_http_connect_unix(struct ctl_http *h, double deadline,
    struct ctl_http_error *e)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(h->unix_path) >= sizeof sun.sun_path) {
		ctl_http_err(e, CTL_HTTP_CONNECT, ENAMETOOLONG, "%s",
		    "socket path too long");
		return -1;
	}
	strcpy(sun.sun_path, h->unix_path);
	if ((h->fd = ctl_http_socket(AF_UNIX)) == -1) {
		ctl_http_err(e, CTL_HTTP_IO, errno, "%s", strerror(errno));
		return -1;
	}
	return ctl_http_connect_fd(h->fd, (struct sockaddr *)&sun, sizeof sun,
	    deadline, e);
}

/* Tries each address of host:port in turn. */
static int
ctl_http_connect_tcp(struct ctl_http *h, double deadline,
    struct ctl_http_error *e)
{
	struct addrinfo	 hints, *res, *ai;
	int		 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(h->host, h->port, &hints, &res)) != 0) {
		ctl_http_err(e, CTL_HTTP_CONNECT, 0, "%s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((h->fd = ctl_http_socket(ai->ai_family)) == -1)
			continue;
		if (ctl_http_connect_fd(h->fd, ai->ai_addr, ai->ai_addrlen,
		    deadline, e) == 0)
			break;
		close(h->fd);
		h->fd = -1;
	}
	freeaddrinfo(res);
	return h->fd == -1 ? -1 : 0;
}

static void
ctl_http_close(struct ctl_http *h)
{
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	h->reused = 0;
}

static int
ctl_http_connect(struct ctl_http *h, double timeout, struct ctl_http_error *e)
{
	double	deadline = ctl_http_deadline(timeout);
	int	rc;

	rc = h->unix_path != NULL ? ctl_http_connect_unix(h, deadline, e) :
	    ctl_http_connect_tcp(h, deadline, e);
	if (rc == -1)
		ctl_http_close(h);
	return rc;
}

/* Writes all of buf within deadline. */
static int
ctl_http_write(struct ctl_http *h, const char *buf, size_t len,
    double deadline, struct ctl_http_error *e)
{
	ssize_t	n;

	while (len > 0) {
		n = send(h->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			ctl_http_err(e, CTL_HTTP_IO, errno, "%s",
			    strerror(errno));
			return -1;
		}
		if (ctl_http_poll(h->fd, POLLOUT, deadline) <= 0) {
			ctl_http_err(e, CTL_HTTP_TIMEOUT, 0, "%s",
			    "timed out sending the request");
			return -1;
		}
	}
	return 0;
}

static int
ctl_http_on_body(http_parser *p, const char *at, size_t len)
{
	struct ctl_http	*h = p->data;
	size_t		 want;
	char		*b;

	if (h->len + len > h->size) {
		want = h->size != 0 ? h->size : 16384;
		while (want < h->len + len)
			want *= 2;
		if ((b = realloc(h->body, want)) == NULL)
			return -1;	/* the parser stops with an error */
		h->body = b;
		h->size = want;
	}
	memcpy(h->body + h->len, at, len);
	h->len += len;
	return 0;
}

static int
ctl_http_on_complete(http_parser *p)
{
	((struct ctl_http *)p->data)->done = 1;
	return 0;
}

static const http_parser_settings ctl_http_settings = {
	.on_body = ctl_http_on_body,
	.on_message_complete = ctl_http_on_complete,
};

/*
 * Reads and parses until the response is complete.  *got says whether any
 * byte arrived, which decides whether a dead kept-alive connection may be
 * retried.
 */
static int
ctl_http_read(struct ctl_http *h, double deadline, int *got,
    struct ctl_http_error *e)
{
	char	buf[16384];
	ssize_t	n;

	http_parser_init(&h->parser, HTTP_RESPONSE);
	h->parser.data = h;
	h->done = 0;
	h->len = 0;
	*got = 0;
	while (!h->done) {
		n = recv(h->fd, buf, sizeof buf, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (ctl_http_poll(h->fd, POLLIN, deadline) <= 0) {
				ctl_http_err(e, CTL_HTTP_TIMEOUT, 0, "%s",
				    "timed out waiting for the answer");
				return -1;
			}
			continue;
		}
		if (n == -1) {
			ctl_http_err(e, CTL_HTTP_IO, errno, "%s",
			    strerror(errno));
			return -1;
		}
		*got |= n > 0;
		/* n == 0 tells the parser about the end of the stream. */
		http_parser_execute(&h->parser, &ctl_http_settings, buf,
		    (size_t)n);
		if (n == 0 && !h->done) {
			ctl_http_err(e, CTL_HTTP_IO, 0, "%s",
			    "the connection closed before the answer ended");
			return -1;
		}
		if (HTTP_PARSER_ERRNO(&h->parser) != HPE_OK) {
			ctl_http_err(e, CTL_HTTP_IO, 0, "bad HTTP answer: %s",
			    http_errno_description(HTTP_PARSER_ERRNO(
			    &h->parser)));
			return -1;
		}
	}
	return 0;
}

/* One request and its response on the open connection. */
static int
ctl_http_exchange(struct ctl_http *h, const char *body, size_t len,
    double deadline, int *got, struct ctl_http_error *e)
{
	char	*head = NULL;
	int	 n, rc;

	*got = 0;
	n = asprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: futurectl/%s\r\nContent-Type: application/json\r\n"
	    "%s%sContent-Length: %zu\r\n\r\n", h->path,
	    h->unix_path != NULL ? "localhost" : h->host, PACKAGE_VERSION,
	    h->auth != NULL ? h->auth : "", h->auth != NULL ? "\r\n" : "", len);
	if (n == -1) {
		ctl_http_err(e, CTL_HTTP_IO, ENOMEM, "%s", "out of memory");
		return -1;
	}
	rc = ctl_http_write(h, head, (size_t)n, deadline, e);
	free(head);
	if (rc == 0)
		rc = ctl_http_write(h, body, len, deadline, e);
	if (rc == 0)
		rc = ctl_http_read(h, deadline, got, e);
	return rc;
}

int
ctl_http_post(struct ctl_http *h, const char *body, size_t len,
    int may_resend, double connect_timeout, double timeout,
    struct ctl_http_answer *a, struct ctl_http_error *e)
{
	double	deadline;
	int	got, rc;

	memset(e, 0, sizeof *e);
	if (h->fd == -1 && ctl_http_connect(h, connect_timeout, e) == -1) {
		ctl_http_why_interrupted(e);
		return -1;
	}
	deadline = ctl_http_deadline(timeout);
	rc = ctl_http_exchange(h, body, len, deadline, &got, e);
	/*
	 * The daemon may have closed an idle kept-alive connection.  It may
	 * also have died after acting on the request, so only a request that
	 * may be sent twice is.
	 */
	if (rc == -1 && may_resend && h->reused && !got &&
	    e->status == CTL_HTTP_IO) {
		ctl_http_close(h);
		memset(e, 0, sizeof *e);
		if (ctl_http_connect(h, connect_timeout, e) == -1)
			return -1;
		rc = ctl_http_exchange(h, body, len, deadline, &got, e);
	}
	if (rc == -1)
		ctl_http_why_interrupted(e);
	if (rc == -1 || !http_should_keep_alive(&h->parser))
		ctl_http_close(h);
	else
		h->reused = 1;
	if (rc == -1)
		return -1;
	a->status = (int)h->parser.status_code;
	a->body = h->body;
	a->len = h->len;
	return 0;
}

/* Why http_parser refused url, in words. */
static char *
ctl_http_url_why(const char *url)
{
	const char	*host, *colon, *end;
	long		 port;

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return "not an http:// URL (for example http://127.0.0.1:7070)";
	host = strstr(url, "//") + 2;
	end = host + strcspn(host, "/?#");
	if (end == host)
		return "the URL names no host";
	colon = memrchr(host, ':', (size_t)(end - host));
	if (colon != NULL && *host != '[') {
		port = strtol(colon + 1, NULL, 10);
		if (colon + 1 == end || strspn(colon + 1, "0123456789") !=
		    (size_t)(end - colon - 1))
			return "the URL's port is not a number";
		if (port < 1 || port > 65535)
			return "the URL's port is out of range (1 to 65535)";
	}
	return "not a valid http:// URL";
}

/* Splits an http:// URL; anything but plain HTTP is refused here. */
static int
ctl_http_parse_url(struct ctl_http *h, const char *url, char **why)
{
	struct http_parser_url	u;
	const char		*f;

	http_parser_url_init(&u);
	if (http_parser_parse_url(url, strlen(url), 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_SCHEMA)) ||
	    !(u.field_set & (1 << UF_HOST))) {
		*why = ctl_http_url_why(url);
		return -1;
	}
	f = url + u.field_data[UF_SCHEMA].off;
	if (u.field_data[UF_SCHEMA].len != 4 || strncasecmp(f, "http", 4)) {
		*why = "futured serves plain HTTP only (put a TLS tunnel such "
		    "as stunnel or ssh -L in front and give its http:// URL)";
		return -1;
	}
	h->host = strndup(url + u.field_data[UF_HOST].off,
	    u.field_data[UF_HOST].len);
	h->port = u.field_set & (1 << UF_PORT) ? strndup(url +
	    u.field_data[UF_PORT].off, u.field_data[UF_PORT].len) :
	    strdup("80");
	/* POST to the URL's path when it names one, else to /rpc. */
	if (u.field_set & (1 << UF_PATH) && u.field_data[UF_PATH].len > 1)
		h->path = strdup(url + u.field_data[UF_PATH].off);
	else
		h->path = strdup("/rpc");
	return 0;
}

struct ctl_http *
ctl_http_new(const char *unix_path, const char *url, const char *auth,
    char **why)
{
	struct ctl_http	*h;

	*why = "out of memory";
	if ((h = calloc(1, sizeof *h)) == NULL)
		return NULL;
	h->fd = -1;
	if (unix_path != NULL) {
		h->unix_path = strdup(unix_path);
		h->path = strdup("/rpc");
	} else if (ctl_http_parse_url(h, url, why) == -1) {
		ctl_http_free(h);
		return NULL;
	}
	if (auth != NULL)
		h->auth = strdup(auth);
	if (h->path == NULL || (unix_path != NULL && h->unix_path == NULL) ||
	    (unix_path == NULL && (h->host == NULL || h->port == NULL)) ||
	    (auth != NULL && h->auth == NULL)) {
		ctl_http_free(h);
		return NULL;
	}
	return h;
}

void
ctl_http_free(struct ctl_http *h)
{
	if (h == NULL)
		return;
	ctl_http_close(h);
	free(h->unix_path);
	free(h->host);
	free(h->port);
	free(h->path);
	free(h->auth);
	free(h->body);
	free(h);
}
