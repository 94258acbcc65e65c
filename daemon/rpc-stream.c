/*
 * rpc-stream.c: task.stream, the network side of `async for`.  Answers
 * the items from `from` on; when there are none yet and the task is still
 * running, long-polls until it yields, ends, or the deadline comes.
 */
#include <stdlib.h>

#include "futured.h"
#include "store.h"

#define STREAM_PAGE	1000

struct stream_wait {
	int64_t		 id;
	int64_t		 from;
	double		 timeout;
	struct watch	*items;
	struct watch	*done;
};

static void
stream_wait_free(struct stream_wait *sw)
{
	watch_remove(sw->items);
	watch_remove(sw->done);
	free(sw);
}

/* Finished tasks live only in the store. */
static int
stream_task_done(int64_t id, int *exists)
{
	struct task	*t = task_find(id);
	enum fp_state	 st;

	*exists = 1;
	if (t != NULL)
		return fp_state_done(t->state);
	if (store_task_state(id, &st) == -1) {
		*exists = 0;
		return 1;
	}
	return fp_state_done(st);
}

static void	stream_answer(struct rpc_call *);

/* The items watch fired (and is consumed): drop the other, answer. */
static void
stream_items_cb(int64_t id, enum fp_state st, void *arg)
{
	struct rpc_call		*c = arg;
	struct stream_wait	*sw = c->state;

	sw->items = NULL;
	watch_remove(sw->done);
	sw->done = NULL;
	stream_answer(c);
}

static void
stream_done_cb(int64_t id, enum fp_state st, void *arg)
{
	struct rpc_call		*c = arg;
	struct stream_wait	*sw = c->state;

	sw->done = NULL;
	watch_remove(sw->items);
	sw->items = NULL;
	stream_answer(c);
}

static void
stream_deadline(struct rpc_call *c)
{
	struct stream_wait	*sw = c->state;

	sw->timeout = 0;
	stream_answer(c);
}

static void
stream_answer(struct rpc_call *c)
{
	struct stream_wait	*sw = c->state;
	json_t			*items;
	int			 done, exists;
	int64_t			 next;

	done = stream_task_done(sw->id, &exists);
	items = store_stream_read(sw->id, sw->from, STREAM_PAGE);
	if (json_array_size(items) == 0 && !done && sw->timeout > 0) {
		json_decref(items);
		sw->items = watch_add(sw->id, WATCH_ITEMS, stream_items_cb, c);
		sw->done = watch_add(sw->id, WATCH_DONE, stream_done_cb, c);
		if (c->wait == NULL)
			rpc_wait(c, sw->timeout, stream_deadline);
		return;
	}
	next = sw->from + (int64_t)json_array_size(items);
	c->state = NULL;
	rpc_reply(c, json_pack("{s:o,s:I,s:b,s:b}", "items", items, "next",
	    (json_int_t)next, "done", done && json_array_size(items) <
	    STREAM_PAGE, "overflow", store_stream_overflow(sw->id, 0)));
	stream_wait_free(sw);
}

enum rpc_ret
rpc_stream_read(struct rpc_call *c)
{
	static const char *const extra[] = { "from", "timeout", NULL };
	struct fp_invalid	 inv;
	struct stream_wait	*sw = xcalloc(1, sizeof *sw);
	json_t			*from = json_object_get(c->params, "from");
	int			 exists;

	if (fp_params_id(c->params, extra, &sw->id, &inv) == -1 ||
	    fp_timeout_parse(c->params, "timeout", 0, cfg.max_wait,
	    &sw->timeout, &inv) == -1 || (from != NULL && (!json_is_integer(from) ||
	    json_integer_value(from) < 0) && fp_invalid_set(&inv, "from",
	    "must be a sequence number (0 or more)") == -1)) {
		free(sw);
		rpc_invalid(c, &inv);
		return RPC_DONE;
	}
	sw->from = from != NULL ? json_integer_value(from) : 0;
	stream_task_done(sw->id, &exists);
	if (!exists) {
		rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I}", "id",
		    (json_int_t)sw->id));
		free(sw);
		return RPC_DONE;
	}
	if (rpc_is_notification(c))
		sw->timeout = 0;
	c->state = sw;
	stream_answer(c);
	return RPC_DONE;
}
