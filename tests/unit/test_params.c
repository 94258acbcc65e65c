/*
 * test_params.c: proto/fp-params.c, validation shared by every method:
 * ids, timeouts, task.wait and task.list parameters, cursors.
 *
 * Every jansson allocation goes through a counting allocator, and each
 * test's teardown checks that the test left nothing allocated.
 */
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

#define assert_invalid(rc, inv, field, reason) invalid_check((rc), &(inv), \
	(field), (reason), __FILE__, __LINE__)

/* rc is -1 and inv says exactly field and reason. */
static void
invalid_check(int rc, const struct fp_invalid *inv, const char *field,
    const char *reason, const char *file, int line)
{
	_assert_int_equal(rc, -1, file, line);
	_assert_string_equal(inv->field, field, file, line);
	_assert_string_equal(inv->reason, reason, file, line);
}

/* An object of n string labels "k0".."k<n-1>". */
static json_t *
labels_n(size_t n)
{
	json_t	*o = json_object();
	char	 k[16];
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(k, sizeof k, "k%zu", i);
		json_object_set_new(o, k, json_string("v"));
	}
	return o;
}

/* An array of the ids 1..n. */
static json_t *
ids_n(size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 1; i <= n; i++)
		json_array_append_new(a, json_integer((json_int_t)i));
	return a;
}

/* ---- fp_invalid ---- */

static void
test_invalid_set(void **state)
{
	struct fp_invalid	 inv;
	char			 longer[300];
	json_t			*data;

	assert_int_equal(fp_invalid_set(&inv, "argv[2]", "must be %s",
	    "a string"), -1);
	assert_string_equal(inv.field, "argv[2]");
	assert_string_equal(inv.reason, "must be a string");
	data = fp_invalid_data(&inv);
	assert_json(data, "{'field':'argv[2]','reason':'must be a string'}");
	json_decref(data);

	/* Overlong fields and reasons are cut, never overflowed. */
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	assert_int_equal(fp_invalid_set(&inv, longer, "%s", longer), -1);
	assert_int_equal(strlen(inv.field), FP_FIELD_LEN - 1);
	assert_int_equal(strlen(inv.reason), FP_REASON_LEN - 1);
}

/* ---- fp_id_parse ---- */

static void
test_id_parse(void **state)
{
	static const struct {
		const char	*json;
		int		 rc;
		int64_t		 id;
	} t[] = {
		{ "1", 0, 1 },
		{ "2", 0, 2 },
		{ "123456789", 0, 123456789 },
		{ "9007199254740991", 0, FP_ID_LIMIT - 1 },	/* 2^53-1 */
		{ "0", -1, 0 },
		{ "-1", -1, 0 },
		{ "9007199254740992", -1, 0 },			/* 2^53 */
		{ "9007199254740993", -1, 0 },
		{ "9223372036854775807", -1, 0 },
		{ "-9223372036854775808", -1, 0 },
		{ "1.0", -1, 0 },
		{ "1.5", -1, 0 },
		{ "1e3", -1, 0 },
		{ "'1'", -1, 0 },
		{ "null", -1, 0 },
		{ "true", -1, 0 },
		{ "[1]", -1, 0 },
		{ "{'id':1}", -1, 0 },
	};
	json_t	*v;
	int64_t	 id;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = js(t[i].json);
		id = -7;
		if (fp_id_parse(v, &id) != t[i].rc)
			fail_msg("fp_id_parse(%s) did not return %d", t[i].json,
			    t[i].rc);
		if (t[i].rc == 0)
			assert_int_equal(id, t[i].id);
		json_decref(v);
	}
	assert_int_equal(fp_id_parse(NULL, &id), -1);
}

/* ---- fp_params_only, fp_params_id ---- */

static void
test_params_only(void **state)
{
	static const char *const allowed[] = { "a", "b", NULL };
	static const char *const none[] = { NULL };
	struct fp_invalid	 inv;
	json_t			*p;

	p = js("{}");
	assert_int_equal(fp_params_only(p, allowed, &inv), 0);
	assert_int_equal(fp_params_only(p, none, &inv), 0);
	json_decref(p);

	p = js("{'b':1,'a':null}");
	assert_int_equal(fp_params_only(p, allowed, &inv), 0);
	json_decref(p);

	p = js("{'a':1,'c':2}");
	assert_invalid(fp_params_only(p, allowed, &inv), inv, "c",
	    "unknown parameter");
	json_decref(p);

	p = js("{'A':1}");
	assert_invalid(fp_params_only(p, allowed, &inv), inv, "A",
	    "unknown parameter");
	json_decref(p);

	p = js("{'x':1}");
	assert_invalid(fp_params_only(p, none, &inv), inv, "x",
	    "unknown parameter");
	json_decref(p);
}

