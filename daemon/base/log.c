/* log.c: leveled logging to stderr (the journal, under systemd). */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "base/base.h"

static int	log_threshold = LOG_LEVEL_INFO;
static int	log_journal;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

/* Routes libevent's own messages through ours. */
static void
log_event_cb(int severity, const char *msg)
{
	if (severity == EVENT_LOG_DEBUG)
		log_debug("libevent: %s", msg);
	else
		log_warnx("libevent: %s", msg);
}

/* Is stderr the journal stream systemd gave us (JOURNAL_STREAM=dev:ino)? */
static int
log_is_journal(void)
{
	const char		*js = getenv("JOURNAL_STREAM");
	struct stat		 sb;
	unsigned long long	 dev, ino;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &sb) == -1)
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

void
log_init(int level)
{
	log_threshold = level;
	log_journal = log_is_journal();
	event_set_log_callback(log_event_cb);
}

int
log_level_parse(const char *s)
{
	int	i;

	for (i = 0; i <= LOG_LEVEL_DEBUG; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	return -1;
}

/* sd-daemon(3) priorities: err, warning, info, debug. */
static const char *const log_journal_prefix[] = { "<3>", "<4>", "<6>", "<7>" };

/*
 * Under systemd (JOURNAL_STREAM names our stderr) a line starts with its
 * priority and carries no timestamp: the journal adds its own.  Elsewhere
 * it starts with the time.
 */
static void
log_vwrite(int level, const char *errstr, const char *fmt, va_list ap)
{
	char		msg[2048], when[32] = "";
	struct timespec	ts;
	struct tm	tm;

	if (level > log_threshold)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_journal) {
		fprintf(stderr, "%s%s%s%s\n", log_journal_prefix[level], msg,
		    errstr != NULL ? ": " : "", errstr != NULL ? errstr : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld futured: %s: %s%s%s\n", when,
	    ts.tv_nsec / 1000000, log_names[level], msg,
	    errstr != NULL ? ": " : "", errstr != NULL ? errstr : "");
}

#define LOG_FN(name, level, witherr)				\
void								\
name(const char *fmt, ...)					\
{								\
	const char	*e = (witherr) ? strerror(errno) : NULL;\
	va_list		 ap;					\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, e, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	const char	*e = strerror(errno);
	va_list		 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
