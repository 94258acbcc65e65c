/*
 * sleep.c: the sleep kind, asyncio.sleep(seconds, result) made durable.
 * It costs a timerq entry and no process.  Its deadline is started_at +
 * seconds, so a restart resumes it where it was.
 */
#include "futured.h"

/* From the spec while the task has it, else what task_compact kept. */
static double
sleep_seconds(const struct task *t)
{
	if (t->spec != NULL)
		return json_number_value(json_object_get(t->spec, "seconds"));
	return t->seconds;
}

static void
sleep_done_cb(void *arg)
{
	struct task	*t = arg;
	json_t		*e, *result;

	if (t->timeout > 0 && t->timeout < sleep_seconds(t)) {
		e = xjson(fp_exception_create("TimeoutError",
		    "task did not finish within %gs", t->timeout));
		json_object_set_new(e, "timeout", json_real(t->timeout));
		task_fail(t, e);
		return;
	}
	result = t->spec != NULL ? json_object_get(t->spec, "result") :
	    t->sleep_result;
	task_finish(t, FP_SUCCEEDED, result != NULL ? json_incref(result) :
	    json_null(), NULL);
}

/*
 * Arms the timer for whichever comes first: the end or the timeout.  A
 * sleep already due ends now, so that a `sleep 0` submitted, started and
 * finished in one turn is one row written by one commit.
 */
static void
sleep_arm(struct task *t)
{
	double	secs = sleep_seconds(t);

	if (t->timeout > 0 && t->timeout < secs)
		secs = t->timeout;
	if (t->started_at + secs <= loop_now())
		sleep_done_cb(t);
	else
		timerq_add(&t->timer, t->started_at + secs, sleep_done_cb, t);
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
