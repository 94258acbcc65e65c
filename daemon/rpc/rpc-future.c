/*
 * rpc-future.c: task.result, task.exception, task.wait and
 * task.as_completed, the methods that may long-poll.  A waiting call watches its tasks (watch.c) and has
 * a deadline (rpc_wait); whichever comes first answers, with what is true
 * at that moment.  Nothing polls.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

/* One call waiting on one or more tasks. */
struct future_wait {
	struct fp_as_completed ac;	/* w: ids, return_when, timeout;
					 * seen: as_completed's cursor */
	int		 *states;	/* enum fp_state, -1: no such task */
	size_t		  n_done, n_failed;	/* of states */
	struct watch	**watches;
	struct future_slot *slots;	/* the watches' arguments */
	void		(*answer)(struct rpc_call *);
	int		  want_exception; /* task.exception, not task.result */
	struct future_member *members;	/* as_completed's group, being read */
	size_t		  n_members, cap_members;
	int		  group_state;	/* the group's, when read */
	struct fp_list	  list;		/* as_completed {label}'s pages */
	struct fp_text	  page;
};

/* What a watch of a wait stands for: the call, and which of its ids. */
struct future_slot {
	struct rpc_call	*call;
	size_t		 i;
};

/* A member of the group as_completed reads: in the order they joined. */
struct future_member {
	double		 created_at;
	int64_t		 id;
};

static void
future_wait_free(struct future_wait *fw)
{
	size_t	i;

	for (i = 0; fw->watches != NULL && i < fw->ac.w.n_ids; i++)
		watch_remove(fw->watches[i]);
	free(fw->watches);
	free(fw->slots);
	free(fw->states);
	free(fw->members);
	fp_text_clear(&fw->page);
	fp_as_completed_clear(&fw->ac);
	free(fw);
}

/* Detaches the wait state from c before it answers. */
static struct future_wait *
future_wait_take(struct rpc_call *c)
{
	struct future_wait	*fw = c->state.future;

	c->state.future = NULL;
	return fw;
}

/* Counts a finished id (a wait of n ids is O(n), not O(n^2)). */
static void
future_count(struct future_wait *fw, int st)
{
	if (fp_state_done(st)) {
		fw->n_done++;
		fw->n_failed += st == FP_FAILED;
	}
}

/* Sets the state of id i, keeping the counts. */
static void
future_state_set(struct future_wait *fw, size_t i, int st)
{
	if (!fp_state_done(fw->states[i]))
		future_count(fw, st);
	fw->states[i] = st;
}

static void
future_watch_cb(int64_t id, enum fp_state st, void *arg)
{
	struct future_slot	*slot = arg;
	struct rpc_call		*c = slot->call;
	struct future_wait	*fw = c->state.future;

	fw->watches[slot->i] = NULL;	/* consumed by watch_fire */
	future_state_set(fw, slot->i, st);
	fw->answer(c);
}

static void
future_deadline(struct rpc_call *c)
{
	struct future_wait	*fw = c->state.future;

	fw->ac.w.timeout = 0;	/* answer with what is true now */
	fw->answer(c);
}

/* Watches every unfinished id of fw and waits up to its timeout. */
static void
future_park(struct rpc_call *c, struct future_wait *fw)
{
	size_t	i;

	fw->watches = xcalloc(fw->ac.w.n_ids, sizeof *fw->watches);
	fw->slots = xcalloc(fw->ac.w.n_ids, sizeof *fw->slots);
	for (i = 0; i < fw->ac.w.n_ids; i++) {
		if (fp_state_done(fw->states[i]))
			continue;
		fw->slots[i].call = c;
		fw->slots[i].i = i;
		fw->watches[i] = watch_add(fw->ac.w.ids[i], WATCH_DONE,
		    future_watch_cb, &fw->slots[i]);
	}
	rpc_wait(c, fw->ac.w.timeout, future_deadline);
}

/* The states are known: NoSuchTask for an unknown id, else the answer. */
static void
future_states_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct future_wait	*fw = c->state.future;
	size_t			 i;

	for (i = 0; i < fw->ac.w.n_ids; i++) {
		if (status != STORE_OK || fw->states[i] < 0) {
			rpc_task_missing(c, status, fw->ac.w.ids[i]);
			future_wait_free(future_wait_take(c));
			return;
		}
		future_count(fw, fw->states[i]);
	}
	fw->answer(c);
}

