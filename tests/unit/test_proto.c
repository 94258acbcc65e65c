/*
 * test_proto.c: allocation failure across libfuture-proto (jansson's
 * test_chaos).
 *
 * Each case runs one function with jansson's allocator failing after N
 * allocations, for N = 0, 1, ... until a run needs no more than N.  Every
 * run must either fail cleanly (NULL or -1, nothing leaked) or return the
 * complete, correct result: a value with a member silently missing is a
 * bug, since the daemon would send it to a client as if it were whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto.h"

#define CHAOS_MAX	10000	/* no case needs this many allocations */

static long	fail_at = -1;	/* first allocation to refuse; -1: none */
static int	fail_once;	/* refuse only that one, not all after it */
static long	count;		/* allocations asked for this run */
static int	refused;	/* an allocation was refused this run */
static size_t	live;		/* jansson allocations not yet freed */

static void *
chaos_malloc(size_t n)
{
	void	*p;
	long	 i = count++;

	if (fail_at >= 0 && (i == fail_at || (!fail_once && i > fail_at))) {
		refused = 1;
		return NULL;
	}
	if ((p = malloc(n)) != NULL)
		live++;
	return p;
}

static void
chaos_free(void *p)
{
	if (p != NULL)
		live--;
	free(p);
}

/* Allows n allocations, then refuses the next (fail_once) or all. */
static void
chaos_start(long n)
{
	fail_at = n;
	count = 0;
	refused = 0;
}

static void
chaos_stop(void)
{
	fail_at = -1;
}

