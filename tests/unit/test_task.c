/*
 * test_task.c: proto/fp-task.c, states, task and exception objects,
 * RFC 3339 time and UTF-8 repair.
 *
 * Every jansson allocation goes through a counting allocator, and each
 * test's teardown checks that the test left nothing allocated.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "fp-check.h"

/* ---- states ---- */

static const char *const state_names[] = { "pending", "running",
    "succeeded", "failed", "cancelled" };
static const enum fp_state states[] = { FP_PENDING, FP_RUNNING,
    FP_SUCCEEDED, FP_FAILED, FP_CANCELLED };

static void
test_state_name(void **state)
{
	size_t	i;

	assert_int_equal(FP_STATE_COUNT, 5);
	for (i = 0; i < sizeof states / sizeof states[0]; i++)
		assert_string_equal(fp_state_name(states[i]), state_names[i]);
	assert_string_equal(fp_state_name((enum fp_state)FP_STATE_COUNT),
	    "unknown");
	assert_string_equal(fp_state_name((enum fp_state)-1), "unknown");
	assert_string_equal(fp_state_name((enum fp_state)1000), "unknown");
}

static void
test_state_parse(void **state)
{
	static const char *const bad[] = { "", "Pending", "PENDING",
	    "pending ", " pending", "done", "canceled", "unknown", "cancel" };
	enum fp_state	st;
	size_t		i;

	for (i = 0; i < sizeof states / sizeof states[0]; i++) {
		st = (enum fp_state)99;
		assert_int_equal(fp_state_parse(state_names[i], &st), 0);
		assert_int_equal(st, states[i]);
		assert_string_equal(fp_state_name(st), state_names[i]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		st = FP_RUNNING;
		if (fp_state_parse(bad[i], &st) != -1)
			fail_msg("state '%s' parsed", bad[i]);
		assert_int_equal(st, FP_RUNNING);
	}
}

static void
test_state_done(void **state)
{
	assert_false(fp_state_done(FP_PENDING));
	assert_false(fp_state_done(FP_RUNNING));
	assert_true(fp_state_done(FP_SUCCEEDED));
	assert_true(fp_state_done(FP_FAILED));
	assert_true(fp_state_done(FP_CANCELLED));
	assert_false(fp_state_done((enum fp_state)FP_STATE_COUNT));
}

/* ---- fp_task_write ---- */

/* The task object fp_task_write gives, parsed back. */
static json_t *
task_obj(const struct fp_task *t)
{
	struct fp_text	 o = { 0 };
	json_error_t	 err;
	json_t		*v;
	size_t		 len;
	char		*s;

	fp_task_write(&o, t);
	s = fp_text_take(&o, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	if ((v = json_loadb(s, len, 0, &err)) == NULL)
		fail_msg("not JSON (%s): %s", err.text, s);
	free(s);
	return v;
}

/* A pending sleep task; the caller frees spec and labels. */
static void
task_init(struct fp_task *t)
{
	memset(t, 0, sizeof *t);
	t->id = 42;
	t->kind = "sleep";
	t->state = FP_PENDING;
	t->queue = "default";
	t->spec.json = js("{'kind':'sleep','seconds':1}");
	t->labels.json = js("{'team':'a'}");
	t->attempt = 0;
	t->max_retries = 2;
	t->created_at = 1700000000.25;
	t->timeout = -1;
}

static void
task_free(struct fp_task *t)
{
	json_decref(t->spec.json);
	json_decref(t->labels.json);
	json_decref(t->result.json);
	json_decref(t->exception.json);
	json_decref(t->after.json);
}

#define BASE "'id':42,'kind':'sleep','queue':'default','spec':{'kind':" \
	"'sleep','seconds':1},'labels':{'team':'a'},'max_retries':2," \
	"'created_at':'2023-11-14T22:13:20.250Z'"

static void
test_task_pending(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	t.result.json = js("1");		/* only shown once succeeded */
	t.exception.json = js("{'type':'X','message':'m'}");
	o = task_obj(&t);
	assert_json(o, "{" BASE ",'state':'pending','priority':0,'key':null,"
	    "'attempt':0,'started_at':null,'finished_at':null}");
	json_decref(o);
	/* Borrowed: the task still holds the only reference. */
	assert_int_equal(t.spec.json->refcount, 1);
	assert_int_equal(t.labels.json->refcount, 1);
	task_free(&t);
}

static void
test_task_running(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	t.state = FP_RUNNING;
	t.key = "nightly-2023-11-14";
	t.priority = -7;
	t.attempt = 1;
	t.started_at = 1700000001.5;
	o = task_obj(&t);
	assert_json(o, "{" BASE ",'state':'running','priority':-7,"
	    "'key':'nightly-2023-11-14','attempt':1,"
	    "'started_at':'2023-11-14T22:13:21.500Z','finished_at':null}");
	json_decref(o);
	task_free(&t);
}

static void
test_task_succeeded(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	t.state = FP_SUCCEEDED;
	t.attempt = 1;
	t.started_at = 1700000001;
	t.finished_at = 1700000002;
	t.result.json = js("{'exit_code':0,'stdout':'hi\\n'}");
	t.exception.json = js("{'type':'X','message':'m'}");
	t.retrieved = 1;
	o = task_obj(&t);
	assert_json(o, "{" BASE ",'state':'succeeded','priority':0,"
	    "'key':null,'attempt':1,"
	    "'started_at':'2023-11-14T22:13:21.000Z',"
	    "'finished_at':'2023-11-14T22:13:22.000Z',"
	    "'result':{'exit_code':0,'stdout':'hi\\n'}}");
	json_decref(o);
	assert_int_equal(t.result.json->refcount, 1);
	task_free(&t);

	/* A null result is a result. */
	task_init(&t);
	t.state = FP_SUCCEEDED;
	t.result.json = json_null();
	o = task_obj(&t);
	assert_non_null(json_object_get(o, "result"));
	assert_true(json_is_null(json_object_get(o, "result")));
	json_decref(o);
	task_free(&t);
}

static void
test_task_failed(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	t.state = FP_FAILED;
	t.attempt = 3;
	t.started_at = 1700000001;
	t.finished_at = 1700000002;
	t.result.json = js("'not shown'");
	t.exception.json = js("{'type':'ProcessError','message':'exit 1',"
	    "'exit_code':1}");
	o = task_obj(&t);
	assert_json(o, "{" BASE ",'state':'failed','priority':0,'key':null,"
	    "'attempt':3,'started_at':'2023-11-14T22:13:21.000Z',"
	    "'finished_at':'2023-11-14T22:13:22.000Z','exception':{'type':"
	    "'ProcessError','message':'exit 1','exit_code':1},"
	    "'retrieved':false}");
	json_decref(o);
	assert_int_equal(t.exception.json->refcount, 1);

	t.retrieved = 1;
	o = task_obj(&t);
	assert_json(json_object_get(o, "retrieved"), "true");
	assert_null(json_object_get(o, "result"));
	json_decref(o);
	task_free(&t);
}

static void
test_task_cancelled(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	t.state = FP_CANCELLED;
	t.finished_at = 1700000002;
	t.result.json = js("1");
	t.retrieved = 1;
	o = task_obj(&t);
	assert_json(o, "{" BASE ",'state':'cancelled','priority':0,"
	    "'key':null,'attempt':0,'started_at':null,"
	    "'finished_at':'2023-11-14T22:13:22.000Z'}");
	json_decref(o);
	/* a cancel with a message: its CancelledError, never "retrieved" */
	t.exception.json = js("{'type':'CancelledError','message':'m'}");
	o = task_obj(&t);
	assert_json(json_object_get(o, "exception"),
	    "{'type':'CancelledError','message':'m'}");
	assert_null(json_object_get(o, "retrieved"));
	assert_null(json_object_get(o, "result"));
	json_decref(o);
	task_free(&t);
}

static void
test_task_schedule_fields(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	t.after.json = js("[1,2]");
	t.not_before = 1893456000;
	t.timeout = 5;
	o = task_obj(&t);
	assert_json(o, "{" BASE ",'state':'pending','priority':0,'key':null,"
	    "'attempt':0,'started_at':null,'finished_at':null,'after':[1,2],"
	    "'not_before':'2030-01-01T00:00:00.000Z','timeout':5.0}");
	json_decref(o);
	assert_int_equal(t.after.json->refcount, 1);
	json_decref(t.after.json);

	/* Empty or unset: not shown. */
	t.after.json = js("[]");
	t.not_before = 0;
	t.timeout = 0;
	o = task_obj(&t);
	assert_null(json_object_get(o, "after"));
	assert_null(json_object_get(o, "not_before"));
	assert_null(json_object_get(o, "timeout"));
	json_decref(o);
	task_free(&t);
}

static void
test_task_labels_null(void **state)
{
	struct fp_task	 t;
	json_t		*o;
	size_t		 before;
	long		 leaked;

	task_init(&t);
	json_decref(t.labels.json);
	t.labels.json = NULL;
	before = live;
	o = task_obj(&t);
	assert_json(json_object_get(o, "labels"), "{}");
	json_decref(o);
	leaked = (long)live - (long)before;
	task_free(&t);
	/* Everything fp_task_write allocated went away with o. */
	if (leaked != 0)
		fail_msg("%ld allocation(s) leaked by fp_task_write with "
		    "labels NULL", leaked);
}

/* Stored members (text) give the same object as trees, byte for byte. */
static void
test_task_text_values(void **state)
{
	static const enum fp_state sts[] = { FP_PENDING, FP_SUCCEEDED,
	    FP_FAILED };
	struct fp_text	 a = { 0 }, b = { 0 };
	struct fp_task	 t, u;
	char		*texts[6];
	size_t		 i, k;

	for (k = 0; k < sizeof sts / sizeof sts[0]; k++) {
		task_init(&t);
		t.state = sts[k];
		t.key = "q\"uote\\ \n\t\x01 \xc3\xa9";
		t.result.json = js("{'status':200,'body':'a\\u0000b'}");
		t.exception.json = js("{'type':'TimeoutError','message':'m'}");
		t.after.json = js("[3,4]");
		t.attempts.json = js("[{'attempt':1,'outcome':'failed'}]");
		t.timeout = 0.25;
		u = t;
		texts[0] = json_dumps(t.spec.json, JSON_COMPACT);
		texts[1] = json_dumps(t.labels.json, JSON_COMPACT);
		texts[2] = json_dumps(t.result.json, JSON_COMPACT);
		texts[3] = json_dumps(t.exception.json, JSON_COMPACT);
		texts[4] = json_dumps(t.after.json, JSON_COMPACT);
		texts[5] = json_dumps(t.attempts.json, JSON_COMPACT);
		u.spec.json = u.labels.json = u.result.json = NULL;
		u.exception.json = u.after.json = u.attempts.json = NULL;
		u.spec.text = texts[0];
		u.labels.text = texts[1];
		u.result.text = texts[2];
		u.exception.text = texts[3];
		u.after.text = texts[4];
		u.attempts.text = texts[5];
		fp_task_write(&a, &t);
		fp_task_write(&b, &u);
		assert_false(a.failed || b.failed);
		assert_string_equal(a.buf, b.buf);
		for (i = 0; i < 6; i++)
			count_free(texts[i]);	/* jansson allocated them */
		fp_text_clear(&a);
		fp_text_clear(&b);
		json_decref(t.attempts.json);
		task_free(&t);
	}
}

/* Stored "[]" and absent members are not shown; absent labels are {}. */
static void
test_task_text_empty(void **state)
{
	struct fp_task	 t;
	json_t		*o;

	task_init(&t);
	json_decref(t.labels.json);
	t.labels.json = NULL;
	t.after.text = "[]";
	t.attempts.text = "[]";
	o = task_obj(&t);
	assert_json(json_object_get(o, "labels"), "{}");
	assert_null(json_object_get(o, "after"));
	assert_null(json_object_get(o, "attempts"));
	json_decref(o);
	task_free(&t);
}

/* ---- fp_text ---- */

/* What o holds is what jansson writes for v (stolen); o is emptied. */
static void
assert_like_jansson(struct fp_text *o, json_t *v)
{
	char	*want = json_dumps(v, JSON_ENCODE_ANY);

	assert_string_equal(o->buf, want);
	fp_text_clear(o);
	count_free(want);
	json_decref(v);
}

/*
 * fp_text_str prints what jansson prints; fp_text_real the fewest digits
 * that read back exactly (jansson prints 17).
 */
static void
test_text_like_jansson(void **state)
{
	static const char *const strs[] = { "", "plain", "q\"b\\s/",
	    "\b\f\n\r\t\x01\x1f\x7f", "\xc3\xa9\xe2\x82\xac" };
	static const double reals[] = { 5, 0.25, -2, 1e300, 0.1, 1.0 / 3,
	    123456789012.5, 1e-5, -2.5e-300, 1e17, 1e22 };
	struct fp_text	 o = { 0 };
	size_t		 i;

	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		fp_text_str(&o, strs[i]);
		assert_like_jansson(&o, json_string(strs[i]));
	}
	static const char *const shortest[] = { "5.0", "0.25", "-2.0",
	    "1e300", "0.1", "0.3333333333333333", "123456789012.5", "1e-5",
	    "-2.5e-300", "1e17", "1e22" };

	for (i = 0; i < sizeof reals / sizeof reals[0]; i++) {
		fp_text_real(&o, reals[i]);
		assert_string_equal(o.buf, shortest[i]);
		assert_true(strtod(o.buf, NULL) == reals[i]);
		fp_text_clear(&o);
	}
	/* a value that needs all 17 digits keeps them */
	fp_text_real(&o, 0.1 + 0.2);
	assert_string_equal(o.buf, "0.30000000000000004");
	assert_true(strtod(o.buf, NULL) == 0.1 + 0.2);
	fp_text_clear(&o);
	fp_text_real(&o, NAN);
	assert_string_equal(o.buf, "null");
	fp_text_clear(&o);
}

/* Trees come out as json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) writes them, reals aside. */
static void
test_text_json_like_jansson(void **state)
{
	static const char *const docs[] = { "null", "true", "false", "0",
	    "-9007199254740993", "2.5", "0.30000000000000004", "\"\"", "[]",
	    "{}",
	    "{\"b\":1,\"a\":[1,2.0,{\"z\":null,\"y\":false}],\"\":\"\"}",
	    "[\"nul\\u0000in\",\"\\u00e9\\u20ac\\ud83d\\ude00\",\"t\\tq\\\"/\"]",
	    "{\"k\\n\\u0001\":{\"deep\":[[[[[[[[[[1]]]]]]]]]]}}" };
	struct fp_text	 o = { 0 };
	json_error_t	 err;
	json_t		*v;
	char		*want;
	size_t		 i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		v = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (v == NULL)
			fail_msg("case %zu: %s", i, err.text);
		want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fp_text_json(&o, v);
		assert_false(o.failed);
		assert_int_equal(o.len, strlen(want));
		assert_memory_equal(o.buf, want, o.len);
		fp_text_clear(&o);
		count_free(want);
		json_decref(v);
	}
	fp_text_json(&o, NULL);
	assert_string_equal(o.buf, "null");
	fp_text_clear(&o);
	/* but reals in their shortest form (jansson: 0.10000000000000001) */
	v = json_loads("{\"seconds\":0.1,\"t\":[1e-7,2.0]}", 0, &err);
	assert_non_null(v);
	want = fp_json_text(v);
	assert_string_equal(want, "{\"seconds\":0.1,\"t\":[1e-7,2.0]}");
	free(want);
	json_decref(v);
}

