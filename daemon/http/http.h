/*
 * http.h: the HTTP transport: listening sockets and connections.
 */
#ifndef FUTURED_HTTP_H
#define FUTURED_HTTP_H

#include "base/base.h"

/* http-server.c: the listening sockets and the TCP token. */
/* activated: the sockets systemd handed over (n of them), else listen. */
int		 http_server_init(const int *activated, int n);
void		 http_server_free(void);
/* A descriptor was freed: accepting resumes if it had paused. */
void		 http_server_resume(void);
/* Does an Authorization header value carry the token? */
int		 http_server_token_ok(const char *authorization);
/* The task whose credential the header carries (while it runs), or 0. */
int64_t		 http_server_task_of(const char *authorization);
void		 http_stop_accepting(void);
/* ["unix:PATH", "tcp:HOST:PORT", ...]: where futured listens. */
json_t		*http_listen_info(void);

/* http.c: HTTP/1.1 connections; requests go to rpc_handle. */
int		 http_init(const int *activated, int n);
void		 http_free(void);
/* A new connection on a listener (need_auth: TCP, the token). */
void		 http_conn_accept(int fd, int need_auth);
/* Requests being answered; open connections. */
size_t		 http_busy(void);
size_t		 http_connections(void);

/*
 * Within the layer: the modules that answer other paths than /rpc.
 * A handler answers its connection once with http_respond (now or
 * later); a stream (/events) writes as it goes.
 */
struct http_conn;
struct http_head;
/* body (len bytes, copied) with status, type and extra header lines. */
void		 http_respond(struct http_conn *, int status, const char *type,
		    const char *extra, const char *body, size_t len);
/* The request's head and body, valid until it is answered. */
const struct http_head *http_conn_head_of(const struct http_conn *);
const char	*http_conn_body(const struct http_conn *, size_t *len);
/* Is the request made with the token, or on the Unix socket? */
int		 http_conn_trusted(const struct http_conn *);
/* A stream: the head is written; then writes until one fails (-1). */
void		 http_stream_begin(struct http_conn *, const char *type,
		    const char *extra);
int		 http_stream_write(struct http_conn *, const char *, size_t);
size_t		 http_stream_queued(const struct http_conn *);
void		 http_stream_close(struct http_conn *);
/* This daemon's TCP listeners as http://HOST:PORT (none: empty). */
json_t		*http_server_urls(void);
int		 http_server_token_is(const char *given, size_t len);

/* http-session.c: the dashboard's sessions and login codes. */
struct http_session;
const char	*http_session_code(double *expires_in);
struct http_session *http_session_new(void);
struct http_session *http_session_login(const char *code, size_t len);
struct http_session *http_session_find(const char *cookie_header);
int		 http_session_csrf_ok(const struct http_session *,
		    const char *header);
const char	*http_session_csrf(const struct http_session *);
char		*http_session_cookie(const struct http_session *);
const char	*http_session_cookie_clear(void);
void		 http_session_end(struct http_session *);
void		 http_session_free_all(void);

/* http-ui.c: the dashboard's files, /login, /logout, /ui/session. */
int		 http_ui_path(const char *path);
void		 http_ui_serve(struct http_conn *);
void		 http_login_serve(struct http_conn *);
json_t		*http_ui_login_link(void);

/* http-metrics.c: GET /metrics. */
void		 http_metrics_init(void);
void		 http_metrics_serve(struct http_conn *);

/* http-events.c: GET /events, Server-Sent Events. */
void		 http_events_init(void);
void		 http_events_serve(struct http_conn *);
/* The stream's client went away: forget it. */
void		 http_events_gone(struct http_conn *);
void		 http_events_free(void);

#endif