/* Parses test JSON written with ' for " (never under chaos). */
static json_t *
js(const char *text)
{
	char		 buf[4096];
	json_error_t	 e;
	json_t		*j;
	size_t		 i;

	assert_true(fail_at == -1);
	assert_true(strlen(text) < sizeof buf);
	for (i = 0; text[i] != '\0'; i++)
		buf[i] = text[i] == '\'' ? '"' : text[i];
	buf[i] = '\0';
	j = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

static int	problems;	/* wrong results and leaks this loop */

/* Reports one problem of the current case (the first few in full). */
static void
chaos_problem(const char *what, long n, const char *fmt, ...)
{
	va_list	ap;
	char	msg[2048];

	if (++problems > 10)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_error("%s with allocation %ld refused%s %s\n", what, n,
	    fail_once ? "" : " (and all after it)", msg);
}

/* A result returned under chaos must be whole: equal to want. */
static void
chaos_check(json_t *got, const char *want, const char *what, long n)
{
	json_t	*w = js(want);
	char	*g;
	int	 eq = json_equal(got, w);

	json_decref(w);
	if (eq)
		return;
	g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	chaos_problem(what, n, "returned an incomplete result:\n  got  %s\n"
	    "  want %s", g != NULL ? g : "NULL", want);
	chaos_free(g);		/* json_dumps allocates with jansson */
}

/*
 * A case runs the function under test with n allocations allowed, checks
 * what it returned, frees everything and returns 0 on success or -1 when
 * the function failed cleanly.
 */
typedef int (*chaos_case)(long n);

/*
 * Runs a case with allocation n refused, for n = 0, 1, ... until a run
 * refuses nothing: first refusing every allocation from n on (the process
 * is out of memory), then refusing allocation n alone (a transient
 * failure, which finds ignored return values).
 */
static void
chaos_loop(const char *what, chaos_case run)
{
	size_t	before;
	long	n;
	int	rc;

	problems = 0;
	for (fail_once = 0; fail_once <= 1; fail_once++) {
		for (n = 0; n < CHAOS_MAX; n++) {
			before = live;
			rc = run(n);
			if (live != before)
				chaos_problem(what, n, "leaked %ld "
				    "allocation(s)", (long)live - (long)before);
			if (!refused) {
				if (rc != 0)
					fail_msg("%s failed with no allocation "
					    "refused", what);
				break;
			}
		}
		if (n == CHAOS_MAX)
			fail_msg("%s still refused an allocation at %ld",
			    what, n);
	}
	fail_once = 0;
	if (problems > 0)
		fail_msg("%s: %d problem(s) under allocation failure", what,
		    problems);
}

/* ---- fp-submit.c ---- */

#define EXEC_PARAMS "{'kind':'exec','argv':['ls','-l'],'env':{'A':'1'," \
	"'B':'2'},'cwd':'/tmp','capture':'text','queue':'q','priority':3," \
	"'timeout':5,'key':'k','after':[1,2],'labels':{'a':'b','c':'d'}}"
#define EXEC_SPEC "{'kind':'exec','argv':['ls','-l'],'env':{'A':'1'," \
	"'B':'2'},'cwd':'/tmp','capture':'text'}"

static int
run_submit_exec(long n)
{
	struct fp_submit	 s;
	struct fp_invalid	 inv;
	json_t			*p = js(EXEC_PARAMS);
	int			 rc;

	chaos_start(n);
	rc = fp_submit_parse(p, &s, &inv);
	chaos_stop();
	if (rc == 0) {
		chaos_check(s.spec, EXEC_SPEC, "fp_submit_parse spec", n);
		chaos_check(s.labels, "{'a':'b','c':'d'}",
		    "fp_submit_parse labels", n);
		assert_int_equal(s.n_after, 2);
		assert_int_equal(s.after[0], 1);
		assert_int_equal(s.after[1], 2);
		assert_string_equal(s.queue, "q");
		assert_string_equal(s.key, "k");
		fp_submit_clear(&s);
	} else {
		/* Nothing left for the caller to free. */
		assert_int_equal(rc, -1);
		assert_null(s.spec);
		assert_null(s.labels);
		assert_null(s.after);
	}
	json_decref(p);
	return rc;
}

static void
test_chaos_submit_exec(void **state)
{
	chaos_loop("fp_submit_parse(exec)", run_submit_exec);
}

static int
run_submit_sleep(long n)
{
	struct fp_submit	 s;
	struct fp_invalid	 inv;
	json_t			*p;
	int			 rc;

	p = js("{'kind':'sleep','seconds':1,'result':{'x':[1,2,3]}}");
	chaos_start(n);
	rc = fp_submit_parse(p, &s, &inv);
	chaos_stop();
	if (rc == 0) {
		chaos_check(s.spec, "{'kind':'sleep','seconds':1,"
		    "'result':{'x':[1,2,3]}}", "fp_submit_parse spec", n);
		chaos_check(s.labels, "{}", "fp_submit_parse labels", n);
		fp_submit_clear(&s);
	} else {
		/* Nothing left for the caller to free. */
		assert_int_equal(rc, -1);
		assert_null(s.spec);
		assert_null(s.labels);
		assert_null(s.after);
	}
	json_decref(p);
	return rc;
}

static void
test_chaos_submit_sleep(void **state)
{
	chaos_loop("fp_submit_parse(sleep)", run_submit_sleep);
}

/* ---- fp-envelope.c ---- */

static int
run_response_error(long n)
{
	json_t	*id = json_integer(3), *r;
	json_t	*data = json_pack("{s:s,s:s}", "field", "argv[2]", "reason",
	    "must be a string");

	chaos_start(n);
	r = fp_response_error(id, FP_ERR_INVALID_PARAMS, NULL, data);
	chaos_stop();
	json_decref(id);
	if (r == NULL)
		return -1;
	chaos_check(r, "{'jsonrpc':'2.0','id':3,'error':{'code':-32602,"
	    "'message':'Invalid params','data':{'field':'argv[2]',"
	    "'reason':'must be a string'}}}", "fp_response_error", n);
	json_decref(r);
	return 0;
}

static void
test_chaos_response_error(void **state)
{
	chaos_loop("fp_response_error", run_response_error);
}

static int
run_response_result(long n)
{
	json_t	*id = json_string("r1"), *r;
	json_t	*result = js("{'done':[1,2],'pending':[3]}");

	chaos_start(n);
	r = fp_response_result(id, result);
	chaos_stop();
	json_decref(id);
	if (r == NULL)
		return -1;
	chaos_check(r, "{'jsonrpc':'2.0','id':'r1','result':{'done':[1,2],"
	    "'pending':[3]}}", "fp_response_result", n);
	json_decref(r);
	return 0;
}

static void
test_chaos_response_result(void **state)
{
	chaos_loop("fp_response_result", run_response_result);
}

static int
run_request_create(long n)
{
	json_t	*params = js("{'ids':[1,2],'timeout':5}"), *r;

	chaos_start(n);
	r = fp_request_create(FP_TASK_WAIT, params, 7);
	chaos_stop();
	if (r == NULL)
		return -1;
	chaos_check(r, "{'jsonrpc':'2.0','method':'task.wait','params':"
	    "{'ids':[1,2],'timeout':5},'id':7}", "fp_request_create", n);
	json_decref(r);
	return 0;
}

static void
test_chaos_request_create(void **state)
{
	chaos_loop("fp_request_create", run_request_create);
}

static int
run_request_parse(long n)
{
	struct fp_request	 req;
	json_t			*member, *error = NULL;
	int			 rc;

	member = js("{'jsonrpc':'2.0','method':'task.get','params':[1],"
	    "'id':'abc'}");
	chaos_start(n);
	rc = fp_request_parse(member, &req, &error);
	chaos_stop();
	assert_int_equal(rc, -1);
	json_decref(member);
	if (error == NULL)
		return -1;
	chaos_check(error, "{'jsonrpc':'2.0','id':'abc','error':{'code':"
	    "-32602,'message':'Invalid params','data':{'field':'params',"
	    "'reason':'params are by name: send an object'}}}",
	    "fp_request_parse's error", n);
	json_decref(error);
	return 0;
}

static void
test_chaos_request_parse(void **state)
{
	chaos_loop("fp_request_parse", run_request_parse);
}

/* ---- fp-task.c, fp-params.c ---- */

#define TASK_BASE "'id':42,'kind':'exec','queue':'default','priority':1," \
	"'key':'k','spec':{'kind':'exec','argv':['false']},'labels':" \
	"{'team':'a'},'max_retries':2,'created_at':" \
	"'2023-11-14T22:13:20.000Z','started_at':'2023-11-14T22:13:21.000Z'," \
	"'finished_at':'2023-11-14T22:13:22.000Z','after':[7]," \
	"'not_before':'2030-01-01T00:00:00.000Z','timeout':5.0"

/* Integers as text: the extremes, signs and every digit count. */
static void
test_text_int(void **state)
{
	static const int64_t	 v[] = { 0, 7, -7, 10, -10, 999, 1000,
	    INT64_MAX, INT64_MIN, -1, 1700000000 };
	struct fp_text		 text = { 0 };
	char			 want[32], *s;
	size_t			 i, len;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		fp_text_int(&text, v[i]);
		s = fp_text_take(&text, &len);
		snprintf(want, sizeof want, "%lld", (long long)v[i]);
		assert_non_null(s);
		assert_int_equal(len, strlen(want));
		assert_string_equal(s, want);
		free(s);
	}
}

