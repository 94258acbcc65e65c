/* log.c: leveled logging to stderr (the journal, under systemd). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>

#include "futured.h"

static int	log_threshold = LOG_LEVEL_INFO;

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

void
log_init(int level)
{
	log_threshold = level;
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

static void
log_vwrite(int level, const char *errstr, const char *fmt, va_list ap)
{
	char	msg[2048];

	if (level > log_threshold)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (errstr != NULL)
		fprintf(stderr, "futured: %s: %s: %s\n", log_names[level], msg,
		    errstr);
	else
		fprintf(stderr, "futured: %s: %s\n", log_names[level], msg);
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
