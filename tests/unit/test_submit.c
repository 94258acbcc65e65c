/*
 * test_submit.c: proto/fp-submit.c, task.submit validation: every kind,
 * every field, the normalized spec, and fp_submit_clear.
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

#define submit_ok(text, s) submit_ok_at((text), (s), __FILE__, __LINE__)

/* Parses valid params; returns them (s borrows its strings from them). */
static json_t *
submit_ok_at(const char *text, struct fp_submit *s, const char *file,
    int line)
{
	struct fp_invalid	 inv;
	json_t			*p = js(text);
	int			 rc = fp_submit_parse(p, s, &inv);

	if (rc != 0) {
		print_error("%s: %s: %s\n", text, inv.field, inv.reason);
		json_decref(p);
		_fail(file, line);
	}
	return p;
}

#define submit_bad(text, field, reason) submit_bad_json(js(text), (field), \
	(reason), __FILE__, __LINE__)
#define submit_bad_p(p, field, reason) submit_bad_json((p), (field), \
	(reason), __FILE__, __LINE__)

/* p (stolen) is refused with exactly field and reason, s left empty. */
static void
submit_bad_json(json_t *p, const char *field, const char *reason,
    const char *file, int line)
{
	struct fp_invalid	 inv;
	struct fp_submit	 s, zero;
	int			 rc;

	memset(&inv, 0, sizeof inv);
	rc = fp_submit_parse(p, &s, &inv);
	json_decref(p);
	if (rc == 0)
		fp_submit_clear(&s);
	_assert_int_equal(rc, -1, file, line);
	_assert_string_equal(inv.field, field, file, line);
	if (reason != NULL)
		_assert_string_equal(inv.reason, reason, file, line);
	memset(&zero, 0, sizeof zero);
	_assert_true(memcmp(&s, &zero, sizeof s) == 0, "s cleared", file,
	    line);
}

/* Refused for field, whatever the reason. */
#define submit_refused(text, field) submit_bad_json(js(text), (field), NULL, \
	__FILE__, __LINE__)

/* A string of n copies of c (free()). */
static char *
repeat(char c, size_t n)
{
	char	*s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* {kind: exec, argv: ["true"], field: a string of n bytes}. */
static json_t *
exec_with(const char *field, char c, size_t n)
{
	char	*s = repeat(c, n);
	json_t	*p = json_pack("{s:s,s:[s],s:s}", "kind", "exec", "argv",
	    "true", field, s);

	free(s);
	assert_non_null(p);
	return p;
}

/* {kind: sleep, seconds: 1, field: a string of n bytes}. */
static json_t *
sleep_with(const char *field, char c, size_t n)
{
	char	*s = repeat(c, n);
	json_t	*p = json_pack("{s:s,s:i,s:s}", "kind", "sleep", "seconds", 1,
	    field, s);

	free(s);
	assert_non_null(p);
	return p;
}

/* ---- kind ---- */

static void
test_submit_sleep_defaults(void **state)
{
	struct fp_submit	 s, zero;
	json_t			*p;

	p = submit_ok("{'kind':'sleep','seconds':1}", &s);
	assert_string_equal(s.kind, "sleep");
	assert_json(s.spec, "{'kind':'sleep','seconds':1}");
	assert_string_equal(s.queue, "default");
	assert_int_equal(s.priority, 0);
	assert_true(s.timeout < 0);
	assert_true(s.delay == 0);
	assert_true(s.not_before < 0);
	assert_int_equal(s.retries, 0);
	assert_true(s.retry_backoff == 1);
	assert_null(s.key);
	assert_null(s.after);
	assert_int_equal(s.n_after, 0);
	assert_json(s.labels, "{}");
	fp_submit_clear(&s);
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&s, &zero, sizeof s);
	fp_submit_clear(&s);		/* twice is harmless */
	json_decref(p);

	/* Explicit nulls mean "absent" for the common fields. */
	p = submit_ok("{'kind':'sleep','seconds':1,'queue':null,"
	    "'priority':null,'timeout':null,'delay':null,'not_before':null,"
	    "'retries':null,'retry_backoff':null,'key':null,'after':null,"
	    "'labels':null}", &s);
	assert_string_equal(s.queue, "default");
	assert_int_equal(s.priority, 0);
	assert_true(s.timeout < 0);
	assert_true(s.delay == 0);
	assert_true(s.not_before < 0);
	assert_int_equal(s.retries, 0);
	assert_true(s.retry_backoff == 1);
	assert_null(s.key);
	assert_null(s.after);
	assert_json(s.labels, "{}");
	fp_submit_clear(&s);
	json_decref(p);
}