static int
run_task(long n, enum fp_state st, const char *want)
{
	struct fp_task	 t;
	struct fp_text	 text = { 0 };
	json_t		*o;
	size_t		 len;
	char		*s;

	memset(&t, 0, sizeof t);
	t.id = 42;
	t.kind = "exec";
	t.state = st;
	t.queue = "default";
	t.priority = 1;
	t.key = "k";
	t.spec.json = js("{'kind':'exec','argv':['false']}");
	t.labels.json = js("{'team':'a'}");
	t.attempt = 3;
	t.max_retries = 2;
	t.created_at = 1700000000;
	t.started_at = 1700000001;
	t.finished_at = 1700000002;
	t.result.json = js("{'exit_code':0}");
	t.exception.json = js("{'type':'ProcessError','message':'exit 1'}");
	t.retrieved = 1;
	t.after.json = js("[7]");
	t.not_before = 1893456000;
	t.timeout = 5;
	chaos_start(n);
	fp_task_write(&text, &t);
	s = fp_text_take(&text, &len);
	chaos_stop();
	json_decref(t.spec.json);
	json_decref(t.labels.json);
	json_decref(t.result.json);
	json_decref(t.exception.json);
	json_decref(t.after.json);
	if (s == NULL)
		return -1;
	o = json_loadb(s, len, 0, NULL);
	free(s);
	chaos_check(o, want, "fp_task_write", n);
	json_decref(o);
	return 0;
}

static int
run_task_succeeded(long n)
{
	return run_task(n, FP_SUCCEEDED, "{" TASK_BASE ",'state':'succeeded',"
	    "'attempt':3,'result':{'exit_code':0}}");
}

static int
run_task_failed(long n)
{
	return run_task(n, FP_FAILED, "{" TASK_BASE ",'state':'failed',"
	    "'attempt':3,'exception':{'type':'ProcessError','message':"
	    "'exit 1'},'retrieved':true}");
}

static void
test_chaos_task_succeeded(void **state)
{
	chaos_loop("fp_task_write(succeeded)", run_task_succeeded);
}

static void
test_chaos_task_failed(void **state)
{
	chaos_loop("fp_task_write(failed)", run_task_failed);
}

static int
run_exception_create(long n)
{
	json_t	*e;

	chaos_start(n);
	e = fp_exception_create("TimeoutError", "after %d s", 5);
	chaos_stop();
	if (e == NULL)
		return -1;
	chaos_check(e, "{'type':'TimeoutError','message':'after 5 s'}",
	    "fp_exception_create", n);
	json_decref(e);
	return 0;
}

static void
test_chaos_exception_create(void **state)
{
	chaos_loop("fp_exception_create", run_exception_create);
}

