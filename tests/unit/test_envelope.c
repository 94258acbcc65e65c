/*
 * test_envelope.c: proto/fp-envelope.c, JSON-RPC 2.0 framing.
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

/* ---- fp_error_message ---- */

static void
test_error_message_codes(void **state)
{
	static const struct {
		int		 code;
		const char	*message;
	} t[] = {
		{ -32700, "Parse error" },
		{ -32600, "Invalid Request" },
		{ -32601, "Method not found" },
		{ -32602, "Invalid params" },
		{ -32603, "Internal error" },
		{ 1, "TaskFailed" },
		{ 2, "TaskCancelled" },
		{ 3, "TaskNotDone" },
		{ 4, "NoSuchTask" },
		{ 5, "KeyConflict" },
		{ 6, "ShuttingDown" },
		{ 7, "StoreError" },
		{ 8, "LimitExceeded" },
		{ 9, "NoSuchQueue" },
		{ 10, "QueueNotEmpty" },
		{ 11, "ReadOnly" },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		assert_string_equal(fp_error_message(t[i].code), t[i].message);
}

static void
test_error_codes_numbering(void **state)
{
	/* DESIGN.md's table: append-only, never renumbered. */
	assert_int_equal(FP_ERR_PARSE, -32700);
	assert_int_equal(FP_ERR_INVALID_REQUEST, -32600);
	assert_int_equal(FP_ERR_METHOD_NOT_FOUND, -32601);
	assert_int_equal(FP_ERR_INVALID_PARAMS, -32602);
	assert_int_equal(FP_ERR_INTERNAL, -32603);
	assert_int_equal(FP_ERR_TASK_FAILED, 1);
	assert_int_equal(FP_ERR_TASK_CANCELLED, 2);
	assert_int_equal(FP_ERR_TASK_NOT_DONE, 3);
	assert_int_equal(FP_ERR_NO_SUCH_TASK, 4);
	assert_int_equal(FP_ERR_KEY_CONFLICT, 5);
	assert_int_equal(FP_ERR_SHUTTING_DOWN, 6);
	assert_int_equal(FP_ERR_STORE, 7);
	assert_int_equal(FP_ERR_LIMIT, 8);
	assert_int_equal(FP_ERR_NO_SUCH_QUEUE, 9);
	assert_int_equal(FP_ERR_QUEUE_NOT_EMPTY, 10);
	assert_int_equal(FP_ERR_READ_ONLY, 11);
	assert_int_equal(FP_ERR_SCHEDULE_EXISTS, 12);
	assert_int_equal(FP_ERR_NO_SUCH_SCHEDULE, 13);
	assert_string_equal(fp_error_message(12), "ScheduleExists");
	assert_string_equal(fp_error_message(13), "NoSuchSchedule");
}

static void
test_error_message_unknown(void **state)
{
	assert_string_equal(fp_error_message(0), "ServerError");
	assert_string_equal(fp_error_message(14), "ServerError");
	assert_string_equal(fp_error_message(-1), "ServerError");
	assert_string_equal(fp_error_message(-32000), "ServerError");
	assert_string_equal(fp_error_message(-32099), "ServerError");
	assert_string_equal(fp_error_message(-32604), "ServerError");
}

static void
test_methods_table(void **state)
{
	/* DESIGN.md's methods, as far as proto.h names them yet. */
	static const char *const want[] = { "task.submit", "task.get",
	    "task.result", "task.exception", "task.wait", "task.cancel",
	    "task.list", "daemon.info", "rpc.discover",
#ifdef FP_TASK_STREAM
	    FP_TASK_STREAM,
#endif
#ifdef FP_TASK_OUTPUT
	    FP_TASK_OUTPUT,
#endif
#ifdef FP_QUEUE_LIST
	    FP_QUEUE_LIST,
#endif
#ifdef FP_QUEUE_SET
	    FP_QUEUE_SET,
#endif
	};
	size_t	i, j;

	/* the names are distinct; OpenRPC's test checks they are served */
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(want[j], want[i]);
	assert_string_equal(FP_TASK_SUBMIT, "task.submit");
	assert_string_equal(FP_TASK_GET, "task.get");
	assert_string_equal(FP_TASK_RESULT, "task.result");
	assert_string_equal(FP_TASK_EXCEPTION, "task.exception");
	assert_string_equal(FP_TASK_WAIT, "task.wait");
	assert_string_equal(FP_TASK_CANCEL, "task.cancel");
	assert_string_equal(FP_TASK_LIST, "task.list");
	assert_string_equal(FP_DAEMON_INFO, "daemon.info");
	assert_string_equal(FP_RPC_DISCOVER, "rpc.discover");
#ifdef FP_TASK_STREAM
	assert_string_equal(FP_TASK_STREAM, "task.stream");
#endif
#ifdef FP_TASK_OUTPUT
	assert_string_equal(FP_TASK_OUTPUT, "task.output");
#endif
#ifdef FP_QUEUE_LIST
	assert_string_equal(FP_QUEUE_LIST, "queue.list");
#endif
#ifdef FP_QUEUE_SET
	assert_string_equal(FP_QUEUE_SET, "queue.set");
#endif
}

/* ---- fp_request_parse ---- */

#define request_bad(text, want) request_bad_at((text), (want), __FILE__, \
	__LINE__)