static void
test_submit_sleep_full(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	p = submit_ok("{'kind':'sleep','seconds':1.5,'result':{'a':[1]},"
	    "'queue':'q','priority':5,'timeout':10,'delay':2,'retries':3,"
	    "'retry_backoff':0.5,'key':'k1','after':[4,5],"
	    "'labels':{'x':'y'}}", &s);
	/* The spec is what runs: the kind and its own fields only. */
	assert_json(s.spec, "{'kind':'sleep','seconds':1.5,"
	    "'result':{'a':[1]}}");
	assert_ptr_equal(s.queue,
	    json_string_value(json_object_get(p, "queue")));
	assert_int_equal(s.priority, 5);
	assert_true(s.timeout == 10);
	assert_true(s.delay == 2);
	assert_true(s.not_before < 0);
	assert_int_equal(s.retries, 3);
	assert_true(s.retry_backoff == 0.5);
	assert_ptr_equal(s.key, json_string_value(json_object_get(p, "key")));
	assert_int_equal(s.n_after, 2);
	assert_int_equal(s.after[0], 4);
	assert_int_equal(s.after[1], 5);
	assert_json(s.labels, "{'x':'y'}");
	fp_submit_clear(&s);
	json_decref(p);

	p = submit_ok("{'kind':'sleep','seconds':0,'result':null}", &s);
	/* a null field is absent: it does not enter the spec */
	assert_json(s.spec, "{'kind':'sleep','seconds':0}");
	fp_submit_clear(&s);
	json_decref(p);
}

static void
test_submit_exec_spec(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	p = submit_ok("{'labels':{'a':'b'},'kind':'exec','argv':['ls','-l',''],"
	    "'env':{'PATH':'/bin','EMPTY':''},'cwd':'/tmp','stdin':'',"
	    "'capture':'json','max_output':4096,'queue':'cpu',"
	    "'not_before':'2030-01-01T00:00:00Z','key':'k','after':[1]}", &s);
	assert_string_equal(s.kind, "exec");
	assert_json(s.spec, "{'kind':'exec','argv':['ls','-l',''],"
	    "'env':{'PATH':'/bin','EMPTY':''},'cwd':'/tmp','stdin':'',"
	    "'capture':'json','max_output':4096}");
	assert_string_equal(s.queue, "cpu");
	assert_true(s.not_before == 1893456000.0);
	assert_json(s.labels, "{'a':'b'}");
	fp_submit_clear(&s);
	json_decref(p);

	p = submit_ok("{'kind':'exec','shell':'echo hi | wc -c',"
	    "'capture':'text','max_output':0}", &s);
	assert_json(s.spec, "{'kind':'exec','shell':'echo hi | wc -c',"
	    "'capture':'text','max_output':0}");
	fp_submit_clear(&s);
	json_decref(p);

	p = submit_ok("{'kind':'exec','argv':['true']}", &s);
	assert_json(s.spec, "{'kind':'exec','argv':['true']}");
	fp_submit_clear(&s);
	json_decref(p);
}

static void
test_submit_labels_copied(void **state)
{
	struct fp_submit	 s;
	json_t			*p, *labels;

	p = submit_ok("{'kind':'sleep','seconds':1,'labels':{'a':'b'}}", &s);
	labels = json_object_get(p, "labels");
	assert_ptr_not_equal(s.labels, labels);
	json_object_set_new(labels, "c", json_string("d"));
	assert_json(s.labels, "{'a':'b'}");
	assert_int_equal(s.labels->refcount, 1);
	assert_int_equal(s.spec->refcount, 1);
	fp_submit_clear(&s);
	json_decref(p);
}

static void
test_submit_kind(void **state)
{
	submit_bad("{'seconds':1}", "kind", "required");
	submit_bad("{'kind':null,'seconds':1}", "kind", "required");
	submit_bad("{'kind':5,'seconds':1}", "kind", "must be a string");
	submit_bad("{'kind':['sleep'],'seconds':1}", "kind",
	    "must be a string");
	submit_bad("{'kind':'','seconds':1}", "kind",
	    "must be 1 to 64 bytes long");
	submit_bad("{'kind':'sleep\\u0000','seconds':1}", "kind",
	    "must not contain NUL");
	submit_bad("{'kind':'nope','seconds':1}", "kind",
	    "unknown kind 'nope'");
	submit_bad("{'kind':'SLEEP','seconds':1}", "kind",
	    "unknown kind 'SLEEP'");
	submit_bad("{'kind':'exec '}", "kind", "unknown kind 'exec '");
	submit_bad("{}", "kind", "required");
}

static void
test_submit_unknown_field(void **state)
{
	submit_bad("{'kind':'exec','argv':['true'],'seconds':1}", "seconds",
	    "unknown parameter for kind exec");
	submit_bad("{'kind':'sleep','seconds':1,'argv':['true']}", "argv",
	    "unknown parameter for kind sleep");
	submit_bad("{'kind':'sleep','seconds':1,'shell':'true'}", "shell",
	    "unknown parameter for kind sleep");
	submit_bad("{'kind':'exec','argv':['true'],'result':1}", "result",
	    "unknown parameter for kind exec");
	submit_bad("{'kind':'sleep','seconds':1,'id':3}", "id",
	    "unknown parameter for kind sleep");
	submit_bad("{'kind':'sleep','seconds':1,'Queue':'q'}", "Queue",
	    "unknown parameter for kind sleep");
	submit_bad("{'kind':'sleep','seconds':1,'label':{}}", "label",
	    "unknown parameter for kind sleep");
}

