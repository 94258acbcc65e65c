/*
 * rpc-future.c: task.result, task.exception and task.wait, the methods
 * that may long-poll.  A waiting call watches its tasks (watch.c) and has
 * a deadline (rpc_wait); whichever comes first answers, with what is true
 * at that moment.  Nothing polls.
 */
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "store.h"

/* One call waiting on one or more tasks. */
struct future_wait {
	struct fp_wait	  w;		/* ids, return_when, timeout */
	enum fp_state	 *states;
	struct watch	**watches;
	void		(*answer)(struct rpc_call *);
	int		  want_exception; /* task.exception, not task.result */
};

/*
 * A task's state: in memory while unfinished, else from the store.  A
 * task in memory with a final state is finished but not yet stored (its
 * commit failed, a disk full): it counts as done only once the store says
 * so, and its watchers hear then.
 */
static int
future_state(int64_t id, enum fp_state *st)
{
	struct task	*t = task_find(id);

	if (t != NULL && !fp_state_done(t->state)) {
		*st = t->state;
		return 0;
	}
	return store_task_state(id, st);
}

static void
future_wait_free(struct future_wait *fw)
{
	size_t	i;

	for (i = 0; fw->watches != NULL && i < fw->w.n_ids; i++)
		watch_remove(fw->watches[i]);
	free(fw->watches);
	free(fw->states);
	fp_wait_clear(&fw->w);
	free(fw);
}

/* Detaches the wait state from c before it answers. */
static struct future_wait *
future_wait_take(struct rpc_call *c)
{
	struct future_wait	*fw = c->state;

	c->state = NULL;
	return fw;
}

static void
future_watch_cb(int64_t id, enum fp_state st, void *arg)
{
	struct rpc_call		*c = arg;
	struct future_wait	*fw = c->state;
	size_t			 i;

	for (i = 0; i < fw->w.n_ids; i++) {
		if (fw->w.ids[i] == id) {
			fw->watches[i] = NULL;	/* consumed by watch_fire */
			fw->states[i] = st;
		}
	}
	fw->answer(c);
}

static void
future_deadline(struct rpc_call *c)
{
	struct future_wait	*fw = c->state;

	fw->w.timeout = 0;	/* answer with what is true now */
	fw->answer(c);
}

/* Watches every unfinished id of fw and waits up to its timeout. */
static void
future_park(struct rpc_call *c, struct future_wait *fw)
{
	size_t	i;

	fw->watches = xcalloc(fw->w.n_ids, sizeof *fw->watches);
	for (i = 0; i < fw->w.n_ids; i++)
		if (!fp_state_done(fw->states[i]))
			fw->watches[i] = watch_add(fw->w.ids[i],
			    WATCH_DONE, future_watch_cb, c);
	c->state = fw;
	rpc_wait(c, fw->w.timeout, future_deadline);
}

/* Fills fw->states; answers NoSuchTask and returns -1 for an unknown id. */
static int
future_load_states(struct rpc_call *c, struct future_wait *fw)
{
	size_t	i;

	fw->states = xcalloc(fw->w.n_ids, sizeof *fw->states);
	for (i = 0; i < fw->w.n_ids; i++) {
		if (future_state(fw->w.ids[i], &fw->states[i]) == -1) {
			rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I}",
			    "id", (json_int_t)fw->w.ids[i]));
			return -1;
		}
	}
	return 0;
}

/* Starts a future method: answers now or parks the call. */
static void
future_begin(struct rpc_call *c, struct future_wait *fw)
{
	if (rpc_is_notification(c))
		fw->w.timeout = 0;	/* nobody would read the answer */
	if (future_load_states(c, fw) == -1) {
		future_wait_free(fw);
		return;
	}
	c->state = fw;
	fw->answer(c);
}

/* ---- task.wait ---- */

static int
future_wait_satisfied(struct future_wait *fw)
{
	size_t	i, done = 0;

	for (i = 0; i < fw->w.n_ids; i++) {
		if (!fp_state_done(fw->states[i]))
			continue;
		done++;
		if (fw->w.return_when == FP_RETURN_FIRST ||
		    (fw->w.return_when == FP_RETURN_EXCEPTION &&
		    fw->states[i] == FP_FAILED))
			return 1;
	}
	return done == fw->w.n_ids;
}

