/*
 * rpc-finish.c: the calls that end a task from outside — task.cancel,
 * task.set_result and task.set_exception, which complete a future, and
 * task.close, which ends a group's own part.
 * A task in memory is ended here.  With several nodes one that no node
 * holds is ended in the store where the call arrives, and one that
 * another node holds is ended by that node, asked through the store:
 * the call waits up to RPC_FINISH_WAIT for it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

/* How long a call waits for the node that holds the task. */
#define RPC_FINISH_WAIT	10.0

/* What a call asks, while the store answers. */
struct rpc_finish {
	int64_t		 id;
	enum fp_state	 state;		/* cancelled, succeeded or failed */
	const char	*message;	/* a cancel's (the params'), or NULL */
	json_t		*result;	/* set_result's */
	json_t		*exception;	/* set_exception's, a cancel's */
	int		 close;		/* task.close: a group's */
	int		 attempt;	/* the stored task's, when asked */
	int		 running;
	int		 retried;	/* a failure with retries left */
	int		 waits;		/* ended in the store, children left */
};

static void
rpc_finish_free(struct rpc_finish *f)
{
	json_decref(f->result);
	json_decref(f->exception);
	free(f);
}

/* Answers: {cancelled} for a cancel, {set, state} for a future. */
static void
rpc_finish_reply(struct rpc_call *c, int done, int state)
{
	struct rpc_finish	*f = c->state.finish;

	c->state.finish = NULL;
	if (f->close)
		rpc_reply(c, json_pack("{s:b,s:s}", "closed", done, "state",
		    fp_state_name(state)));
	else if (f->state == FP_CANCELLED)
		rpc_reply(c, json_pack("{s:b}", "cancelled", done));
	else
		rpc_reply(c, json_pack("{s:b,s:s}", "set", done, "state",
		    fp_state_name(state)));
	rpc_finish_free(f);
}

static void
rpc_finish_missing(struct rpc_call *c, int status)
{
	struct rpc_finish	*f = c->state.finish;

	c->state.finish = NULL;
	rpc_task_missing(c, status, f->id);
	rpc_finish_free(f);
}

/* The task is of a kind the call does not end. */
static void
rpc_finish_wrong_kind(struct rpc_call *c, const char *kind)
{
	struct rpc_finish	*f = c->state.finish;
	struct fp_invalid	 inv;

	c->state.finish = NULL;
	if (f->close)
		fp_invalid_set(&inv, "id", "task %lld is of kind %s: only a "
		    "group is closed", (long long)f->id, kind);
	else
		fp_invalid_set(&inv, "id", "task %lld is of kind %s: only a "
		    "future is completed from outside", (long long)f->id, kind);
	rpc_invalid(c, &inv);
	rpc_finish_free(f);
}

/* Ends t, which this node holds. */
static void
rpc_finish_here(struct rpc_call *c, struct task *t)
{
	struct rpc_finish	*f = c->state.finish;
	int			 done;

	if (f->close) {
		if ((done = tree_close(t)) == -1) {
			rpc_finish_wrong_kind(c, t->kind->name);
			return;
		}
	} else if (f->state == FP_CANCELLED)
		done = task_cancel(t, f->message);
	else if (!t->kind->external) {
		rpc_finish_wrong_kind(c, t->kind->name);
		return;
	} else
		done = task_resolve(t, json_incref(f->result),
		    json_incref(f->exception));
	rpc_finish_reply(c, done, t->state);
}

static void
rpc_finish_final_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct rpc_finish	*f = c->state.finish;

	if (status != STORE_OK)
		rpc_finish_missing(c, status);
	else if (f->close)	/* closed: it ends once its members have */
		rpc_finish_reply(c, 1, r->t.state);
	else
		rpc_finish_reply(c, r->t.state == f->state, r->t.state);
}

/*
 * The node that holds it has finished it, or not within the wait: the
 * request stays recorded, and that node (or the one that adopts its work)
 * acts on it when it next looks, so the answer is yes.
 */
static void
rpc_finish_waited(struct rpc_call *c, int timed_out)
{
	struct rpc_finish	*f = c->state.finish;

	if (timed_out)
		rpc_finish_reply(c, 1, f->state);
	else
		store_task_get(f->id, rpc_finish_final_cb, c);
}

static void
rpc_finish_asked_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct rpc_finish	*f = c->state.finish;

	if (status == STORE_OK && f->close)	/* the group ends later */
		rpc_finish_reply(c, 1, FP_RUNNING);
	else if (status == STORE_OK && f->retried)	/* it waits again */
		rpc_finish_reply(c, 1, FP_PENDING);
	else if (status == STORE_OK)
		rpc_park(c, f->id, WATCH_DONE, RPC_FINISH_WAIT,
		    rpc_finish_waited);
	else if (status == STORE_NONE)	/* finished meanwhile */
		store_task_get(f->id, rpc_finish_final_cb, c);
	else
		rpc_finish_missing(c, status);
}

