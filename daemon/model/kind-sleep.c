/*
 * kind-sleep.c: the sleep kind, asyncio.sleep(seconds, result) made
 * durable.  It costs a timer entry and no process, and no limit holds it
 * back.  Its deadline is started_at + seconds, so a restart resumes it
 * where it was.  A waiting sleep keeps its seconds and result and drops
 * its spec: 100,000 sleeping tasks cost little.
 */
#include <stdlib.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

struct sleep_kept {
	double	 seconds;
	json_t	*result;
};

static double
ks_seconds(const struct task *t)
{
	const struct sleep_kept	*k = t->kstate;

	if (k != NULL)
		return k->seconds;
	return json_number_value(json_object_get(t->spec, "seconds"));
}

static json_t *
ks_result(const struct task *t)
{
	const struct sleep_kept	*k = t->kstate;
	json_t			*r = k != NULL ? k->result :
				    json_object_get(t->spec, "result");

	return r != NULL ? json_incref(r) : json_null();
}

static void
ks_done_cb(void *arg)
{
	struct task	*t = arg;
	json_t		*e;

	if (t->timeout > 0 && t->timeout < ks_seconds(t)) {
		e = xjson(fp_exception_create("TimeoutError",
		    "task did not finish within %gs", t->timeout));
		json_object_set_new(e, "timeout", json_real(t->timeout));
		task_attempt_done(t, NULL, e);
		return;
	}
	task_attempt_done(t, ks_result(t), NULL);
}

/*
 * Arms the timer for whichever comes first: the end or the timeout.  A
 * sleep already due ends now, so that a `sleep 0` submitted, started and
 * finished in one turn is one row written by one commit.
 */
static void
ks_start(struct task *t)
{
	double	secs = ks_seconds(t);

	if (t->timeout > 0 && t->timeout < secs)
		secs = t->timeout;
	if (t->started_at + secs <= loop_now())
		ks_done_cb(t);
	else
		timerq_add(&t->timer, t->started_at + secs, ks_done_cb, t);
}

static void
ks_stop(struct task *t, int graceful)
{
	timerq_del(&t->timer);
	task_attempt_done(t, NULL, NULL);
}

static int
ks_recover(struct task *t)
{
	log_debug("%s: task %lld resumes", __func__, (long long)t->id);
	ks_start(t);
	return 1;
}

static void
ks_compact(struct task *t)
{
	struct sleep_kept	*k;

	if (t->spec == NULL)
		return;
	k = xcalloc(1, sizeof *k);
	k->seconds = json_number_value(json_object_get(t->spec, "seconds"));
	k->result = json_incref(json_object_get(t->spec, "result"));
	json_decref(t->spec);
	t->spec = NULL;
	free(t->kstate);
	t->kstate = k;
}

static void
ks_free(struct task *t)
{
	struct sleep_kept	*k = t->kstate;

	if (k != NULL)
		json_decref(k->result);
	free(k);
	t->kstate = NULL;
}

const struct kind kind_sleep = {
	.name = FP_KIND_SLEEP,
	.start = ks_start,
	.stop = ks_stop,
	.recover = ks_recover,
	.room = kind_room_any,
	.compact = ks_compact,
	.free = ks_free,
	.resumes = 1,
};
