/*
 * fuzz-methods.c: each method's parameters checked as its handler in
 * daemon/rpc-*.c checks them, for fuzz_envelope.c (the method a request
 * names) and fuzz_params.c (every method at once).
 *
 * Only what proto/ validates is run: the handlers' own checks of stream,
 * offset, limit and from read the daemon's state and are not proto's.  A
 * call the validators accept answers with what they produced, written as
 * text the way the daemon writes answers: a submission becomes its task
 * object through fp_task_write, as task.c writes it.  What each validator
 * promises of what it accepted is checked too, so the fuzzer finds a
 * value let through as well as a crash.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-methods.h"

#define FUZZ_NOW	1700000000.25	/* the loop's clock, fixed */

void
fuzz_fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/*
 * fp_text_json writes what jansson writes, but reals in the fewest
 * digits that read back exactly (3.137239220368505e16 has one digit less
 * than jansson's 31372392203685048.0, and one character more): its text
 * reads back as the same value.
 */
void
fuzz_text_like_jansson(json_t *v)
{
	struct fp_text	 t = { 0 };
	json_error_t	 err;
	json_t		*back;
	char		*mine;
	size_t		 len;

	fp_text_json(&t, v);
	if ((mine = fp_text_take(&t, &len)) == NULL)
		fuzz_fail("fp_text_json failed on a parsed value");
	back = json_loadb(mine, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (back == NULL || !json_equal(back, v))
		fuzz_fail("fp_text_json wrote %s, which reads back as another "
		    "value (%s)", mine, back == NULL ? err.text : "differs");
	json_decref(back);
	free(mine);
}

int
fuzz_nul_mark(json_t *v)
{
	const char	*k;
	json_t		*e;
	size_t		 i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			if (strstr(k, "\xef\xbf\xbf") != NULL || fuzz_nul_mark(e))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (fuzz_nul_mark(e))
				return 1;
	}
	return 0;
}

/* A member of the task object text o must equal want (NULL: absent). */
static void
fuzz_task_member(json_t *task, const char *name, json_t *want)
{
	json_t	*got = json_object_get(task, name);

	if (want == NULL ? got != NULL : !json_equal(got, want))
		fuzz_fail("task.%s does not read back as it was given", name);
}

