/*
 * kind-group.c: the group kind, asyncio's TaskGroup made durable.
 * Nothing runs it: while it is open its attempt waits for task.close
 * (tree_close) or a failed member (tree.c) to end its own part, then it
 * waits for its members like any parent.  Its timeout bounds all of it:
 * its members are cancelled and it fails.
 */

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

static void
kg_timeout_cb(void *arg)
{
	struct task	*g = arg;
	json_t		*e;

	e = xjson(fp_exception_create("TimeoutError",
	    "group did not end within %gs", g->timeout));
	json_object_set_new(e, "timeout", json_real(g->timeout));
	g->group_failing = TREE_EXPIRED;	/* its members are cancelled */
	task_settle(g, FP_FAILED, NULL, e);
}

static void
kg_start(struct task *g)
{
	if (g->timeout > 0)
		timerq_add(&g->timer, g->started_at + g->timeout,
		    kg_timeout_cb, g);
}

static void
kg_stop(struct task *g, int graceful)
{
	timerq_del(&g->timer);
	task_attempt_done(g, NULL, NULL);
}

static int
kg_recover(struct task *g)
{
	kg_start(g);
	return 1;
}

const struct kind kind_group = {
	.name = FP_KIND_GROUP,
	.start = kg_start,
	.stop = kg_stop,
	.recover = kg_recover,
	.room = kind_room_any,
	.resumes = 1,
	.slotless = 1,
	.group = 1,
};
