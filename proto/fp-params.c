/* fp-params.c: validation of method parameters shared by every method. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

const char *
fp_cstr(json_t *v)
{
	const char	*s = json_string_value(v);

	if (s == NULL || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

int
fp_invalid_set(struct fp_invalid *inv, const char *field, const char *fmt, ...)
{
	va_list	ap;

	snprintf(inv->field, sizeof inv->field, "%s", field);
	va_start(ap, fmt);
	vsnprintf(inv->reason, sizeof inv->reason, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The field and the reason were cut to their buffers, maybe inside a UTF-8
 * sequence: written through fp_string_from_bytes, they stay valid.
 */
json_t *
fp_invalid_data(const struct fp_invalid *inv)
{
	return json_pack("{s:o,s:o}", "field", fp_string_from_bytes(inv->field,
	    strlen(inv->field)), "reason", fp_string_from_bytes(inv->reason,
	    strlen(inv->reason)));
}

int
fp_id_parse(json_t *v, int64_t *id)
{
	json_int_t	n;

	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	if (n < 1 || n >= FP_ID_LIMIT)
		return -1;
	*id = n;
	return 0;
}

int
fp_params_only(json_t *obj, const char *const *allowed, struct fp_invalid *inv)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL)
			return fp_invalid_set(inv, key, "unknown parameter");
	}
	return 0;
}

int
fp_params_id(json_t *params, const char *const *extra, int64_t *id,
    struct fp_invalid *inv)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(params, key, v) {
		if (strcmp(key, "id") == 0)
			continue;
		for (i = 0; extra != NULL && extra[i] != NULL; i++)
			if (strcmp(extra[i], key) == 0)
				break;
		if (extra == NULL || extra[i] == NULL)
			return fp_invalid_set(inv, key, "unknown parameter");
	}
	v = json_object_get(params, "id");
	if (v == NULL)
		return fp_invalid_set(inv, "id", "required");
	if (fp_id_parse(v, id) == -1)
		return fp_invalid_set(inv, "id",
		    "must be an integer from 1 to 2^53-1");
	return 0;
}

int
fp_timeout_parse(json_t *params, const char *field, double dflt, double cap,
    double *out, struct fp_invalid *inv)
{
	json_t	*v = json_object_get(params, field);
	double	 d;

	if (v == NULL) {
		*out = dflt < cap ? dflt : cap;
		return 0;
	}
	if (json_is_null(v)) {
		*out = cap;
		return 0;
	}
	if (!json_is_number(v))
		return fp_invalid_set(inv, field, "must be a number of seconds or null");
	d = json_number_value(v);
	if (!isfinite(d) || d < 0)
		return fp_invalid_set(inv, field, "must not be negative");
	*out = d < cap ? d : cap;
	return 0;
}

int
fp_seconds_parse(json_t *params, const char *field, double dflt, double max,
    double *out, struct fp_invalid *inv)
{
	json_t	*v = json_object_get(params, field);
	double	 d;

	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_number(v))
		return fp_invalid_set(inv, field, "must be a number of seconds");
	d = json_number_value(v);
	if (!isfinite(d) || d < 0)
		return fp_invalid_set(inv, field, "must not be negative");
	if (d > max)
		return fp_invalid_set(inv, field, "must be at most %.0f", max);
	*out = d;
	return 0;
}

static int
fp_return_when_parse(json_t *v, int *out, struct fp_invalid *inv)
{
	const char	*s;

	if (v == NULL || json_is_null(v)) {
		*out = FP_RETURN_ALL;
		return 0;
	}
	s = json_string_value(v);
	if (s != NULL && strcmp(s, "ALL_COMPLETED") == 0)
		*out = FP_RETURN_ALL;
	else if (s != NULL && strcmp(s, "FIRST_COMPLETED") == 0)
		*out = FP_RETURN_FIRST;
	else if (s != NULL && strcmp(s, "FIRST_EXCEPTION") == 0)
		*out = FP_RETURN_EXCEPTION;
	else
		return fp_invalid_set(inv, "return_when", "must be FIRST_COMPLETED, "
		    "FIRST_EXCEPTION or ALL_COMPLETED");
	return 0;
}