/* text must be refused with exactly the error response want. */
static void
request_bad_at(const char *text, const char *want, const char *file, int line)
{
	struct fp_request	 req;
	json_t			*member = text != NULL ? js(text) : NULL;
	json_t			*error = (json_t *)1;
	int			 rc;

	rc = fp_request_parse(member, &req, &error);
	_assert_int_equal(rc, -1, file, line);
	_assert_true(req.id == NULL && req.method == NULL &&
	    req.params == NULL, "req cleared", file, line);
	json_check(error, want, file, line);
	json_decref(error);
	json_decref(member);
}

#define NOT_OBJECT "{'jsonrpc':'2.0','id':null,'error':{'code':-32600," \
	"'message':'Invalid Request','data':{'reason':" \
	"'a request must be an object'}}}"

static void
test_request_not_object(void **state)
{
	request_bad("1", NOT_OBJECT);
	request_bad("1.5", NOT_OBJECT);
	request_bad("'task.get'", NOT_OBJECT);
	request_bad("null", NOT_OBJECT);
	request_bad("true", NOT_OBJECT);
	request_bad("[]", NOT_OBJECT);
	request_bad("[{'jsonrpc':'2.0','method':'task.get','id':1}]",
	    NOT_OBJECT);
	request_bad(NULL, NOT_OBJECT);
}

#define INVALID(id, reason) "{'jsonrpc':'2.0','id':" id ",'error':{" \
	"'code':-32600,'message':'Invalid Request','data':{'reason':" \
	reason "}}}"
#define BAD_VERSION	"'jsonrpc must be \\'2.0\\''"
#define BAD_METHOD	"'method must be a string without NUL'"

static void
test_request_version(void **state)
{
	/* \' in the reason survives js() as \" inside a JSON string. */
	request_bad("{'method':'task.get','id':1}", INVALID("1", BAD_VERSION));
	request_bad("{'jsonrpc':'1.0','method':'task.get','id':1}",
	    INVALID("1", BAD_VERSION));
	request_bad("{'jsonrpc':2,'method':'task.get','id':1}",
	    INVALID("1", BAD_VERSION));
	request_bad("{'jsonrpc':2.0,'method':'task.get','id':1}",
	    INVALID("1", BAD_VERSION));
	request_bad("{'jsonrpc':null,'method':'task.get','id':'a'}",
	    INVALID("'a'", BAD_VERSION));
	request_bad("{'jsonrpc':'2.0 ','method':'task.get','id':1}",
	    INVALID("1", BAD_VERSION));
}