#define ID_REASON	"must be an integer from 1 to 2^53-1"

static void
test_params_id(void **state)
{
	static const char *const extra[] = { "timeout", NULL };
	static const char *const bad[] = { "0", "-5", "'5'", "5.0", "null",
	    "true", "[5]", "9007199254740992" };
	struct fp_invalid	 inv;
	json_t			*p;
	int64_t			 id;
	char			 text[128];
	size_t			 i;

	p = js("{'id':5}");
	id = 0;
	assert_int_equal(fp_params_id(p, NULL, &id, &inv), 0);
	assert_int_equal(id, 5);
	assert_int_equal(fp_params_id(p, extra, &id, &inv), 0);
	json_decref(p);

	p = js("{'timeout':1,'id':9007199254740991}");
	assert_int_equal(fp_params_id(p, extra, &id, &inv), 0);
	assert_int_equal(id, FP_ID_LIMIT - 1);
	assert_invalid(fp_params_id(p, NULL, &id, &inv), inv, "timeout",
	    "unknown parameter");
	json_decref(p);

	p = js("{'id':5,'idd':6}");
	assert_invalid(fp_params_id(p, extra, &id, &inv), inv, "idd",
	    "unknown parameter");
	json_decref(p);

	p = js("{}");
	assert_invalid(fp_params_id(p, NULL, &id, &inv), inv, "id",
	    "required");
	json_decref(p);

	p = js("{'timeout':1}");
	assert_invalid(fp_params_id(p, extra, &id, &inv), inv, "id",
	    "required");
	json_decref(p);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{'id':%s}", bad[i]);
		p = js(text);
		assert_invalid(fp_params_id(p, NULL, &id, &inv), inv, "id",
		    ID_REASON);
		json_decref(p);
	}
}

/* ---- fp_timeout_parse, fp_seconds_parse ---- */

#define timeout_ok(text, dflt, cap, want) timeout_ok_at((text), (dflt), \
	(cap), (want), __FILE__, __LINE__)

static void
timeout_ok_at(const char *text, double dflt, double cap, double want,
    const char *file, int line)
{
	struct fp_invalid	 inv;
	json_t			*p = js(text);
	double			 out = -123;
	int			 rc;

	rc = fp_timeout_parse(p, "timeout", dflt, cap, &out, &inv);
	json_decref(p);
	_assert_int_equal(rc, 0, file, line);
	if (out != want) {
		print_error("%s: got %g, want %g\n", text, out, want);
		_fail(file, line);
	}
}

#define timeout_bad(text, reason) timeout_bad_at((text), (reason), \
	__FILE__, __LINE__)

static void
timeout_bad_at(const char *text, const char *reason, const char *file,
    int line)
{
	struct fp_invalid	 inv;
	json_t			*p = js(text);
	double			 out;
	int			 rc;

	rc = fp_timeout_parse(p, "timeout", 0, 60, &out, &inv);
	json_decref(p);
	invalid_check(rc, &inv, "timeout", reason, file, line);
}

static void
test_timeout_parse(void **state)
{
	struct fp_invalid	 inv;
	json_t			*p;
	double			 out;

	/* Absent: the default, but never above the cap. */
	timeout_ok("{}", 0, 60, 0);
	timeout_ok("{}", 60, 60, 60);
	timeout_ok("{}", 100, 60, 60);
	timeout_ok("{'other':5}", 7, 60, 7);
	/* null: up to the cap. */
	timeout_ok("{'timeout':null}", 0, 60, 60);
	timeout_ok("{'timeout':null}", 5, 30, 30);
	/* A number: itself, clamped to the cap. */
	timeout_ok("{'timeout':0}", 5, 60, 0);
	timeout_ok("{'timeout':0.0}", 5, 60, 0);
	timeout_ok("{'timeout':5}", 0, 60, 5);
	timeout_ok("{'timeout':2.5}", 0, 60, 2.5);
	timeout_ok("{'timeout':60}", 0, 60, 60);
	timeout_ok("{'timeout':61}", 0, 60, 60);
	timeout_ok("{'timeout':1e300}", 0, 60, 60);
	timeout_ok("{'timeout':9223372036854775807}", 0, 60, 60);

	timeout_bad("{'timeout':-1}", "must not be negative");
	timeout_bad("{'timeout':-0.001}", "must not be negative");
	timeout_bad("{'timeout':-1e300}", "must not be negative");
	timeout_bad("{'timeout':'5'}", "must be a number of seconds or null");
	timeout_bad("{'timeout':'NaN'}", "must be a number of seconds or null");
	timeout_bad("{'timeout':true}", "must be a number of seconds or null");
	timeout_bad("{'timeout':[5]}", "must be a number of seconds or null");
	timeout_bad("{'timeout':{}}", "must be a number of seconds or null");

	/* The field name is the caller's. */
	p = js("{'wait':-2}");
	assert_invalid(fp_timeout_parse(p, "wait", 0, 60, &out, &inv), inv,
	    "wait", "must not be negative");
	json_decref(p);
}