/* ---- exec ---- */

#define ONE_OF		"give exactly one of argv and shell"
#define ARGV_REASON	"must be a non-empty array of strings"

static void
test_submit_exec_command(void **state)
{
	submit_bad("{'kind':'exec'}", "argv", ONE_OF);
	submit_bad("{'kind':'exec','cwd':'/'}", "argv", ONE_OF);
	submit_bad("{'kind':'exec','argv':['ls'],'shell':'ls'}", "shell",
	    ONE_OF);
	submit_bad("{'kind':'exec','argv':[]}", "argv", ARGV_REASON);
	submit_bad("{'kind':'exec','argv':'ls -l'}", "argv", ARGV_REASON);
	submit_bad("{'kind':'exec','argv':{'0':'ls'}}", "argv", ARGV_REASON);
	/* null is absent: no command at all */
	submit_bad("{'kind':'exec','argv':null}", "argv", ONE_OF);
	submit_bad("{'kind':'exec','argv':['ls','-l',3]}", "argv[2]",
	    "must be a string");
	submit_bad("{'kind':'exec','argv':['ls',null]}", "argv[1]",
	    "must be a string");
	submit_bad("{'kind':'exec','argv':[['ls']]}", "argv[0]",
	    "must be a string");
	submit_bad("{'kind':'exec','argv':['ls','a\\u0000b']}", "argv[1]",
	    "must not contain NUL");
	submit_bad("{'kind':'exec','argv':['\\u0000']}", "argv[0]",
	    "must not contain NUL");
	submit_bad("{'kind':'exec','argv':['','x']}", "argv[0]",
	    "must not be empty");
	submit_bad("{'kind':'exec','shell':''}", "shell",
	    "must be 1 to 1048576 bytes long");
	submit_bad("{'kind':'exec','shell':5}", "shell", "must be a string");
	submit_bad("{'kind':'exec','shell':['ls']}", "shell",
	    "must be a string");
	submit_bad("{'kind':'exec','shell':'ls\\u0000rm -rf /'}", "shell",
	    "must not contain NUL");
}

static void
test_submit_exec_argv_nul(void **state)
{
	json_t	*p;

	/* Built with json_stringn, as a client library would send it. */
	p = json_pack("{s:s,s:[s,o]}", "kind", "exec", "argv", "echo",
	    json_stringn("a\0b", 3));
	assert_non_null(p);
	submit_bad_p(p, "argv[1]", "must not contain NUL");

	p = json_pack("{s:s,s:s,s:{s:o}}", "kind", "exec", "shell", "env",
	    "env", "X", json_stringn("1\0", 2));
	assert_non_null(p);
	submit_bad_p(p, "env.X", "must not contain NUL");
}

static void
test_submit_exec_shell_size(void **state)
{
	struct fp_submit	 s;
	json_t			*p;
	char			*big;

	/* 1 MiB of shell is the most. */
	big = repeat('x', 1 << 20);
	p = json_pack("{s:s,s:s}", "kind", "exec", "shell", big);
	free(big);
	assert_int_equal(fp_submit_parse(p, &s, &(struct fp_invalid){0}), 0);
	assert_int_equal(json_string_length(json_object_get(s.spec, "shell")),
	    1 << 20);
	fp_submit_clear(&s);
	json_decref(p);

	big = repeat('x', (1 << 20) + 1);
	p = json_pack("{s:s,s:s}", "kind", "exec", "shell", big);
	free(big);
	submit_bad_p(p, "shell", "must be 1 to 1048576 bytes long");
}

static void
test_submit_exec_shell_null(void **state)
{
	struct fp_invalid	 inv;
	struct fp_submit	 s;
	json_t			*p = js("{'kind':'exec','shell':null}");
	int			 rc;

	/* A null shell is no command at all: nothing to run. */
	rc = fp_submit_parse(p, &s, &inv);
	json_decref(p);
	if (rc == 0) {
		fp_submit_clear(&s);
		fail_msg("{kind: exec, shell: null} accepted with no command");
	}
	assert_true(strcmp(inv.field, "shell") == 0 ||
	    strcmp(inv.field, "argv") == 0);
}