static void
future_wait_answer(struct rpc_call *c)
{
	struct future_wait	*fw = c->state;
	json_t			*done, *pending;
	size_t			 i;

	if (!future_wait_satisfied(fw) && fw->w.timeout > 0) {
		if (c->wait == NULL)
			future_park(c, fw);
		return;
	}
	fw = future_wait_take(c);
	done = xjson(json_array());
	pending = xjson(json_array());
	for (i = 0; i < fw->w.n_ids; i++)
		json_array_append_new(fp_state_done(fw->states[i]) ? done :
		    pending, json_integer(fw->w.ids[i]));
	future_wait_free(fw);
	rpc_reply(c, json_pack("{s:o,s:o}", "done", done, "pending", pending));
}

enum rpc_ret
rpc_future_wait(struct rpc_call *c)
{
	struct future_wait	*fw = xcalloc(1, sizeof *fw);
	struct fp_invalid	 inv;

	if (fp_wait_parse(c->params, cfg.max_wait, &fw->w, &inv) == -1) {
		free(fw);
		rpc_invalid(c, &inv);
		return RPC_DONE;
	}
	fw->answer = future_wait_answer;
	future_begin(c, fw);
	return RPC_DONE;
}

/* ---- task.result and task.exception ---- */

/* Answers from the stored task, which is finished. */
static void
future_finished(struct rpc_call *c, int64_t id, int want_exception)
{
	json_t		*t = store_task_get(id), *v;
	const char	*state = json_string_value(json_object_get(t, "state"));

	if (state == NULL)
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s,s:I}", "reason",
		    "cannot read the task", "id", (json_int_t)id));
	else if (strcmp(state, "cancelled") == 0)
		rpc_error(c, FP_ERR_TASK_CANCELLED, json_pack("{s:I}", "id",
		    (json_int_t)id));
	else if (strcmp(state, "succeeded") == 0) {
		v = json_object_get(t, "result");
		rpc_reply(c, want_exception ? json_null() :
		    json_incref(v != NULL ? v : json_null()));
	} else {
		v = json_object_get(t, "exception");
		store_task_retrieved(id);
		if (want_exception)
			rpc_reply(c, json_incref(v));
		else
			rpc_error(c, FP_ERR_TASK_FAILED, json_pack("{s:I,s:O}",
			    "id", (json_int_t)id, "exception", v));
	}
	json_decref(t);
}

static void
future_result_answer(struct rpc_call *c)
{
	struct future_wait	*fw = c->state;
	int64_t			 id = fw->w.ids[0];
	enum fp_state		 st = fw->states[0];
	int			 want_exception = fw->want_exception;

	if (!fp_state_done(st) && fw->w.timeout > 0) {
		if (c->wait == NULL)
			future_park(c, fw);
		return;
	}
	future_wait_free(future_wait_take(c));
	if (!fp_state_done(st))
		rpc_error(c, FP_ERR_TASK_NOT_DONE, json_pack("{s:I,s:s}", "id",
		    (json_int_t)id, "state", fp_state_name(st)));
	else
		future_finished(c, id, want_exception);
}

static enum rpc_ret
future_result_begin(struct rpc_call *c, int want_exception)
{
	static const char *const extra[] = { "timeout", NULL };
	struct future_wait	*fw = xcalloc(1, sizeof *fw);
	struct fp_invalid	 inv;
	int64_t			 id;

	if (fp_params_id(c->params, extra, &id, &inv) == -1 ||
	    fp_timeout_parse(c->params, "timeout", 0, cfg.max_wait,
	    &fw->w.timeout, &inv) == -1) {
		free(fw);
		rpc_invalid(c, &inv);
		return RPC_DONE;
	}
	fw->w.ids = xmalloc(sizeof *fw->w.ids);
	fw->w.ids[0] = id;
	fw->w.n_ids = 1;
	fw->want_exception = want_exception;
	fw->answer = future_result_answer;
	future_begin(c, fw);
	return RPC_DONE;
}

enum rpc_ret
rpc_future_result(struct rpc_call *c)
{
	return future_result_begin(c, 0);
}

enum rpc_ret
rpc_future_exception(struct rpc_call *c)
{
	return future_result_begin(c, 1);
}
