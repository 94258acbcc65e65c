/*
 * rpc-queue.c: queue.list, queue.set and queue.delete.  Queues live in
 * memory (sched.c) with their settings in the store; with several nodes a
 * queue's tasks may all be on the others, which the store counts.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

/* queue.set or queue.delete, while the store counts the queue's tasks. */
struct queue_op {
	struct fp_queue_set	 qs;
	int			 del;
	int64_t			 here;	/* its tasks in this node's memory */
};

static json_t *
rpc_queue_json(struct queue *q)
{
	return xjson(json_pack("{s:s,s:i,s:b,s:i,s:I}", "name", q->name,
	    "concurrency", q->concurrency, "paused", q->paused,
	    "running", q->running,
	    "waiting", (json_int_t)sched_queue_waiting(q)));
}

static void
rpc_queue_add(json_t *a, const char *name, int concurrency, int paused,
    int64_t running, int64_t waiting)
{
	json_array_append_new(a, xjson(json_pack("{s:s,s:i,s:b,s:I,s:I}",
	    "name", name, "concurrency", concurrency, "paused", paused,
	    "running", (json_int_t)running, "waiting", (json_int_t)waiting)));
}

/* A queue as every node sees it (several nodes: from the database). */
static void
rpc_queue_stat(void *arg, const char *name, int concurrency, int paused,
    int64_t running, int64_t waiting)
{
	struct rpc_call	*c = arg;

	rpc_queue_add(c->state.queues, name, concurrency, paused, running,
	    waiting);
}

/* Queues known here that hold no task and were never saved. */
static void
rpc_queue_stats_cb(void *arg, int status)
{
	struct rpc_call	*c = arg;
	json_t		*a = c->state.queues, *q;
	struct queue	*lq;
	size_t		 i, j;

	c->state.queues = NULL;
	if (status != STORE_OK) {
		json_decref(a);
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot read the queues"));
		return;
	}
	for (i = 0; i < sched_queue_count(); i++) {
		lq = sched_queue_at(i);
		json_array_foreach(a, j, q)
			if (strcmp(json_string_value(json_object_get(q, "name")),
			    lq->name) == 0)
				break;
		if (j == json_array_size(a))
			rpc_queue_add(a, lq->name, lq->concurrency, lq->paused,
			    0, 0);
	}
	rpc_reply(c, json_pack("{s:o}", "queues", a));
}

void
rpc_queue_list(struct rpc_call *c)
{
	static const char *const none[] = { NULL };
	struct fp_invalid	 inv;
	json_t			*a;
	size_t			 i;

	if (fp_params_only(c->params, none, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	a = xjson(json_array());
	if (store_shared()) {
		c->state.queues = a;
		store_queue_stats(loop_now(), rpc_queue_stat, rpc_queue_stats_cb,
		    c);
		return;
	}
	for (i = 0; i < sched_queue_count(); i++)
		json_array_append_new(a, rpc_queue_json(sched_queue_at(i)));
	rpc_reply(c, json_pack("{s:o}", "queues", a));
}

/* Queues live in memory: refuse a new one past SCHED_MAX_QUEUES. */
int
rpc_queue_limit(struct rpc_call *c, const char *name)
{
	if (sched_queue_find(name) != NULL ||
	    sched_queue_count() < SCHED_MAX_QUEUES)
		return 0;
	rpc_error(c, FP_ERR_LIMIT, json_pack("{s:s,s:i,s:I}", "limit",
	    "queues", "max", SCHED_MAX_QUEUES, "value",
	    (json_int_t)sched_queue_count() + 1));
	return 1;
}

static void
rpc_queue_missing(struct rpc_call *c, const char *name, int create_helps)
{
	rpc_error(c, FP_ERR_NO_SUCH_QUEUE, json_pack("{s:s,s:s}", "name", name,
	    "reason", create_helps ? "no task and no settings (create: false "
	    "was given)" : "no task and no settings"));
}

/* Settles queue.set once the queue is known to exist, or may be made. */
static void
rpc_queue_set_apply(struct rpc_call *c, const struct fp_queue_set *qs)
{
	struct queue	*q;
	json_t		*res;

	if (rpc_queue_limit(c, qs->name))
		return;
	q = sched_queue(qs->name);
	if (qs->has_concurrency)
		q->concurrency = qs->concurrency;
	if (qs->has_paused)
		q->paused = qs->paused;
	sched_queue_save(q);
	sched_kick();
	res = rpc_queue_json(q);
	events_queue(q->name, "queue.changed", res);
	sched_queue_tidy(q);	/* settings cleared off an empty queue */
	rpc_reply(c, res);
}

static void
rpc_queue_delete_apply(struct rpc_call *c, const char *name, int64_t tasks)
{
	struct queue	*q = sched_queue_find(name);

	if (tasks > 0) {
		rpc_error(c, FP_ERR_QUEUE_NOT_EMPTY, json_pack("{s:s,s:I}",
		    "name", name, "tasks", (json_int_t)tasks));
		return;
	}
	if (q == NULL) {
		rpc_queue_missing(c, name, 0);
		return;
	}
	q->concurrency = 0;
	q->paused = 0;
	sched_queue_save(q);
	events_queue(name, "queue.deleted", NULL);
	sched_queue_tidy(q);
	rpc_reply(c, json_pack("{s:s,s:b}", "name", name, "deleted", 1));
}

/* The other nodes' tasks of the queue are counted: settle the call. */
static void
rpc_queue_busy_cb(void *arg, int status, int64_t n)
{
	struct rpc_call		*c = arg;
	struct queue_op		*op = c->state.queue_op;

	c->state.queue_op = NULL;
	if (status != STORE_OK)
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot count the queue's tasks"));
	else if (op->del)
		rpc_queue_delete_apply(c, op->qs.name, op->here + n);
	else if (n == 0)
		rpc_queue_missing(c, op->qs.name, 1);
	else
		rpc_queue_set_apply(c, &op->qs);
	free(op);
}

/* Asks the store how many tasks the queue has on every node. */
static void
rpc_queue_count(struct rpc_call *c, const struct fp_queue_set *qs, int del,
    int64_t here)
{
	struct queue_op	*op = xcalloc(1, sizeof *op);

	op->qs = *qs;		/* name borrows from c->params, kept */
	op->del = del;
	op->here = here;
	c->state.queue_op = op;
	store_queue_busy(qs->name, rpc_queue_busy_cb, c);
}

void
rpc_queue_set(struct rpc_call *c)
{
	struct fp_queue_set	 qs;
	struct fp_invalid	 inv;

	if (fp_queue_set_parse(c->params, &qs, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if (qs.create || sched_queue_find(qs.name) != NULL)
		rpc_queue_set_apply(c, &qs);
	else if (store_shared())	/* its tasks may be elsewhere */
		rpc_queue_count(c, &qs, 0, 0);
	else
		rpc_queue_missing(c, qs.name, 1);
}

void
rpc_queue_delete(struct rpc_call *c)
{
	struct fp_queue_set	 qs = { 0 };
	struct fp_invalid	 inv;
	struct queue		*q;

	if (fp_queue_delete_parse(c->params, &qs.name, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if (strcmp(qs.name, SCHED_DEFAULT_QUEUE) == 0) {
		fp_invalid_set(&inv, "name", "the default queue is always "
		    "there (queue.set clears its settings)");
		rpc_invalid(c, &inv);
		return;
	}
	q = sched_queue_find(qs.name);
	if (store_shared())
		rpc_queue_count(c, &qs, 1, q != NULL ? q->tasks : 0);
	else
		rpc_queue_delete_apply(c, qs.name, q != NULL ? q->tasks : 0);
}