static void
test_submit_exec_env(void **state)
{
	submit_bad("{'kind':'exec','argv':['env'],'env':{'A=B':'x'}}",
	    "env.A=B", "names must be non-empty and contain no '='");
	submit_bad("{'kind':'exec','argv':['env'],'env':{'=':'x'}}",
	    "env.=", "names must be non-empty and contain no '='");
	submit_bad("{'kind':'exec','argv':['env'],'env':{'':'x'}}",
	    "env.", "names must be non-empty and contain no '='");
	submit_bad("{'kind':'exec','argv':['env'],'env':{'A':'1','B':2}}",
	    "env.B", "must be a string");
	submit_bad("{'kind':'exec','argv':['env'],'env':{'A':null}}",
	    "env.A", "must be a string");
	submit_bad("{'kind':'exec','argv':['env'],'env':{'A':true}}",
	    "env.A", "must be a string");
	submit_bad("{'kind':'exec','argv':['env'],"
	    "'env':{'PATH':'/bin\\u0000'}}", "env.PATH",
	    "must not contain NUL");
	submit_bad("{'kind':'exec','argv':['env'],'env':'A=B'}", "env",
	    "must be an object of strings");
	submit_bad("{'kind':'exec','argv':['env'],'env':['A=B']}", "env",
	    "must be an object of strings");
}

static void
test_submit_exec_cwd_stdin(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	submit_bad("{'kind':'exec','argv':['pwd'],'cwd':5}", "cwd",
	    "must be a string");
	submit_bad("{'kind':'exec','argv':['pwd'],'cwd':''}", "cwd",
	    "must be 1 to 4096 bytes long");
	submit_bad("{'kind':'exec','argv':['pwd'],'cwd':'/tmp\\u0000/x'}",
	    "cwd", "must not contain NUL");
	p = exec_with("cwd", 'd', 4096);
	assert_int_equal(fp_submit_parse(p, &s, &(struct fp_invalid){0}), 0);
	fp_submit_clear(&s);
	json_decref(p);
	submit_bad_p(exec_with("cwd", 'd', 4097), "cwd",
	    "must be 1 to 4096 bytes long");

	submit_bad("{'kind':'exec','argv':['cat'],'stdin':5}", "stdin",
	    "must be a string");
	submit_bad("{'kind':'exec','argv':['cat'],'stdin':{'a':1}}", "stdin",
	    "must be a string");
	/* stdin is data, not a C string: NUL is fine. */
	p = submit_ok("{'kind':'exec','argv':['cat'],'stdin':'a\\u0000b'}",
	    &s);
	assert_int_equal(json_string_length(json_object_get(s.spec, "stdin")),
	    3);
	fp_submit_clear(&s);
	json_decref(p);
}

#define MAX_OUTPUT_REASON "must be an integer from 0 to 1073741824 bytes"

static void
test_submit_exec_capture(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	submit_bad("{'kind':'exec','argv':['ls'],'capture':'xml'}", "capture",
	    "must be text or json");
	submit_bad("{'kind':'exec','argv':['ls'],'capture':'TEXT'}",
	    "capture", "must be text or json");
	submit_bad("{'kind':'exec','argv':['ls'],'capture':''}", "capture",
	    "must be 1 to 16 bytes long");
	submit_bad("{'kind':'exec','argv':['ls'],'capture':1}", "capture",
	    "must be a string");
	submit_bad("{'kind':'exec','argv':['ls'],'capture':'json\\u0000'}",
	    "capture", "must not contain NUL");

	p = submit_ok("{'kind':'exec','argv':['ls'],"
	    "'max_output':1073741824}", &s);
	fp_submit_clear(&s);
	json_decref(p);
	submit_bad("{'kind':'exec','argv':['ls'],'max_output':1073741825}",
	    "max_output", MAX_OUTPUT_REASON);
	submit_bad("{'kind':'exec','argv':['ls'],'max_output':-1}",
	    "max_output", MAX_OUTPUT_REASON);
	submit_bad("{'kind':'exec','argv':['ls'],'max_output':1.5}",
	    "max_output", MAX_OUTPUT_REASON);
	submit_bad("{'kind':'exec','argv':['ls'],'max_output':'10'}",
	    "max_output", MAX_OUTPUT_REASON);
	submit_bad("{'kind':'exec','argv':['ls'],"
	    "'max_output':9223372036854775807}", "max_output",
	    MAX_OUTPUT_REASON);
}

/* ---- sleep ---- */