/* Starts a future method: answers now or parks the call. */
static void
future_begin(struct rpc_call *c, struct future_wait *fw)
{
	if (rpc_is_notification(c))
		fw->ac.w.timeout = 0;	/* task.wait's, from fp_wait_parse */
	fw->states = xcalloc(fw->ac.w.n_ids, sizeof *fw->states);
	c->state.future = fw;
	task_states(fw->ac.w.ids, fw->ac.w.n_ids, fw->states, future_states_cb, c);
}

/* ---- task.wait ---- */

static int
future_wait_satisfied(const struct future_wait *fw)
{
	if (fw->n_done > 0 && fw->ac.w.return_when == FP_RETURN_FIRST)
		return 1;
	if (fw->n_failed > 0 && fw->ac.w.return_when == FP_RETURN_EXCEPTION)
		return 1;
	return fw->n_done == fw->ac.w.n_ids;
}

static void
future_wait_answer(struct rpc_call *c)
{
	struct future_wait	*fw = c->state.future;
	json_t			*done, *pending;
	size_t			 i;

	if (!future_wait_satisfied(fw) && fw->ac.w.timeout > 0) {
		if (c->deadline == NULL)
			future_park(c, fw);
		return;
	}
	fw = future_wait_take(c);
	done = xjson(json_array());
	pending = xjson(json_array());
	for (i = 0; i < fw->ac.w.n_ids; i++)
		json_array_append_new(fp_state_done(fw->states[i]) ? done :
		    pending, json_integer(fw->ac.w.ids[i]));
	future_wait_free(fw);
	rpc_reply(c, json_pack("{s:o,s:o}", "done", done, "pending", pending));
}

void
rpc_future_wait(struct rpc_call *c)
{
	struct future_wait	*fw = xcalloc(1, sizeof *fw);
	struct fp_invalid	 inv;

	if (fp_wait_parse(c->params, cfg.max_wait, &fw->ac.w, &inv) == -1) {
		free(fw);
		rpc_invalid(c, &inv);
		return;
	}
	fw->answer = future_wait_answer;
	future_begin(c, fw);
}

/* ---- task.result and task.exception ---- */

/* TaskCancelled, with the cancel's message when it had one. */
static void
future_cancelled(struct rpc_call *c, int64_t id, const struct store_row *r)
{
	json_t	*e = store_value_json(&r->t.exception), *data;

	data = xjson(json_pack("{s:I}", "id", (json_int_t)id));
	if (json_is_string(json_object_get(e, "message")))
		json_object_set(data, "message", json_object_get(e, "message"));
	json_decref(e);
	rpc_error(c, FP_ERR_TASK_CANCELLED, data);
}

/* The stored task, which is finished: its result or exception. */
static void
future_row_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct future_wait	*fw = future_wait_take(c);
	int64_t			 id = fw->ac.w.ids[0];
	int			 want_exception = fw->want_exception;
	json_t			*e;

	future_wait_free(fw);
	if (status != STORE_OK) {
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s,s:I}", "reason",
		    "cannot read the task", "id", (json_int_t)id));
		return;
	}
	if (r->t.state == FP_CANCELLED) {
		future_cancelled(c, id, r);
		return;
	}
	if (r->t.state == FP_SUCCEEDED) {
		if (want_exception)
			rpc_reply(c, json_null());
		else {
			/* the stored text goes out as it is */
			fp_text_value(rpc_result_begin(c), &r->t.result);
			rpc_result_end(c);
		}
		return;
	}
	store_task_retrieved(id);
	if (want_exception) {
		fp_text_value(rpc_result_begin(c), &r->t.exception);
		rpc_result_end(c);
		return;
	}
	e = store_value_json(&r->t.exception);
	rpc_error(c, FP_ERR_TASK_FAILED, json_pack("{s:I,s:o}", "id",
	    (json_int_t)id, "exception", e != NULL ? e : json_null()));
}

