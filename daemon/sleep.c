/*
 * sleep.c: the sleep kind, asyncio.sleep(seconds, result) made durable.
 * It costs one timer and no process.  Its deadline is started_at +
 * seconds, so a restart resumes it where it was.
 */
#include <event2/event.h>

#include "futured.h"

static void
sleep_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct task	*t = arg;
	double		 secs = json_number_value(json_object_get(t->spec,
			    "seconds"));
	json_t		*e, *result = json_object_get(t->spec, "result");

	if (t->timeout > 0 && t->timeout < secs) {
		e = xjson(fp_exception_create("TimeoutError",
		    "task did not finish within %gs", t->timeout));
		json_object_set_new(e, "timeout", json_real(t->timeout));
		task_fail(t, e);
		return;
	}
	task_finish(t, FP_SUCCEEDED, result != NULL ? json_incref(result) :
	    json_null(), NULL);
}

/* Arms the timer for whichever comes first: the end or the timeout. */
static void
sleep_arm(struct task *t)
{
	double		 secs = json_number_value(json_object_get(t->spec,
			    "seconds"));
	double		 left;
	struct timeval	 tv;

	if (t->timeout > 0 && t->timeout < secs)
		secs = t->timeout;
	left = t->started_at + secs - loop_now();
	if (left < 0)
		left = 0;
	if (t->timer == NULL)
		t->timer = evtimer_new(loop_base, sleep_done_cb, t);
	else {
		evtimer_del(t->timer);
		evtimer_assign(t->timer, loop_base, sleep_done_cb, t);
	}
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	evtimer_add(t->timer, &tv);
}

int
sleep_start(struct task *t)
{
	sleep_arm(t);
	return 0;
}

void
sleep_resume(struct task *t)
{
	t->queue->running++;
	log_debug("%s: task %lld resumes", __func__, (long long)t->id);
	sleep_arm(t);
}