/* Indented text is jansson's JSON_INDENT(2), reals aside. */
static void
test_text_json_indented(void **state)
{
	static const char *const docs[] = { "{}", "[]", "3", "\"s\"",
	    "{\"a\":[1,{\"b\":null},[]],\"c\":{}}",
	    "[[1,2],{\"k\":\"v\"}]" };
	json_error_t	 err;
	json_t		*v;
	char		*want, *got;
	size_t		 i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		v = json_loads(docs[i], JSON_DECODE_ANY, &err);
		assert_non_null(v);
		want = json_dumps(v, JSON_ENCODE_ANY | JSON_INDENT(2));
		got = fp_json_text_indented(v, 2);
		assert_string_equal(got, want);
		free(got);
		count_free(want);
		json_decref(v);
	}
	v = json_pack("{s:f}", "x", 0.1);
	got = fp_json_text_indented(v, 2);
	assert_string_equal(got, "{\n  \"x\": 0.1\n}");
	free(got);
	json_decref(v);
}

/* The last lines of a text: a final newline ends a line, starts none. */
static void
test_tail_lines(void **state)
{
	static const char	text[] = "one\ntwo\nthree\n";

	assert_string_equal(fp_tail_lines(text, strlen(text), 1), "three\n");
	assert_string_equal(fp_tail_lines(text, strlen(text), 2),
	    "two\nthree\n");
	assert_string_equal(fp_tail_lines(text, strlen(text), 3), text);
	assert_string_equal(fp_tail_lines(text, strlen(text), 9), text);
	assert_string_equal(fp_tail_lines("a\nb", 3, 1), "b");
	assert_string_equal(fp_tail_lines("", 0, 2), "");
	assert_string_equal(fp_tail_lines("\n\n", 2, 1), "\n");
}

