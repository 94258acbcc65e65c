/*
 * fuzz_params.c: a libFuzzer target for parameter and task-spec
 * validation (issue #11, "Prove it, in CI").
 *
 * Every method's params come from the client unchecked, past an envelope
 * that only asks them to be an object.  The input is read as a body is
 * (fp_body_parse, NUL in keys included); an object goes to every method's
 * validation as the daemon runs it (fuzz-methods.c: fp_submit_parse,
 * fp_wait_parse, fp_list_parse, fp_params_id, fp_timeout_parse,
 * fp_queue_set_parse, fp_params_only), a valid submission is written as
 * its task object with fp_task_write, and the lower validators are called
 * on their own (fp_seconds_parse, fp_labels_check, fp_ids_array,
 * fp_queue_name_check, fp_time_parse, fp_nul_key_check).  Any value, and
 * the raw bytes, go to what takes any value or bytes (fp_id_parse,
 * fp_ids_array, fp_labels_check, fp_string_from_bytes, fp_utf8_valid,
 * fp_base64).  The client's side is run too: fp_request_create must build
 * what fp_request_parse accepts, and fp_response_parse must read back
 * what fp_response_result and fp_response_error built.
 *
 * Besides what the sanitizers find, each validator must keep what it
 * promises of what it accepts (in range, no duplicates, a reason when it
 * refuses), and what is written as text must read back as the same JSON.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-methods.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fp_seconds_parse: the default, or a number of seconds up to max. */
static void
fuzz_seconds(json_t *params, const char *field, double dflt, double max)
{
	struct fp_invalid	inv;
	double			out;

	if (fp_seconds_parse(params, field, dflt, max, &out, &inv) == 0 &&
	    out != dflt && !(out >= 0 && out <= max))
		fuzz_fail("fp_seconds_parse(%s) gave %g", field, out);
}

/* fp_timeout_parse: within [0, cap] whatever the default. */
static void
fuzz_timeout(json_t *params, double dflt, double cap)
{
	struct fp_invalid	inv;
	double			out;

	if (fp_timeout_parse(params, "timeout", dflt, cap, &out, &inv) == 0 &&
	    !(out <= cap && (out >= 0 || out == dflt)))
		fuzz_fail("fp_timeout_parse gave %g (default %g, cap %g)", out,
		    dflt, cap);
}

/* fp_ids_array: distinct ids, at most max; nothing kept when refused. */
static void
fuzz_ids(json_t *arr, size_t max)
{
	struct fp_invalid	 inv;
	int64_t			*ids;
	size_t			 i, n;

	if (fp_ids_array(arr, "ids", max, &ids, &n, &inv) == -1) {
		if (ids != NULL || n != 0)
			fuzz_fail("fp_ids_array refused but gave ids");
		return;
	}
	if (n > max || n != json_array_size(arr))
		fuzz_fail("fp_ids_array gave %zu ids of %zu", n,
		    json_array_size(arr));
	for (i = 0; i < n; i++)
		if (ids[i] < 1 || ids[i] >= FP_ID_LIMIT)
			fuzz_fail("fp_ids_array gave %lld", (long long)ids[i]);
	free(ids);
}

/* An RFC 3339 string: formatting what was parsed reads back as it. */
static void
fuzz_time(json_t *v)
{
	const char	*s = fp_cstr(v);
	char		 buf[FP_TIME_LEN];
	double		 t, again;

	if (s == NULL || fp_time_parse(s, &t) == -1 || t <= 0)
		return;
	if (*fp_time_format(t, buf) == '\0')
		return;		/* past 9999 once the offset is applied */
	if (fp_time_parse(buf, &again) == -1 || fabs(again - t) > 0.0011)
		fuzz_fail("'%s' is %.6f, written '%s'", s, t, buf);
}

/* The client's envelope: what it builds, the daemon and it read back. */
static void
fuzz_client(json_t *params, json_int_t id)
{
	struct fp_request	 req;
	json_t			*r, *err, *result, *data, *jid;
	const char		*message;
	int			 code;

	r = fp_request_create(FP_TASK_SUBMIT, json_deep_copy(params), id);
	if (r == NULL)
		return;
	if (fp_request_parse(r, &req, &err) == -1 ||
	    !json_equal(req.params, params))
		fuzz_fail("fp_request_parse refused what fp_request_create "
		    "built");
	json_decref(r);
	jid = json_integer(id);
	r = fp_response_result(jid, json_deep_copy(params));
	if (r != NULL && (fp_response_parse(r, &result, &code, &message,
	    &data) != 0 || !json_equal(result, params) ||
	    !json_equal(json_object_get(r, "id"), jid)))
		fuzz_fail("a result response does not read back");
	json_decref(jid);
	json_decref(r);
	r = fp_response_error(NULL, (int)(id % 40000) - 32768, NULL,
	    json_deep_copy(params));
	if (r != NULL && (fp_response_parse(r, &result, &code, &message,
	    &data) != 1 || code != (int)(id % 40000) - 32768 ||
	    !json_equal(data, params) || strcmp(message,
	    fp_error_message(code)) != 0))
		fuzz_fail("an error response does not read back");
	json_decref(r);
}