#define seconds_ok(text, want) seconds_ok_at((text), (want), __FILE__, \
	__LINE__)

static void
seconds_ok_at(const char *text, double want, const char *file, int line)
{
	struct fp_invalid	 inv;
	json_t			*p = js(text);
	double			 out = -123;
	int			 rc;

	rc = fp_seconds_parse(p, "delay", 3, 86400, &out, &inv);
	json_decref(p);
	_assert_int_equal(rc, 0, file, line);
	if (out != want) {
		print_error("%s: got %g, want %g\n", text, out, want);
		_fail(file, line);
	}
}

#define seconds_bad(text, reason) seconds_bad_at((text), (reason), \
	__FILE__, __LINE__)

static void
seconds_bad_at(const char *text, const char *reason, const char *file,
    int line)
{
	struct fp_invalid	 inv;
	json_t			*p = js(text);
	double			 out;
	int			 rc;

	rc = fp_seconds_parse(p, "delay", 3, 86400, &out, &inv);
	json_decref(p);
	invalid_check(rc, &inv, "delay", reason, file, line);
}

static void
test_seconds_parse(void **state)
{
	seconds_ok("{}", 3);
	seconds_ok("{'delay':null}", 3);
	seconds_ok("{'delay':0}", 0);
	seconds_ok("{'delay':1.5}", 1.5);
	seconds_ok("{'delay':86400}", 86400);
	seconds_ok("{'delay':86400.0}", 86400);

	seconds_bad("{'delay':86400.5}", "must be at most 86400");
	seconds_bad("{'delay':1e300}", "must be at most 86400");
	seconds_bad("{'delay':-1}", "must not be negative");
	seconds_bad("{'delay':-0.5}", "must not be negative");
	seconds_bad("{'delay':'1'}", "must be a number of seconds");
	seconds_bad("{'delay':false}", "must be a number of seconds");
	seconds_bad("{'delay':{}}", "must be a number of seconds");
}

/* ---- fp_ids_array ---- */

static void
test_ids_array(void **state)
{
	struct fp_invalid	 inv;
	json_t			*a;
	int64_t			*ids = (int64_t *)1;
	size_t			 n = 99;

	a = js("[5,3,9007199254740991]");
	assert_int_equal(fp_ids_array(a, "after", 3, &ids, &n, &inv), 0);
	assert_int_equal(n, 3);
	/* Request order is kept. */
	assert_int_equal(ids[0], 5);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], FP_ID_LIMIT - 1);
	free(ids);

	assert_invalid(fp_ids_array(a, "after", 2, &ids, &n, &inv), inv,
	    "after", "at most 2 ids");
	assert_null(ids);
	assert_int_equal(n, 0);
	json_decref(a);

	a = js("[5,3,5]");
	assert_invalid(fp_ids_array(a, "deps", 10, &ids, &n, &inv), inv,
	    "deps", "id 5 appears twice");
	assert_null(ids);
	json_decref(a);

	a = js("[5,'3']");
	assert_invalid(fp_ids_array(a, "deps", 10, &ids, &n, &inv), inv,
	    "deps[1]", ID_REASON);
	assert_null(ids);
	json_decref(a);

	a = js("{'0':1}");
	assert_invalid(fp_ids_array(a, "deps", 10, &ids, &n, &inv), inv,
	    "deps", "must be an array of task ids");
	json_decref(a);
}

/* ---- fp_wait_parse ---- */

#define wait_bad(text, field, reason) wait_bad_at((text), (field), \
	(reason), __FILE__, __LINE__)

static void
wait_bad_at(const char *text, const char *field, const char *reason,
    const char *file, int line)
{
	struct fp_invalid	 inv;
	struct fp_wait		 w;
	json_t			*p = js(text);
	int			 rc;

	rc = fp_wait_parse(p, 60, &w, &inv);
	json_decref(p);
	if (rc == 0)
		fp_wait_clear(&w);
	invalid_check(rc, &inv, field, reason, file, line);
	_assert_true(w.ids == NULL && w.n_ids == 0, "nothing to clear",
	    file, line);
}

