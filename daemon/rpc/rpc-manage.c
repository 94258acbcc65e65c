/*
 * rpc-manage.c: task.retry and task.delete, the methods that manage
 * finished tasks.
 *
 * A retry is a new task: a future, once settled, stays what it was (a
 * client may hold its result), so the new one has an id of its own and
 * the label futured.retry_of names the task it retries.  A delete takes
 * finished tasks only; unfinished ones it names are cancelled first when
 * asked to, and deleted once the cancel has committed.  A delete by
 * filter goes DELETE_ROUND tasks a turn, so the loop stays responsive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

#define DELETE_ROUND	1000
#define RETRY_LABEL	"futured.retry_of"

/* ---- task.retry ---- */

/* task.submit's params for a new run of the finished task r. */
static json_t *
retry_params(const struct store_row *r)
{
	json_t	*p = store_value_json(&r->t.spec);
	json_t	*labels = store_value_json(&r->t.labels);
	json_t	*limits;
	char	 id[32];

	if (!json_is_object(p)) {
		json_decref(p);
		p = xjson(json_object());
	}
	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = xjson(json_object());
	}
	snprintf(id, sizeof id, "%lld", (long long)r->t.id);
	json_object_set_new(labels, RETRY_LABEL, json_string(id));
	json_object_set_new(p, "labels", labels);
	json_object_set_new(p, "queue", json_string(r->t.queue));
	json_object_set_new(p, "priority", json_integer(r->t.priority));
	if (r->t.timeout > 0)
		json_object_set_new(p, "timeout", json_real(r->t.timeout));
	if (r->t.max_retries > 0)
		json_object_set_new(p, "retries",
		    json_integer(r->t.max_retries));
	if (r->retry_backoff > 0)
		json_object_set_new(p, "retry_backoff",
		    json_real(r->retry_backoff));
	/* its concurrency keys and rate limit (one deleted since: -32602) */
	if ((limits = store_value_json(&r->t.limits)) != NULL)
		json_object_update(p, limits);
	json_decref(limits);
	return p;
}

static void
retry_not_done(struct rpc_call *c, int64_t id, enum fp_state st)
{
	rpc_error(c, FP_ERR_TASK_NOT_DONE, json_pack("{s:I,s:s}", "id",
	    (json_int_t)id, "state", fp_state_name(st)));
}

static void
retry_row_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call	*c = arg;

	if (status != STORE_OK)
		rpc_task_missing(c, status, c->state.task_id);
	else if (!fp_state_done(r->t.state))	/* another node runs it */
		retry_not_done(c, r->t.id, r->t.state);
	else
		rpc_task_resubmit(c, retry_params(r));
}

void
rpc_manage_retry(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	struct task		*t;
	int64_t			 id;

	if (fp_params_id(c->params, NULL, &id, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if ((t = task_find(id)) != NULL && !fp_state_done(t->state)) {
		retry_not_done(c, id, t->state);
		return;
	}
	c->state.task_id = id;
	store_task_get(id, retry_row_cb, c);
}

/* ---- task.delete ---- */

struct task_delete {
	struct fp_delete	 d;
	struct store_select	 sel;
	int			*states;	/* of d.ids */
	int64_t			*take;		/* the ids to delete */
	size_t			 n_take;
	json_t			*taken;		/* id -> true, once deleted */
	json_t			*unfinished;	/* ids left alone */
	json_t			*missing;	/* ids of no task */
	int64_t			 deleted;
};

static void
delete_free(struct rpc_call *c)
{
	struct task_delete	*td = c->state.del;

	c->state.del = NULL;
	fp_delete_clear(&td->d);
	free(td->states);
	free(td->take);
	json_decref(td->taken);
	json_decref(td->unfinished);
	json_decref(td->missing);
	free(td);
}

static void
delete_reply(struct rpc_call *c)
{
	struct task_delete	*td = c->state.del;

	rpc_reply(c, json_pack("{s:I,s:O,s:O}", "deleted",
	    (json_int_t)td->deleted, "unfinished", td->unfinished, "missing",
	    td->missing));
	delete_free(c);
}

static void
delete_store_failed(struct rpc_call *c)
{
	rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
	    "cannot delete the tasks"));
	delete_free(c);
}

