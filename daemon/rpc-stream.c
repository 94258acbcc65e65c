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
};

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

static void
stream_answer(struct rpc_call *c, int timed_out)
{
	struct stream_wait	*sw = c->state;
	json_t			*items;
	int			 done, exists;
	int64_t			 next;

	if (timed_out)
		sw->timeout = 0;
	done = stream_task_done(sw->id, &exists);
	items = store_stream_read(sw->id, sw->from, STREAM_PAGE);
	if (json_array_size(items) == 0 && !done && sw->timeout > 0) {
		json_decref(items);
		rpc_park(c, sw->id, WATCH_ITEMS, sw->timeout, stream_answer);
		return;
	}
	next = sw->from + (int64_t)json_array_size(items);
	c->state = NULL;
	rpc_reply(c, json_pack("{s:o,s:I,s:b,s:b}", "items", items, "next",
	    (json_int_t)next, "done", done && json_array_size(items) <
	    STREAM_PAGE, "overflow", store_stream_overflow(sw->id, 0)));
	free(sw);
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
	stream_answer(c, 0);
	return RPC_DONE;
}