static void
test_wait_parse(void **state)
{
	struct fp_invalid	 inv;
	struct fp_wait		 w;
	json_t			*p;

	p = js("{'ids':[3,1,2]}");
	assert_int_equal(fp_wait_parse(p, 60, &w, &inv), 0);
	assert_int_equal(w.n_ids, 3);
	assert_int_equal(w.ids[0], 3);
	assert_int_equal(w.ids[1], 1);
	assert_int_equal(w.ids[2], 2);
	assert_int_equal(w.return_when, FP_RETURN_ALL);
	assert_true(w.timeout == 60);
	fp_wait_clear(&w);
	assert_null(w.ids);
	assert_int_equal(w.n_ids, 0);
	fp_wait_clear(&w);		/* twice is harmless */
	json_decref(p);
}

static void
test_wait_return_when(void **state)
{
	static const struct {
		const char	*json;
		int		 want;
	} t[] = {
		{ "'ALL_COMPLETED'", FP_RETURN_ALL },
		{ "'FIRST_COMPLETED'", FP_RETURN_FIRST },
		{ "'FIRST_EXCEPTION'", FP_RETURN_EXCEPTION },
		{ "null", FP_RETURN_ALL },
	};
	static const char *const bad[] = { "'first_completed'", "''",
	    "'ALL'", "'ALL_COMPLETED '", "1", "true", "['ALL_COMPLETED']" };
	struct fp_invalid	 inv;
	struct fp_wait		 w;
	json_t			*p;
	char			 text[128];
	size_t			 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(text, sizeof text, "{'ids':[1],'return_when':%s}",
		    t[i].json);
		p = js(text);
		assert_int_equal(fp_wait_parse(p, 60, &w, &inv), 0);
		assert_int_equal(w.return_when, t[i].want);
		fp_wait_clear(&w);
		json_decref(p);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{'ids':[1],'return_when':%s}",
		    bad[i]);
		wait_bad(text, "return_when", "must be FIRST_COMPLETED, "
		    "FIRST_EXCEPTION or ALL_COMPLETED");
	}
}

static void
test_wait_ids(void **state)
{
	wait_bad("{}", "ids", "required");
	wait_bad("{'timeout':5,'return_when':'FIRST_COMPLETED'}", "ids",
	    "required");
	wait_bad("{'ids':null}", "ids", "must be an array of task ids");
	wait_bad("{'ids':1}", "ids", "must be an array of task ids");
	wait_bad("{'ids':'1,2'}", "ids", "must be an array of task ids");
	wait_bad("{'ids':{'0':1}}", "ids", "must be an array of task ids");
	wait_bad("{'ids':[1,2,'3']}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[1,2,0]}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[1,2,1.5]}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[1,2,3.0]}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[1,2,null]}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[1,2,[3]]}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[1,2,9007199254740992]}", "ids[2]", ID_REASON);
	wait_bad("{'ids':[-1]}", "ids[0]", ID_REASON);
	/* The first bad member is the one reported. */
	wait_bad("{'ids':[1,'x',0]}", "ids[1]", ID_REASON);
	wait_bad("{'ids':[3,1,3]}", "ids", "id 3 appears twice");
	wait_bad("{'ids':[7,7]}", "ids", "id 7 appears twice");
	wait_bad("{'ids':[1],'id':1}", "id", "unknown parameter");
	wait_bad("{'ids':[1],'returnWhen':'ALL_COMPLETED'}", "returnWhen",
	    "unknown parameter");
}

static void
test_wait_too_many(void **state)
{
	struct fp_invalid	 inv;
	struct fp_wait		 w;
	json_t			*p;

	p = json_pack("{s:o}", "ids", ids_n(10000));
	assert_int_equal(fp_wait_parse(p, 60, &w, &inv), 0);
	assert_int_equal(w.n_ids, 10000);
	assert_int_equal(w.ids[9999], 10000);
	fp_wait_clear(&w);
	json_decref(p);

	p = json_pack("{s:o}", "ids", ids_n(10001));
	assert_invalid(fp_wait_parse(p, 60, &w, &inv), inv, "ids",
	    "at most 10000 ids");
	assert_null(w.ids);
	json_decref(p);
}

static void
test_wait_timeout(void **state)
{
	static const struct {
		const char	*json;
		double		 want;
	} t[] = {
		{ "{'ids':[1]}", 60 },
		{ "{'ids':[1],'timeout':null}", 60 },
		{ "{'ids':[1],'timeout':0}", 0 },
		{ "{'ids':[1],'timeout':5}", 5 },
		{ "{'ids':[1],'timeout':0.25}", 0.25 },
		{ "{'ids':[1],'timeout':1000}", 60 },
	};
	struct fp_invalid	 inv;
	struct fp_wait		 w;
	json_t			*p;
	size_t			 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		p = js(t[i].json);
		assert_int_equal(fp_wait_parse(p, 60, &w, &inv), 0);
		if (w.timeout != t[i].want)
			fail_msg("%s: timeout %g, want %g", t[i].json,
			    w.timeout, t[i].want);
		fp_wait_clear(&w);
		json_decref(p);
	}
	wait_bad("{'ids':[1],'timeout':-1}", "timeout",
	    "must not be negative");
	wait_bad("{'ids':[1],'timeout':'1'}", "timeout",
	    "must be a number of seconds or null");
}

