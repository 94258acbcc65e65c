/* fp-envelope.c: JSON-RPC 2.0 request and response framing. */
#include <string.h>

#include "proto.h"

static const struct {
	int		 code;
	const char	*message;
} fp_errors[] = {
	{ FP_ERR_PARSE, "Parse error" },
	{ FP_ERR_INVALID_REQUEST, "Invalid Request" },
	{ FP_ERR_METHOD_NOT_FOUND, "Method not found" },
	{ FP_ERR_INVALID_PARAMS, "Invalid params" },
	{ FP_ERR_INTERNAL, "Internal error" },
	{ FP_ERR_TASK_FAILED, "TaskFailed" },
	{ FP_ERR_TASK_CANCELLED, "TaskCancelled" },
	{ FP_ERR_TASK_NOT_DONE, "TaskNotDone" },
	{ FP_ERR_NO_SUCH_TASK, "NoSuchTask" },
	{ FP_ERR_KEY_CONFLICT, "KeyConflict" },
	{ FP_ERR_SHUTTING_DOWN, "ShuttingDown" },
	{ FP_ERR_STORE, "StoreError" },
	{ FP_ERR_LIMIT, "LimitExceeded" },
};

const struct fp_method fp_methods[] = {
	{ FP_TASK_SUBMIT, "Create a task; returns the task object" },
	{ FP_TASK_GET, "The task object of {id}" },
	{ FP_TASK_RESULT, "The result of {id}, waiting up to timeout" },
	{ FP_TASK_EXCEPTION, "The exception of {id} or null" },
	{ FP_TASK_WAIT, "Wait for {ids} like asyncio.wait" },
	{ FP_TASK_CANCEL, "Cancel {id}" },
	{ FP_TASK_LIST, "List tasks, newest first" },
	{ FP_TASK_STREAM, "Items a task yielded, from seq on (long-poll)" },
	{ FP_TASK_OUTPUT, "A task's stdout or stderr from offset on (long-poll)" },
	{ FP_DAEMON_INFO, "Version, pid, uptime, counts, limits" },
	{ FP_RPC_DISCOVER, "This OpenRPC document" },
	{ FP_QUEUE_LIST, "Queues with their limits and counts" },
	{ FP_QUEUE_SET, "Set a queue's concurrency or pause it" },
	{ NULL, NULL },
};

const char *
fp_error_message(int code)
{
	size_t	i;

	for (i = 0; i < sizeof fp_errors / sizeof fp_errors[0]; i++)
		if (fp_errors[i].code == code)
			return fp_errors[i].message;
	return "ServerError";
}

/* A request id may be a string, a number or null (JSON-RPC 2.0, 4). */
static int
fp_id_usable(json_t *id)
{
	return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

/* An error response with data (stolen); NULL data means no memory. */
static int
fp_request_refuse(json_t *id, int code, json_t *data, json_t **error)
{
	*error = data != NULL ? fp_response_error(id, code, NULL, data) : NULL;
	return -1;
}

int
fp_request_parse(json_t *member, struct fp_request *req, json_t **error)
{
	json_t		*version, *method, *id, *params;
	const char	*why = NULL;
	void		*iter;

	memset(req, 0, sizeof *req);
	*error = NULL;
	if (!json_is_object(member))
		return fp_request_refuse(NULL, FP_ERR_INVALID_REQUEST,
		    json_pack("{s:s}", "reason", "a request must be an object"),
		    error);
	id = json_object_get(member, "id");
	version = json_object_get(member, "jsonrpc");
	method = json_object_get(member, "method");
	params = json_object_get(member, "params");
	if (id != NULL && !fp_id_usable(id)) {
		id = NULL;
		why = "id must be a string, a number or null";
	} else if (fp_cstr(version) == NULL ||
	    strcmp(json_string_value(version), "2.0") != 0)
		why = "jsonrpc must be \"2.0\"";
	else if (fp_cstr(method) == NULL)
		why = "method must be a string without NUL";
	else if (params != NULL && !json_is_object(params) &&
	    !json_is_array(params))
		why = "params must be an object";
	for (iter = json_object_iter(member); why == NULL && iter != NULL;
	    iter = json_object_iter_next(member, iter)) {
		const char *k = json_object_iter_key(iter);
		if (strcmp(k, "jsonrpc") && strcmp(k, "method") &&
		    strcmp(k, "params") && strcmp(k, "id"))
			why = "unknown member in request";
	}
	if (why != NULL)
		return fp_request_refuse(id, FP_ERR_INVALID_REQUEST,
		    json_pack("{s:s}", "reason", why), error);
	if (json_is_array(params))
		return fp_request_refuse(id, FP_ERR_INVALID_PARAMS,
		    json_pack("{s:s,s:s}", "field", "params", "reason",
		    "params are by name: send an object"), error);
	req->id = id;
	req->method = json_string_value(method);
	req->params = params;
	return 0;
}

json_t *
fp_response_result(json_t *id, json_t *result)
{
	if (result == NULL)
		return NULL;
	return json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "result", result,
	    "id", id != NULL ? id : json_null());
}

json_t *
fp_response_error(json_t *id, int code, const char *message, json_t *data)
{
	json_t	*error;

	error = json_pack("{s:i,s:s}", "code", code, "message",
	    message != NULL ? message : fp_error_message(code));
	if (error == NULL) {
		json_decref(data);
		return NULL;
	}
	if (data != NULL && json_object_set_new(error, "data", data) == -1) {
		json_decref(error);
		return NULL;
	}
	return json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "error", error,
	    "id", id != NULL ? id : json_null());
}

json_t *
fp_request_create(const char *method, json_t *params, json_int_t id)
{
	json_t	*req;

	if (params == NULL)
		params = json_object();
	req = json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", method,
	    "params", params);
	if (req != NULL && id >= 0 &&
	    json_object_set_new(req, "id", json_integer(id)) == -1) {
		json_decref(req);
		return NULL;
	}
	return req;
}

int
fp_response_parse(json_t *resp, json_t **result, int *code,
    const char **message, json_t **data)
{
	json_t	*error, *c, *m;

	*result = NULL;
	*data = NULL;
	*message = NULL;
	*code = 0;
	if (!json_is_object(resp) || fp_cstr(json_object_get(resp,
	    "jsonrpc")) == NULL || strcmp(json_string_value(json_object_get(resp,
	    "jsonrpc")), "2.0") != 0)
		return -1;
	error = json_object_get(resp, "error");
	if ((*result = json_object_get(resp, "result")) != NULL)
		return error == NULL ? 0 : -1;
	c = json_object_get(error, "code");
	m = json_object_get(error, "message");
	if (!json_is_integer(c) || !json_is_string(m))
		return -1;
	*code = (int)json_integer_value(c);
	*message = json_string_value(m);
	*data = json_object_get(error, "data");
	return 1;
}
