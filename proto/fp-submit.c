/* fp-submit.c: validation of task.submit and of each kind's fields. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto.h"

#define FP_NAME_MAX	64
#define FP_KEY_MAX	256
#define FP_LABELS_MAX	64
#define FP_PRIORITY_MAX	1000
#define FP_OUTPUT_MAX	(1024 * 1024 * 1024)


static int
fp_string_field(json_t *obj, const char *field, int required, size_t max,
    const char **out, struct fp_invalid *inv)
{
	json_t	*v = json_object_get(obj, field);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? fp_invalid_set(inv, field, "required") : 0;
	if (!json_is_string(v))
		return fp_invalid_set(inv, field, "must be a string");
	if ((*out = fp_cstr(v)) == NULL)
		return fp_invalid_set(inv, field, "must not contain NUL");
	if (json_string_length(v) == 0 || json_string_length(v) > max)
		return fp_invalid_set(inv, field,
		    "must be 1 to %zu bytes long", max);
	return 0;
}

/* A field's value; NULL when absent or null (null is absent). */
static json_t *
fp_given(json_t *p, const char *field)
{
	json_t	*v = json_object_get(p, field);

	return json_is_null(v) ? NULL : v;
}

/* An object of string -> string with at most FP_LABELS_MAX pairs. */
int
fp_labels_check(json_t *v, const char *field, struct fp_invalid *inv)
{
	char		 path[FP_FIELD_LEN];
	const char	*k;
	json_t		*s;

	if (!json_is_object(v))
		return fp_invalid_set(inv, field,
		    "must be an object of string values");
	if (json_object_size(v) > FP_LABELS_MAX)
		return fp_invalid_set(inv, field, "at most %d labels",
		    FP_LABELS_MAX);
	json_object_foreach(v, k, s) {
		snprintf(path, sizeof path, "%s.%s", field, k);
		if (*k == '\0' || strlen(k) > FP_NAME_MAX)
			return fp_invalid_set(inv, path,
			    "names are 1 to %d bytes", FP_NAME_MAX);
		if (fp_cstr(s) == NULL)
			return fp_invalid_set(inv, path,
			    "must be a string without NUL");
	}
	return 0;
}

static int
fp_argv_check(json_t *argv, struct fp_invalid *inv)
{
	char	path[FP_FIELD_LEN];
	size_t	i;

	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return fp_invalid_set(inv, "argv",
		    "must be a non-empty array of strings");
	for (i = 0; i < json_array_size(argv); i++) {
		snprintf(path, sizeof path, "argv[%zu]", i);
		if (!json_is_string(json_array_get(argv, i)))
			return fp_invalid_set(inv, path, "must be a string");
		if (fp_cstr(json_array_get(argv, i)) == NULL)
			return fp_invalid_set(inv, path, "must not contain NUL");
	}
	if (json_string_length(json_array_get(argv, 0)) == 0)
		return fp_invalid_set(inv, "argv[0]", "must not be empty");
	return 0;
}

static int
fp_env_check(json_t *env, struct fp_invalid *inv)
{
	char		 path[FP_FIELD_LEN];
	const char	*k;
	json_t		*v;

	if (!json_is_object(env))
		return fp_invalid_set(inv, "env", "must be an object of strings");
	json_object_foreach(env, k, v) {
		snprintf(path, sizeof path, "env.%s", k);
		if (*k == '\0' || strchr(k, '=') != NULL)
			return fp_invalid_set(inv, path,
			    "names must be non-empty and contain no '='");
		if (!json_is_string(v))
			return fp_invalid_set(inv, path, "must be a string");
		if (fp_cstr(v) == NULL)
			return fp_invalid_set(inv, path, "must not contain NUL");
	}
	return 0;
}