/*
 * What the node holding the task is asked: a future's outcome holds for
 * the attempt it was asked of (cluster_asked), a cancel or a close always.
 */
static json_t *
rpc_finish_asked(const struct rpc_finish *f)
{
	json_t	*asked;

	asked = xjson(json_pack("{s:s}", "state", f->close ? "closed" :
	    fp_state_name(f->state)));
	if (f->result != NULL)
		json_object_set(asked, "result", f->result);
	if (f->exception != NULL)
		json_object_set(asked, "exception", f->exception);
	if (!f->close && f->state != FP_CANCELLED) {
		json_object_set_new(asked, "attempt", json_integer(f->attempt));
		json_object_set_new(asked, "running", json_boolean(f->running));
	}
	return asked;
}

/* Nobody held it (ended here), or ask the node that does. */
static void
rpc_finish_free_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct rpc_finish	*f = c->state.finish;
	json_t			*asked;
	char			 why[64];

	if (status == STORE_OK && f->state == FP_CANCELLED && !f->close) {
		snprintf(why, sizeof why, "parent %lld was cancelled",
		    (long long)f->id);
		tree_cancel_below(f->id, f->message != NULL ? f->message :
		    why);	/* its children, wherever they are */
	}
	if (status == STORE_OK)	/* one with children waits, pending */
		rpc_finish_reply(c, 1, f->waits ? FP_PENDING : f->state);
	else if (status == STORE_NONE) {
		asked = rpc_finish_asked(f);
		store_finish_ask(f->id, asked, rpc_finish_asked_cb, c);
		json_decref(asked);
	} else
		rpc_finish_missing(c, status);
}

/* Not in memory: finished, unknown, or held by another node. */
static void
rpc_finish_row_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct rpc_finish	*f = c->state.finish;
	const struct kind	*k;
	json_t			*mark;

	if (status != STORE_OK) {
		rpc_finish_missing(c, status);
		return;
	}
	k = kind_find(r->t.kind);
	f->attempt = r->t.attempt;
	f->running = r->t.state == FP_RUNNING;
	f->retried = f->state == FP_FAILED && f->running &&
	    r->t.attempt <= r->t.max_retries;
	if (f->close ? k == NULL || !k->group : f->state != FP_CANCELLED &&
	    (k == NULL || !k->external))
		rpc_finish_wrong_kind(c, r->t.kind);
	else if (store_shared() && !fp_state_done(r->t.state) &&
	    (f->close || (f->state != FP_CANCELLED && r->has_children))) {
		/* its own part ends; it waits for its children (tree.c) */
		f->waits = 1;
		mark = tree_mark(f->state, 0);
		store_close_free(f->id, mark, f->result, f->exception,
		    rpc_finish_free_cb, c);
		json_decref(mark);
	}
	else if (store_shared() && !fp_state_done(r->t.state))
		store_finish_free(f->id, f->state, f->result, f->exception,
		    loop_now(), rpc_finish_free_cb, c);
	else
		rpc_finish_reply(c, 0, r->t.state);
}

static void
rpc_finish_begin(struct rpc_call *c, struct rpc_finish *f)
{
	struct task	*t;

	c->state.finish = f;
	if ((t = task_find(f->id)) != NULL)
		rpc_finish_here(c, t);
	else
		store_task_get(f->id, rpc_finish_row_cb, c);
}

void
rpc_task_cancel(struct rpc_call *c)
{
	struct rpc_finish	*f = xcalloc(1, sizeof *f);
	struct fp_invalid	 inv;

	if (fp_cancel_parse(c->params, &f->id, &f->message, &inv) == -1) {
		free(f);
		rpc_invalid(c, &inv);
		return;
	}
	f->state = FP_CANCELLED;
	f->exception = fp_cancelled_exception(f->message);
	rpc_finish_begin(c, f);
}

static void
rpc_finish_future(struct rpc_call *c, int failure)
{
	struct rpc_finish	*f = xcalloc(1, sizeof *f);
	struct fp_invalid	 inv;
	json_t			*outcome;

	if (fp_resolve_parse(c->params, failure, &f->id, &outcome,
	    &inv) == -1) {
		free(f);
		rpc_invalid(c, &inv);
		return;
	}
	f->state = failure ? FP_FAILED : FP_SUCCEEDED;
	if (failure)
		f->exception = outcome;
	else
		f->result = outcome;
	rpc_finish_begin(c, f);
}

void
rpc_task_close(struct rpc_call *c)
{
	struct rpc_finish	*f = xcalloc(1, sizeof *f);
	struct fp_invalid	 inv;

	if (fp_params_id(c->params, NULL, &f->id, &inv) == -1) {
		free(f);
		rpc_invalid(c, &inv);
		return;
	}
	f->close = 1;
	f->state = FP_SUCCEEDED;
	rpc_finish_begin(c, f);
}

void
rpc_task_set_result(struct rpc_call *c)
{
	rpc_finish_future(c, 0);
}

void
rpc_task_set_exception(struct rpc_call *c)
{
	rpc_finish_future(c, 1);
}
