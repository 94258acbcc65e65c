/*
 * rpc-stream.c: task.stream, the network side of `async for`.  Answers
 * the items from `from` on; when there are none yet and the task is still
 * running, long-polls until it yields, ends, or the deadline comes.
 */
#include <stdlib.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

#define STREAM_PAGE	1000

struct stream_wait {
	int64_t		 id;
	int64_t		 from;
	double		 timeout;
	int		 state;		/* the task's, read before the items */
};

static void	stream_answer(struct rpc_call *, int);

/* The items, read after the state (so "done" covers every item). */
static void
stream_items_cb(void *arg, int status, json_t *items, int overflow)
{
	struct rpc_call		*c = arg;
	struct stream_wait	*sw = c->state.stream;
	int			 done = fp_state_done(sw->state);
	size_t			 n = json_array_size(items);

	if (status != STORE_OK) {
		c->state.stream = NULL;
		rpc_task_missing(c, STORE_FAILED, sw->id);
		free(sw);
		return;
	}
	if (n == 0 && !done && sw->timeout > 0) {
		rpc_park(c, sw->id, WATCH_ITEMS, sw->timeout, stream_answer);
		return;
	}
	c->state.stream = NULL;
	rpc_reply(c, json_pack("{s:O,s:I,s:b,s:b}", "items", items, "next",
	    (json_int_t)(sw->from + (int64_t)n), "done", done && n < STREAM_PAGE,
	    "overflow", overflow));
	free(sw);
}

static void
stream_state_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct stream_wait	*sw = c->state.stream;

	if (status != STORE_OK || sw->state < 0) {
		c->state.stream = NULL;
		rpc_task_missing(c, status, sw->id);
		free(sw);
		return;
	}
	store_stream_read(sw->id, sw->from, STREAM_PAGE, stream_items_cb, c);
}

static void
stream_answer(struct rpc_call *c, int timed_out)
{
	struct stream_wait	*sw = c->state.stream;

	if (timed_out)
		sw->timeout = 0;
	task_states(&sw->id, 1, &sw->state, stream_state_cb, c);
}

void
rpc_stream_read(struct rpc_call *c)
{
	static const char *const extra[] = { "from", "timeout", NULL };
	struct fp_invalid	 inv;
	struct stream_wait	*sw;
	json_t			*from = json_object_get(c->params, "from");
	int64_t			 id;
	double			 timeout;

	if (fp_params_id(c->params, extra, &id, &inv) == -1 ||
	    rpc_poll_timeout(c, &timeout, &inv) == -1 ||
	    (from != NULL && (!json_is_integer(from) ||
	    json_integer_value(from) < 0) && fp_invalid_set(&inv, "from",
	    "must be a sequence number (0 or more)") == -1)) {
		rpc_invalid(c, &inv);
		return;
	}
	sw = xcalloc(1, sizeof *sw);
	sw->id = id;
	sw->timeout = timeout;
	sw->from = from != NULL ? json_integer_value(from) : 0;
	c->state.stream = sw;
	stream_answer(c, 0);
}
