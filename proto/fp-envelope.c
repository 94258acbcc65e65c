/* fp-envelope.c: JSON-RPC 2.0 request and response framing. */
#include <stdio.h>
#include <stdlib.h>
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
	{ FP_ERR_NO_SUCH_QUEUE, "NoSuchQueue" },
	{ FP_ERR_QUEUE_NOT_EMPTY, "QueueNotEmpty" },
	{ FP_ERR_READ_ONLY, "ReadOnly" },
	{ FP_ERR_SCHEDULE_EXISTS, "ScheduleExists" },
	{ FP_ERR_NO_SUCH_SCHEDULE, "NoSuchSchedule" },
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

/*
 * jansson refuses NUL in object keys, even with JSON_ALLOW_NUL, so a key
 * holding "\u0000" made the whole body a parse error.  Such a body is
 * parsed again with each "\u0000" inside a key written as "\uffff" (U+FFFF,
 * a noncharacter of the same length, so error positions stay true), and
 * fp_nul_key_check refuses the call that holds one, naming the field.  A
 * key that really holds U+FFFF in such a body is refused the same way;
 * the body had a NUL key anyway.  A NUL key in a member that a later
 * duplicate replaced is gone from the document, as the member is: such a
 * body is parsed as if it never had one.
 */
#define FP_NUL_MARK	"\xef\xbf\xbf"

/* The end of the JSON string starting at s[i] (a quote), or n. */
static size_t
fp_string_end(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i;
	}
	return n;
}

/* buf with "\u0000" rewritten inside keys; NULL: no memory. */
static char *
fp_nul_keys_rewrite(const char *buf, size_t len)
{
	char	*out = malloc(len + 1);
	size_t	 i, j, end, k;

	if (out == NULL)
		return NULL;
	memcpy(out, buf, len);
	out[len] = '\0';
	for (i = 0; i < len; i = end + 1) {
		if (out[i] != '"') {
			end = i;
			continue;
		}
		end = fp_string_end(out, i, len);
		for (k = end + 1; k < len && strchr(" \t\r\n", out[k]) != NULL &&
		    out[k] != '\0'; k++)
			;
		if (k >= len || out[k] != ':')
			continue;
		for (j = i + 1; j + 5 < end; j++) {
			if (out[j] != '\\')
				continue;
			if (out[j + 1] == 'u' && strncmp(out + j + 2, "0000", 4)
			    == 0)
				memcpy(out + j + 2, "ffff", 4);
			j++;	/* past the escaped character */
		}
	}
	return out;
}

/* Appends ".key" (or "key" at the top) to path, NUL shown as \u0000. */
static void
fp_path_key(char *path, size_t size, const char *key)
{
	size_t	n = strlen(path);

	if (n > 0 && n + 1 < size)
		path[n++] = '.';
	for (; *key != '\0' && n + 7 < size; key++) {
		if (strncmp(key, FP_NUL_MARK, 3) == 0) {
			memcpy(path + n, "\\u0000", 6);
			n += 6;
			key += 2;
		} else
			path[n++] = *key;
	}
	path[n] = '\0';
}

/* Finds a key holding the mark under v; its path (from v) in path. */
static int
fp_nul_key_find(json_t *v, char *path, size_t size)
{
	const char	*k;
	json_t		*e;
	size_t		 n = strlen(path), i;

	/* no depth cap: jansson's parser already stops at 2048 levels */
	if (json_is_object(v)) {
		json_object_foreach(v, k, e) {
			fp_path_key(path, size, k);
			if (strstr(k, FP_NUL_MARK) != NULL ||
			    fp_nul_key_find(e, path, size))
				return 1;
			path[n] = '\0';
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			snprintf(path + n, size - n, "[%zu]", i);
			if (fp_nul_key_find(e, path, size))
				return 1;
			path[n] = '\0';
		}
	}
	return 0;
}

json_t *
fp_body_parse(const char *buf, size_t len, int *nul_keys, json_error_t *err)
{
	const size_t	 flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
	json_error_t	 again;
	json_t		*doc;
	char		*copy, path[FP_FIELD_LEN] = "";

	*nul_keys = 0;
	if ((doc = json_loadb(buf, len, flags, err)) != NULL ||
	    json_error_code(err) != json_error_null_byte_in_key)
		return doc;
	if ((copy = fp_nul_keys_rewrite(buf, len)) == NULL)
		return NULL;
	doc = json_loadb(copy, len, flags, &again);
	free(copy);
	if (doc != NULL)
		*nul_keys = fp_nul_key_find(doc, path, sizeof path);
	return doc;
}

int
fp_nul_key_check(json_t *params, struct fp_invalid *inv)
{
	char	path[FP_FIELD_LEN] = "";

	if (!fp_nul_key_find(params, path, sizeof path))
		return 0;
	return fp_invalid_set(inv, path, "keys must not contain NUL");
}
