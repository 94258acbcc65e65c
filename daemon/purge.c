/*
 * purge.c: retention.  Finished tasks older than --retention are deleted
 * in batches, a loop turn each, so a large backlog never stalls the loop.
 * A failed task whose exception nobody retrieved is logged as asyncio
 * does: "Task exception was never retrieved".
 */
#include <event2/event.h>

#include "futured.h"
#include "store.h"

#define PURGE_BATCH	1000

static struct event	*purge_ev;

static void
purge_unretrieved_cb(int64_t id, const char *kind, json_t *exception,
    void *arg)
{
	log_warnx("Task exception was never retrieved: task %lld (%s): %s: %s",
	    (long long)id, kind,
	    json_string_value(json_object_get(exception, "type")),
	    json_string_value(json_object_get(exception, "message")));
}

/* Seconds between purges: often enough for short retentions. */
static double
purge_interval(void)
{
	double	i = cfg.retention / 2;

	if (i > 60)
		i = 60;
	if (i < 0.5)
		i = 0.5;
	return i;
}

static void
purge_arm(double secs)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(purge_ev, &tv);
}

static void
purge_cb(evutil_socket_t fd, short events, void *arg)
{
	int	n;

	n = store_task_purge(loop_now() - cfg.retention, PURGE_BATCH,
	    purge_unretrieved_cb, NULL);
	if (n > 0)
		log_info("purged %d finished tasks older than %gs", n,
		    cfg.retention);
	purge_arm(n == PURGE_BATCH ? 0 : purge_interval());
}

void
purge_start(void)
{
	purge_ev = evtimer_new(loop_base, purge_cb, NULL);
	purge_arm(0);
}

void
purge_stop(void)
{
	if (purge_ev != NULL)
		event_free(purge_ev);
	purge_ev = NULL;
}