static void
test_submit_sleep_seconds(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	submit_bad("{'kind':'sleep'}", "seconds", "required");
	submit_bad("{'kind':'sleep','result':1}", "seconds", "required");
	submit_bad("{'kind':'sleep','seconds':-1}", "seconds",
	    "must not be negative");
	submit_bad("{'kind':'sleep','seconds':-1e-9}", "seconds",
	    "must not be negative");
	submit_bad("{'kind':'sleep','seconds':'1'}", "seconds",
	    "must be a number of seconds");
	submit_bad("{'kind':'sleep','seconds':'NaN'}", "seconds",
	    "must be a number of seconds");
	submit_bad("{'kind':'sleep','seconds':'Infinity'}", "seconds",
	    "must be a number of seconds");
	submit_bad("{'kind':'sleep','seconds':[1]}", "seconds",
	    "must be a number of seconds");
	submit_bad("{'kind':'sleep','seconds':31622401}", "seconds",
	    "must be at most 31622400");
	submit_bad("{'kind':'sleep','seconds':1e308}", "seconds",
	    "must be at most 31622400");
	submit_bad("{'kind':'sleep','seconds':9223372036854775807}",
	    "seconds", "must be at most 31622400");

	p = submit_ok("{'kind':'sleep','seconds':31622400}", &s);
	fp_submit_clear(&s);
	json_decref(p);
	p = submit_ok("{'kind':'sleep','seconds':0.001}", &s);
	assert_json(s.spec, "{'kind':'sleep','seconds':0.001}");
	fp_submit_clear(&s);
	json_decref(p);
}

static void
test_submit_sleep_seconds_null(void **state)
{
	/* seconds is required: null must not slip into the spec. */
	submit_refused("{'kind':'sleep','seconds':null}", "seconds");
}

/* ---- scheduling ---- */

static void
test_submit_delay_not_before(void **state)
{
	struct fp_submit	 s;
	json_t			*p;
	char			 reason[64];

	p = submit_ok("{'kind':'sleep','seconds':1,'delay':5.5}", &s);
	assert_true(s.delay == 5.5);
	assert_true(s.not_before < 0);
	fp_submit_clear(&s);
	json_decref(p);

	p = submit_ok("{'kind':'sleep','seconds':1,"
	    "'not_before':'2030-01-01T02:00:00+02:00'}", &s);
	assert_true(s.not_before == 1893456000.0);
	assert_true(s.delay == 0);
	fp_submit_clear(&s);
	json_decref(p);

	p = submit_ok("{'kind':'sleep','seconds':1,"
	    "'not_before':'2030-01-01T00:00:00.5Z'}", &s);
	assert_true(s.not_before == 1893456000.5);
	fp_submit_clear(&s);
	json_decref(p);

	submit_bad("{'kind':'sleep','seconds':1,'delay':5,"
	    "'not_before':'2030-01-01T00:00:00Z'}", "not_before",
	    "give delay or not_before, not both");
	submit_bad("{'kind':'sleep','seconds':1,'delay':0,"
	    "'not_before':'2030-01-01T00:00:00Z'}", "not_before",
	    "give delay or not_before, not both");
	submit_bad("{'kind':'sleep','seconds':1,'delay':-1}", "delay",
	    "must not be negative");
	submit_bad("{'kind':'sleep','seconds':1,'delay':'5'}", "delay",
	    "must be a number of seconds");
	submit_bad("{'kind':'sleep','seconds':1,'delay':31622401}", "delay",
	    "must be at most 31622400");
	submit_bad("{'kind':'sleep','seconds':1,'not_before':'tomorrow'}",
	    "not_before", "must be an RFC 3339 timestamp");
	submit_bad("{'kind':'sleep','seconds':1,'not_before':'2030-01-01'}",
	    "not_before", "must be an RFC 3339 timestamp");
	submit_bad("{'kind':'sleep','seconds':1,"
	    "'not_before':'2030-01-01T00:00:00'}", "not_before",
	    "must be an RFC 3339 timestamp");
	submit_bad("{'kind':'sleep','seconds':1,"
	    "'not_before':'2030-13-01T00:00:00Z'}", "not_before",
	    "must be an RFC 3339 timestamp");
	submit_bad("{'kind':'sleep','seconds':1,'not_before':1893456000}",
	    "not_before", "must be a string");
	snprintf(reason, sizeof reason, "must be 1 to %d bytes long",
	    FP_TIME_LEN);
	submit_bad("{'kind':'sleep','seconds':1,'not_before':''}",
	    "not_before", reason);
	submit_bad_p(sleep_with("not_before", '1', FP_TIME_LEN + 1),
	    "not_before", reason);
}

static void
test_submit_not_before_nanoseconds(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	/*
	 * RFC 3339 allows any number of fraction digits; Go's RFC3339Nano
	 * with an offset is 35 bytes long.
	 */
	p = submit_ok("{'kind':'sleep','seconds':1,"
	    "'not_before':'2030-01-01T02:00:00.123456789+02:00'}", &s);
	assert_true(s.not_before > 1893456000.12 &&
	    s.not_before < 1893456000.13);
	fp_submit_clear(&s);
	json_decref(p);
}

#define RETRIES_REASON	"must be an integer from 0 to 1000"