static int
fp_id_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fills out with the ids of arr; duplicates are refused as a client bug. */
int
fp_ids_array(json_t *arr, const char *field, size_t max, int64_t **out,
    size_t *n, struct fp_invalid *inv)
{
	char	 path[FP_FIELD_LEN];
	int64_t	*ids, *sorted;
	size_t	 i, len = json_array_size(arr);

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return fp_invalid_set(inv, field, "must be an array of task ids");
	if (len > max)
		return fp_invalid_set(inv, field, "at most %zu ids", max);
	if ((ids = calloc(len + 1, sizeof *ids)) == NULL)
		return fp_invalid_set(inv, field, "out of memory");
	for (i = 0; i < len; i++) {
		if (fp_id_parse(json_array_get(arr, i), &ids[i]) == -1) {
			free(ids);
			snprintf(path, sizeof path, "%s[%zu]", field, i);
			return fp_invalid_set(inv, path,
			    "must be an integer from 1 to 2^53-1");
		}
	}
	if ((sorted = calloc(len + 1, sizeof *ids)) == NULL) {
		free(ids);
		return fp_invalid_set(inv, field, "out of memory");
	}
	memcpy(sorted, ids, len * sizeof *ids);
	qsort(sorted, len, sizeof *sorted, fp_id_cmp);
	for (i = 1; i < len; i++) {
		if (sorted[i] == sorted[i - 1]) {
			long long dup = (long long)sorted[i];

			free(sorted);
			free(ids);
			return fp_invalid_set(inv, field, "id %lld appears twice",
			    dup);
		}
	}
	free(sorted);
	*out = ids;
	*n = len;
	return 0;
}

int
fp_wait_parse(json_t *params, double cap, struct fp_wait *w,
    struct fp_invalid *inv)
{
	static const char *const keys[] = { "ids", "return_when", "timeout", NULL };

	memset(w, 0, sizeof *w);
	if (fp_params_only(params, keys, inv) == -1)
		return -1;
	if (json_object_get(params, "ids") == NULL)
		return fp_invalid_set(inv, "ids", "required");
	if (fp_return_when_parse(json_object_get(params, "return_when"),
	    &w->return_when, inv) == -1)
		return -1;
	if (fp_timeout_parse(params, "timeout", cap, cap, &w->timeout, inv) == -1)
		return -1;
	return fp_ids_array(json_object_get(params, "ids"), "ids",
	    FP_WAIT_MAX, &w->ids, &w->n_ids, inv);
}

void
fp_wait_clear(struct fp_wait *w)
{
	free(w->ids);
	w->ids = NULL;
	w->n_ids = 0;
}