static int
fp_exec_check(json_t *p, json_t *spec, struct fp_invalid *inv)
{
	json_t		*argv = json_object_get(p, "argv"), *v;
	json_t		*shell = json_object_get(p, "shell");
	const char	*s;

	if (json_is_null(argv))
		argv = NULL;
	if (json_is_null(shell))
		shell = NULL;
	if ((argv == NULL) == (shell == NULL))
		return fp_invalid_set(inv, argv ? "shell" : "argv",
		    "give exactly one of argv and shell");
	if (argv != NULL && fp_argv_check(argv, inv) == -1)
		return -1;
	if (fp_string_field(p, "shell", 0, 1 << 20, &s, inv) == -1)
		return -1;
	if ((v = fp_given(p, "env")) != NULL && fp_env_check(v, inv) == -1)
		return -1;
	if (fp_string_field(p, "cwd", 0, 4096, &s, inv) == -1)
		return -1;
	if ((v = fp_given(p, "stdin")) != NULL && !json_is_string(v))
		return fp_invalid_set(inv, "stdin", "must be a string");
	if (fp_string_field(p, "capture", 0, 16, &s, inv) == -1)
		return -1;
	if (s != NULL && strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
		return fp_invalid_set(inv, "capture", "must be text or json");
	v = fp_given(p, "max_output");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > FP_OUTPUT_MAX))
		return fp_invalid_set(inv, "max_output",
		    "must be an integer from 0 to %d bytes", FP_OUTPUT_MAX);
	json_object_update_existing(spec, p);
	return 0;
}

static int
fp_sleep_check(json_t *p, json_t *spec, struct fp_invalid *inv)
{
	double	secs;

	if (json_object_get(p, "seconds") == NULL ||
	    json_is_null(json_object_get(p, "seconds")))
		return fp_invalid_set(inv, "seconds", "required");
	if (fp_seconds_parse(p, "seconds", 0, FP_MAX_SECONDS, &secs, inv) == -1)
		return -1;
	json_object_update_existing(spec, p);
	return 0;
}

/* An HTTP token (RFC 9110): method and header names. */
static int
fp_http_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (strchr("!#$%&'*+-.^_`|~", *s) == NULL &&
		    !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

static int
fp_url_check(json_t *p, struct fp_invalid *inv)
{
	const char	*url;

	if (fp_string_field(p, "url", 1, 8192, &url, inv) == -1)
		return -1;
	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return fp_invalid_set(inv, "url", "must be an http:// or "
		    "https:// URL");
	if (strpbrk(url, " \t\r\n") != NULL)
		return fp_invalid_set(inv, "url", "must not contain white space");
	return 0;
}

static int
fp_http_headers_check(json_t *h, struct fp_invalid *inv)
{
	char		 path[FP_FIELD_LEN];
	const char	*k, *s;
	json_t		*v;

	if (!json_is_object(h))
		return fp_invalid_set(inv, "headers",
		    "must be an object of strings");
	json_object_foreach(h, k, v) {
		snprintf(path, sizeof path, "headers.%s", k);
		if (!fp_http_token(k))
			return fp_invalid_set(inv, path,
			    "not a valid header name");
		if ((s = fp_cstr(v)) == NULL || strpbrk(s, "\r\n") != NULL)
			return fp_invalid_set(inv, path,
			    "must be a string without CR, LF or NUL");
	}
	return 0;
}

static int
fp_bool_field(json_t *p, const char *field, struct fp_invalid *inv)
{
	json_t	*v = json_object_get(p, field);

	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		return fp_invalid_set(inv, field, "must be true or false");
	return 0;
}

static int
fp_http_check(json_t *p, json_t *spec, struct fp_invalid *inv)
{
	const char	*m;
	json_t		*v;

	if (fp_url_check(p, inv) == -1)
		return -1;
	if (fp_string_field(p, "method", 0, 32, &m, inv) == -1)
		return -1;
	if (m != NULL && !fp_http_token(m))
		return fp_invalid_set(inv, "method", "not an HTTP method");
	if ((v = fp_given(p, "headers")) != NULL &&
	    fp_http_headers_check(v, inv) == -1)
		return -1;
	if ((v = fp_given(p, "body")) != NULL && !json_is_string(v))
		return fp_invalid_set(inv, "body", "must be a string");
	v = fp_given(p, "max_body");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > FP_OUTPUT_MAX))
		return fp_invalid_set(inv, "max_body",
		    "must be an integer from 0 to %d bytes", FP_OUTPUT_MAX);
	if (fp_bool_field(p, "follow_redirects", inv) == -1 ||
	    fp_bool_field(p, "raise_for_status", inv) == -1)
		return -1;
	json_object_update_existing(spec, p);
	return 0;
}

/* A future has no fields of its own: set_result gives its outcome. */
static int
fp_future_check(json_t *p, json_t *spec, struct fp_invalid *inv)
{
	return 0;
}