/* The methods futured dispatches (daemon/rpc/rpc-methods.c). */
static const char *const fuzz_methods[] = {
	FP_TASK_SUBMIT, FP_TASK_GET, FP_TASK_RESULT, FP_TASK_EXCEPTION,
	FP_TASK_WAIT, FP_TASK_CANCEL, FP_TASK_LIST, FP_TASK_STREAM,
	FP_TASK_OUTPUT, FP_DAEMON_INFO, FP_RPC_DISCOVER, FP_QUEUE_LIST,
	FP_QUEUE_SET, FP_TASK_SET_RESULT, FP_TASK_SET_EXCEPTION,
	FP_TASK_AS_COMPLETED, FP_TASK_CLOSE, FP_SCHEDULE_CREATE,
	FP_SCHEDULE_GET, FP_SCHEDULE_DELETE, NULL,
};

/* An object: every method, then the validators they are built on. */
static void
fuzz_object(json_t *params, size_t size)
{
	static const char *const some[] = { "id", "ids", "timeout", "kind",
	    NULL };
	struct fp_invalid	 inv;
	struct fp_text		 out = { 0 };
	const char		*name;
	size_t			 i;
	int64_t			 id;
	enum fp_state		 st;

	for (i = 0; fuzz_methods[i] != NULL; i++) {
		if (fuzz_method_check(fuzz_methods[i], params, &inv,
		    &out) == -2)
			fuzz_fail("no validation for %s", fuzz_methods[i]);
		if (out.failed)
			fuzz_fail("%s: its result could not be written",
			    fuzz_methods[i]);
		fp_text_clear(&out);
	}
	fuzz_seconds(params, "seconds", 0, FP_MAX_SECONDS);
	fuzz_seconds(params, "delay", -1, 86400);
	fuzz_seconds(params, "retry_backoff", 1, 1e-3);
	fuzz_timeout(params, 0, FUZZ_MAX_WAIT);
	fuzz_timeout(params, 1e9, 0.5);
	fuzz_timeout(params, -1, INFINITY);
	fp_params_only(params, some, &inv);
	fp_params_id(params, some, &id, &inv);
	fp_labels_check(params, "params", &inv);
	fp_labels_check(json_object_get(params, "labels"), "labels", &inv);
	fuzz_ids(json_object_get(params, "ids"), 10000);
	fuzz_ids(json_object_get(params, "after"), FP_MAX_AFTER);
	fuzz_ids(json_object_get(params, "after"), 1);
	if (fp_queue_name_check(params, "queue", &name, &inv) == 0 &&
	    name != NULL && (strlen(name) == 0 || strlen(name) > 64))
		fuzz_fail("queue name of %zu bytes", strlen(name));
	fuzz_time(json_object_get(params, "not_before"));
	if (fp_cstr(json_object_get(params, "state")) != NULL &&
	    fp_state_parse(json_string_value(json_object_get(params, "state")),
	    &st) == 0 && strcmp(fp_state_name(st), json_string_value(
	    json_object_get(params, "state"))) != 0)
		fuzz_fail("state names do not read back");
	fuzz_client(params, (json_int_t)size);
}

/* Raw bytes: what the daemon makes of a task's output. */
static void
fuzz_bytes(const char *buf, size_t n)
{
	json_t	*s, *b;
	int	 valid = fp_utf8_valid(buf, n);

	if ((s = json_stringn(buf, n)) != NULL) {
		json_decref(s);
		if (!valid)
			fuzz_fail("fp_utf8_valid refuses what jansson takes");
	} else if (valid)
		fuzz_fail("fp_utf8_valid takes what jansson refuses");
	if ((s = fp_string_from_bytes(buf, n)) != NULL) {
		if (!fp_utf8_valid(json_string_value(s), json_string_length(s))
		    || (b = json_stringn(json_string_value(s),
		    json_string_length(s))) == NULL)
			fuzz_fail("fp_string_from_bytes made invalid UTF-8");
		if (valid && (json_string_length(s) != n ||
		    memcmp(json_string_value(s), buf, n) != 0))
			fuzz_fail("fp_string_from_bytes changed valid UTF-8");
		json_decref(b);
		json_decref(s);
	}
	if ((s = fp_base64(buf, n)) != NULL) {
		if (json_string_length(s) != (n + 2) / 3 * 4)
			fuzz_fail("base64 of %zu bytes is %zu long", n,
			    json_string_length(s));
		json_decref(s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_invalid	 inv;
	json_error_t		 err;
	json_t			*v;
	int64_t			 id;
	int			 nul_keys;

	fuzz_bytes((const char *)data, size);
	v = fp_body_parse((const char *)data, size, &nul_keys, &err);
	if (v == NULL)
		return 0;
	/* the body is all params: its NUL key must be found */
	if (fp_nul_key_check(v, &inv) == 0 && nul_keys)
		fuzz_fail("fp_nul_key_check missed a NUL key");
	if (json_is_object(v))
		fuzz_object(v, size);
	else {
		fp_id_parse(v, &id);
		fuzz_ids(v, 10000);
		fp_labels_check(v, "labels", &inv);
	}
	fuzz_text_like_jansson(v);
	json_decref(v);
	return 0;
}
