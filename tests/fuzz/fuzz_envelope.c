/*
 * fuzz_envelope.c: a libFuzzer target for the JSON-RPC envelope (issue
 * #11, "Prove it, in CI").
 *
 * The input is an HTTP body, the bytes any client may send.  It goes
 * where daemon/rpc.c's rpc_handle sends it: fp_body_parse (with the
 * rewrite of NUL in keys), the empty batch, the batch limit, then each
 * member through fp_request_parse and fp_nul_key_check, its method's
 * parameter validation (fuzz-methods.c) and the response objects of
 * fp-envelope.c written as text with fp_text_json, and the body of the
 * answer put together as rpc_batch_body does.  Only the handlers' work on
 * the store and the loop is left out.
 *
 * Besides what the sanitizers find, the answer must keep the protocol's
 * promises: a key that held NUL never reaches a method; every error has
 * its data; the answer is JSON; a single request answers with one
 * response and a batch with an array of one response per call that has
 * an id, in order, each with its call's id; a notification gets nothing;
 * and fp_text_json writes every parsed value as jansson would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-methods.h"

#define FUZZ_MAX_BATCH	10000	/* rpc.c's RPC_MAX_BATCH */

/* One call of the batch, as rpc.c's struct rpc_call keeps it. */
struct fuzz_call {
	json_t		*id;		/* NULL: a notification */
	const char	*method;
	json_t		*params;
	struct fp_text	 reply;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static json_t *
fuzz_json(json_t *j)
{
	if (j == NULL)
		fuzz_fail("out of memory building JSON");
	return j;
}

/* response (stolen) as the call's text; notifications keep none. */
static void
fuzz_text_response(struct fuzz_call *c, json_t *response)
{
	if (c->id != NULL)
		fp_text_json(&c->reply, response);
	json_decref(response);
}

/*
 * rpc_log_refused: nobody hears a refused notification, so it is logged
 * with a submission's key or labels; the line is built and dropped.
 */
static void
fuzz_log_refused(struct fuzz_call *c, int code, json_t *data)
{
	json_t	*key = NULL, *labels = NULL;
	char	*d, *what = NULL, line[1024];

	if (c->method != NULL && strcmp(c->method, FP_TASK_SUBMIT) == 0) {
		key = json_object_get(c->params, "key");
		labels = json_object_get(c->params, "labels");
	}
	if (json_is_string(key))
		what = json_dumps(key, JSON_ENCODE_ANY);
	else if (json_is_object(labels))
		what = json_dumps(labels, JSON_COMPACT);
	d = data != NULL ? json_dumps(data, JSON_COMPACT) : NULL;
	snprintf(line, sizeof line, "refused notification %s: %s %s%s%s",
	    c->method != NULL ? c->method : "(invalid)",
	    fp_error_message(code), d != NULL ? d : "{}",
	    what == NULL ? "" : json_is_string(key) ? "; key " : "; labels ",
	    what != NULL ? what : "");
	free(d);
	free(what);
}

/*
 * rpc_error: data is stolen.  Every error futured answers carries its
 * data (proto/PROTOCOL.md: -32700 {reason, position}, -32600 {reason},
 * -32602 {field, reason}); NULL here means it could not be built.
 */
static void
fuzz_error(struct fuzz_call *c, int code, json_t *data)
{
	if (data == NULL)
		fuzz_fail("error %d answered without its data", code);
	if (c->id == NULL)
		fuzz_log_refused(c, code, data);
	fuzz_text_response(c, fuzz_json(fp_response_error(c->id, code, NULL,
	    data)));
}

/* rpc_dispatch and the handler's validation; a result framed as rpc.c's. */
static void
fuzz_dispatch(struct fuzz_call *c, json_t *empty)
{
	struct fp_invalid	 inv;
	struct fp_text		 result = { 0 };
	char			*text;
	size_t			 len;
	int			 r;

	r = fuzz_method_check(c->method, c->params != NULL ? c->params :
	    empty, &inv, &result);
	if (r == -2)
		fuzz_error(c, FP_ERR_METHOD_NOT_FOUND, json_pack("{s:s}",
		    "method", c->method));
	else if (r == -1)
		fuzz_error(c, FP_ERR_INVALID_PARAMS, fp_invalid_data(&inv));
	else if (c->id != NULL) {
		/* rpc_result_begin, the handler's text, rpc_result_end */
		if ((text = fp_text_take(&result, &len)) == NULL)
			fuzz_fail("a result could not be written");
		fp_text_cstr(&c->reply, "{\"jsonrpc\":\"2.0\",\"result\":");
		fp_text_add(&c->reply, text, len);
		fp_text_cstr(&c->reply, ",\"id\":");
		fp_text_json(&c->reply, c->id);
		fp_text_add(&c->reply, "}", 1);
		free(text);
	}
	fp_text_clear(&result);
}

/* rpc_call_run */
static void
fuzz_call_run(struct fuzz_call *c, json_t *member, int nul_keys,
    json_t *empty)
{
	struct fp_request	 req;
	struct fp_invalid	 inv;
	json_t			*err, *e, *id;

	if (fp_request_parse(member, &req, &err) == -1) {
		e = json_object_get(fuzz_json(err), "error");
		if (json_integer_value(json_object_get(e, "code")) !=
		    FP_ERR_INVALID_PARAMS || json_object_get(member, "id")
		    != NULL) {
			id = json_object_get(err, "id");
			c->id = id != NULL ? id : json_null();
		} else {
			c->method = fp_cstr(json_object_get(member, "method"));
			fuzz_log_refused(c, FP_ERR_INVALID_PARAMS,
			    json_object_get(e, "data"));
		}
		fuzz_text_response(c, err);
		return;
	}
	if (req.method == NULL || (req.params != NULL &&
	    !json_is_object(req.params)))
		fuzz_fail("fp_request_parse accepted a request without method "
		    "or with params not an object");
	c->id = req.id;
	c->method = req.method;
	c->params = req.params;
	if (nul_keys && fp_nul_key_check(req.params, &inv) == -1) {
		fuzz_error(c, FP_ERR_INVALID_PARAMS, fp_invalid_data(&inv));
		return;
	}
	/* a key that held NUL must not reach a method, as U+FFFF */
	if (nul_keys && fuzz_nul_mark(req.params))
		fuzz_fail("a NUL key passed fp_nul_key_check into %s",
		    req.method);
	fuzz_dispatch(c, empty);
}

/* A response's text must read back as a response to id. */
static void
fuzz_check_response(json_t *resp, json_t *id)
{
	json_t		*result, *data;
	const char	*message;
	int		 code;

	if (fp_response_parse(resp, &result, &code, &message, &data) == -1)
		fuzz_fail("an answer that is not a JSON-RPC response");
	if (!json_equal(json_object_get(resp, "id"), id))
		fuzz_fail("a response with another id than its request's");
}

/* The body as rpc_batch_body writes it; empty when all were notifications. */
static void
fuzz_batch_answer(struct fuzz_call *calls, size_t n, int is_array)
{
	struct fp_text	 out = { 0 }, *r;
	json_error_t	 err;
	json_t		*body;
	char		*text;
	size_t		 i, k, len, size = 2, want = 0;

	for (i = 0; i < n; i++) {
		if (calls[i].reply.failed)
			fuzz_fail("cannot encode a response");
		size += calls[i].reply.len + 1;
		want += calls[i].id != NULL;
	}
	if (!is_array)
		text = fp_text_take(&calls[0].reply, &len);
	else {
		fp_text_reserve(&out, size);
		for (i = 0; i < n; i++) {
			r = &calls[i].reply;
			if (r->len == 0)
				continue;
			fp_text_add(&out, out.len == 0 ? "[" : ",", 1);
			fp_text_add(&out, r->buf, r->len);
		}
		if (out.len > 0)
			fp_text_add(&out, "]", 1);
		text = fp_text_take(&out, &len);
	}
	if (text == NULL)
		fuzz_fail("cannot encode a response");
	if (want == 0) {
		if (len != 0)
			fuzz_fail("notifications answered: %s", text);
		free(text);
		return;
	}
	if ((body = json_loadb(text, len, JSON_ALLOW_NUL, &err)) == NULL)
		fuzz_fail("the answer is not JSON (%s): %s", err.text, text);
	if (!is_array)
		fuzz_check_response(body, calls[0].id);
	else {
		if (!json_is_array(body) || json_array_size(body) != want)
			fuzz_fail("%zu responses for %zu calls with an id",
			    json_array_size(body), want);
		for (i = 0, k = 0; i < n; i++)
			if (calls[i].id != NULL)
				fuzz_check_response(json_array_get(body, k++),
				    calls[i].id);
	}
	json_decref(body);
	free(text);
}

/* rpc_reject: a body that is not a batch of calls; data is stolen. */
static void
fuzz_reject(int code, json_t *data)
{
	struct fuzz_call	c = { .id = json_null() };

	fuzz_error(&c, code, data);
	fuzz_batch_answer(&c, 1, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_call	*calls;
	json_error_t		 jerr;
	json_t			*doc, *empty;
	size_t			 i, n;
	int			 nul_keys, is_array;

	doc = fp_body_parse((const char *)data, size, &nul_keys, &jerr);
	/*
	 * rpc_handle answers -32603 when jansson ran out of memory or gave
	 * no reason; here memory does not run out, so a parse error without
	 * a reason would be answered as if it had.
	 */
	if (doc == NULL && (json_error_code(&jerr) == json_error_out_of_memory ||
	    jerr.text[0] == '\0'))
		fuzz_fail("a parse error without a reason, at %d",
		    jerr.position);
	if (doc == NULL) {
		fuzz_reject(FP_ERR_PARSE, json_pack("{s:o,s:i}", "reason",
		    fp_string_from_bytes(jerr.text, strlen(jerr.text)),
		    "position", jerr.position));
		return 0;
	}
	fuzz_text_like_jansson(doc);
	if (json_is_array(doc) && json_array_size(doc) == 0) {
		json_decref(doc);
		fuzz_reject(FP_ERR_INVALID_REQUEST, json_pack("{s:s}",
		    "reason", "empty batch"));
		return 0;
	}
	is_array = json_is_array(doc);
	n = is_array ? json_array_size(doc) : 1;
	if (n > FUZZ_MAX_BATCH) {
		json_decref(doc);
		fuzz_reject(FP_ERR_LIMIT, json_pack("{s:s,s:I,s:I}", "limit",
		    "batch", "max", (json_int_t)FUZZ_MAX_BATCH, "value",
		    (json_int_t)n));
		return 0;
	}
	if ((calls = calloc(n, sizeof *calls)) == NULL)
		fuzz_fail("out of memory");
	empty = fuzz_json(json_object());
	for (i = 0; i < n; i++)
		fuzz_call_run(&calls[i], is_array ? json_array_get(doc, i) :
		    doc, nul_keys, empty);
	fuzz_batch_answer(calls, n, is_array);
	for (i = 0; i < n; i++)
		fp_text_clear(&calls[i].reply);
	free(calls);
	json_decref(empty);
	json_decref(doc);
	return 0;
}