/* text must be refused as an Invalid Request, whatever the reason. */
static void
request_invalid(const char *text)
{
	struct fp_request	 req;
	json_t			*member = js(text), *error = NULL;
	json_int_t		 code;
	int			 rc, same_id;

	rc = fp_request_parse(member, &req, &error);
	code = json_integer_value(json_object_get(json_object_get(error,
	    "error"), "code"));
	same_id = json_equal(json_object_get(error, "id"),
	    json_object_get(member, "id"));
	json_decref(error);
	json_decref(member);
	assert_int_equal(rc, -1);
	assert_int_equal(code, FP_ERR_INVALID_REQUEST);
	assert_true(same_id);
}

static void
test_request_nul(void **state)
{
	/*
	 * With JSON_ALLOW_NUL a string may hold NUL; strcmp() and C-string
	 * users see only its prefix, so a method "task.get", NUL, "x" would be
	 * dispatched as task.get.
	 */
	request_invalid("{'jsonrpc':'2.0\\u0000','method':'task.get',"
	    "'id':1}");
	request_invalid("{'jsonrpc':'2.0','method':'task.get\\u0000x',"
	    "'id':1}");
}

static void
test_request_method(void **state)
{
	request_bad("{'jsonrpc':'2.0','id':1}", INVALID("1", BAD_METHOD));
	request_bad("{'jsonrpc':'2.0','method':5,'id':1}",
	    INVALID("1", BAD_METHOD));
	request_bad("{'jsonrpc':'2.0','method':null,'id':1}",
	    INVALID("1", BAD_METHOD));
	request_bad("{'jsonrpc':'2.0','method':['task.get'],'id':'x'}",
	    INVALID("'x'", BAD_METHOD));
}

static void
test_request_params_array(void **state)
{
	static const char *want = "{'jsonrpc':'2.0','id':7,'error':{"
	    "'code':-32602,'message':'Invalid params','data':{'field':"
	    "'params','reason':'params are by name: send an object'}}}";

	request_bad("{'jsonrpc':'2.0','method':'task.get','params':[1],"
	    "'id':7}", want);
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':[],"
	    "'id':7}", want);
	/* A notification still gets its error built (null id). */
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':[1]}",
	    "{'jsonrpc':'2.0','id':null,'error':{'code':-32602,"
	    "'message':'Invalid params','data':{'field':'params',"
	    "'reason':'params are by name: send an object'}}}");
}

#define BAD_PARAMS	"'params must be an object'"

static void
test_request_params_scalar(void **state)
{
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':1,"
	    "'id':3}", INVALID("3", BAD_PARAMS));
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':'x',"
	    "'id':3}", INVALID("3", BAD_PARAMS));
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':true,"
	    "'id':3}", INVALID("3", BAD_PARAMS));
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':null,"
	    "'id':3}", INVALID("3", BAD_PARAMS));
	request_bad("{'jsonrpc':'2.0','method':'task.get','params':2.5,"
	    "'id':3}", INVALID("3", BAD_PARAMS));
}

#define BAD_ID		"'id must be a string, a number or null'"

static void
test_request_bad_id(void **state)
{
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':{}}",
	    INVALID("null", BAD_ID));
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':{'a':1}}",
	    INVALID("null", BAD_ID));
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':[1]}",
	    INVALID("null", BAD_ID));
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':true}",
	    INVALID("null", BAD_ID));
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':false}",
	    INVALID("null", BAD_ID));
	/* The id problem is reported first, whatever else is wrong. */
	request_bad("{'jsonrpc':'1.0','id':[]}", INVALID("null", BAD_ID));
	request_bad("{'jsonrpc':'2.0','method':'m','params':[],'id':[]}",
	    INVALID("null", BAD_ID));
}

static void
test_request_unknown_member(void **state)
{
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':1,'foo':1}",
	    INVALID("1", "'unknown member in request'"));
	request_bad("{'jsonrpc':'2.0','method':'task.get','id':'q',"
	    "'params':{},'result':null}",
	    INVALID("'q'", "'unknown member in request'"));
	/* Member names are case-sensitive. */
	request_bad("{'jsonrpc':'2.0','method':'task.get','ID':1}",
	    INVALID("null", "'unknown member in request'"));
	/* An unknown member is refused before params are looked at. */
	request_bad("{'jsonrpc':'2.0','method':'m','params':[],'x':0,"
	    "'id':2}", INVALID("2", "'unknown member in request'"));
}