static void
future_result_answer(struct rpc_call *c)
{
	struct future_wait	*fw = c->state.future;
	int64_t			 id = fw->ac.w.ids[0];
	int			 st = fw->states[0];

	if (!fp_state_done(st) && fw->ac.w.timeout > 0) {
		if (c->deadline == NULL)
			future_park(c, fw);
		return;
	}
	if (!fp_state_done(st)) {
		future_wait_free(future_wait_take(c));
		rpc_error(c, FP_ERR_TASK_NOT_DONE, json_pack("{s:I,s:s}", "id",
		    (json_int_t)id, "state", fp_state_name(st)));
		return;
	}
	store_task_get(id, future_row_cb, c);
}

static void
future_result_begin(struct rpc_call *c, int want_exception)
{
	static const char *const extra[] = { "timeout", NULL };
	struct future_wait	*fw;
	struct fp_invalid	 inv;
	double			 timeout;
	int64_t			 id;

	if (fp_params_id(c->params, extra, &id, &inv) == -1 ||
	    rpc_poll_timeout(c, &timeout, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	fw = xcalloc(1, sizeof *fw);
	fw->ac.w.timeout = timeout;
	fw->ac.w.ids = xmalloc(sizeof *fw->ac.w.ids);
	fw->ac.w.ids[0] = id;
	fw->ac.w.n_ids = 1;
	fw->want_exception = want_exception;
	fw->answer = future_result_answer;
	future_begin(c, fw);
}

void
rpc_future_result(struct rpc_call *c)
{
	future_result_begin(c, 0);
}

void
rpc_future_exception(struct rpc_call *c)
{
	future_result_begin(c, 1);
}

/* ---- task.as_completed ---- */

/* Is there something to hand back now, or nothing left to wait for? */
static int
future_as_completed_ready(const struct future_wait *fw)
{
	size_t	i, unfinished = 0;

	for (i = 0; i < fw->ac.w.n_ids; i++) {
		if (fp_as_completed_seen(&fw->ac, i))
			continue;
		if (fp_state_done(fw->states[i]))
			return 1;
		unfinished++;
	}
	return unfinished == 0;
}

/* Hands back what finished since the cursor, marking it seen. */
static void
future_as_completed_answer(struct rpc_call *c)
{
	struct future_wait	*fw = c->state.future;
	json_t			*done, *r;
	size_t			 i, remaining = 0;

	if (!future_as_completed_ready(fw) && fw->ac.w.timeout > 0) {
		if (c->deadline == NULL)
			future_park(c, fw);
		return;
	}
	fw = future_wait_take(c);
	done = xjson(json_array());
	for (i = 0; i < fw->ac.w.n_ids; i++) {
		if (fp_as_completed_seen(&fw->ac, i))
			continue;
		if (!fp_state_done(fw->states[i])) {
			remaining++;
			continue;
		}
		fp_as_completed_mark(&fw->ac, i);
		json_array_append_new(done, xjson(json_pack("{s:I,s:s}", "id",
		    (json_int_t)fw->ac.w.ids[i], "state",
		    fp_state_name(fw->states[i]))));
	}
	r = xjson(json_pack("{s:o,s:o,s:I}", "done", done, "cursor",
	    xjson(fp_as_completed_cursor(&fw->ac)), "remaining",
	    (json_int_t)remaining));
	/* no member joins a group that ended: with remaining 0, all came */
	if (fw->ac.group != 0)
		json_object_set_new(r, "group_state", json_string(
		    fp_state_name(fw->group_state)));
	rpc_reply(c, r);
	future_wait_free(fw);
}

static void
future_member_add(struct future_wait *fw, int64_t id, double created_at)
{
	if (fw->n_members == fw->cap_members)
		fw->members = xreallocarray(fw->members, fw->cap_members =
		    fw->cap_members * 2 + 64, sizeof *fw->members);
	fw->members[fw->n_members].created_at = created_at;
	fw->members[fw->n_members++].id = id;
}

/* A group's member (any task's child), in id order. */
static void
future_member_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;

	future_member_add(c->state.future, r->t.id, r->t.created_at);
}

static void	future_members_ready(struct rpc_call *, int sort);
static void	future_label_page(struct rpc_call *);

/*
 * A page of task.list {label}, newest first: its tasks are the set's,
 * ordered by when they came once all pages are read.
 */
static void
future_label_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct future_wait	*fw = c->state.future;
	json_t			*page = NULL, *t;
	const char		*next;
	char			*text;
	size_t			 len, i;
	double			 at;
	long long		 cursor;

	text = fp_text_take(&fw->page, &len);
	if (status == STORE_OK && text != NULL)
		page = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	free(text);
	if (page == NULL) {
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot read the tasks of the label"));
		future_wait_free(future_wait_take(c));
		return;
	}
	json_array_foreach(json_object_get(page, "tasks"), i, t) {
		if (fp_time_parse(json_string_value(json_object_get(t,
		    "created_at")), &at) == -1)
			at = 0;
		future_member_add(fw, json_integer_value(json_object_get(t,
		    "id")), at);
	}
	next = json_string_value(json_object_get(page, "next"));
	if (next != NULL && sscanf(next, "c%lld", &cursor) == 1 &&
	    fw->n_members <= FP_WAIT_MAX) {
		fw->list.cursor = cursor;
		json_decref(page);
		future_label_page(c);
		return;
	}
	json_decref(page);
	future_members_ready(c, 1);
}

