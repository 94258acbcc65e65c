/*
 * service.h: systemd integration and what main() wires together.
 */
#ifndef FUTURED_SERVICE_H
#define FUTURED_SERVICE_H

#include "base/base.h"

/* notify.c: systemd integration (no-ops without libsystemd). */
void		 notify_ready(void);
void		 notify_stopping(void);
/* Asks systemd for seconds more before it escalates a stop. */
void		 notify_extend(double seconds);
void		 notify_reloading(void);
/* STATUS= with the counts; WATCHDOG=1 when systemd asked for it. */
void		 notify_start_status(void);
void		 notify_stop_status(void);
/* Listening sockets handed over by socket activation; 0 when none. */
int		 notify_listen_fds(int **fds);

/* service.c: signals, reload, and the drain that stops futured. */
void		 service_signals(void);
/* Stops futured: the drain, then the loop ends (SIGTERM, SIGINT). */
void		 service_stop(void);
void		 service_free(void);

#endif