static int
run_small(long n)
{
	struct fp_invalid	 inv;
	json_t			*c, *d, *s;

	fp_invalid_set(&inv, "env.A", "must be a string");
	chaos_start(n);
	c = fp_cursor_create(77);
	d = fp_invalid_data(&inv);
	s = fp_string_from_bytes("a\xff", 2);
	chaos_stop();
	if (c != NULL)
		chaos_check(c, "'c77'", "fp_cursor_create", n);
	if (d != NULL)
		chaos_check(d, "{'field':'env.A','reason':'must be a string'}",
		    "fp_invalid_data", n);
	if (s != NULL)
		chaos_check(s, "'a\\ufffd'", "fp_string_from_bytes", n);
	json_decref(c);
	json_decref(d);
	json_decref(s);
	return c != NULL && d != NULL && s != NULL ? 0 : -1;
}

static void
test_chaos_small(void **state)
{
	chaos_loop("fp_cursor_create, fp_invalid_data, fp_string_from_bytes",
	    run_small);
}

static int
run_wait_list(long n)
{
	struct fp_invalid	 inv;
	struct fp_wait		 w;
	struct fp_list		 l;
	json_t			*wp, *lp;
	int			 rc;

	wp = js("{'ids':[3,1],'return_when':'FIRST_COMPLETED','timeout':1}");
	lp = js("{'state':'failed','label':{'a':'b'},'limit':5,"
	    "'cursor':'c9'}");
	chaos_start(n);
	rc = fp_wait_parse(wp, 60, &w, &inv);
	if (rc == 0 && fp_list_parse(lp, &l, &inv) == -1)
		rc = -1;
	chaos_stop();
	if (rc == 0) {
		assert_int_equal(w.n_ids, 2);
		assert_int_equal(w.ids[0], 3);
		assert_int_equal(w.ids[1], 1);
		assert_int_equal(w.return_when, FP_RETURN_FIRST);
		assert_true(l.has_state && l.state == FP_FAILED);
		assert_ptr_equal(l.label, json_object_get(lp, "label"));
		assert_int_equal(l.limit, 5);
		assert_int_equal(l.cursor, 9);
	}
	fp_wait_clear(&w);
	json_decref(wp);
	json_decref(lp);
	return rc;
}

static void
test_chaos_wait_list(void **state)
{
	chaos_loop("fp_wait_parse, fp_list_parse", run_wait_list);
}

/* fp_state_dir_default for the environment given; the result must be d. */
static void
state_dir_is(const char *sd, const char *xdg, const char *home, const char *d)
{
	char	*got;

	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	if (sd != NULL)
		setenv("STATE_DIRECTORY", sd, 1);
	if (xdg != NULL)
		setenv("XDG_STATE_HOME", xdg, 1);
	setenv("HOME", home, 1);
	got = fp_state_dir_default();
	assert_non_null(got);
	assert_string_equal(got, d);
	free(got);
}

/*
 * The default state dir that futured creates and futurectl looks in:
 * systemd's first StateDirectory, then root's fixed one, then XDG (an
 * absolute XDG_STATE_HOME, else ~/.local/state).
 */
static void
test_state_dir_default(void **state)
{
	state_dir_is("/var/lib/a:/var/lib/b", "/x", "/home/u", "/var/lib/a");
	if (geteuid() == 0) {
		state_dir_is(NULL, "/x", "/home/u", "/var/lib/futured");
		return;
	}
	state_dir_is(NULL, "/x", "/home/u", "/x/futured");
	state_dir_is(NULL, "relative", "/home/u", "/home/u/.local/state/futured");
	state_dir_is(NULL, NULL, "/home/u", "/home/u/.local/state/futured");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_dir_default),
		cmocka_unit_test(test_text_int),
		cmocka_unit_test(test_chaos_submit_exec),
		cmocka_unit_test(test_chaos_submit_sleep),
		cmocka_unit_test(test_chaos_response_error),
		cmocka_unit_test(test_chaos_response_result),
		cmocka_unit_test(test_chaos_request_create),
		cmocka_unit_test(test_chaos_request_parse),
		cmocka_unit_test(test_chaos_task_succeeded),
		cmocka_unit_test(test_chaos_task_failed),
		cmocka_unit_test(test_chaos_exception_create),
		cmocka_unit_test(test_chaos_small),
		cmocka_unit_test(test_chaos_wait_list),
	};
	int	failed;

	json_set_alloc_funcs(chaos_malloc, chaos_free);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	json_set_alloc_funcs(malloc, free);
	return failed;
}
