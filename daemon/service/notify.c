/*
 * notify.c: systemd integration: readiness, status, watchdog, reload and
 * stop notifications, and socket activation.  Without libsystemd (or
 * without NOTIFY_SOCKET) these do nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "service/service.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

#define NOTIFY_STATUS_EVERY	2.0	/* seconds */

static struct event	*notify_status_ev;
static double		 notify_status_every;

void
notify_ready(void)
{
	sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)getpid());
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: ending running tasks");
}

void
notify_reloading(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_extend(double seconds)
{
	sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu",
	    (unsigned long long)(seconds * 1e6));
}

/* STATUS= what runs and waits; WATCHDOG=1 rides along when asked for. */
static void
notify_status_cb(evutil_socket_t fd, short events, void *arg)
{
	uint64_t	wd;

	sd_notifyf(0, "STATUS=%zu running (%zu processes, %zu fetches), "
	    "%zu ready to start, %zu waiting clients%s",
	    task_count_running(), exec_running(), fetch_running(),
	    sched_pending(), rpc_in_flight(),
	    sd_watchdog_enabled(0, &wd) > 0 ? "\nWATCHDOG=1" : "");
	loop_timer_add(notify_status_ev, notify_status_every);
}

void
notify_start_status(void)
{
	uint64_t	wd = 0;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	notify_status_every = NOTIFY_STATUS_EVERY;
	/* The watchdog wants a ping at least every half interval. */
	if (sd_watchdog_enabled(0, &wd) > 0 && wd / 2e6 < notify_status_every)
		notify_status_every = wd / 2e6;
	notify_status_ev = evtimer_new(loop_base, notify_status_cb, NULL);
	notify_status_cb(-1, 0, NULL);
}

void
notify_stop_status(void)
{
	if (notify_status_ev != NULL)
		event_free(notify_status_ev);
	notify_status_ev = NULL;
}

int
notify_listen_fds(int **fds)
{
	char	**names = NULL;
	int	  n = sd_listen_fds_with_names(1, &names), i;

	*fds = NULL;
	if (n < 0) {
		log_warnx("socket activation: %s", strerror(-n));
		return 0;
	}
	if (n > 0)
		*fds = xcalloc((size_t)n, sizeof **fds);
	for (i = 0; i < n; i++) {
		(*fds)[i] = SD_LISTEN_FDS_START + i;
		log_info("socket activation: fd %d (%s)", (*fds)[i],
		    names != NULL && names[i] != NULL ? names[i] : "unnamed");
	}
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return n;
}
#else
void
notify_ready(void)
{
}

void
notify_stopping(void)
{
}

void
notify_reloading(void)
{
}

void
notify_extend(double seconds)
{
}

void
notify_start_status(void)
{
}

void
notify_stop_status(void)
{
}

int
notify_listen_fds(int **fds)
{
	*fds = NULL;
	return 0;
}
#endif