static void
test_submit_timeout_retries(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	p = submit_ok("{'kind':'sleep','seconds':1,'timeout':0.5,"
	    "'retries':1000,'retry_backoff':86400}", &s);
	assert_true(s.timeout == 0.5);
	assert_int_equal(s.retries, FP_MAX_RETRIES);
	assert_true(s.retry_backoff == 86400);
	fp_submit_clear(&s);
	json_decref(p);

	p = submit_ok("{'kind':'sleep','seconds':1,'retries':0,"
	    "'retry_backoff':0}", &s);
	assert_int_equal(s.retries, 0);
	assert_true(s.retry_backoff == 0);
	fp_submit_clear(&s);
	json_decref(p);

	submit_bad("{'kind':'sleep','seconds':1,'timeout':0}", "timeout",
	    "must be above 0");
	submit_bad("{'kind':'sleep','seconds':1,'timeout':0.0}", "timeout",
	    "must be above 0");
	submit_bad("{'kind':'sleep','seconds':1,'timeout':-1}", "timeout",
	    "must not be negative");
	submit_bad("{'kind':'sleep','seconds':1,'timeout':'1'}", "timeout",
	    "must be a number of seconds");
	submit_bad("{'kind':'sleep','seconds':1,'timeout':31622401}",
	    "timeout", "must be at most 31622400");

	submit_bad("{'kind':'sleep','seconds':1,'retries':1001}", "retries",
	    RETRIES_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'retries':-1}", "retries",
	    RETRIES_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'retries':1.5}", "retries",
	    RETRIES_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'retries':2.0}", "retries",
	    RETRIES_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'retries':'3'}", "retries",
	    RETRIES_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'retries':true}", "retries",
	    RETRIES_REASON);

	submit_bad("{'kind':'sleep','seconds':1,'retry_backoff':86401}",
	    "retry_backoff", "must be at most 86400");
	submit_bad("{'kind':'sleep','seconds':1,'retry_backoff':-1}",
	    "retry_backoff", "must not be negative");
	submit_bad("{'kind':'sleep','seconds':1,'retry_backoff':'1'}",
	    "retry_backoff", "must be a number of seconds");
}

/* ---- placement: queue, priority, key, after, labels ---- */

#define QUEUE_CHARS	"letters, digits, '.', '_' and '-' only"

static void
test_submit_queue(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	p = submit_ok("{'kind':'sleep','seconds':1,'queue':'a.B_c-09'}", &s);
	assert_string_equal(s.queue, "a.B_c-09");
	fp_submit_clear(&s);
	json_decref(p);

	p = sleep_with("queue", 'q', 64);
	assert_int_equal(fp_submit_parse(p, &s, &(struct fp_invalid){0}), 0);
	assert_int_equal(strlen(s.queue), 64);
	fp_submit_clear(&s);
	json_decref(p);
	submit_bad_p(sleep_with("queue", 'q', 65), "queue",
	    "must be 1 to 64 bytes long");

	submit_bad("{'kind':'sleep','seconds':1,'queue':''}", "queue",
	    "must be 1 to 64 bytes long");
	submit_bad("{'kind':'sleep','seconds':1,'queue':'a b'}", "queue",
	    QUEUE_CHARS);
	submit_bad("{'kind':'sleep','seconds':1,'queue':'a/b'}", "queue",
	    QUEUE_CHARS);
	submit_bad("{'kind':'sleep','seconds':1,'queue':'caf\\u00e9'}",
	    "queue", QUEUE_CHARS);
	submit_bad("{'kind':'sleep','seconds':1,'queue':'q\\u0000'}", "queue",
	    "must not contain NUL");
	submit_bad("{'kind':'sleep','seconds':1,'queue':7}", "queue",
	    "must be a string");
}

#define PRIORITY_REASON	"must be an integer from -1000 to 1000"

static void
test_submit_priority(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	p = submit_ok("{'kind':'sleep','seconds':1,'priority':-1000}", &s);
	assert_int_equal(s.priority, -1000);
	fp_submit_clear(&s);
	json_decref(p);
	p = submit_ok("{'kind':'sleep','seconds':1,'priority':1000}", &s);
	assert_int_equal(s.priority, 1000);
	fp_submit_clear(&s);
	json_decref(p);

	submit_bad("{'kind':'sleep','seconds':1,'priority':1001}", "priority",
	    PRIORITY_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'priority':-1001}",
	    "priority", PRIORITY_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'priority':4294967296}",
	    "priority", PRIORITY_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'priority':1.5}", "priority",
	    PRIORITY_REASON);
	submit_bad("{'kind':'sleep','seconds':1,'priority':'1'}", "priority",
	    PRIORITY_REASON);
}

static void
test_submit_key(void **state)
{
	struct fp_submit	 s;
	json_t			*p;

	p = sleep_with("key", 'k', 256);
	assert_int_equal(fp_submit_parse(p, &s, &(struct fp_invalid){0}), 0);
	assert_int_equal(strlen(s.key), 256);
	fp_submit_clear(&s);
	json_decref(p);
	submit_bad_p(sleep_with("key", 'k', 257), "key",
	    "must be 1 to 256 bytes long");
	submit_bad("{'kind':'sleep','seconds':1,'key':''}", "key",
	    "must be 1 to 256 bytes long");
	submit_bad("{'kind':'sleep','seconds':1,'key':'a\\u0000b'}", "key",
	    "must not contain NUL");
	submit_bad("{'kind':'sleep','seconds':1,'key':5}", "key",
	    "must be a string");
}