#define request_ok(text, r) request_ok_at((text), (r), __FILE__, __LINE__)

/* Parses a valid request; returns the request JSON the req borrows from. */
static json_t *
request_ok_at(const char *text, struct fp_request *req, const char *file,
    int line)
{
	json_t	*member = js(text);
	json_t	*error = (json_t *)1;

	if (fp_request_parse(member, req, &error) != 0) {
		print_error("%s refused\n", text);
		json_decref(error);
		json_decref(member);
		_fail(file, line);
	}
	_assert_true(error == NULL, "error == NULL", file, line);
	return member;
}

static void
test_request_ids(void **state)
{
	static const char *const ids[] = { "'abc'", "''", "7", "0", "-3",
	    "1.5", "null", "9007199254740993", "'\\u00e9'" };
	struct fp_request	 req;
	json_t			*member, *want;
	char			 text[256];
	size_t			 i;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		snprintf(text, sizeof text, "{'jsonrpc':'2.0','method':"
		    "'task.get','params':{'id':1},'id':%s}", ids[i]);
		member = request_ok(text, &req);
		want = js(ids[i]);
		assert_ptr_equal(req.id, json_object_get(member, "id"));
		assert_true(json_equal(req.id, want));
		assert_string_equal(req.method, "task.get");
		json_decref(want);
		json_decref(member);
	}
}

static void
test_request_notification(void **state)
{
	struct fp_request	 req;
	json_t			*member;

	member = request_ok("{'jsonrpc':'2.0','method':'task.submit',"
	    "'params':{'kind':'sleep','seconds':1}}", &req);
	assert_null(req.id);
	assert_string_equal(req.method, "task.submit");
	assert_ptr_equal(req.params, json_object_get(member, "params"));
	json_decref(member);

	/* An explicit null id is a request, not a notification. */
	member = request_ok("{'jsonrpc':'2.0','method':'m','id':null}", &req);
	assert_non_null(req.id);
	assert_true(json_is_null(req.id));
	json_decref(member);
}

static void
test_request_with_params(void **state)
{
	struct fp_request	 req;
	json_t			*member;

	member = request_ok("{'params':{'id':5,'timeout':null},'id':'r1',"
	    "'method':'task.result','jsonrpc':'2.0'}", &req);
	assert_string_equal(req.method, "task.result");
	assert_ptr_equal(req.method,
	    json_string_value(json_object_get(member, "method")));
	assert_ptr_equal(req.params, json_object_get(member, "params"));
	assert_json(req.params, "{'id':5,'timeout':null}");
	assert_json(req.id, "'r1'");
	json_decref(member);

	/* The method is not checked here: that is dispatch's job. */
	member = request_ok("{'jsonrpc':'2.0','method':'','params':{},"
	    "'id':1}", &req);
	assert_string_equal(req.method, "");
	json_decref(member);
}

static void
test_request_without_params(void **state)
{
	struct fp_request	 req;
	json_t			*member;

	/* proto.h: params is NULL when absent; callers treat it as {}. */
	member = request_ok("{'jsonrpc':'2.0','method':'daemon.info',"
	    "'id':1}", &req);
	assert_string_equal(req.method, "daemon.info");
	assert_json(req.id, "1");
	assert_null(req.params);
	json_decref(member);
}

/* ---- responses and requests ---- */

