/* rpc-task.c: task.submit, task.get, task.cancel, task.list. */
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "store.h"

/* Does a task exist (unfinished in memory, or in the store)? */
static int
rpc_task_exists(int64_t id)
{
	enum fp_state	st;

	return task_find(id) != NULL || store_task_state(id, &st) == 0;
}

/* Answers with the stored task id, or NoSuchTask. */
static void
rpc_reply_stored(struct rpc_call *c, int64_t id)
{
	struct fp_text	*o = rpc_result_begin(c);

	if (store_task_write(id, o) == 0) {
		rpc_result_end(c);
		return;
	}
	fp_text_clear(o);
	rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I}", "id",
	    (json_int_t)id));
}

/* ensure_future: the same key returns the task it already names. */
static int
rpc_task_keyed(struct rpc_call *c, struct fp_submit *s)
{
	json_t	*spec = NULL;
	int64_t	 id;

	if (s->key == NULL || store_task_by_key(s->key, &id, &spec) == -1)
		return 0;
	if (spec != NULL && json_equal(spec, s->spec))
		rpc_reply_stored(c, id);
	else
		rpc_error(c, FP_ERR_KEY_CONFLICT, json_pack("{s:s,s:I}", "key",
		    s->key, "id", (json_int_t)id));
	json_decref(spec);
	return 1;
}

static struct task *
rpc_task_from_submit(struct fp_submit *s)
{
	struct task	*t = task_create();
	double		 now = loop_now();
	size_t		 i;

	task_kind_parse(s->kind, &t->kind);	/* proto checked it */
	t->state = FP_PENDING;
	t->queue = sched_queue(s->queue);
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
	return t;
}

enum rpc_ret
rpc_task_submit(struct rpc_call *c)
{
	struct fp_submit	 s;
	struct fp_invalid	 inv;
	struct task		*t;
	size_t			 i;

	if (fp_submit_parse(c->params, &s, &inv) == -1) {
		rpc_invalid(c, &inv);
		return RPC_DONE;
	}
	if (rpc_task_keyed(c, &s) || rpc_queue_limit(c, s.queue))
		goto done;
	for (i = 0; i < s.n_after; i++) {
		if (!rpc_task_exists(s.after[i])) {
			rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I,s:s}",
			    "id", (json_int_t)s.after[i], "field", "after"));
			goto done;
		}
	}
	t = rpc_task_from_submit(&s);
	if (store_task_insert(t) == -1) {
		task_unref(t, __func__);
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot record the task"));
		goto done;
	}
	task_table_add_new(t);
	log_debug("%s: task %lld (%s) in queue %s", __func__, (long long)t->id,
	    s.kind, s.queue);
	sched_submit(t);
	task_write(t, rpc_result_begin(c));
	rpc_result_end(c);
done:
	fp_submit_clear(&s);
	return RPC_DONE;
}

enum rpc_ret
rpc_task_get(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	int64_t			 id;

	if (fp_params_id(c->params, NULL, &id, &inv) == -1)
		rpc_invalid(c, &inv);
	else
		rpc_reply_stored(c, id);
	return RPC_DONE;
}

enum rpc_ret
rpc_task_cancel(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	struct task		*t;
	int64_t			 id;

	if (fp_params_id(c->params, NULL, &id, &inv) == -1) {
		rpc_invalid(c, &inv);
		return RPC_DONE;
	}
	if ((t = task_find(id)) != NULL)
		rpc_reply(c, json_pack("{s:b}", "cancelled", task_cancel(t)));
	else if (rpc_task_exists(id))
		rpc_reply(c, json_pack("{s:b}", "cancelled", 0));
	else
		rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I}", "id",
		    (json_int_t)id));
	return RPC_DONE;
}

enum rpc_ret
rpc_task_list(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	struct fp_list		 l;
	struct fp_text		*o;

	if (fp_list_parse(c->params, &l, &inv) == -1) {
		rpc_invalid(c, &inv);
		return RPC_DONE;
	}
	o = rpc_result_begin(c);
	if (store_task_list(&l, o) == 0)
		rpc_result_end(c);
	else {
		fp_text_clear(o);	/* half a page is no answer */
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot read the task list"));
	}
	return RPC_DONE;
}
