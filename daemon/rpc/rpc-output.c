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

#define OUTPUT_STDOUT	1
#define OUTPUT_STDERR	2
#define OUTPUT_BOTH	3

static const char *const output_names[2] = { "stdout", "stderr" };

/* Bytes base.. of one stream's output, as far as they are known. */
struct output_src {
	const char	*buf;
	int64_t		 base;
	size_t		 len;
};

struct output_wait {
	int64_t		 id;
	int		 which;		/* OUTPUT_STDOUT, _STDERR or _BOTH */
	int64_t		 offset[2];	/* stdout's, stderr's */
	int64_t		 limit;
	double		 timeout;
	json_t		*stored;	/* finished task's outcome */
	char		*shared;	/* stdout's shared bytes, stderr's read */
	size_t		 shared_len;
};

static void	output_answer(struct rpc_call *, int);

static void
output_wait_free(struct output_wait *ow)
{
	json_decref(ow->stored);
	free(ow->shared);
	free(ow);
}

static int
output_asks(const struct output_wait *ow, int w)
{
	return (ow->which & (1 << w)) != 0;
}

/* A finished task's stream w from its stored outcome. */
static void
output_stored(const struct kind *k, json_t *outcome, int w,
    struct output_src *src)
{
	json_t	*s = k != NULL && k->stored_output != NULL ?
	    k->stored_output(outcome, w + 1) : NULL;

	src->base = 0;
	src->buf = json_is_string(s) ? json_string_value(s) : "";
	src->len = json_is_string(s) ? json_string_length(s) : 0;
}

/*
 * The kept bytes and whether more can come, from the running attempt or
 * a finished task in memory; 1 when the store must be asked (finished).
 */