static void
test_response_result(void **state)
{
	json_t	*id = json_integer(4), *result = json_pack("{s:i}", "a", 1);
	json_t	*r;

	json_incref(result);
	r = fp_response_result(id, result);
	assert_json(r, "{'jsonrpc':'2.0','result':{'a':1},'id':4}");
	assert_ptr_equal(json_object_get(r, "result"), result);
	assert_int_equal(id->refcount, 2);	/* borrowed: r holds one */
	assert_int_equal(result->refcount, 2);	/* stolen: r holds ours */
	json_decref(r);
	assert_int_equal(id->refcount, 1);
	assert_int_equal(result->refcount, 1);
	json_decref(result);
	json_decref(id);

	r = fp_response_result(NULL, json_string("x"));
	assert_json(r, "{'jsonrpc':'2.0','result':'x','id':null}");
	json_decref(r);

	r = fp_response_result(NULL, json_null());
	assert_json(r, "{'jsonrpc':'2.0','result':null,'id':null}");
	json_decref(r);

	id = json_string("s");
	assert_null(fp_response_result(id, NULL));
	assert_int_equal(id->refcount, 1);
	json_decref(id);
}

static void
test_response_error(void **state)
{
	json_t	*id = json_string("abc"), *data = json_pack("{s:I}", "id",
	    (json_int_t)12), *r;

	json_incref(data);
	r = fp_response_error(id, FP_ERR_NO_SUCH_TASK, NULL, data);
	assert_json(r, "{'jsonrpc':'2.0','id':'abc','error':{'code':4,"
	    "'message':'NoSuchTask','data':{'id':12}}}");
	assert_ptr_equal(json_object_get(json_object_get(r, "error"), "data"),
	    data);
	json_decref(r);
	assert_int_equal(data->refcount, 1);	/* stolen */
	assert_int_equal(id->refcount, 1);	/* borrowed */
	json_decref(data);

	r = fp_response_error(id, FP_ERR_SHUTTING_DOWN, NULL, NULL);
	assert_json(r, "{'jsonrpc':'2.0','id':'abc','error':{'code':6,"
	    "'message':'ShuttingDown'}}");
	json_decref(r);

	r = fp_response_error(NULL, FP_ERR_INTERNAL, "disk on fire",
	    json_object());
	assert_json(r, "{'jsonrpc':'2.0','id':null,'error':{'code':-32603,"
	    "'message':'disk on fire','data':{}}}");
	json_decref(r);

	r = fp_response_error(id, 42, NULL, NULL);
	assert_json(r, "{'jsonrpc':'2.0','id':'abc','error':{'code':42,"
	    "'message':'ServerError'}}");
	json_decref(r);
	json_decref(id);
}

static void
test_request_create(void **state)
{
	json_t	*params = json_pack("{s:i}", "id", 3), *r;

	json_incref(params);
	r = fp_request_create(FP_TASK_GET, params, 5);
	assert_json(r, "{'jsonrpc':'2.0','method':'task.get',"
	    "'params':{'id':3},'id':5}");
	assert_ptr_equal(json_object_get(r, "params"), params);
	json_decref(r);
	assert_int_equal(params->refcount, 1);	/* stolen */
	json_decref(params);

	r = fp_request_create(FP_DAEMON_INFO, NULL, 0);
	assert_json(r, "{'jsonrpc':'2.0','method':'daemon.info',"
	    "'params':{},'id':0}");
	json_decref(r);

	r = fp_request_create(FP_TASK_SUBMIT, json_pack("{s:s}", "kind",
	    "sleep"), -1);
	assert_json(r, "{'jsonrpc':'2.0','method':'task.submit',"
	    "'params':{'kind':'sleep'}}");
	assert_null(json_object_get(r, "id"));
	json_decref(r);

	r = fp_request_create(FP_TASK_GET, NULL, FP_ID_LIMIT - 1);
	assert_json(r, "{'jsonrpc':'2.0','method':'task.get','params':{},"
	    "'id':9007199254740991}");
	json_decref(r);
}