static int
fp_group_check(json_t *p, json_t *spec, struct fp_invalid *inv)
{
	if (fp_bool_field(p, "return_exceptions", inv) == -1)
		return -1;
	json_object_update_existing(spec, p);
	return 0;
}

static const struct fp_kind {
	const char		*name;
	const char *const	 fields[12];
	int			(*check)(json_t *, json_t *, struct fp_invalid *);
} fp_kinds[] = {
	{ FP_KIND_EXEC, { "argv", "shell", "env", "cwd", "stdin", "capture",
	    "max_output", NULL }, fp_exec_check },
	{ FP_KIND_SLEEP, { "seconds", "result", NULL }, fp_sleep_check },
	{ FP_KIND_FUTURE, { NULL }, fp_future_check },
	{ FP_KIND_GROUP, { "return_exceptions", NULL }, fp_group_check },
	{ FP_KIND_HTTP, { "url", "method", "headers", "body", "max_body",
	    "follow_redirects", "raise_for_status", NULL }, fp_http_check },
};

static const char *const fp_common[] = { "kind", "queue", "priority",
	"timeout", "delay", "not_before", "retries", "retry_backoff", "key",
	"after", "labels", "parent", "child_policy", "concurrency",
	"rate_limit", "rate_key", NULL };

static const char *const fp_child_policies[FP_CHILD_POLICIES] = {
	"wait", "cancel", "abandon",
};

const char *
fp_child_policy_name(int p)
{
	return p >= 0 && p < FP_CHILD_POLICIES ? fp_child_policies[p] : "wait";
}

/* parent and child_policy: where the task stands in a tree. */
static int
fp_tree_check(json_t *p, struct fp_submit *s, struct fp_invalid *inv)
{
	const char	*name;
	json_t		*v;

	if ((v = fp_given(p, "parent")) != NULL && fp_id_parse(v, &s->parent)
	    == -1)
		return fp_invalid_set(inv, "parent",
		    "must be a task id (an integer from 1 to 2^53-1)");
	if (fp_string_field(p, "child_policy", 0, FP_NAME_MAX, &name, inv)
	    == -1)
		return -1;
	for (s->child_policy = 0; name != NULL &&
	    s->child_policy < FP_CHILD_POLICIES; s->child_policy++)
		if (strcmp(name, fp_child_policies[s->child_policy]) == 0)
			return 0;
	if (name != NULL)
		return fp_invalid_set(inv, "child_policy",
		    "must be wait, cancel or abandon");
	s->child_policy = FP_CHILD_WAIT;
	return 0;
}

/* concurrency {KEY: N}, rate_limit and rate_key: into s->limits. */
static int
fp_limits_check(json_t *p, struct fp_submit *s, struct fp_invalid *inv)
{
	json_t		*c = fp_given(p, "concurrency"), *v;
	const char	*k, *rate, *rkey;

	if (fp_string_field(p, "rate_limit", 0, FP_NAME_MAX, &rate, inv) == -1 ||
	    fp_string_field(p, "rate_key", 0, FP_LIMIT_KEY_MAX, &rkey, inv) == -1)
		return -1;
	if (rkey != NULL && rate == NULL)
		return fp_invalid_set(inv, "rate_key", "needs rate_limit");
	if (rate != NULL && strspn(rate, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(rate))
		return fp_invalid_set(inv, "rate_limit",
		    "letters, digits, '.', '_' and '-' only");
	if (c != NULL && (!json_is_object(c) || json_object_size(c) == 0 ||
	    json_object_size(c) > FP_LIMIT_KEYS))
		return fp_invalid_set(inv, "concurrency", "must be an object "
		    "of 1 to %d keys, each with its limit", FP_LIMIT_KEYS);
	json_object_foreach(c, k, v) {
		if (*k == '\0' || strlen(k) > FP_LIMIT_KEY_MAX)
			return fp_invalid_set(inv, "concurrency", "a key is 1 to "
			    "%d bytes", FP_LIMIT_KEY_MAX);
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > FP_LIMIT_MAX)
			return fp_invalid_set(inv, "concurrency", "the limit of "
			    "%.64s must be an integer from 1 to %d", k,
			    FP_LIMIT_MAX);
	}
	if (c == NULL && rate == NULL)
		return 0;
	if ((s->limits = json_object()) == NULL)
		return fp_invalid_set(inv, "concurrency", "out of memory");
	if (c != NULL)
		json_object_set(s->limits, "concurrency", c);
	if (rate != NULL)
		json_object_set_new(s->limits, "rate_limit", json_string(rate));
	if (rkey != NULL)
		json_object_set_new(s->limits, "rate_key", json_string(rkey));
	return 0;
}