/* ---- fp_list_parse, cursors ---- */

#define list_ok(text, l) list_ok_at((text), (l), __FILE__, __LINE__)

/* Parses valid task.list params; returns them (l borrows from them). */
static json_t *
list_ok_at(const char *text, struct fp_list *l, const char *file, int line)
{
	struct fp_invalid	 inv;
	json_t			*p = js(text);
	int			 rc = fp_list_parse(p, l, &inv);

	if (rc != 0) {
		print_error("%s: %s: %s\n", text, inv.field, inv.reason);
		json_decref(p);
		_fail(file, line);
	}
	return p;
}

#define list_bad(text, field, reason) list_bad_at((text), (field), \
	(reason), __FILE__, __LINE__)

static void
list_bad_at(const char *text, const char *field, const char *reason,
    const char *file, int line)
{
	struct fp_invalid	 inv;
	struct fp_list		 l;
	json_t			*p = js(text);
	int			 rc = fp_list_parse(p, &l, &inv);

	json_decref(p);
	invalid_check(rc, &inv, field, reason, file, line);
}

static void
test_list_defaults(void **state)
{
	struct fp_list	 l;
	json_t		*p;

	memset(&l, 0xa5, sizeof l);
	p = list_ok("{}", &l);
	assert_int_equal(l.has_state, 0);
	assert_null(l.queue);
	assert_null(l.label);
	assert_int_equal(l.unretrieved, 0);
	assert_int_equal(l.limit, FP_LIST_DEFAULT);
	assert_int_equal(l.limit, 100);
	assert_int_equal(l.cursor, 0);
	json_decref(p);

	p = list_ok("{'state':null,'queue':null,'label':null,"
	    "'unretrieved':null,'limit':null,'cursor':null}", &l);
	assert_int_equal(l.has_state, 0);
	assert_null(l.queue);
	assert_null(l.label);
	assert_int_equal(l.unretrieved, 0);
	assert_int_equal(l.limit, 100);
	assert_int_equal(l.cursor, 0);
	json_decref(p);
}

#define STATE_REASON	"must be pending, running, succeeded, failed or " \
	"cancelled"

static void
test_list_state(void **state)
{
	static const char *const names[] = { "pending", "running",
	    "succeeded", "failed", "cancelled" };
	static const enum fp_state states[] = { FP_PENDING, FP_RUNNING,
	    FP_SUCCEEDED, FP_FAILED, FP_CANCELLED };
	struct fp_list	 l;
	json_t		*p;
	char		 text[64];
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(text, sizeof text, "{'state':'%s'}", names[i]);
		p = list_ok(text, &l);
		assert_int_equal(l.has_state, 1);
		assert_int_equal(l.state, states[i]);
		json_decref(p);
	}
	list_bad("{'state':'done'}", "state", STATE_REASON);
	list_bad("{'state':'PENDING'}", "state", STATE_REASON);
	list_bad("{'state':''}", "state", STATE_REASON);
	list_bad("{'state':0}", "state", STATE_REASON);
	list_bad("{'state':['pending']}", "state", STATE_REASON);
}

static void
test_list_queue(void **state)
{
	struct fp_list	 l;
	json_t		*p;

	p = list_ok("{'queue':'builds'}", &l);
	assert_ptr_equal(l.queue,
	    json_string_value(json_object_get(p, "queue")));
	assert_string_equal(l.queue, "builds");
	json_decref(p);

	list_bad("{'queue':5}", "queue", "must be a string without NUL");
	list_bad("{'queue':['a']}", "queue", "must be a string without NUL");
}

#define K16 "kkkkkkkkkkkkkkkk"
#define K64 K16 K16 K16 K16