static void	delete_round(void *, int);

static void
delete_row_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct task_delete	*td = c->state.del;
	char			 key[32];

	if (td->taken == NULL)
		return;		/* by filter: counted, not named */
	snprintf(key, sizeof key, "%lld", (long long)r->t.id);
	json_object_set_new(td->taken, key, json_true());
}

/*
 * One round deleted n: by filter, another round after this turn's commit
 * while rounds come back full; by ids, the named ones not deleted (their
 * cancel has not ended them) are told as unfinished.
 */
static void
delete_round_done(void *arg, int n)
{
	struct rpc_call		*c = arg;
	struct task_delete	*td = c->state.del;
	char			 key[32];
	size_t			 i;

	if (n < 0) {
		delete_store_failed(c);
		return;
	}
	td->deleted += n;
	if (td->taken == NULL && n == DELETE_ROUND) {
		store_defer(delete_round, c);
		return;
	}
	for (i = 0; td->taken != NULL && i < td->n_take; i++) {
		snprintf(key, sizeof key, "%lld", (long long)td->take[i]);
		if (json_object_get(td->taken, key) == NULL)
			json_array_append_new(td->unfinished,
			    json_integer(td->take[i]));
	}
	delete_reply(c);
}

/* A round of the delete, in a turn of its own. */
static void
delete_round(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct task_delete	*td = c->state.del;

	if (status == STORE_FAILED) {	/* the cancels did not commit */
		delete_store_failed(c);
		return;
	}
	if (td->taken != NULL && td->n_take == 0) {
		delete_reply(c);
		return;
	}
	store_task_delete(&td->sel, td->taken != NULL ? (int)td->n_take :
	    DELETE_ROUND, delete_row_cb, delete_round_done, c);
}

/* Sorts one named id: to delete, to cancel then delete, or to tell. */
static int
delete_sort_id(struct task_delete *td, int64_t id, int state)
{
	struct task	*t = task_find(id);

	if (t != NULL && !fp_state_done(t->state))
		state = t->state;	/* memory knows the unfinished */
	if (state < 0) {
		json_array_append_new(td->missing, json_integer(id));
		return 0;
	}
	if (!fp_state_done((enum fp_state)state) && (t == NULL ||
	    !td->d.cancel)) {
		/* without cancel, or running on another node */
		json_array_append_new(td->unfinished, json_integer(id));
		return 0;
	}
	td->take[td->n_take++] = id;
	return t != NULL && !fp_state_done(t->state) && task_cancel(t, NULL);
}

static void
delete_states_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct task_delete	*td = c->state.del;
	size_t			 i;
	int			 cancelled = 0;

	if (status != STORE_OK) {
		delete_store_failed(c);
		return;
	}
	td->take = xcalloc(td->d.n_ids + 1, sizeof *td->take);
	for (i = 0; i < td->d.n_ids; i++)
		cancelled |= delete_sort_id(td, td->d.ids[i], td->states[i]);
	td->sel.ids = td->take;
	td->sel.n_ids = td->n_take;
	if (cancelled)	/* deleted once their end has committed */
		store_defer(delete_round, c);
	else
		delete_round(c, STORE_OK);
}

void
rpc_manage_delete(struct rpc_call *c)
{
	struct task_delete	*td = xcalloc(1, sizeof *td);
	struct fp_invalid	 inv;

	if (fp_delete_parse(c->params, &td->d, &inv) == -1) {
		free(td);
		rpc_invalid(c, &inv);
		return;
	}
	td->unfinished = xjson(json_array());
	td->missing = xjson(json_array());
	c->state.del = td;
	if (td->d.nothing) {	/* a delete of everything is asked by all */
		delete_reply(c);
		return;
	}
	if (td->d.ids == NULL) {
		td->sel.filter = &td->d.filter;
		if (td->d.older_than > 0)
			td->sel.before = loop_now() - td->d.older_than;
		delete_round(c, STORE_OK);
		return;
	}
	td->taken = xjson(json_object());
	td->states = xcalloc(td->d.n_ids, sizeof *td->states);
	task_states(td->d.ids, td->d.n_ids, td->states, delete_states_cb, c);
}