/* A tree that contains itself fails instead of looping. */
static void
test_text_json_cycle(void **state)
{
	struct fp_text	 o = { 0 };
	json_t		*a = json_array(), *b = json_array();

	json_array_append(a, b);
	json_array_append(b, a);	/* jansson allows building this */
	fp_text_json(&o, a);
	assert_true(o.failed);
	assert_null(fp_text_take(&o, NULL));
	/* branching: 2^4096 paths unless the walk stops at the failure */
	json_array_append(b, a);
	fp_text_json(&o, a);
	assert_true(o.failed);
	fp_text_clear(&o);
	json_array_clear(b);
	json_decref(b);
	json_decref(a);
}

/* A key holding NUL (json_object_setn) is written whole, as jansson does. */
static void
test_text_json_nul_key(void **state)
{
	struct fp_text	 o = { 0 };
	json_t		*v = json_object();
	char		*want;

	json_object_setn_new(v, "a\0b", 3, json_true());
	want = json_dumps(v, JSON_COMPACT);
	fp_text_json(&o, v);
	assert_string_equal(o.buf, "{\"a\\u0000b\":true}");
	assert_string_equal(o.buf, want);
	count_free(want);
	fp_text_clear(&o);
	json_decref(v);
}

static void
test_text_take(void **state)
{
	struct fp_text	 o = { 0 };
	size_t		 len = 99;
	char		*s;
	int		 i;

	/* Nothing written is "", not a failure. */
	s = fp_text_take(&o, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	/* Growth keeps every byte. */
	for (i = 0; i < 10000; i++)
		fp_text_int(&o, i % 10);
	s = fp_text_take(&o, &len);
	assert_int_equal(len, 10000);
	assert_int_equal(s[9999], '9');
	assert_int_equal(s[10000], '\0');
	assert_null(o.buf);
	free(s);
	/* Once failed, a text stays failed and gives nothing. */
	o.failed = 1;
	fp_text_cstr(&o, "x");
	assert_null(o.buf);
	assert_null(fp_text_take(&o, &len));
	assert_int_equal(len, 0);
	fp_text_time(&o, 0);
	assert_string_equal(o.buf, "null");
	fp_text_time(&o, 1700000000.25);
	assert_string_equal(o.buf, "null\"2023-11-14T22:13:20.250Z\"");
	fp_text_clear(&o);
}

/* ---- fp_exception_create ---- */

static void
test_exception_create(void **state)
{
	json_t	*e;
	char	 msg[1100];
	size_t	 len;

	e = fp_exception_create("ProcessError", "exit status %d", 3);
	assert_json(e, "{'type':'ProcessError','message':'exit status 3'}");
	json_decref(e);

	e = fp_exception_create("SpawnError", "%s", "");
	assert_json(e, "{'type':'SpawnError','message':''}");
	json_decref(e);

	/* Bytes that are not UTF-8 are repaired, never refused. */
	e = fp_exception_create("SpawnError", "no such file: %s", "a\xffz");
	assert_json(e, "{'type':'SpawnError','message':"
	    "'no such file: a\\ufffdz'}");
	json_decref(e);

	/* 1023 bytes at most; a sequence cut in half is repaired too. */
	memset(msg, 'a', 1022);
	memcpy(msg + 1022, "\xc3\xa9tail", 6);
	msg[1028] = '\0';
	e = fp_exception_create("TimeoutError", "%s", msg);
	assert_non_null(e);
	len = json_string_length(json_object_get(e, "message"));
	assert_int_equal(len, 1022 + 3);
	assert_memory_equal(json_string_value(json_object_get(e, "message")) +
	    1022, "\xef\xbf\xbd", 3);
	json_decref(e);
}

/* ---- time ---- */

#define format_is(t, want) format_at((t), (want), __FILE__, __LINE__)

static void
format_at(double t, const char *want, const char *file, int line)
{
	char	 buf[FP_TIME_LEN];
	char	*r;

	memset(buf, 'x', sizeof buf);
	r = fp_time_format(t, buf);
	_assert_true(r == buf, "returns buf", file, line);
	_assert_string_equal(buf, want, file, line);
}

static void
test_time_format(void **state)
{
	format_is(1700000000, "2023-11-14T22:13:20.000Z");
	format_is(1700000000.5, "2023-11-14T22:13:20.500Z");
	format_is(1700000000.25, "2023-11-14T22:13:20.250Z");
	format_is(1, "1970-01-01T00:00:01.000Z");
	format_is(0.5, "1970-01-01T00:00:00.500Z");
	format_is(1709164800, "2024-02-29T00:00:00.000Z");
	format_is(1893456000, "2030-01-01T00:00:00.000Z");
	format_is(253402300799.0, "9999-12-31T23:59:59.000Z");
	/* Unset or nonsense times format as "". */
	format_is(0, "");
	format_is(-1, "");
	format_is(-0.5, "");
	format_is(NAN, "");
	format_is(INFINITY, "");
	format_is(-INFINITY, "");
}

static void
test_time_parse(void **state)
{
	static const struct {
		const char	*s;
		double		 t;
	} t[] = {
		{ "2023-11-14T22:13:20Z", 1700000000 },
		{ "2023-11-14t22:13:20z", 1700000000 },
		{ "2023-11-14 22:13:20Z", 1700000000 },
		{ "2023-11-14T22:13:20+00:00", 1700000000 },
		{ "2023-11-14T22:13:20-00:00", 1700000000 },
		{ "2023-11-15T00:13:20+02:00", 1700000000 },
		{ "2023-11-14T16:43:20-05:30", 1700000000 },
		{ "2023-11-15T11:58:20+13:45", 1700000000 },
		{ "2023-11-14T22:13:20.5Z", 1700000000.5 },
		{ "2023-11-14T22:13:20.25+00:00", 1700000000.25 },
		{ "2023-11-14T22:13:20.000Z", 1700000000 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T00:00:01Z", 1 },
		{ "2000-01-01T00:00:00Z", 946684800 },
		{ "2024-02-29T00:00:00Z", 1709164800 },
		{ "2030-01-01T00:00:00Z", 1893456000 },
		{ "9999-12-31T23:59:59Z", 253402300799.0 },
		/* A leap second lands on the next second. */
		{ "2016-12-31T23:59:60Z", 1483228800 },
	};
	double	out;
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		out = -1;
		if (fp_time_parse(t[i].s, &out) != 0)
			fail_msg("'%s' refused", t[i].s);
		if (out != t[i].t)
			fail_msg("'%s' -> %.6f, want %.6f", t[i].s, out,
			    t[i].t);
	}
	assert_int_equal(fp_time_parse("2023-11-14T22:13:20.123456789Z",
	    &out), 0);
	assert_true(fabs(out - 1700000000.123456789) < 1e-6);
	assert_int_equal(fp_time_parse("2023-11-14T22:13:20."
	    "12345678901234567890123456789Z", &out), 0);
	assert_true(fabs(out - 1700000000.123456789) < 1e-6);
}

static void
test_time_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"2023",
		"2023-11-14",
		"2023-11-14T",
		"2023-11-14T22:13:20",			/* no offset */
		"2023-11-14T22:13:20.5",
		"2023-11-14X22:13:20Z",			/* no T */
		"2023-11-1422:13:20Z",
		"20231114T221320Z",
		"2023-11-14T22:13Z",
		"2023/11/14T22:13:20Z",
		"2023-1-14T22:13:20Z",
		"23-11-14T22:13:20Z",
		"+2023-11-14T22:13:20Z",
		" 2023-11-14T22:13:20Z",
		"2023-13-01T00:00:00Z",			/* month */
		"2023-00-01T00:00:00Z",
		"2023-01-32T00:00:00Z",			/* day */
		"2023-01-00T00:00:00Z",
		"2023-01-01T24:00:00Z",			/* hour */
		"2023-01-01T23:60:00Z",			/* minute */
		"2023-01-01T23:59:61Z",			/* second */
		"2023-11-14T22:13:20Zjunk",		/* trailing */
		"2023-11-14T22:13:20Z ",
		"2023-11-14T22:13:20ZZ",
		"2023-11-14T22:13:20+02:00x",
		"2023-11-14T22:13:20+2:00",		/* offsets */
		"2023-11-14T22:13:20+0200",
		"2023-11-14T22:13:20+02",
		"2023-11-14T22:13:20+24:00",
		"2023-11-14T22:13:20+02:60",
		"2023-11-14T22:13:20 +02:00",
		"2023-11-14T22:13:20,5Z",		/* comma fraction */
		"2023-11-14T22:13:20.5.5Z",
		"1969-12-31T23:59:59Z",			/* before 1970 */
		"0000-01-01T00:00:00Z",
		"yesterday",
	};
	double	out;
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (fp_time_parse(bad[i], &out) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_time_parse_empty_fraction(void **state)
{
	double	out;

	/* RFC 3339: time-secfrac = "." 1*DIGIT */
	assert_int_equal(fp_time_parse("2023-11-14T22:13:20.Z", &out), -1);
	assert_int_equal(fp_time_parse("2023-11-14T22:13:20.+02:00", &out),
	    -1);
}

static void
test_time_parse_day_of_month(void **state)
{
	static const char *const bad[] = {
		"2023-02-29T00:00:00Z",		/* 2023 is not a leap year */
		"2023-02-30T00:00:00Z",
		"2023-04-31T00:00:00Z",
		"2100-02-29T00:00:00Z",		/* nor is 2100 */
	};
	double	out;
	size_t	i;

	/* RFC 3339 5.7: the day must exist in its month and year. */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (fp_time_parse(bad[i], &out) != -1)
			fail_msg("'%s' accepted as %.0f", bad[i], out);
}

static void
test_time_round_trip(void **state)
{
	char	 s[FP_TIME_LEN], buf[FP_TIME_LEN];
	double	 t;
	int	 ms;

	/* Every millisecond survives parse then format. */
	for (ms = 0; ms < 1000; ms++) {
		snprintf(s, sizeof s, "2023-11-14T22:13:20.%03dZ", ms);
		assert_int_equal(fp_time_parse(s, &t), 0);
		fp_time_format(t, buf);
		if (strcmp(buf, s) != 0)
			fail_msg("'%s' formats back as '%s'", s, buf);
	}
}

static void
test_time_round_trip_offset(void **state)
{
	char	buf[FP_TIME_LEN];
	double	t, u;

	assert_int_equal(fp_time_parse("2030-06-15T14:30:00.500+05:30", &t),
	    0);
	assert_string_equal(fp_time_format(t, buf),
	    "2030-06-15T09:00:00.500Z");
	assert_int_equal(fp_time_parse(buf, &u), 0);
	assert_true(t == u);
}

/* ---- fp_string_from_bytes ---- */

/* bytes_are(in, n, want, wn); S() supplies a literal and its length. */
#define bytes_are(...)	bytes_at(__VA_ARGS__, __FILE__, __LINE__)

/* The n bytes of in repair to the wn bytes of want. */
static void
bytes_at(const char *in, size_t n, const char *want, size_t wn,
    const char *file, int line)
{
	json_t	*j = fp_string_from_bytes(in, n);
	json_t	*check;

	_assert_true(json_is_string(j), "a string", file, line);
	_assert_int_equal(json_string_length(j), wn, file, line);
	_assert_true(memcmp(json_string_value(j), want, wn) == 0,
	    "bytes", file, line);
	/* The output is valid UTF-8 as jansson itself checks it. */
	check = json_stringn(json_string_value(j), json_string_length(j));
	_assert_true(check != NULL, "valid UTF-8", file, line);
	json_decref(check);
	json_decref(j);
}

#define S(lit)	lit, sizeof lit - 1
#define FFFD	"\xef\xbf\xbd"

/* Valid UTF-8 comes out unchanged. */
#define kept(lit)	bytes_are(S(lit), S(lit))

static void
test_utf8_valid(void **state)
{
	kept("");
	kept("hello, world");
	kept("\x01\x7f");
	kept("caf\xc3\xa9");			/* e acute */
	kept("\xc2\x80");			/* U+0080 */
	kept("\xdf\xbf");			/* U+07FF */
	kept("\xe0\xa0\x80");			/* U+0800 */
	kept("\xe2\x82\xac");			/* euro sign */
	kept("\xed\x9f\xbf");			/* U+D7FF */
	kept("\xee\x80\x80");			/* U+E000 */
	kept("\xef\xbf\xbf");			/* U+FFFF */
	kept("\xf0\x90\x80\x80");		/* U+10000 */
	kept("\xf0\x9d\x84\x9e");		/* U+1D11E */
	kept("\xf4\x8f\xbf\xbf");		/* U+10FFFF */
	kept(FFFD);
}

static void
test_utf8_invalid_bytes(void **state)
{
	bytes_are(S("\xff"), S(FFFD));
	bytes_are(S("\xfe"), S(FFFD));
	/* A lone continuation byte. */
	bytes_are(S("a\x80z"), S("a" FFFD "z"));
	bytes_are(S("\xbf\xbf"), S(FFFD FFFD));
	bytes_are(S("\xf5\x80\x80\x80"), S(FFFD FFFD FFFD FFFD));
	bytes_are(S("\xf8\x88\x80\x80\x80"), S(FFFD FFFD FFFD FFFD FFFD));
	/* A lead byte followed by something else. */
	bytes_are(S("\xc3\x28"), S(FFFD "("));
	bytes_are(S("\xe2\x28\xa1"), S(FFFD "(" FFFD));
	bytes_are(S("ok\xffok\xc3\xa9"), S("ok" FFFD "ok\xc3\xa9"));
}

static void
test_utf8_overlong(void **state)
{
	bytes_are(S("\xc0\xaf"), S(FFFD FFFD));		/* '/' */
	bytes_are(S("\xc1\xbf"), S(FFFD FFFD));
	bytes_are(S("\xc0\x80"), S(FFFD FFFD));		/* NUL */
	bytes_are(S("\xe0\x80\xaf"), S(FFFD FFFD FFFD));
	bytes_are(S("\xe0\x9f\xbf"), S(FFFD FFFD FFFD));
	bytes_are(S("\xf0\x80\x80\xaf"), S(FFFD FFFD FFFD FFFD));
	bytes_are(S("\xf0\x8f\xbf\xbf"), S(FFFD FFFD FFFD FFFD));
}

static void
test_utf8_surrogates(void **state)
{
	bytes_are(S("\xed\xa0\x80"), S(FFFD FFFD FFFD));	/* U+D800 */
	bytes_are(S("\xed\xbf\xbf"), S(FFFD FFFD FFFD));	/* U+DFFF */
	/* A surrogate pair encoded as two sequences (CESU-8). */
	bytes_are(S("\xed\xa0\xbd\xed\xb2\xa9"),
	    S(FFFD FFFD FFFD FFFD FFFD FFFD));
	/* Above U+10FFFF. */
	bytes_are(S("\xf4\x90\x80\x80"), S(FFFD FFFD FFFD FFFD));
}

static void
test_utf8_truncated(void **state)
{
	/* Each byte of an unfinished sequence becomes one U+FFFD. */
	bytes_are(S("\xc3"), S(FFFD));
	bytes_are(S("ab\xe2\x82"), S("ab" FFFD FFFD));
	bytes_are(S("\xf0\x9d\x84"), S(FFFD FFFD FFFD));
	bytes_are(S("\xe2\x82z"), S(FFFD FFFD "z"));
	/* n bounds the input: the rest of a valid sequence is not read. */
	bytes_are("\xc3\xa9", 1, S(FFFD));
	bytes_are("\xf0\x9d\x84\x9e", 3, S(FFFD FFFD FFFD));
}

static void
test_utf8_nul(void **state)
{
	json_t	*j;

	/* NUL is valid UTF-8: kept, and counted in the string's length. */
	bytes_are(S("a\0b"), S("a\0b"));
	bytes_are(S("\0"), S("\0"));
	bytes_are(S("\xff\0\xff"), S(FFFD "\0" FFFD));
	j = fp_string_from_bytes("x\0y\0", 4);
	assert_int_equal(json_string_length(j), 4);
	assert_int_equal(strlen(json_string_value(j)), 1);
	json_decref(j);
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_state_name),
		T(test_state_parse),
		T(test_state_done),
		T(test_task_pending),
		T(test_task_running),
		T(test_task_succeeded),
		T(test_task_failed),
		T(test_task_cancelled),
		T(test_task_schedule_fields),
		T(test_task_labels_null),
		T(test_task_text_values),
		T(test_task_text_empty),
		T(test_text_like_jansson),
		T(test_text_json_like_jansson),
		T(test_text_json_cycle),
		T(test_text_json_indented),
		T(test_tail_lines),
		T(test_text_json_nul_key),
		T(test_text_take),
		T(test_exception_create),
		T(test_time_format),
		T(test_time_parse),
		T(test_time_parse_invalid),
		T(test_time_parse_empty_fraction),
		T(test_time_parse_day_of_month),
		T(test_time_round_trip),
		T(test_time_round_trip_offset),
		T(test_utf8_valid),
		T(test_utf8_invalid_bytes),
		T(test_utf8_overlong),
		T(test_utf8_surrogates),
		T(test_utf8_truncated),
		T(test_utf8_nul),
	};

	json_set_alloc_funcs(count_malloc, count_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