#define AFTER_ID	"must be an integer from 1 to 2^53-1"

static void
test_submit_after(void **state)
{
	struct fp_submit	 s;
	json_t			*p;
	size_t			 i;

	p = submit_ok("{'kind':'sleep','seconds':1,'after':[]}", &s);
	assert_int_equal(s.n_after, 0);
	fp_submit_clear(&s);
	json_decref(p);

	submit_bad("{'kind':'sleep','seconds':1,'after':[0]}", "after[0]",
	    AFTER_ID);
	submit_bad("{'kind':'sleep','seconds':1,'after':['1']}", "after[0]",
	    AFTER_ID);
	submit_bad("{'kind':'sleep','seconds':1,'after':[1,2,-3]}",
	    "after[2]", AFTER_ID);
	submit_bad("{'kind':'sleep','seconds':1,'after':[1,9007199254740992]}",
	    "after[1]", AFTER_ID);
	submit_bad("{'kind':'sleep','seconds':1,'after':[1,1]}", "after",
	    "id 1 appears twice");
	submit_bad("{'kind':'sleep','seconds':1,'after':1}", "after",
	    "must be an array of task ids");
	submit_bad("{'kind':'sleep','seconds':1,'after':{'id':1}}", "after",
	    "must be an array of task ids");

	p = json_pack("{s:s,s:i,s:[]}", "kind", "sleep", "seconds", 1,
	    "after");
	for (i = 1; i <= FP_MAX_AFTER; i++)
		json_array_append_new(json_object_get(p, "after"),
		    json_integer((json_int_t)i));
	assert_int_equal(fp_submit_parse(p, &s, &(struct fp_invalid){0}), 0);
	assert_int_equal(s.n_after, FP_MAX_AFTER);
	assert_int_equal(s.after[FP_MAX_AFTER - 1], FP_MAX_AFTER);
	fp_submit_clear(&s);
	json_array_append_new(json_object_get(p, "after"),
	    json_integer(FP_MAX_AFTER + 1));
	submit_bad_p(p, "after", "at most 1024 ids");
}

static void
test_submit_labels(void **state)
{
	json_t	*p, *labels;
	char	 k[16];
	size_t	 i;

	submit_bad("{'kind':'sleep','seconds':1,'labels':'a=b'}", "labels",
	    "must be an object of string values");
	submit_bad("{'kind':'sleep','seconds':1,'labels':['a']}", "labels",
	    "must be an object of string values");
	submit_bad("{'kind':'sleep','seconds':1,'labels':{'a':1}}",
	    "labels.a", "must be a string without NUL");
	submit_bad("{'kind':'sleep','seconds':1,'labels':{'a':'b','c':{}}}",
	    "labels.c", "must be a string without NUL");
	submit_bad("{'kind':'sleep','seconds':1,'labels':{'a':null}}",
	    "labels.a", "must be a string without NUL");
	submit_bad("{'kind':'sleep','seconds':1,'labels':{'a':'x\\u0000'}}",
	    "labels.a", "must be a string without NUL");
	submit_bad("{'kind':'sleep','seconds':1,'labels':{'':'x'}}",
	    "labels.", "names are 1 to 64 bytes");

	labels = json_object();
	for (i = 0; i < 65; i++) {
		snprintf(k, sizeof k, "k%zu", i);
		json_object_set_new(labels, k, json_string("v"));
	}
	p = json_pack("{s:s,s:i,s:o}", "kind", "sleep", "seconds", 1,
	    "labels", labels);
	submit_bad_p(p, "labels", "at most 64 labels");
}

/* Every field is checked, whichever comes first in the object. */
static void
test_submit_order(void **state)
{
	submit_bad("{'labels':{'a':1},'kind':'sleep','seconds':1}",
	    "labels.a", "must be a string without NUL");
	submit_bad("{'after':[0],'queue':'ok','kind':'exec','shell':'x'}",
	    "after[0]", AFTER_ID);
}

/* ---- queue.set (fp_queue_set_parse, fp_queue_name_check) ---- */

#define queue_set_bad(text, field, reason) queue_set_bad_at((text), (field), \
	(reason), __FILE__, __LINE__)

static void
queue_set_bad_at(const char *text, const char *field, const char *reason,
    const char *file, int line)
{
	struct fp_invalid	 inv;
	struct fp_queue_set	 qs;
	json_t			*p = js(text);
	int			 rc;

	memset(&inv, 0, sizeof inv);
	rc = fp_queue_set_parse(p, &qs, &inv);
	json_decref(p);
	_assert_int_equal(rc, -1, file, line);
	_assert_string_equal(inv.field, field, file, line);
	if (reason != NULL)
		_assert_string_equal(inv.reason, reason, file, line);
}

