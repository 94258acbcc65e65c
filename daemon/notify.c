/*
 * notify.c: systemd integration: readiness and stopping notifications and
 * socket activation.  Without libsystemd these do nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "futured.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void
notify_ready(void)
{
	sd_notifyf(0, "READY=1\nSTATUS=serving\nMAINPID=%ld", (long)getpid());
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: ending running tasks");
}

void
notify_extend(double seconds)
{
	sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu",
	    (unsigned long long)(seconds * 1e6));
}

int
notify_listen_fds(int **fds)
{
	int	n = sd_listen_fds(1), i;

	*fds = NULL;
	if (n < 0) {
		log_warnx("socket activation: %s", strerror(-n));
		return 0;
	}
	if (n == 0)
		return 0;
	*fds = xcalloc((size_t)n, sizeof **fds);
	for (i = 0; i < n; i++)
		(*fds)[i] = SD_LISTEN_FDS_START + i;
	return n;
}
#else
void
notify_ready(void)
{
}

void
notify_extend(double seconds)
{
}

void
notify_stopping(void)
{
}

int
notify_listen_fds(int **fds)
{
	*fds = NULL;
	return 0;
}
#endif
