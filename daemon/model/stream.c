/*
 * stream.c: async generators.  Each line an exec task writes to fd 3 is a
 * JSON value, stored as the next item of the task's stream; followers
 * (task.stream) are told after the commit.  A stream is bounded in items
 * and bytes: past that it is flagged as overflowed and further items are
 * dropped, so a runaway generator cannot fill the disk.
 */
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

/* Wakes the followers once the turn's items have committed. */
static void
stream_notify_cb(void *arg, int status)
{
	struct task	*t = arg;

	task_out(t)->stream_notify = 0;
	watch_fire(t->id, WATCH_ITEMS, t->state);
	task_unref(t, __func__);
}

static void
stream_touch(struct task *t)
{
	struct task_out	*o = task_out(t);

	if (o->stream_notify)
		return;
	o->stream_notify = 1;
	task_ref(t, __func__);
	store_defer(stream_notify_cb, t);
}

void
stream_begin(struct task *t, int64_t next)
{
	struct task_out	*o = task_out(t);

	o->stream_bytes = 0;
	o->stream_next = next;
}

static int
stream_full(struct task *t, size_t len)
{
	struct task_out	*o = task_out(t);

	if (o->stream_overflow)
		return 1;
	if (o->stream_next < STREAM_MAX_ITEMS &&
	    o->stream_bytes + len <= STREAM_MAX_BYTES)
		return 0;
	log_warnx("task %lld: stream overflowed (%lld items, %zu bytes); "
	    "dropping further items", (long long)t->id,
	    (long long)o->stream_next, o->stream_bytes);
	o->stream_overflow = 1;
	store_stream_overflow(t->id);
	stream_touch(t);
	return 1;
}

static void
stream_add(struct task *t, json_t *value, json_t *error, size_t len)
{
	struct task_out	*o = task_out(t);

	if (stream_full(t, len)) {
		json_decref(value);
		json_decref(error);
		return;
	}
	o->stream_bytes += len;
	store_stream_add(t->id, o->stream_next++, value, error);
	json_decref(value);
	json_decref(error);
	stream_touch(t);
}

void
stream_line(struct task *t, const char *line, size_t len)
{
	json_t	*v, *error;

	v = fp_yield_value(line, len, &error);
	if (v == NULL && error == NULL)
		fatalx("out of memory");
	stream_add(t, v, error, len);
}

void
stream_line_too_long(struct task *t)
{
	stream_add(t, NULL, xjson(fp_exception_create("YieldDecodeError",
	    "line longer than %d bytes dropped", FP_YIELD_MAX_LINE)), 0);
}