static int
fp_is_common(const char *k)
{
	size_t	i;

	for (i = 0; fp_common[i] != NULL; i++)
		if (strcmp(fp_common[i], k) == 0)
			return 1;
	return 0;
}

/* The kind's fields go into spec (set to null, then filled by check). */
static int
fp_kind_check(json_t *p, const struct fp_kind *kind, json_t *spec,
    struct fp_invalid *inv)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_object_foreach(p, k, v) {
		if (fp_is_common(k))
			continue;
		for (i = 0; kind->fields[i] != NULL; i++)
			if (strcmp(kind->fields[i], k) == 0)
				break;
		if (kind->fields[i] == NULL)
			return fp_invalid_set(inv, k, "unknown parameter for "
			    "kind %s", kind->name);
		/* null is absent: only given values enter the spec */
		if (!json_is_null(v) && json_object_set(spec, k, json_null())
		    == -1)
			return fp_invalid_set(inv, k, "out of memory");
	}
	return kind->check(p, spec, inv);
}

static int
fp_schedule_check(json_t *p, struct fp_submit *s, struct fp_invalid *inv)
{
	const char	*nb;
	json_t		*v;

	if (fp_seconds_parse(p, "delay", 0, FP_MAX_SECONDS, &s->delay, inv) == -1)
		return -1;
	if (fp_string_field(p, "not_before", 0, FP_TIME_LEN, &nb, inv) == -1)
		return -1;
	if (nb != NULL && json_object_get(p, "delay") != NULL)
		return fp_invalid_set(inv, "not_before",
		    "give delay or not_before, not both");
	s->not_before = -1;
	if (nb != NULL && fp_time_parse(nb, &s->not_before) == -1)
		return fp_invalid_set(inv, "not_before",
		    "must be an RFC 3339 timestamp");
	if (fp_seconds_parse(p, "timeout", -1, FP_MAX_SECONDS, &s->timeout,
	    inv) == -1)
		return -1;
	if (json_object_get(p, "timeout") != NULL && s->timeout == 0)
		return fp_invalid_set(inv, "timeout", "must be above 0");
	v = json_object_get(p, "retries");
	if (v != NULL && !json_is_null(v) && (!json_is_integer(v) ||
	    json_integer_value(v) < 0 || json_integer_value(v) > FP_MAX_RETRIES))
		return fp_invalid_set(inv, "retries",
		    "must be an integer from 0 to %d", FP_MAX_RETRIES);
	s->retries = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	return fp_seconds_parse(p, "retry_backoff", 1, 86400, &s->retry_backoff,
	    inv);
}

int
fp_queue_name_check(json_t *p, const char *field, const char **out,
    struct fp_invalid *inv)
{
	const char	*q;
	size_t		 i;

