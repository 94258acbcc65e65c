/* rpc-task.c: task.submit, task.get, task.list. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

/* What task.submit holds while the store answers. */
struct rpc_submit {
	struct fp_submit	 s;
	int			*states;	/* of s.after */
	int			 holds_key;	/* rpc_keys: others wait */
	json_t			*params;	/* made here (task.retry): s's */
};

/*
 * Keys being submitted: a second submission of a key waits until the
 * first has created its task (or failed), then looks the key up again and
 * finds it.  With a store that answers later, both would otherwise find
 * no task and insert two, and the second insert would fail the turn.
 */
struct rpc_key {
	char		 *key;
	struct rpc_call	**waiting;
	size_t		  n, cap;
	struct rpc_key	 *next;		/* same hash */
};
static struct idmap	*rpc_keys;	/* hash -> struct rpc_key list */

static int64_t
rpc_key_hash(const char *key)
{
	uint64_t	h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (int64_t)(h >> 1);
}

static struct rpc_key *
rpc_key_find(const char *key)
{
	struct rpc_key	*k;

	if (rpc_keys == NULL)
		return NULL;
	for (k = idmap_get(rpc_keys, rpc_key_hash(key)); k != NULL; k = k->next)
		if (strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

/* c submits key: 1 when it may go on now, 0 when it waits its turn. */
static int
rpc_key_take(struct rpc_call *c, const char *key)
{
	struct rpc_key	*k = rpc_key_find(key);
	int64_t		 h = rpc_key_hash(key);

	if (k != NULL) {
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 4;
			k->waiting = xreallocarray(k->waiting, k->cap,
			    sizeof *k->waiting);
		}
		k->waiting[k->n++] = c;
		return 0;
	}
	if (rpc_keys == NULL)
		rpc_keys = idmap_create();
	k = xcalloc(1, sizeof *k);
	k->key = xstrdup(key);
	k->next = idmap_get(rpc_keys, h);
	idmap_put(rpc_keys, h, k);
	return 1;
}

static void	rpc_submit_begin(struct rpc_call *);

/* The submission holding key is done: the next in line looks again. */
static void
rpc_key_release(const char *key)
{
	struct rpc_key	*k = rpc_key_find(key), *head, *x;
	struct rpc_call	**waiting;
	size_t		  i, n;
	int64_t		  h = rpc_key_hash(key);

	if (k == NULL)
		return;
	head = idmap_remove(rpc_keys, h);
	if (head != k) {
		for (x = head; x->next != k; x = x->next)
			;
		x->next = k->next;
		idmap_put(rpc_keys, h, head);
	} else if (k->next != NULL)
		idmap_put(rpc_keys, h, k->next);
	waiting = k->waiting;
	n = k->n;
	free(k->key);
	free(k);
	for (i = 0; i < n; i++)
		rpc_submit_begin(waiting[i]);
	free(waiting);
}

void
rpc_task_free(void)
{
	if (rpc_keys != NULL)
		idmap_free(rpc_keys);	/* empty: every batch has ended */
	rpc_keys = NULL;
}

static void
rpc_submit_free(struct rpc_call *c)
{
	struct rpc_submit	*rs = c->state.submit;
	char			*key = NULL;

	c->state.submit = NULL;
	if (rs->holds_key)
		key = xstrdup(rs->s.key);
	fp_submit_clear(&rs->s);
	json_decref(rs->params);
	free(rs->states);
	free(rs);
	if (key != NULL) {
		rpc_key_release(key);
		free(key);
	}
}

static void
rpc_stored_cb(void *arg, int status)
{
	struct rpc_call	*c = arg;

	if (status == STORE_OK) {
		rpc_result_end(c);
		return;
	}
	fp_text_clear(&c->reply);
	rpc_task_missing(c, status, c->state.task_id);
}

/* Answers with the stored task id, or NoSuchTask. */
static void
rpc_reply_stored(struct rpc_call *c, int64_t id)
{
	c->state.task_id = id;
	store_task_write(id, rpc_result_begin(c), rpc_stored_cb, c);
}

static struct task *
rpc_task_from_submit(struct fp_submit *s)
{
	struct task	*t = task_create();
	double		 now = loop_now();
	size_t		 i;

	t->kind = kind_find(s->kind);	/* proto checked it */
	t->state = FP_PENDING;
	t->queue = sched_queue(s->queue);
	sched_queue_hold(t->queue);
	t->priority = s->priority;
	t->key = s->key != NULL ? xstrdup(s->key) : NULL;
	t->spec = json_incref(s->spec);
	t->labels = json_incref(s->labels);
	if (s->n_after > 0) {
		t->after = xjson(json_array());
		for (i = 0; i < s->n_after; i++)
			json_array_append_new(t->after,
			    json_integer(s->after[i]));
	}
	t->timeout = s->timeout;
	t->not_before = s->not_before > 0 ? s->not_before :
	    s->delay > 0 ? now + s->delay : 0;
	t->start_after = t->not_before;
	t->retry_backoff = s->retry_backoff;
	t->max_retries = s->retries;
	t->created_at = now;
	t->parent = s->parent;
	t->child_policy = s->child_policy;
	t->limits = json_incref(s->limits);
	return t;
}

/* Every check passed: the task is created. */
static void
rpc_submit_create(struct rpc_call *c)
{
	struct fp_submit	*s = &c->state.submit->s;
	struct task		*t;

	if (rpc_queue_limit(c, s->queue))
		return;
	if (s->limits != NULL && json_object_get(s->limits, "rate_limit") !=
	    NULL && rate_find(json_string_value(json_object_get(s->limits,
	    "rate_limit"))) == NULL) {
		struct fp_invalid	inv;

		fp_invalid_set(&inv, "rate_limit", "no rate limit %s (rate.set "
		    "makes one)", json_string_value(json_object_get(s->limits,
		    "rate_limit")));
		rpc_invalid(c, &inv);
		return;
	}
	t = rpc_task_from_submit(s);
	if (task_submit(t) == -1) {
		task_unref(t, __func__);
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot record the task"));
		return;
	}
	log_debug("%s: task %lld (%s) in queue %s", __func__, (long long)t->id,
	    s->kind, s->queue);
	task_write(t, rpc_result_begin(c));	/* the table holds t */
	rpc_result_end(c);
}

/* The dependencies must exist. */
static void
rpc_submit_after_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct rpc_submit	*rs = c->state.submit;
	size_t			 i;

	for (i = 0; i < rs->s.n_after; i++) {
		if (status != STORE_OK || rs->states[i] < 0) {
			if (status != STORE_OK)
				rpc_task_missing(c, status, rs->s.after[i]);
			else
				rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack(
				    "{s:I,s:s}", "id", (json_int_t)rs->s.after[i],
				    "field", "after"));
			rpc_submit_free(c);
			return;
		}
	}
	rpc_submit_create(c);
	rpc_submit_free(c);
}