static void
test_list_label(void **state)
{
	struct fp_invalid	 inv;
	struct fp_list		 l;
	json_t			*p;

	p = list_ok("{'label':{'env':'prod','team':'a'}}", &l);
	assert_ptr_equal(l.label, json_object_get(p, "label"));
	json_decref(p);

	p = list_ok("{'label':{}}", &l);
	assert_ptr_equal(l.label, json_object_get(p, "label"));
	json_decref(p);

	/* 64-byte names are the longest allowed. */
	p = list_ok("{'label':{'" K64 "':'v'}}", &l);
	json_decref(p);
	assert_int_equal(strlen(K64), 64);
	list_bad("{'label':{'" K64 "k':'v'}}", "label." K64 "k",
	    "names are 1 to 64 bytes");

	list_bad("{'label':'env=prod'}", "label",
	    "must be an object of string values");
	list_bad("{'label':[['env','prod']]}", "label",
	    "must be an object of string values");
	list_bad("{'label':{'env':1}}", "label.env",
	    "must be a string without NUL");
	list_bad("{'label':{'env':null}}", "label.env",
	    "must be a string without NUL");
	list_bad("{'label':{'env':'a\\u0000b'}}", "label.env",
	    "must be a string without NUL");
	list_bad("{'label':{'':'x'}}", "label.", "names are 1 to 64 bytes");

	p = json_pack("{s:o}", "label", labels_n(64));
	assert_int_equal(fp_list_parse(p, &l, &inv), 0);
	json_decref(p);
	p = json_pack("{s:o}", "label", labels_n(65));
	assert_invalid(fp_list_parse(p, &l, &inv), inv, "label",
	    "at most 64 labels");
	json_decref(p);
}

static void
test_list_unretrieved(void **state)
{
	struct fp_list	 l;
	json_t		*p;

	p = list_ok("{'unretrieved':true}", &l);
	assert_int_equal(l.unretrieved, 1);
	json_decref(p);
	p = list_ok("{'unretrieved':false}", &l);
	assert_int_equal(l.unretrieved, 0);
	json_decref(p);

	list_bad("{'unretrieved':1}", "unretrieved", "must be a boolean");
	list_bad("{'unretrieved':'true'}", "unretrieved", "must be a boolean");
}

#define LIMIT_REASON	"must be an integer from 1 to 1000"

static void
test_list_limit(void **state)
{
	struct fp_list	 l;
	json_t		*p;

	p = list_ok("{'limit':1}", &l);
	assert_int_equal(l.limit, 1);
	json_decref(p);
	p = list_ok("{'limit':1000}", &l);
	assert_int_equal(l.limit, FP_LIST_MAX);
	json_decref(p);
	p = list_ok("{'limit':250}", &l);
	assert_int_equal(l.limit, 250);
	json_decref(p);

	list_bad("{'limit':0}", "limit", LIMIT_REASON);
	list_bad("{'limit':1001}", "limit", LIMIT_REASON);
	list_bad("{'limit':-1}", "limit", LIMIT_REASON);
	list_bad("{'limit':4294967297}", "limit", LIMIT_REASON);
	list_bad("{'limit':1.5}", "limit", LIMIT_REASON);
	list_bad("{'limit':10.0}", "limit", LIMIT_REASON);
	list_bad("{'limit':'10'}", "limit", LIMIT_REASON);
	list_bad("{'limit':true}", "limit", LIMIT_REASON);
}

static void
test_cursor_create(void **state)
{
	json_t	*c;

	c = fp_cursor_create(42);
	assert_json(c, "'c42'");
	json_decref(c);
	c = fp_cursor_create(1);
	assert_json(c, "'c1'");
	json_decref(c);
	c = fp_cursor_create(FP_ID_LIMIT - 1);
	assert_json(c, "'c9007199254740991'");
	json_decref(c);
}

#define CURSOR_REASON	"not a cursor from task.list"

static void
test_list_cursor(void **state)
{
	static const int64_t ids[] = { 1, 2, 42, 1000000, FP_ID_LIMIT - 1 };
	static const char *const bad[] = { "'42'", "''", "'c'", "'c0'",
	    "'c-1'", "'c+1'", "'c 1'", "'c1 '", "'c1x'", "'c1.5'", "'x1'",
	    "'C1'", "'cc1'", "'c9007199254740993'",
	    "'c99999999999999999999'", "42", "true", "['c1']", "{}" };
	struct fp_list	 l;
	json_t		*p;
	char		 text[128];
	size_t		 i;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		p = json_pack("{s:o}", "cursor", fp_cursor_create(ids[i]));
		assert_non_null(p);
		l.cursor = -1;
		assert_int_equal(fp_list_parse(p, &l, &(struct fp_invalid){0}),
		    0);
		assert_int_equal(l.cursor, ids[i]);
		json_decref(p);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{'cursor':%s}", bad[i]);
		list_bad(text, "cursor", CURSOR_REASON);
	}
}

#define list_refused(text, field) list_refused_at((text), (field), \
	__FILE__, __LINE__)