static void
test_request_round_trip(void **state)
{
	struct fp_request	 req;
	json_t			*r, *error = NULL;

	r = fp_request_create(FP_TASK_WAIT, json_pack("{s:[i,i]}", "ids", 1,
	    2), 99);
	assert_int_equal(fp_request_parse(r, &req, &error), 0);
	assert_null(error);
	assert_string_equal(req.method, "task.wait");
	assert_json(req.params, "{'ids':[1,2]}");
	assert_json(req.id, "99");
	json_decref(r);

	r = fp_request_create(FP_TASK_SUBMIT, json_pack("{s:s,s:i}", "kind",
	    "sleep", "seconds", 1), -1);
	assert_int_equal(fp_request_parse(r, &req, &error), 0);
	assert_null(req.id);
	assert_string_equal(req.method, "task.submit");
	assert_json(req.params, "{'kind':'sleep','seconds':1}");
	json_decref(r);
}

#define response_bad(text) response_bad_at((text), __FILE__, __LINE__)

static void
response_bad_at(const char *text, const char *file, int line)
{
	json_t		*resp = js(text), *result, *data;
	const char	*message;
	int		 code, rc;

	rc = fp_response_parse(resp, &result, &code, &message, &data);
	json_decref(resp);
	_assert_int_equal(rc, -1, file, line);
}

static void
test_response_parse_result(void **state)
{
	json_t		*resp, *result, *data;
	const char	*message;
	int		 code;

	resp = js("{'jsonrpc':'2.0','result':{'done':[1],'pending':[]},"
	    "'id':1}");
	assert_int_equal(fp_response_parse(resp, &result, &code, &message,
	    &data), 0);
	assert_ptr_equal(result, json_object_get(resp, "result"));
	assert_null(data);
	assert_null(message);
	assert_int_equal(code, 0);
	json_decref(resp);

	/* task.exception answers null for a task that succeeded. */
	resp = js("{'jsonrpc':'2.0','result':null,'id':1}");
	assert_int_equal(fp_response_parse(resp, &result, &code, &message,
	    &data), 0);
	assert_non_null(result);
	assert_true(json_is_null(result));
	json_decref(resp);
}

static void
test_response_parse_error(void **state)
{
	json_t		*resp, *result, *data;
	const char	*message;
	int		 code;

	resp = js("{'jsonrpc':'2.0','error':{'code':3,'message':'TaskNotDone',"
	    "'data':{'id':9,'state':'running'}},'id':1}");
	assert_int_equal(fp_response_parse(resp, &result, &code, &message,
	    &data), 1);
	assert_null(result);
	assert_int_equal(code, 3);
	assert_string_equal(message, "TaskNotDone");
	assert_json(data, "{'id':9,'state':'running'}");
	json_decref(resp);

	resp = js("{'jsonrpc':'2.0','error':{'code':-32601,"
	    "'message':'Method not found'},'id':null}");
	assert_int_equal(fp_response_parse(resp, &result, &code, &message,
	    &data), 1);
	assert_int_equal(code, -32601);
	assert_string_equal(message, "Method not found");
	assert_null(data);
	json_decref(resp);
}

static void
test_response_parse_malformed(void **state)
{
	response_bad("null");
	response_bad("[]");
	response_bad("'result'");
	response_bad("{}");
	response_bad("{'jsonrpc':'2.0','id':1}");
	response_bad("{'jsonrpc':'2.0','error':null,'id':1}");
	response_bad("{'jsonrpc':'2.0','error':'boom','id':1}");
	response_bad("{'jsonrpc':'2.0','error':{},'id':1}");
	response_bad("{'jsonrpc':'2.0','error':{'code':'3','message':'x'},"
	    "'id':1}");
	response_bad("{'jsonrpc':'2.0','error':{'code':3.0,'message':'x'},"
	    "'id':1}");
	response_bad("{'jsonrpc':'2.0','error':{'code':3},'id':1}");
	response_bad("{'jsonrpc':'2.0','error':{'message':'x'},'id':1}");
	response_bad("{'jsonrpc':'2.0','error':{'code':3,'message':null},"
	    "'id':1}");
}

