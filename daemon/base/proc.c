/*
 * proc.c: what identifies a process over time, from /proc, so that a
 * process group recorded by one futured can be ended by the next without
 * ever signalling a stranger that got the same pid.
 *
 * A group is named by its leader's pid (the pgid), the leader's start time
 * in clock ticks since boot, and the boot id.  While any member of a
 * group lives, Linux does not hand its pgid out as a pid again, so:
 * another boot -> the group is gone; a live process with that pid but
 * another start time -> the group is gone (the number was free, so the
 * group was empty); the leader itself, or no process with that pid ->
 * whatever is in the group is ours.
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

int
proc_start_time(pid_t pid, uint64_t *ticks)
{
	char	path[64], buf[1024], *p;
	ssize_t	n;
	int	fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: count from the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	*ticks = strtoull(p + 1, NULL, 10);
	return 0;
}

int
proc_boot_id(char buf[PROC_BOOT_ID_LEN])
{
	ssize_t	n;
	int	fd;

	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, PROC_BOOT_ID_LEN - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Members we may signal: one we may not (setuid) we cannot end anyway. */
int
proc_group_alive(pid_t pgid)
{
	return pgid > 0 && kill(-pgid, 0) == 0;
}

int
proc_group_ours(const struct proc_group *g)
{
	char		boot[PROC_BOOT_ID_LEN];
	uint64_t	ticks;

	if (g->pgid <= 1 || proc_boot_id(boot) == -1 ||
	    strcmp(boot, g->boot_id) != 0)
		return 0;
	if (proc_start_time(g->pgid, &ticks) == 0 && ticks != g->start_time)
		return 0;	/* the pid is another process's now */
	return proc_group_alive(g->pgid);
}

static void
proc_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
proc_group_end(const struct proc_group *g, double grace)
{
	double	waited = 0;

	if (!proc_group_ours(g))
		return 0;
	log_info("ending process group %ld of an earlier futured", (long)g->pgid);
	killpg(g->pgid, SIGTERM);
	killpg(g->pgid, SIGCONT);
	while (proc_group_alive(g->pgid) && waited < grace) {
		proc_sleep_ms(20);
		waited += 0.02;
	}
	if (proc_group_alive(g->pgid)) {
		killpg(g->pgid, SIGKILL);
		log_info("process group %ld: SIGKILL after %gs", (long)g->pgid,
		    grace);
	}
	for (waited = 0; proc_group_alive(g->pgid) && waited < 5; waited += 0.02)
		proc_sleep_ms(20);
	if (proc_group_alive(g->pgid)) {
		log_warnx("process group %ld outlives SIGKILL (uninterruptible "
		    "sleep?)", (long)g->pgid);
		return -1;
	}
	return 0;
}