	if (fp_string_field(p, field, 0, FP_NAME_MAX, &q, inv) == -1)
		return -1;
	for (i = 0; q != NULL && q[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", q[i]) == NULL)
			return fp_invalid_set(inv, field,
			    "letters, digits, '.', '_' and '-' only");
	*out = q;
	return 0;
}

int
fp_queue_set_parse(json_t *p, struct fp_queue_set *qs, struct fp_invalid *inv)
{
	static const char *const keys[] = { "name", "concurrency", "paused",
	    "create", NULL };
	json_t	*v;

	memset(qs, 0, sizeof *qs);
	qs->create = 1;
	if (fp_params_only(p, keys, inv) == -1)
		return -1;
	if (fp_queue_name_check(p, "name", &qs->name, inv) == -1)
		return -1;
	if (qs->name == NULL)
		return fp_invalid_set(inv, "name", "required");
	if ((v = json_object_get(p, "concurrency")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000)
			return fp_invalid_set(inv, "concurrency", "must be an "
			    "integer from 0 (no limit) to 1000000");
		qs->has_concurrency = 1;
		qs->concurrency = (int)json_integer_value(v);
	}
	if ((v = json_object_get(p, "paused")) != NULL) {
		if (!json_is_boolean(v))
			return fp_invalid_set(inv, "paused", "must be a boolean");
		qs->has_paused = 1;
		qs->paused = json_is_true(v);
	}
	if ((v = json_object_get(p, "create")) != NULL) {
		if (!json_is_boolean(v))
			return fp_invalid_set(inv, "create", "must be a boolean");
		qs->create = json_is_true(v);
	}
	return 0;
}

int
fp_queue_delete_parse(json_t *p, const char **name, struct fp_invalid *inv)
{
	static const char *const keys[] = { "name", NULL };

	*name = NULL;
	if (fp_params_only(p, keys, inv) == -1 ||
	    fp_queue_name_check(p, "name", name, inv) == -1)
		return -1;
	if (*name == NULL)
		return fp_invalid_set(inv, "name", "required");
	return 0;
}

static int
fp_placement_check(json_t *p, struct fp_submit *s, struct fp_invalid *inv)
{
	json_t		*v;
	const char	*q;

	if (fp_queue_name_check(p, "queue", &q, inv) == -1)
		return -1;
	s->queue = q != NULL ? q : "default";
	v = json_object_get(p, "priority");
	if (v != NULL && !json_is_null(v) && (!json_is_integer(v) ||
	    json_integer_value(v) < -FP_PRIORITY_MAX ||
	    json_integer_value(v) > FP_PRIORITY_MAX))
		return fp_invalid_set(inv, "priority",
		    "must be an integer from %d to %d", -FP_PRIORITY_MAX,
		    FP_PRIORITY_MAX);
	s->priority = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	if (fp_string_field(p, "key", 0, FP_KEY_MAX, &s->key, inv) == -1)
		return -1;
	v = json_object_get(p, "labels");
	if (v != NULL && !json_is_null(v)) {
		if (fp_labels_check(v, "labels", inv) == -1)
			return -1;
		s->labels = json_deep_copy(v);
	} else
		s->labels = json_object();
	if (s->labels == NULL)
		return fp_invalid_set(inv, "labels", "out of memory");
	return 0;
}

int
fp_submit_parse(json_t *p, struct fp_submit *s, struct fp_invalid *inv)
{
	const struct fp_kind	*kind = NULL;
	const char		*k;
	size_t			 i;

	memset(s, 0, sizeof *s);
	if (fp_string_field(p, "kind", 1, FP_NAME_MAX, &k, inv) == -1)
		return -1;
	for (i = 0; i < sizeof fp_kinds / sizeof fp_kinds[0]; i++)
		if (strcmp(fp_kinds[i].name, k) == 0)
			kind = &fp_kinds[i];
	if (kind == NULL)
		return fp_invalid_set(inv, "kind", "unknown kind '%s'", k);
	s->kind = kind->name;
	if ((s->spec = json_pack("{s:s}", "kind", kind->name)) == NULL)
		return fp_invalid_set(inv, "kind", "out of memory");
	if (fp_kind_check(p, kind, s->spec, inv) == -1 ||
	    fp_schedule_check(p, s, inv) == -1 ||
	    fp_placement_check(p, s, inv) == -1 ||
	    fp_tree_check(p, s, inv) == -1 ||
	    fp_limits_check(p, s, inv) == -1)
		goto fail;
	if (json_object_get(p, "after") != NULL && !json_is_null(
	    json_object_get(p, "after")) && fp_ids_array(json_object_get(p,
	    "after"), "after", FP_MAX_AFTER, &s->after, &s->n_after, inv) == -1)
		goto fail;
	if (strcmp(kind->name, FP_KIND_GROUP) == 0 && s->retries > 0) {
		fp_invalid_set(inv, "retries", "a group is not retried");
		goto fail;
	}
	if (strcmp(kind->name, FP_KIND_GROUP) == 0 &&
	    s->child_policy != FP_CHILD_WAIT) {
		fp_invalid_set(inv, "child_policy",
		    "a group waits for its members");
		goto fail;
	}
	return 0;
fail:
	fp_submit_clear(s);
	return -1;
}

void
fp_submit_clear(struct fp_submit *s)
{
	json_decref(s->spec);
	json_decref(s->labels);
	json_decref(s->limits);
	free(s->after);
	memset(s, 0, sizeof *s);
}