static void
test_response_parse_version(void **state)
{
	/* JSON-RPC 2.0, 5: jsonrpc MUST be exactly "2.0". */
	response_bad("{'result':1,'id':1}");
	response_bad("{'jsonrpc':'1.0','result':1,'id':1}");
	response_bad("{'error':{'code':3,'message':'x'},'id':1}");
}

static void
test_response_parse_both(void **state)
{
	/* JSON-RPC 2.0, 5: result and error MUST NOT both be present. */
	response_bad("{'jsonrpc':'2.0','result':1,'error':{'code':1,"
	    "'message':'TaskFailed'},'id':1}");
}

static void
test_response_round_trip(void **state)
{
	json_t		*resp, *result, *data, *id = json_integer(8);
	const char	*message;
	int		 code;

	resp = fp_response_error(id, FP_ERR_INVALID_PARAMS, NULL,
	    json_pack("{s:s,s:s}", "field", "argv[2]", "reason",
	    "must be a string"));
	assert_int_equal(fp_response_parse(resp, &result, &code, &message,
	    &data), 1);
	assert_int_equal(code, FP_ERR_INVALID_PARAMS);
	assert_string_equal(message, "Invalid params");
	assert_json(data, "{'field':'argv[2]','reason':'must be a string'}");
	json_decref(resp);

	resp = fp_response_result(id, json_pack("{s:b}", "cancelled", 1));
	assert_int_equal(fp_response_parse(resp, &result, &code, &message,
	    &data), 0);
	assert_json(result, "{'cancelled':true}");
	json_decref(resp);
	json_decref(id);
}

/* ---- fp_body_parse: NUL in keys ---- */

static json_t *
body(const char *text, int *nul_keys)
{
	json_error_t	err;

	return fp_body_parse(text, strlen(text), nul_keys, &err);
}

static void
test_body_nul_key_found(void **state)
{
	struct fp_invalid	 inv;
	json_t			*doc;
	int			 nul_keys;

	doc = body("{\"a\":{\"x\\u0000y\":1}}", &nul_keys);
	assert_non_null(doc);
	assert_int_equal(nul_keys, 1);
	assert_int_equal(fp_nul_key_check(doc, &inv), -1);
	assert_string_equal(inv.field, "a.x\\u0000y");
	json_decref(doc);

	doc = body("{\"a\":\"x\\u0000y\"}", &nul_keys);
	assert_non_null(doc);
	assert_int_equal(nul_keys, 0);	/* NUL in a value is jansson's */
	json_decref(doc);

	assert_null(body("{\"a\\u0000\":}", &nul_keys));
	assert_int_equal(nul_keys, 0);
}

static void
test_body_nul_key_replaced(void **state)
{
	struct fp_invalid	 inv;
	json_t			*doc;
	int			 nul_keys;

	/* the later "a" replaces the object holding the NUL key */
	doc = body("{\"a\":{\"\\u0000\":1},\"a\":2}", &nul_keys);
	assert_non_null(doc);
	assert_int_equal(nul_keys, 0);
	assert_int_equal(fp_nul_key_check(doc, &inv), 0);
	assert_json(doc, "{'a':2}");
	json_decref(doc);
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_error_message_codes),
		T(test_error_codes_numbering),
		T(test_error_message_unknown),
		T(test_methods_table),
		T(test_request_not_object),
		T(test_request_version),
		T(test_request_method),
		T(test_request_nul),
		T(test_request_params_array),
		T(test_request_params_scalar),
		T(test_request_bad_id),
		T(test_request_unknown_member),
		T(test_request_ids),
		T(test_request_notification),
		T(test_request_with_params),
		T(test_request_without_params),
		T(test_response_result),
		T(test_response_error),
		T(test_request_create),
		T(test_request_round_trip),
		T(test_response_parse_result),
		T(test_response_parse_error),
		T(test_response_parse_malformed),
		T(test_body_nul_key_found),
		T(test_body_nul_key_replaced),
		T(test_response_parse_version),
		T(test_response_parse_both),
		T(test_response_round_trip),
	};

	json_set_alloc_funcs(count_malloc, count_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