/* What fp_submit_parse promises of a submission it accepted. */
static void
fuzz_submit_sane(const struct fp_submit *s)
{
	const char	*kind = fp_cstr(json_object_get(s->spec, "kind"));
	size_t		 i, n;

	if (s->kind == NULL || kind == NULL || strcmp(kind, s->kind) != 0)
		fuzz_fail("submit: spec without its kind");
	if (!json_is_object(s->labels) || fp_labels_check(s->labels,
	    "labels", &(struct fp_invalid){ 0 }) == -1)
		fuzz_fail("submit: labels that fp_labels_check refuses");
	n = strlen(s->queue);
	if (n < 1 || n > 64 || strspn(s->queue, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		fuzz_fail("submit: queue name '%s'", s->queue);
	if (s->key != NULL && (strlen(s->key) < 1 || strlen(s->key) > 256))
		fuzz_fail("submit: key of %zu bytes", strlen(s->key));
	if (s->priority < -1000 || s->priority > 1000 || s->retries < 0 ||
	    s->retries > FP_MAX_RETRIES)
		fuzz_fail("submit: priority %d, retries %d", s->priority,
		    s->retries);
	if (!(s->timeout == -1 || (s->timeout > 0 &&
	    s->timeout <= FP_MAX_SECONDS)) || !(s->delay >= 0 &&
	    s->delay <= FP_MAX_SECONDS) || !(s->retry_backoff >= 0 &&
	    s->retry_backoff <= 86400) || isnan(s->not_before))
		fuzz_fail("submit: timeout %g, delay %g, backoff %g",
		    s->timeout, s->delay, s->retry_backoff);
	if (s->n_after > FP_MAX_AFTER || (s->n_after > 0 && s->after == NULL))
		fuzz_fail("submit: %zu after", s->n_after);
	for (i = 0; i < s->n_after; i++)
		if (s->after[i] < 1 || s->after[i] >= FP_ID_LIMIT)
			fuzz_fail("submit: after id %lld",
			    (long long)s->after[i]);
}

/*
 * The task a submission creates, written as task.c writes it; its state
 * (and so which members it has) follows from the params, so that every
 * part of fp_task_write is reached.  The text must read back as the same
 * spec, labels and key.
 */
static void
fuzz_task_write(const struct fp_submit *s, json_t *params, struct fp_text *o)
{
	struct fp_task	 t;
	struct fp_text	 own = { 0 };
	json_error_t	 err;
	json_t		*after = NULL, *exc, *back, *key;
	char		*text;
	size_t		 i, len;

	if (s->n_after > 0) {
		if ((after = json_array()) == NULL)
			fuzz_fail("out of memory");
		for (i = 0; i < s->n_after; i++)
			json_array_append_new(after, json_integer(s->after[i]));
	}
	exc = fp_exception_create("TaskFailed", "%s", s->key != NULL ?
	    s->key : s->kind);
	memset(&t, 0, sizeof t);
	t.id = s->n_after > 0 ? s->after[0] : 1;
	t.kind = s->kind;
	t.state = (enum fp_state)(json_object_size(params) % FP_STATE_COUNT);
	t.queue = s->queue;
	t.priority = s->priority;
	t.key = s->key;
	t.spec.json = s->spec;
	t.labels.json = s->labels;
	t.after.json = after;
	t.attempt = s->retries;
	t.max_retries = s->retries;
	t.created_at = FUZZ_NOW;
	t.started_at = t.state != FP_PENDING ? FUZZ_NOW + s->delay : 0;
	t.finished_at = fp_state_done(t.state) ? FUZZ_NOW + s->timeout : 0;
	t.result.json = json_object_get(params, "result");
	t.exception.json = exc;
	t.retrieved = s->priority & 1;
	t.not_before = s->not_before > 0 ? s->not_before :
	    s->delay > 0 ? FUZZ_NOW + s->delay : 0;
	t.timeout = s->timeout;
	t.parent = s->parent;
	t.child_policy = s->child_policy;
	if (s->parent < 0 || s->parent >= FP_ID_LIMIT || s->child_policy < 0 ||
	    s->child_policy >= FP_CHILD_POLICIES)
		fuzz_fail("submit: parent %lld, child_policy %d",
		    (long long)s->parent, s->child_policy);
	fp_task_write(&own, &t);
	if ((text = fp_text_take(&own, &len)) == NULL)
		fuzz_fail("fp_task_write failed");
	if ((back = json_loadb(text, len, JSON_ALLOW_NUL, &err)) == NULL)
		fuzz_fail("fp_task_write wrote invalid JSON (%s): %s",
		    err.text, text);
	fuzz_task_member(back, "spec", s->spec);
	fuzz_task_member(back, "labels", s->labels);
	key = s->key != NULL ? json_string(s->key) : json_null();
	fuzz_task_member(back, "key", key);
	fuzz_task_member(back, "after", after);
	if (s->parent > 0 && json_integer_value(json_object_get(back,
	    "parent")) != s->parent)
		fuzz_fail("submit: parent %lld not written back",
		    (long long)s->parent);
	json_decref(key);
	json_decref(back);
	fp_text_add(o, text, len);
	free(text);
	json_decref(after);
	json_decref(exc);
}

static int
fuzz_submit(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	struct fp_submit	s;

	if (fp_submit_parse(params, &s, inv) == -1) {
		if (s.spec != NULL || s.labels != NULL || s.after != NULL)
			fuzz_fail("submit: refused, but not cleared");
		return -1;
	}
	fuzz_submit_sane(&s);
	fuzz_text_like_jansson(s.spec);
	fuzz_text_like_jansson(s.labels);
	fuzz_task_write(&s, params, o);
	fp_submit_clear(&s);
	return 0;
}

static int
fuzz_id(json_t *params, const char *const *extra, struct fp_invalid *inv,
    struct fp_text *o)
{
	int64_t	id;
	double	timeout;

	if (fp_params_id(params, extra, &id, inv) == -1)
		return -1;
	if (id < 1 || id >= FP_ID_LIMIT)
		fuzz_fail("fp_params_id accepted %lld", (long long)id);
	/* every handler with extra keys takes a long-poll timeout */
	if (extra != NULL && fp_timeout_parse(params, "timeout", 0,
	    FUZZ_MAX_WAIT, &timeout, inv) == -1)
		return -1;
	if (extra != NULL && !(timeout >= 0 && timeout <= FUZZ_MAX_WAIT))
		fuzz_fail("fp_timeout_parse gave %g", timeout);
	fp_text_add(o, "{\"id\":", 6);
	fp_text_int(o, id);
	fp_text_add(o, "}", 1);
	return 0;
}

static int
fuzz_get(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	return fuzz_id(params, NULL, inv, o);
}

static int
fuzz_result(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	static const char *const extra[] = { "timeout", NULL };

	return fuzz_id(params, extra, inv, o);
}

static int
fuzz_stream(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	static const char *const extra[] = { "from", "timeout", NULL };

	return fuzz_id(params, extra, inv, o);
}

static int
fuzz_output(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	static const char *const extra[] = { "stream", "offset", "limit",
	    "timeout", NULL };

	return fuzz_id(params, extra, inv, o);
}

static int
fuzz_wait(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	struct fp_wait	w;
	size_t		i, j;

	if (fp_wait_parse(params, FUZZ_MAX_WAIT, &w, inv) == -1) {
		if (w.ids != NULL)
			fuzz_fail("wait: refused, but ids kept");
		return -1;
	}
	if (!(w.timeout >= 0 && w.timeout <= FUZZ_MAX_WAIT) ||
	    w.return_when < FP_RETURN_ALL || w.return_when > FP_RETURN_EXCEPTION)
		fuzz_fail("wait: timeout %g, return_when %d", w.timeout,
		    w.return_when);
	fp_text_cstr(o, "{\"done\":[],\"pending\":[");
	for (i = 0; i < w.n_ids; i++) {
		if (w.ids[i] < 1 || w.ids[i] >= FP_ID_LIMIT)
			fuzz_fail("wait: id %lld", (long long)w.ids[i]);
		for (j = 0; j < i && w.n_ids < 64; j++)
			if (w.ids[j] == w.ids[i])
				fuzz_fail("wait: id %lld twice",
				    (long long)w.ids[i]);
		if (i > 0)
			fp_text_add(o, ",", 1);
		fp_text_int(o, w.ids[i]);
	}
	fp_text_add(o, "]}", 2);
	fp_wait_clear(&w);
	return 0;
}

static int
fuzz_list(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	struct fp_list	 l;
	json_t		*cursor;

	if (fp_list_parse(params, &l, inv) == -1)
		return -1;
	if (l.limit < 1 || l.limit > FP_LIST_MAX || l.cursor < 0 ||
	    l.cursor > FP_ID_LIMIT || (unsigned)l.state >= FP_STATE_COUNT ||
	    (l.label != NULL && !json_is_object(l.label)))
		fuzz_fail("list: limit %d, cursor %lld, state %d", l.limit,
		    (long long)l.cursor, (int)l.state);
	cursor = fp_cursor_create(l.cursor > 0 ? l.cursor : l.limit);
	fp_text_cstr(o, "{\"tasks\":[],\"state\":");
	fp_text_str(o, l.has_state ? fp_state_name(l.state) : "any");
	fp_text_cstr(o, ",\"queue\":");
	if (l.queue != NULL)
		fp_text_str(o, l.queue);
	else
		fp_text_add(o, "null", 4);
	fp_text_cstr(o, ",\"label\":");
	fp_text_json(o, l.label);
	fp_text_cstr(o, ",\"next_cursor\":");
	fp_text_json(o, cursor);
	fp_text_add(o, "}", 1);
	json_decref(cursor);
	return 0;
}

static int
fuzz_none(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	static const char *const none[] = { NULL };

	if (fp_params_only(params, none, inv) == -1)
		return -1;
	fp_text_cstr(o, "{\"queues\":[]}");
	return 0;
}

/* daemon.info and rpc.discover read no params at all. */
static int
fuzz_any(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	fp_text_cstr(o, "{}");
	return 0;
}

static int
fuzz_queue_set(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	struct fp_queue_set	q;

	if (fp_queue_set_parse(params, &q, inv) == -1)
		return -1;
	if (q.name == NULL || (q.has_concurrency && (q.concurrency < 0 ||
	    q.concurrency > 1000000)))
		fuzz_fail("queue.set: concurrency %d", q.concurrency);
	fp_text_cstr(o, "{\"name\":");
	fp_text_str(o, q.name);
	fp_text_cstr(o, ",\"concurrency\":");
	fp_text_int(o, q.concurrency);
	fp_text_cstr(o, ",\"paused\":");
	fp_text_cstr(o, q.paused ? "true" : "false");
	fp_text_add(o, "}", 1);
	return 0;
}

static int
fuzz_cancel(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	const char	*message;
	json_t		*e;
	int64_t		 id;

	if (fp_cancel_parse(params, &id, &message, inv) == -1)
		return -1;
	if (id < 1 || id >= FP_ID_LIMIT || (message != NULL &&
	    strlen(message) > 1024))
		fuzz_fail("cancel: id %lld, message of %zu bytes",
		    (long long)id, message != NULL ? strlen(message) : 0);
	e = fp_cancelled_exception(message);
	if ((message == NULL) != (e == NULL))
		fuzz_fail("cancel: a message without its exception");
	fp_text_json(o, e != NULL ? e : json_null());
	json_decref(e);
	return 0;
}

/* task.set_result (failure 0) and task.set_exception (1). */
static int
fuzz_resolve(json_t *params, int failure, struct fp_invalid *inv,
    struct fp_text *o)
{
	json_t		*outcome;
	const char	*type;
	int64_t		 id;

	if (fp_resolve_parse(params, failure, &id, &outcome, inv) == -1)
		return -1;
	if (id < 1 || id >= FP_ID_LIMIT || outcome == NULL)
		fuzz_fail("resolve: id %lld", (long long)id);
	type = json_string_value(json_object_get(outcome, "type"));
	if (failure && (type == NULL || *type == '\0' || strlen(type) > 64 ||
	    !json_is_string(json_object_get(outcome, "message"))))
		fuzz_fail("set_exception: an exception without type or message");
	fp_text_json(o, outcome);
	json_decref(outcome);
	return 0;
}

static int
fuzz_set_result(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	return fuzz_resolve(params, 0, inv, o);
}

static int
fuzz_set_exception(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	return fuzz_resolve(params, 1, inv, o);
}

/* The cursor written back reads back as the same set of ids. */
static int
fuzz_as_completed(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	struct fp_as_completed	 ac, back;
	struct fp_invalid	 inv2;
	json_t			*cursor, *again;
	size_t			 i;

	if (fp_as_completed_parse(params, FUZZ_MAX_WAIT, &ac, inv) == -1)
		return -1;
	if (ac.group != 0 || ac.label != NULL) {	/* ids from the store */
		if (ac.w.ids != NULL || ac.group >= FP_ID_LIMIT ||
		    (ac.label != NULL && !json_is_object(ac.label)))
			fuzz_fail("as_completed: group %lld with ids",
			    (long long)ac.group);
		fp_text_int(o, ac.group);
		fp_as_completed_clear(&ac);
		return 0;
	}
	for (i = 0; i < ac.w.n_ids; i += 3)
		fp_as_completed_mark(&ac, i);
	cursor = fp_as_completed_cursor(&ac);
	again = json_pack("{s:o,s:O}", "ids", ac.w.n_ids > 0 ?
	    json_incref(json_object_get(params, "ids")) : json_array(),
	    "cursor", cursor);
	if (cursor == NULL || again == NULL ||
	    fp_as_completed_parse(again, FUZZ_MAX_WAIT, &back, &inv2) == -1)
		fuzz_fail("as_completed: its own cursor is refused");
	for (i = 0; i < ac.w.n_ids; i++)
		if (fp_as_completed_seen(&ac, i) !=
		    fp_as_completed_seen(&back, i))
			fuzz_fail("as_completed: the cursor lost id %zu", i);
	fp_text_json(o, cursor);
	json_decref(again);
	json_decref(cursor);
	fp_as_completed_clear(&back);
	fp_as_completed_clear(&ac);
	return 0;
}

/*
 * schedule.create: a definition it accepts has every field filled and
 * is accepted again, as schedule.update's base, unchanged.
 */
static int
fuzz_schedule_create(json_t *params, struct fp_invalid *inv,
    struct fp_text *o)
{
	struct fp_invalid	 inv2;
	json_t			*def, *again, *p;
	int			 paused;

	if ((def = fp_schedule_def(params, NULL, &paused, inv)) == NULL)
		return -1;
	if (json_object_get(def, "task") == NULL ||
	    json_object_get(def, "overlap") == NULL ||
	    json_object_get(def, "catchup_window") == NULL ||
	    (json_object_get(def, "cron") == NULL) ==
	    (json_object_get(def, "every") == NULL))
		fuzz_fail("schedule.create: a definition half filled");
	p = json_pack("{s:O}", "name", json_object_get(params, "name"));
	if (p == NULL)
		fuzz_fail("schedule.create: out of memory");
	if ((again = fp_schedule_def(p, def, &paused, &inv2)) == NULL)
		fuzz_fail("schedule.update refused its own definition: %s: %s",
		    inv2.field, inv2.reason);
	if (!json_equal(again, def))
		fuzz_fail("schedule.update changed a definition it was not "
		    "asked to change");
	fp_text_json(o, def);
	json_decref(again);
	json_decref(def);
	json_decref(p);
	return 0;
}

/* schedule.get, delete, pause, resume: {name}. */
static int
fuzz_schedule_name(json_t *params, struct fp_invalid *inv, struct fp_text *o)
{
	const char	*name;

	if (fp_schedule_name(params, NULL, &name, inv) == -1)
		return -1;
	if (name == NULL || *name == '\0')
		fuzz_fail("schedule: an empty name accepted");
	fp_text_str(o, name);
	return 0;
}

/* rpc.c's table, in its order. */
static const struct {
	const char	*name;
	int		(*check)(json_t *, struct fp_invalid *, struct fp_text *);
} fuzz_methods[] = {
	{ FP_TASK_SUBMIT, fuzz_submit },
	{ FP_TASK_GET, fuzz_get },
	{ FP_TASK_RESULT, fuzz_result },
	{ FP_TASK_EXCEPTION, fuzz_result },
	{ FP_TASK_WAIT, fuzz_wait },
	{ FP_TASK_CANCEL, fuzz_cancel },
	{ FP_TASK_LIST, fuzz_list },
	{ FP_TASK_STREAM, fuzz_stream },
	{ FP_TASK_OUTPUT, fuzz_output },
	{ FP_DAEMON_INFO, fuzz_any },
	{ FP_RPC_DISCOVER, fuzz_any },
	{ FP_QUEUE_LIST, fuzz_none },
	{ FP_QUEUE_SET, fuzz_queue_set },
	{ FP_TASK_SET_RESULT, fuzz_set_result },
	{ FP_TASK_SET_EXCEPTION, fuzz_set_exception },
	{ FP_TASK_AS_COMPLETED, fuzz_as_completed },
	{ FP_TASK_CLOSE, fuzz_get },
	{ FP_SCHEDULE_CREATE, fuzz_schedule_create },
	{ FP_SCHEDULE_GET, fuzz_schedule_name },
	{ FP_SCHEDULE_DELETE, fuzz_schedule_name },
};

int
fuzz_method_check(const char *method, json_t *params, struct fp_invalid *inv,
    struct fp_text *result)
{
	json_t	*data = NULL;
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof fuzz_methods / sizeof fuzz_methods[0]; i++) {
		if (strcmp(fuzz_methods[i].name, method) != 0)
			continue;
		memset(inv, 0, sizeof *inv);
		r = fuzz_methods[i].check(params, inv, result);
		if (r == -1 && inv->reason[0] == '\0')
			fuzz_fail("%s refused without a reason", method);
		/* -32602's data {field, reason}, as rpc_invalid builds it */
		if (r == -1 && (data = fp_invalid_data(inv)) == NULL)
			fuzz_fail("%s refused, but fp_invalid_data cannot say "
			    "why: field '%s', reason '%s'", method, inv->field,
			    inv->reason);
		json_decref(data);
		return r;
	}
	return -2;
}