static void
future_label_page(struct rpc_call *c)
{
	struct future_wait	*fw = c->state.future;

	store_task_list(&fw->list, &fw->page, future_label_cb, c);
}

/*
 * With several nodes ids come in each node's blocks, so a member that
 * joined later may have a smaller id: they are ordered by when they
 * joined, which a cursor's positions rely on.  With one, ids are that.
 */
static int
future_member_cmp(const void *a, const void *b)
{
	const struct future_member	*x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
future_members_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct future_wait	*fw = c->state.future;

	if (status != STORE_OK) {
		rpc_task_missing(c, status, fw->ac.group);
		future_wait_free(future_wait_take(c));
		return;
	}
	future_members_ready(c, store_shared());
}

/* The members are read: in order (sort: by when they came), then begin. */
static void
future_members_ready(struct rpc_call *c, int sort)
{
	struct future_wait	*fw = c->state.future;
	struct fp_invalid	 inv;
	int64_t			*ids;
	size_t			 i;

	if (fw->n_members > FP_WAIT_MAX)
		fp_invalid_set(&inv, fw->ac.label != NULL ? "label" : "group",
		    "more than %d tasks", FP_WAIT_MAX);
	else {
		if (sort)
			qsort(fw->members, fw->n_members, sizeof *fw->members,
			    future_member_cmp);
		ids = xcalloc(fw->n_members + 1, sizeof *ids);
		for (i = 0; i < fw->n_members; i++)
			ids[i] = fw->members[i].id;
		if (fp_as_completed_members(&fw->ac, ids, fw->n_members,
		    &inv) == 0) {
			future_wait_take(c);
			future_begin(c, fw);
			return;
		}
	}
	rpc_invalid(c, &inv);
	future_wait_free(future_wait_take(c));
}

static void
future_group_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct future_wait	*fw = c->state.future;

	if (status != STORE_OK) {
		rpc_task_missing(c, status, fw->ac.group);
		future_wait_free(future_wait_take(c));
		return;
	}
	fw->group_state = r->t.state;
	store_task_children(fw->ac.group, future_member_cb, future_members_cb,
	    c);
}

void
rpc_future_as_completed(struct rpc_call *c)
{
	struct future_wait	*fw = xcalloc(1, sizeof *fw);
	struct fp_invalid	 inv;

	if (fp_as_completed_parse(c->params, cfg.max_wait, &fw->ac,
	    &inv) == -1) {
		free(fw);
		rpc_invalid(c, &inv);
		return;
	}
	fw->answer = future_as_completed_answer;
	if (fw->ac.label != NULL) {	/* the tasks so labelled first */
		fw->list.label = fw->ac.label;
		fw->list.limit = FP_LIST_MAX;
		c->state.future = fw;
		future_label_page(c);
		return;
	}
	if (fw->ac.group == 0) {
		future_begin(c, fw);
		return;
	}
	c->state.future = fw;	/* its members first */
	store_task_get(fw->ac.group, future_group_cb, c);
}