/* Parses "c<id>" cursors; anything else is refused. */
static int
fp_cursor_parse(json_t *v, int64_t *out, struct fp_invalid *inv)
{
	const char	*s = fp_cstr(v);
	char		*end;
	long long	 n;

	if (v == NULL || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (s == NULL || s[0] != 'c' || s[1] < '0' || s[1] > '9')
		return fp_invalid_set(inv, "cursor", "not a cursor from task.list");
	n = strtoll(s + 1, &end, 10);
	if (*end != '\0' || n < 1 || n > FP_ID_LIMIT)
		return fp_invalid_set(inv, "cursor", "not a cursor from task.list");
	*out = n;
	return 0;
}

json_t *
fp_cursor_create(int64_t id)
{
	char	buf[32];

	snprintf(buf, sizeof buf, "c%lld", (long long)id);
	return json_string(buf);
}

/* task.list's and task.delete's state, queue and label. */
static int
fp_list_filter_parse(json_t *params, struct fp_list *l, struct fp_invalid *inv)
{
	json_t	*v;

	if ((v = json_object_get(params, "state")) != NULL && !json_is_null(v)) {
		if (fp_cstr(v) == NULL ||
		    fp_state_parse(json_string_value(v), &l->state) == -1)
			return fp_invalid_set(inv, "state", "must be pending, "
			    "running, succeeded, failed or cancelled");
		l->has_state = 1;
	}
	if ((v = json_object_get(params, "queue")) != NULL && !json_is_null(v)) {
		if (fp_cstr(v) == NULL)
			return fp_invalid_set(inv, "queue",
			    "must be a string without NUL");
		l->queue = json_string_value(v);
	}
	if ((v = json_object_get(params, "label")) != NULL && !json_is_null(v)) {
		if (fp_labels_check(v, "label", inv) == -1)
			return -1;
		l->label = v;
	}
	return 0;
}

/* task.list's kind and text: strings of 1 to FP_LIST_TEXT_MAX bytes. */
static int
fp_list_search_parse(json_t *params, const char *name, const char **out,
    struct fp_invalid *inv)
{
	json_t	*v = json_object_get(params, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (fp_cstr(v) == NULL || json_string_length(v) == 0 ||
	    json_string_length(v) > FP_LIST_TEXT_MAX)
		return fp_invalid_set(inv, name, "must be a string of 1 to %d "
		    "bytes without NUL", FP_LIST_TEXT_MAX);
	*out = json_string_value(v);
	return 0;
}

int
fp_list_parse(json_t *params, struct fp_list *l, struct fp_invalid *inv)
{
	static const char *const keys[] = { "state", "queue", "label",
	    "kind", "text", "unretrieved", "limit", "cursor", "parent", NULL };
	json_t	*v;

	memset(l, 0, sizeof *l);
	l->limit = FP_LIST_DEFAULT;
	v = json_object_get(params, "parent");
	if (json_is_integer(v) && json_integer_value(v) == 0)
		l->parent = -1;		/* tasks without one */
	else if (v != NULL && !json_is_null(v) && fp_id_parse(v, &l->parent)
	    == -1)
		return fp_invalid_set(inv, "parent", "must be a task id, or 0 "
		    "for tasks without a parent");
	if (fp_params_only(params, keys, inv) == -1 ||
	    fp_list_filter_parse(params, l, inv) == -1 ||
	    fp_list_search_parse(params, "kind", &l->kind, inv) == -1 ||
	    fp_list_search_parse(params, "text", &l->text, inv) == -1)
		return -1;
	if ((v = json_object_get(params, "unretrieved")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_boolean(v))
			return fp_invalid_set(inv, "unretrieved", "must be a boolean");
		l->unretrieved = json_is_true(v);
	}
	if ((v = json_object_get(params, "limit")) != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > FP_LIST_MAX)
			return fp_invalid_set(inv, "limit",
			    "must be an integer from 1 to %d", FP_LIST_MAX);
		l->limit = (int)json_integer_value(v);
	}
	return fp_cursor_parse(json_object_get(params, "cursor"), &l->cursor, inv);
}

/* A boolean param, 0 when absent or null. */
static int
fp_bool_param(json_t *params, const char *name, int *out,
    struct fp_invalid *inv)
{
	json_t	*v = json_object_get(params, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fp_invalid_set(inv, name, "must be a boolean");
	*out = json_is_true(v);
	return 0;
}

/* Which tasks task.delete takes: ids, or a filter of finished ones. */
static int
fp_delete_which(json_t *params, struct fp_delete *d, struct fp_invalid *inv)
{
	int	filtered = d->filter.has_state || d->filter.queue != NULL ||
		    d->filter.label != NULL || d->older_than > 0;

	if (d->ids != NULL && (filtered || d->all))
		return fp_invalid_set(inv, "ids", "give ids or a filter (state, "
		    "queue, label, older_than, all), not both");
	d->nothing = d->ids == NULL && !filtered && !d->all;
	if (d->ids == NULL && d->cancel)
		return fp_invalid_set(inv, "cancel", "goes with ids: a filter "
		    "deletes finished tasks only");
	if (d->filter.has_state && !fp_state_done(d->filter.state))
		return fp_invalid_set(inv, "state", "a filter deletes finished "
		    "tasks only: succeeded, failed or cancelled");
	return 0;
}

int
fp_delete_parse(json_t *params, struct fp_delete *d, struct fp_invalid *inv)
{
	static const char *const keys[] = { "ids", "state", "queue", "label",
	    "older_than", "all", "cancel", NULL };
	json_t	*v;

	memset(d, 0, sizeof *d);
	if (fp_params_only(params, keys, inv) == -1 ||
	    fp_list_filter_parse(params, &d->filter, inv) == -1 ||
	    fp_bool_param(params, "all", &d->all, inv) == -1 ||
	    fp_bool_param(params, "cancel", &d->cancel, inv) == -1)
		return -1;
	if ((v = json_object_get(params, "older_than")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_number(v) || json_number_value(v) <= 0)
			return fp_invalid_set(inv, "older_than",
			    "must be seconds above 0 (finished that long ago)");
		d->older_than = json_number_value(v);
	}
	if ((v = json_object_get(params, "ids")) != NULL && !json_is_null(v) &&
	    fp_ids_array(v, "ids", FP_WAIT_MAX, &d->ids, &d->n_ids,
	    inv) == -1)
		return -1;
	if (fp_delete_which(params, d, inv) == -1) {
		fp_delete_clear(d);
		return -1;
	}
	return 0;
}

void
fp_delete_clear(struct fp_delete *d)
{
	free(d->ids);
	d->ids = NULL;
	d->n_ids = 0;
}
