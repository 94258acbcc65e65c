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

#endif