/* text is refused for field, whatever the reason. */
static void
list_refused_at(const char *text, const char *field, const char *file,
    int line)
{
	struct fp_invalid	 inv;
	struct fp_list		 l;
	json_t			*p = js(text);
	int			 rc = fp_list_parse(p, &l, &inv);

	json_decref(p);
	_assert_int_equal(rc, -1, file, line);
	_assert_string_equal(inv.field, field, file, line);
}

static void
test_list_nul(void **state)
{
	/*
	 * strcmp(), strtoll() and a C-string queue stop at a NUL that the
	 * JSON string goes on past: "pending\0x" would list pending tasks.
	 */
	list_refused("{'state':'pending\\u0000x'}", "state");
	list_refused("{'cursor':'c1\\u0000'}", "cursor");
	list_refused("{'queue':'default\\u0000x'}", "queue");
}

static void
test_list_everything(void **state)
{
	struct fp_list	 l;
	json_t		*p;

	p = list_ok("{'state':'failed','queue':'q','label':{'a':'b'},"
	    "'unretrieved':true,'limit':10,'cursor':'c77'}", &l);
	assert_int_equal(l.has_state, 1);
	assert_int_equal(l.state, FP_FAILED);
	assert_string_equal(l.queue, "q");
	assert_json(l.label, "{'a':'b'}");
	assert_int_equal(l.unretrieved, 1);
	assert_int_equal(l.limit, 10);
	assert_int_equal(l.cursor, 77);
	json_decref(p);
}

static void
test_list_unknown(void **state)
{
	list_bad("{'sort':'asc'}", "sort", "unknown parameter");
	list_bad("{'state':'pending','offset':5}", "offset",
	    "unknown parameter");
	list_bad("{'labels':{}}", "labels", "unknown parameter");
}

/* ---- fp-future.c ---- */

/*
 * Parses params with the parser of task.cancel (which 0), set_result (1),
 * set_exception (2) or as_completed (3), wanting a refusal naming field.
 */
static void
future_bad(const char *params, int which, const char *field)
{
	struct fp_as_completed	 ac;
	struct fp_invalid	 inv;
	const char		*m;
	json_t			*p = js(params), *out = NULL;
	int64_t			 id;
	int			 r;

	memset(&inv, 0, sizeof inv);
	if (which == 0)
		r = fp_cancel_parse(p, &id, &m, &inv);
	else if (which == 3) {
		r = fp_as_completed_parse(p, 60, &ac, &inv);
		if (r == 0)
			fp_as_completed_clear(&ac);
	} else
		r = fp_resolve_parse(p, which == 2, &id, &out, &inv);
	if (r != -1)
		fail_msg("%s: accepted", params);
	assert_null(out);
	assert_string_equal(inv.field, field);
	json_decref(p);
}

static void
test_cancel_parse(void **state)
{
	struct fp_invalid	 inv;
	const char		*m;
	json_t			*p, *e;
	int64_t			 id;

	p = js("{'id':5,'message':'superseded'}");
	assert_int_equal(fp_cancel_parse(p, &id, &m, &inv), 0);
	assert_int_equal(id, 5);
	assert_string_equal(m, "superseded");
	e = fp_cancelled_exception(m);
	assert_json(e, "{'type':'CancelledError','message':'superseded'}");
	json_decref(e);
	json_decref(p);
	p = js("{'id':5,'message':null}");
	assert_int_equal(fp_cancel_parse(p, &id, &m, &inv), 0);
	assert_null(m);
	assert_null(fp_cancelled_exception(m));
	json_decref(p);
	future_bad("{'id':5,'message':7}", 0, "message");
	future_bad("{'id':5,'message':'a\\u0000b'}", 0, "message");
	future_bad("{'id':5,'why':'x'}", 0, "why");
	future_bad("{'message':'x'}", 0, "id");
}

static void
test_resolve_parse(void **state)
{
	struct fp_invalid	 inv;
	json_t			*p, *out;
	int64_t			 id;

	p = js("{'id':9,'result':{'a':[1]}}");
	assert_int_equal(fp_resolve_parse(p, 0, &id, &out, &inv), 0);
	assert_int_equal(id, 9);
	assert_json(out, "{'a':[1]}");
	json_decref(out);
	json_decref(p);
	p = js("{'id':9}");
	assert_int_equal(fp_resolve_parse(p, 0, &id, &out, &inv), 0);
	assert_json(out, "null");
	json_decref(out);
	json_decref(p);
	p = js("{'id':9,'type':'app.Denied_2','message':'no','data':"
	    "{'by':'x','message':'lost'}}");
	assert_int_equal(fp_resolve_parse(p, 1, &id, &out, &inv), 0);
	assert_json(out, "{'by':'x','type':'app.Denied_2','message':'no'}");
	json_decref(out);
	json_decref(p);
	future_bad("{'id':9,'type':'T'}", 2, "message");
	future_bad("{'id':9,'message':'m','type':'a b'}", 2, "type");
	future_bad("{'id':9,'message':'m','type':''}", 2, "type");
	future_bad("{'id':9,'message':'m','type':3}", 2, "type");
	future_bad("{'id':9,'message':'m','data':'x'}", 2, "data");
	future_bad("{'id':9,'message':['m']}", 2, "message");
	future_bad("{'id':9,'result':1}", 2, "result");
	future_bad("{'id':9,'message':'m'}", 1, "message");
	future_bad("{'id':0,'result':1}", 1, "id");
}