static void
rpc_submit_after(struct rpc_call *c)
{
	struct rpc_submit	*rs = c->state.submit;

	if (rs->s.n_after == 0) {
		rpc_submit_create(c);
		rpc_submit_free(c);
		return;
	}
	rs->states = xcalloc(rs->s.n_after, sizeof *rs->states);
	task_states(rs->s.after, rs->s.n_after, rs->states,
	    rpc_submit_after_cb, c);
}

/* A parent that finished, or a closed group, takes no new child. */
static int
rpc_submit_parent_refused(struct rpc_call *c, int state, const char *kind,
    int closed)
{
	struct fp_invalid	inv;
	const struct kind	*k = kind_find(kind);
	int64_t			id = c->state.submit->s.parent;

	if (fp_state_done(state))
		fp_invalid_set(&inv, "parent", "task %lld has finished",
		    (long long)id);
	else if (closed && k != NULL && k->group)
		fp_invalid_set(&inv, "parent", "group %lld is closed",
		    (long long)id);
	else
		return 0;
	rpc_invalid(c, &inv);
	rpc_submit_free(c);
	return 1;
}

static void
rpc_submit_parent_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct rpc_submit	*rs = c->state.submit;
	enum fp_state		 outcome;
	json_t			*as;
	int			 failing, closed;

	if (status == STORE_NONE) {
		rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I,s:s}", "id",
		    (json_int_t)rs->s.parent, "field", "parent"));
		rpc_submit_free(c);
		return;
	}
	if (status != STORE_OK) {
		rpc_task_missing(c, status, rs->s.parent);
		rpc_submit_free(c);
		return;
	}
	as = store_value_json(&r->attempt_state);
	closed = tree_marked(as, &outcome, &failing);
	json_decref(as);
	if (!rpc_submit_parent_refused(c, r->t.state, r->t.kind, closed))
		rpc_submit_after(c);
}