#define CONCURRENCY_REASON "must be an integer from 0 (no limit) to 1000000"

static void
test_queue_set(void **state)
{
	struct fp_invalid	 inv;
	struct fp_queue_set	 qs;
	json_t			*p;

	p = js("{'name':'builds'}");
	assert_int_equal(fp_queue_set_parse(p, &qs, &inv), 0);
	assert_ptr_equal(qs.name,
	    json_string_value(json_object_get(p, "name")));
	assert_int_equal(qs.has_concurrency, 0);
	assert_int_equal(qs.has_paused, 0);
	json_decref(p);

	p = js("{'name':'a.b-c_1','concurrency':0,'paused':true}");
	assert_int_equal(fp_queue_set_parse(p, &qs, &inv), 0);
	assert_string_equal(qs.name, "a.b-c_1");
	assert_int_equal(qs.has_concurrency, 1);
	assert_int_equal(qs.concurrency, 0);
	assert_int_equal(qs.has_paused, 1);
	assert_int_equal(qs.paused, 1);
	json_decref(p);

	p = js("{'paused':false,'concurrency':1000000,'name':'q'}");
	assert_int_equal(fp_queue_set_parse(p, &qs, &inv), 0);
	assert_int_equal(qs.concurrency, 1000000);
	assert_int_equal(qs.has_paused, 1);
	assert_int_equal(qs.paused, 0);
	json_decref(p);

	queue_set_bad("{}", "name", "required");
	queue_set_bad("{'concurrency':1}", "name", "required");
	queue_set_bad("{'name':''}", "name", "must be 1 to 64 bytes long");
	queue_set_bad("{'name':5}", "name", "must be a string");
	queue_set_bad("{'name':'a b'}", "name", QUEUE_CHARS);
	queue_set_bad("{'name':'q\\u0000'}", "name", "must not contain NUL");
	queue_set_bad("{'name':'q','concurrency':-1}", "concurrency",
	    CONCURRENCY_REASON);
	queue_set_bad("{'name':'q','concurrency':1000001}", "concurrency",
	    CONCURRENCY_REASON);
	queue_set_bad("{'name':'q','concurrency':1.5}", "concurrency",
	    CONCURRENCY_REASON);
	queue_set_bad("{'name':'q','concurrency':'4'}", "concurrency",
	    CONCURRENCY_REASON);
	queue_set_bad("{'name':'q','paused':1}", "paused", "must be a boolean");
	queue_set_bad("{'name':'q','paused':'yes'}", "paused",
	    "must be a boolean");
	queue_set_bad("{'name':'q','jobs':2}", "jobs", "unknown parameter");
}

static void
test_queue_set_name_null(void **state)
{
	/* A null name must not come back as success with qs.name NULL. */
	queue_set_bad("{'name':null}", "name", NULL);
}

static void
test_queue_name_check(void **state)
{
	struct fp_invalid	 inv;
	json_t			*p;
	const char		*q = "x";

	p = js("{'pool':'gpu-1'}");
	assert_int_equal(fp_queue_name_check(p, "pool", &q, &inv), 0);
	assert_string_equal(q, "gpu-1");
	/* Absent is not an error here: callers pick their default. */
	assert_int_equal(fp_queue_name_check(p, "other", &q, &inv), 0);
	assert_null(q);
	json_decref(p);

	p = js("{'pool':'gpu/1'}");
	assert_int_equal(fp_queue_name_check(p, "pool", &q, &inv), -1);
	assert_string_equal(inv.field, "pool");
	assert_string_equal(inv.reason, QUEUE_CHARS);
	json_decref(p);
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_submit_sleep_defaults),
		T(test_submit_sleep_full),
		T(test_submit_exec_spec),
		T(test_submit_labels_copied),
		T(test_submit_kind),
		T(test_submit_unknown_field),
		T(test_submit_exec_command),
		T(test_submit_exec_argv_nul),
		T(test_submit_exec_shell_size),
		T(test_submit_exec_shell_null),
		T(test_submit_exec_env),
		T(test_submit_exec_cwd_stdin),
		T(test_submit_exec_capture),
		T(test_submit_sleep_seconds),
		T(test_submit_sleep_seconds_null),
		T(test_submit_delay_not_before),
		T(test_submit_not_before_nanoseconds),
		T(test_submit_timeout_retries),
		T(test_submit_queue),
		T(test_submit_priority),
		T(test_submit_key),
		T(test_submit_after),
		T(test_submit_labels),
		T(test_submit_order),
		T(test_queue_set),
		T(test_queue_set_name_null),
		T(test_queue_name_check),
	};

	json_set_alloc_funcs(count_malloc, count_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