static void
test_as_completed_cursor(void **state)
{
	struct fp_as_completed	 ac, back;
	struct fp_invalid	 inv;
	json_t			*p, *cursor;
	size_t			 i;

	p = js("{'ids':[1,2,3,4,5]}");
	assert_int_equal(fp_as_completed_parse(p, 60, &ac, &inv), 0);
	json_decref(p);
	for (i = 0; i < 5; i++)
		assert_int_equal(fp_as_completed_seen(&ac, i), 0);
	fp_as_completed_mark(&ac, 1);
	fp_as_completed_mark(&ac, 4);
	cursor = fp_as_completed_cursor(&ac);
	/* h, 8 hex digits naming the ids in their order, 4 ids a digit */
	assert_int_equal(strlen(json_string_value(cursor)), 1 + 8 + 2);
	assert_int_equal(json_string_value(cursor)[0], 'h');
	assert_string_equal(json_string_value(cursor) + 9, "21");
	/* the same ids in another order, or others: not its cursor */
	p = json_pack("{s:[iiiii],s:O}", "ids", 2, 1, 3, 4, 5, "cursor",
	    cursor);
	assert_int_equal(fp_as_completed_parse(p, 60, &back, &inv), -1);
	assert_string_equal(inv.field, "cursor");
	json_decref(p);
	p = json_pack("{s:[iiiii],s:O}", "ids", 1, 2, 3, 4, 6, "cursor",
	    cursor);
	assert_int_equal(fp_as_completed_parse(p, 60, &back, &inv), -1);
	json_decref(p);
	p = json_pack("{s:[iiiii],s:o}", "ids", 1, 2, 3, 4, 5, "cursor",
	    cursor);
	assert_int_equal(fp_as_completed_parse(p, 60, &back, &inv), 0);
	json_decref(p);
	for (i = 0; i < 5; i++)
		assert_int_equal(fp_as_completed_seen(&back, i), i == 1 ||
		    i == 4);
	fp_as_completed_clear(&back);
	fp_as_completed_clear(&ac);
	future_bad("{'ids':[1,2,3,4,5],'cursor':'h2'}", 3, "cursor");
	future_bad("{'ids':[1,2,3,4,5],'cursor':'h213'}", 3, "cursor");
	future_bad("{'ids':[1,2,3,4,5],'cursor':'h22'}", 3, "cursor");
	future_bad("{'ids':[1,2,3,4,5],'cursor':'h2G'}", 3, "cursor");
	future_bad("{'ids':[1,2,3,4,5],'cursor':'x21'}", 3, "cursor");
	future_bad("{'ids':[1,2],'cursor':1}", 3, "cursor");
	future_bad("{'ids':[1,1]}", 3, "ids");
	future_bad("{'cursor':'h0'}", 3, "cursor");
	future_bad("{'ids':[1],'group':2}", 3, "group");
	future_bad("{'group':0}", 3, "group");
	future_bad("{'label':{}}", 3, "label");
	future_bad("{'label':['a']}", 3, "label");
	future_bad("{'label':{'a':'b'},'group':1}", 3, "group");
	future_bad("{'label':{'a':'b'},'ids':[1]}", 3, "label");
	future_bad("{'ids':[1],'return_when':'ALL_COMPLETED'}", 3,
	    "return_when");
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_invalid_set),
		T(test_id_parse),
		T(test_params_only),
		T(test_params_id),
		T(test_timeout_parse),
		T(test_seconds_parse),
		T(test_ids_array),
		T(test_wait_parse),
		T(test_cancel_parse),
		T(test_resolve_parse),
		T(test_as_completed_cursor),
		T(test_wait_return_when),
		T(test_wait_ids),
		T(test_wait_too_many),
		T(test_wait_timeout),
		T(test_list_defaults),
		T(test_list_state),
		T(test_list_queue),
		T(test_list_label),
		T(test_list_unretrieved),
		T(test_list_limit),
		T(test_cursor_create),
		T(test_list_cursor),
		T(test_list_nul),
		T(test_list_everything),
		T(test_list_unknown),
	};

	json_set_alloc_funcs(count_malloc, count_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