/* The parent must exist, unfinished; then the dependencies. */
static void
rpc_submit_checks(struct rpc_call *c)
{
	struct rpc_submit	*rs = c->state.submit;
	struct task		*p;

	if (rs->s.parent == 0)
		rpc_submit_after(c);
	else if ((p = task_find(rs->s.parent)) != NULL) {
		if (!rpc_submit_parent_refused(c, p->state, p->kind->name,
		    p->waiting || p->group_failing))
			rpc_submit_after(c);
	} else
		store_task_get(rs->s.parent, rpc_submit_parent_cb, c);
}

/* ensure_future: the same key returns the task it already names. */
static void
rpc_submit_key_cb(void *arg, int status, int64_t id, json_t *spec)
{
	struct rpc_call		*c = arg;
	struct rpc_submit	*rs = c->state.submit;

	if (status == STORE_NONE) {
		rpc_submit_checks(c);
		return;
	}
	if (status == STORE_FAILED)
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot read the task's key"));
	else if (spec != NULL && json_equal(spec, rs->s.spec)) {
		rpc_submit_free(c);
		rpc_reply_stored(c, id);
		return;
	} else
		rpc_error(c, FP_ERR_KEY_CONFLICT, json_pack("{s:s,s:I}", "key",
		    rs->s.key, "id", (json_int_t)id));
	rpc_submit_free(c);
}

/*
 * task.retry's submission: params (stolen) made from the finished task,
 * checked as any submission's.
 */
void
rpc_task_resubmit(struct rpc_call *c, json_t *params)
{
	struct rpc_submit	*rs = xcalloc(1, sizeof *rs);
	struct fp_invalid	 inv;

	rs->params = params;
	if (fp_submit_parse(params, &rs->s, &inv) == -1) {
		json_decref(params);
		free(rs);
		rpc_invalid(c, &inv);
		return;
	}
	c->state.submit = rs;
	rpc_submit_begin(c);
}

void
rpc_task_submit(struct rpc_call *c)
{
	struct rpc_submit	*rs = xcalloc(1, sizeof *rs);
	struct fp_invalid	 inv;

	if (fp_submit_parse(c->params, &rs->s, &inv) == -1) {
		free(rs);
		rpc_invalid(c, &inv);
		return;
	}
	c->state.submit = rs;
	rpc_submit_begin(c);
}

/* A key is looked up first (once no other submission of it is on). */
static void
rpc_submit_begin(struct rpc_call *c)
{
	struct rpc_submit	*rs = c->state.submit;

	if (rs->s.key == NULL) {
		rpc_submit_checks(c);
		return;
	}
	if (!rpc_key_take(c, rs->s.key))
		return;
	rs->holds_key = 1;
	store_task_by_key(rs->s.key, rpc_submit_key_cb, c);
}

void
rpc_task_get(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	int64_t			 id;

	if (fp_params_id(c->params, NULL, &id, &inv) == -1)
		rpc_invalid(c, &inv);
	else
		rpc_reply_stored(c, id);
}

static void
rpc_list_cb(void *arg, int status)
{
	struct rpc_call	*c = arg;

	if (status == STORE_OK) {
		rpc_result_end(c);
		return;
	}
	fp_text_clear(&c->reply);	/* half a page is no answer */
	rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
	    "cannot read the task list"));
}

void
rpc_task_list(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	struct fp_list		 l;

	if (fp_list_parse(c->params, &l, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	store_task_list(&l, rpc_result_begin(c), rpc_list_cb, c);
}
