/*
 * kind-future.c: the future kind, asyncio's loop.create_future() made
 * durable.  Nothing runs it: its attempt waits, costing a timer entry at
 * most, until task.set_result or task.set_exception ends it through
 * task_resolve, its timeout fails it, or a cancel stops it.  A restart
 * finds it waiting and it goes on waiting, its timeout still counted from
 * its start.
 */

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

static void
kf_timeout_cb(void *arg)
{
	struct task	*t = arg;
	json_t		*e;

	e = xjson(fp_exception_create("TimeoutError",
	    "future was not completed within %gs", t->timeout));
	json_object_set_new(e, "timeout", json_real(t->timeout));
	task_attempt_done(t, NULL, e);
}

static void
kf_start(struct task *t)
{
	if (t->timeout > 0)
		timerq_add(&t->timer, t->started_at + t->timeout,
		    kf_timeout_cb, t);
}

static void
kf_stop(struct task *t, int graceful)
{
	timerq_del(&t->timer);
	task_attempt_done(t, NULL, NULL);
}

static int
kf_recover(struct task *t)
{
	kf_start(t);
	return 1;
}

const struct kind kind_future = {
	.name = FP_KIND_FUTURE,
	.start = kf_start,
	.stop = kf_stop,
	.recover = kf_recover,
	.room = kind_room_any,
	.resumes = 1,
	.slotless = 1,
	.external = 1,
};