static int
output_live(struct output_wait *ow, struct output_src src[2], int *final)
{
	struct task	*t = task_find(ow->id);
	int		 w, running = 0;

	*final = 1;
	if (t == NULL)
		return 1;
	for (w = 0; w < 2; w++) {
		src[w].base = 0;
		if (task_output(t, w + 1, &src[w].buf, &src[w].len) == 0)
			running = 1;
		else
			src[w] = (struct output_src){ "", 0, 0 };
	}
	/* a task waiting for its children has its attempt's output whole */
	if (running || (!fp_state_done(t->state) && !t->waiting)) {
		*final = 0;
		return 0;
	}
	for (w = 0; w < 2; w++)
		output_stored(t->kind, t->result != NULL ? t->result :
		    t->exception, w, &src[w]);
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
 * The bytes of the character at buf (at most len), or 0 while a running
 * task has written only part of it.
 */
static size_t
output_char_len(const char *buf, size_t len, int final)
{
	unsigned char	lead = (unsigned char)buf[0];
	size_t		want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 :
			    lead >= 0xc0 ? 2 : 1;

	if (want > len)
		return final ? len : 0;
	return want;
}

/* The page of src from offset on: {data, next}; *n its length in bytes. */
static json_t *
output_page(const struct output_wait *ow, const struct output_src *src,
    int64_t offset, int final, size_t *n, int *left)
{
	size_t	at = offset > src->base ? (size_t)(offset - src->base) : 0;

	*n = 0;
	if (at < src->len) {
		*n = src->len - at;
		if (*n > (size_t)ow->limit)
			*n = (size_t)ow->limit;
		if (!final || at + *n < src->len)
			*n = output_utf8_end(src->buf + at, *n);
		if (*n == 0)	/* a limit below one character: that one */
			*n = output_char_len(src->buf + at, src->len - at,
			    final);
	}
	*left = at + *n < src->len;
	return json_pack("{s:o,s:I}", "data", xjson(fp_string_from_bytes(
	    src->buf + (*n > 0 ? at : 0), *n)),
	    "next", (json_int_t)(offset + (int64_t)*n));
}

/*
 * Answers with the bytes from the asked offsets on (or parks the call
 * when nothing is new): {data, next, eof} for one stream, {stdout,
 * stderr, eof} for both.
 */
static void
output_reply(struct rpc_call *c, const struct output_src src[2], int final)
{
	struct output_wait	*ow = c->state.output;
	json_t			*page[2] = { NULL, NULL }, *res;
	size_t			 n, got = 0;
	int			 w, left, any_left = 0;

	for (w = 0; w < 2; w++) {
		if (!output_asks(ow, w))
			continue;
		page[w] = output_page(ow, &src[w], ow->offset[w], final, &n,
		    &left);
		got += n;
		any_left |= left;
	}
	if (got == 0 && !final && ow->timeout > 0) {
		json_decref(page[0]);
		json_decref(page[1]);
		rpc_park(c, ow->id, WATCH_OUTPUT, ow->timeout, output_answer);
		return;
	}
	c->state.output = NULL;
	if (ow->which == OUTPUT_BOTH)
		res = json_pack("{s:o,s:o}", output_names[0], page[0],
		    output_names[1], page[1]);
	else
		res = page[ow->which - 1];
	json_object_set_new(res, "eof", json_boolean(final && !any_left));
	rpc_reply(c, res);
	output_wait_free(ow);
}

static void	output_shared_read(struct rpc_call *, int);

/* What the node running it shared of a task's output so far. */
static void
output_shared_cb(void *arg, int status, int state, const char *data,
    size_t len)
{
	struct rpc_call		*c = arg;
	struct output_wait	*ow = c->state.output;
	struct output_src	 src[2] = { { "", 0, 0 }, { "", 0, 0 } };

	if (status != STORE_OK) {
		c->state.output = NULL;
		rpc_task_missing(c, status, ow->id);
		output_wait_free(ow);
		return;
	}
	if (fp_state_done((enum fp_state)state)) {
		output_answer(c, 0);	/* it ended meanwhile: its outcome */
		return;
	}
	if (ow->which == OUTPUT_BOTH && ow->shared == NULL) {
		ow->shared = xmalloc(len + 1);	/* kept while stderr's is read */
		memcpy(ow->shared, data, len);
		ow->shared_len = len;
		output_shared_read(c, 1);
		return;
	}
	if (ow->which == OUTPUT_BOTH) {
		src[0].buf = ow->shared;
		src[0].len = ow->shared_len;
		src[0].base = ow->offset[0];
	}
	src[ow->which == OUTPUT_STDOUT ? 0 : 1] = (struct output_src){ data,
	    ow->offset[ow->which == OUTPUT_STDOUT ? 0 : 1], len };
	output_reply(c, src, 0);
}

/* Reads stream w of what the node running the task shared. */
static void
output_shared_read(struct rpc_call *c, int w)
{
	struct output_wait	*ow = c->state.output;

	store_output_read(ow->id, w + 1, ow->offset[w], output_shared_cb, c);
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
	struct output_src	 src[2] = { { "", 0, 0 }, { "", 0, 0 } };
	int			 w;

	if (status != STORE_OK) {
		c->state.output = NULL;
		rpc_task_missing(c, status, ow->id);
		output_wait_free(ow);
		return;
	}
	if (!fp_state_done(r->t.state)) {
		free(ow->shared);
		ow->shared = NULL;
		if (store_shared())
			output_shared_read(c, ow->which == OUTPUT_STDERR);
		else
			output_reply(c, src, 0);
		return;
	}
	json_decref(ow->stored);
	ow->stored = store_value_json(r->t.result.text != NULL ||
	    r->t.result.json != NULL ? &r->t.result : &r->t.exception);
	for (w = 0; w < 2; w++)
		output_stored(kind_find(r->t.kind), ow->stored, w, &src[w]);
	output_reply(c, src, 1);
}

static void
output_answer(struct rpc_call *c, int timed_out)
{
	struct output_wait	*ow = c->state.output;
	struct output_src	 src[2];
	int			 final;

	if (timed_out)
		ow->timeout = 0;
	if (output_live(ow, src, &final) == 0)
		output_reply(c, src, final);
	else
		store_task_get(ow->id, output_row_cb, c);
}

/* An offset param: 0 or more bytes, 0 when absent. */
static int
output_offset(json_t *v, const char *name, int64_t *offset,
    struct fp_invalid *inv)
{
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return fp_invalid_set(inv, name, "must be 0 or more bytes");
	*offset = v != NULL ? json_integer_value(v) : 0;
	return 0;
}

static int
output_parse_offsets(struct rpc_call *c, struct output_wait *ow,
    struct fp_invalid *inv)
{
	json_t		*offsets = json_object_get(c->params, "offsets");
	const char	*key;
	json_t		*v;

	if (ow->which != OUTPUT_BOTH) {
		if (offsets != NULL)
			return fp_invalid_set(inv, "offsets",
			    "only with stream \"both\" (else offset)");
		return output_offset(json_object_get(c->params, "offset"),
		    "offset", &ow->offset[ow->which - 1], inv);
	}
	if (json_object_get(c->params, "offset") != NULL)
		return fp_invalid_set(inv, "offset", "with stream \"both\", "
		    "offsets: {stdout, stderr}");
	if (offsets != NULL && !json_is_object(offsets))
		return fp_invalid_set(inv, "offsets",
		    "must be an object {stdout, stderr} of byte offsets");
	json_object_foreach(offsets, key, v)
		if (strcmp(key, "stdout") != 0 && strcmp(key, "stderr") != 0)
			return fp_invalid_set(inv, "offsets",
			    "unknown stream \"%s\" (stdout or stderr)", key);
	if (output_offset(json_object_get(offsets, "stdout"), "offsets.stdout",
	    &ow->offset[0], inv) == -1)
		return -1;
	return output_offset(json_object_get(offsets, "stderr"),
	    "offsets.stderr", &ow->offset[1], inv);
}

static int
output_parse(struct rpc_call *c, struct output_wait *ow,
    struct fp_invalid *inv)
{
	static const char *const extra[] = { "stream", "offset", "offsets",
	    "limit", "timeout", NULL };
	json_t		*v;
	const char	*s;

	if (fp_params_id(c->params, extra, &ow->id, inv) == -1 ||
	    rpc_poll_timeout(c, &ow->timeout, inv) == -1)
		return -1;
	s = json_string_value(json_object_get(c->params, "stream"));
	if (json_object_get(c->params, "stream") != NULL && (s == NULL ||
	    (strcmp(s, "stdout") != 0 && strcmp(s, "stderr") != 0 &&
	    strcmp(s, "both") != 0)))
		return fp_invalid_set(inv, "stream",
		    "must be stdout, stderr or both");
	ow->which = s == NULL || strcmp(s, "stdout") == 0 ? OUTPUT_STDOUT :
	    strcmp(s, "stderr") == 0 ? OUTPUT_STDERR : OUTPUT_BOTH;
	if (output_parse_offsets(c, ow, inv) == -1)
		return -1;
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
		output_wait_free(ow);
		rpc_invalid(c, &inv);
		return;
	}
	c->state.output = ow;
	output_answer(c, 0);
}
