/*
 * rpc-output.c: task.output, a task's stdout or stderr while it runs and
 * after.  Offsets are bytes of the kept output (at most max_output per
 * stream); a read that would end inside a UTF-8 sequence stops before it.
 * With a timeout and nothing new, waits for output or the task's end.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

#define OUTPUT_PAGE	65536
#define OUTPUT_PAGE_MAX	(1024 * 1024)

struct output_wait {
	int64_t		 id;
	int		 which;		/* 1 stdout, 2 stderr */
	int64_t		 offset;
	int64_t		 limit;
	double		 timeout;
	json_t		*stored;	/* finished task's outcome */
};

static void	output_answer(struct rpc_call *, int);

static void
output_wait_free(struct output_wait *ow)
{
	json_decref(ow->stored);
	free(ow);
}

/*
 * The kept bytes and whether more can come, from the running attempt or
 * a finished task in memory; 1 when the store must be asked (finished).
 */
static int
output_live(struct output_wait *ow, const char **buf, size_t *len, int *final)
{
	struct task	*t = task_find(ow->id);
	json_t		*s;

	*buf = "";
	*len = 0;
	*final = 1;
	if (t == NULL)
		return 1;
	if (task_output(t, ow->which, buf, len) == 0 ||
	    !fp_state_done(t->state)) {
		*final = 0;
		return 0;
	}
	s = t->kind->stored_output != NULL ? t->kind->stored_output(
	    t->result != NULL ? t->result : t->exception, ow->which) : NULL;
	*buf = json_is_string(s) ? json_string_value(s) : "";
	*len = json_is_string(s) ? json_string_length(s) : 0;
	return 0;
}

/* Backs n off so buf[0..n) does not end inside a UTF-8 sequence. */
static size_t
output_utf8_end(const char *buf, size_t n)
{
	size_t	i = n, back = 0;

	while (i > 0 && back < 4 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0 || ((unsigned char)buf[i - 1] & 0x80) == 0)
		return n;
	/* buf[i-1] leads a sequence: is it complete within n? */
	unsigned char	lead = (unsigned char)buf[i - 1];
	size_t		want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

	return back + 1 >= want ? n : i - 1;
}

/*
 * Answers with the bytes from the asked offset on, buf[0..len) being bytes
 * base.. of the output (or parks the call when nothing is new).
 */
static void
output_reply(struct rpc_call *c, const char *buf, int64_t base, size_t len,
    int final)
{
	struct output_wait	*ow = c->state.output;
	size_t			 at = (size_t)(ow->offset - base), n = 0;

	if (at < len) {
		n = len - at;
		if (n > (size_t)ow->limit)
			n = (size_t)ow->limit;
		if (!final || at + n < len)
			n = output_utf8_end(buf + at, n);
	}
	if (n == 0 && !final && ow->timeout > 0) {
		rpc_park(c, ow->id, WATCH_OUTPUT, ow->timeout, output_answer);
		return;
	}
	c->state.output = NULL;
	rpc_reply(c, json_pack("{s:o,s:I,s:b}", "data", xjson(
	    fp_string_from_bytes(buf + (n > 0 ? at : 0), n)),
	    "next", (json_int_t)(ow->offset + (int64_t)n),
	    "eof", final && at + n >= len));
	output_wait_free(ow);
}

/* What the node running it shared of a task's output so far. */
static void
output_shared_cb(void *arg, int status, int state, const char *data,
    size_t len)
{
	struct rpc_call		*c = arg;
	struct output_wait	*ow = c->state.output;

	if (status != STORE_OK) {
		c->state.output = NULL;
		rpc_task_missing(c, status, ow->id);
		output_wait_free(ow);
	} else if (fp_state_done((enum fp_state)state))
		output_answer(c, 0);	/* it ended meanwhile: its outcome */
	else
		output_reply(c, data, ow->offset, len, 0);
}

/*
 * A task not in memory: finished, its output is in its stored result or
 * exception; running on another node (several nodes), its output is what
 * that node shared (store_output_add).
 */
static void
output_row_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call		*c = arg;
	struct output_wait	*ow = c->state.output;
	const struct kind	*k;
	json_t			*s = NULL;

	if (status != STORE_OK) {
		c->state.output = NULL;
		rpc_task_missing(c, status, ow->id);
		output_wait_free(ow);
		return;
	}
	if (!fp_state_done(r->t.state)) {
		if (store_shared())
			store_output_read(ow->id, ow->which, ow->offset,
			    output_shared_cb, c);
		else
			output_reply(c, "", ow->offset, 0, 0);
		return;
	}
	json_decref(ow->stored);
	ow->stored = store_value_json(r->t.result.text != NULL ||
	    r->t.result.json != NULL ? &r->t.result : &r->t.exception);
	if ((k = kind_find(r->t.kind)) != NULL && k->stored_output != NULL)
		s = k->stored_output(ow->stored, ow->which);
	output_reply(c, json_is_string(s) ? json_string_value(s) : "", 0,
	    json_is_string(s) ? json_string_length(s) : 0, 1);
}

static void
output_answer(struct rpc_call *c, int timed_out)
{
	struct output_wait	*ow = c->state.output;
	const char		*buf;
	size_t			 len;
	int			 final;

	if (timed_out)
		ow->timeout = 0;
	if (output_live(ow, &buf, &len, &final) == 0)
		output_reply(c, buf, 0, len, final);
	else
		store_task_get(ow->id, output_row_cb, c);
}

static int
output_parse(struct rpc_call *c, struct output_wait *ow,
    struct fp_invalid *inv)
{
	static const char *const extra[] = { "stream", "offset", "limit",
	    "timeout", NULL };
	json_t		*v;
	const char	*s;

	if (fp_params_id(c->params, extra, &ow->id, inv) == -1 ||
	    rpc_poll_timeout(c, &ow->timeout, inv) == -1)
		return -1;
	s = json_string_value(json_object_get(c->params, "stream"));
	if (json_object_get(c->params, "stream") != NULL && (s == NULL ||
	    (strcmp(s, "stdout") != 0 && strcmp(s, "stderr") != 0)))
		return fp_invalid_set(inv, "stream", "must be stdout or stderr");
	ow->which = s != NULL && strcmp(s, "stderr") == 0 ? 2 : 1;
	v = json_object_get(c->params, "offset");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return fp_invalid_set(inv, "offset", "must be 0 or more bytes");
	ow->offset = v != NULL ? json_integer_value(v) : 0;
	v = json_object_get(c->params, "limit");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > OUTPUT_PAGE_MAX))
		return fp_invalid_set(inv, "limit",
		    "must be an integer from 1 to %d", OUTPUT_PAGE_MAX);
	ow->limit = v != NULL ? json_integer_value(v) : OUTPUT_PAGE;
	return 0;
}

void
rpc_output_read(struct rpc_call *c)
{
	struct output_wait	*ow = xcalloc(1, sizeof *ow);
	struct fp_invalid	 inv;

	if (output_parse(c, ow, &inv) == -1) {
		free(ow);
		rpc_invalid(c, &inv);
		return;
	}
	c->state.output = ow;
	output_answer(c, 0);
}
