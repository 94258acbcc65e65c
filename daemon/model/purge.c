/*
 * purge.c: retention.  Finished tasks older than --retention are deleted
 * in batches, a loop turn each, so a large backlog never stalls the loop.
 * A failed task whose exception nobody retrieved is logged as asyncio
 * does: "Task exception was never retrieved".
 */
#include <string.h>

#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

#define PURGE_BATCH	1000
#define PURGE_TAIL_LINES 5	/* of stderr, logged with a lost exception */

static struct event	*purge_ev;

/* The last lines of an exception's stderr, each a log line of its own. */
static void
purge_log_tail(json_t *tail)
{
	const char	*s, *nl;

	if (json_string_length(tail) == 0)
		return;
	s = fp_tail_lines(json_string_value(tail), json_string_length(tail),
	    PURGE_TAIL_LINES);
	for (; *s != '\0'; s = nl + (*nl != '\0')) {
		nl = s + strcspn(s, "\n");
		log_warnx("  | %.*s", (int)(nl - s), s);
	}
}

static void
purge_unretrieved_cb(void *arg, int status, const struct store_row *r)
{
	json_t	*e = store_value_json(&r->t.exception);

	log_warnx("Task exception was never retrieved: task %lld (%s): %s: %s",
	    (long long)r->t.id, r->t.kind,
	    json_string_value(json_object_get(e, "type")),
	    json_string_value(json_object_get(e, "message")));
	purge_log_tail(json_object_get(e, "stderr_tail"));
	json_decref(e);
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
purge_done_cb(void *arg, int n)
{
	if (n > 0)
		log_info("purged %d finished tasks older than %gs", n,
		    cfg.retention);
	if (purge_ev != NULL)
		loop_timer_add(purge_ev, n == PURGE_BATCH ? 0 : purge_interval());
}

static void
purge_cb(evutil_socket_t fd, short events, void *arg)
{
	store_task_purge(loop_now() - cfg.retention, PURGE_BATCH,
	    purge_unretrieved_cb, purge_done_cb, NULL);
}

void
purge_start(void)
{
	purge_ev = evtimer_new(loop_base, purge_cb, NULL);
	loop_timer_add(purge_ev, 0);
}

void
purge_stop(void)
{
	if (purge_ev != NULL)
		event_free(purge_ev);
	purge_ev = NULL;
}
