/*
 * fp-future.c: the parameters of the calls that end a task from outside
 * (task.cancel's message, task.set_result, task.set_exception) and of
 * task.as_completed, whose cursor is the set of ids already handed back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define FP_CANCEL_MESSAGE_MAX	1024
#define FP_EXCEPTION_TYPE_MAX	64
#define FP_EXCEPTION_MESSAGE_MAX 65536

int
fp_cancel_parse(json_t *params, int64_t *id, const char **message,
    struct fp_invalid *inv)
{
	static const char *const extra[] = { "message", NULL };
	json_t	*v;

	*message = NULL;
	if (fp_params_id(params, extra, id, inv) == -1)
		return -1;
	v = json_object_get(params, "message");
	if (v == NULL || json_is_null(v))
		return 0;
	if ((*message = fp_cstr(v)) == NULL)
		return fp_invalid_set(inv, "message",
		    "must be a string without NUL");
	if (json_string_length(v) > FP_CANCEL_MESSAGE_MAX)
		return fp_invalid_set(inv, "message", "at most %d bytes",
		    FP_CANCEL_MESSAGE_MAX);
	return 0;
}

json_t *
fp_cancelled_exception(const char *message)
{
	if (message == NULL)
		return NULL;
	/* not fp_exception_create: its message stops at 1,023 bytes */
	return json_pack("{s:s,s:s}", "type", "CancelledError", "message",
	    message);
}

/* set_exception's type: a name a client's language can take as a class. */
static int
fp_exception_type_check(json_t *v, const char **type, struct fp_invalid *inv)
{
	size_t	i;

	*type = "Exception";
	if (v == NULL || json_is_null(v))
		return 0;
	if ((*type = fp_cstr(v)) == NULL || **type == '\0' ||
	    strlen(*type) > FP_EXCEPTION_TYPE_MAX)
		return fp_invalid_set(inv, "type", "must be a string of 1 to %d "
		    "bytes", FP_EXCEPTION_TYPE_MAX);
	for (i = 0; (*type)[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._", (*type)[i]) == NULL)
			return fp_invalid_set(inv, "type",
			    "letters, digits, '.' and '_' only");
	return 0;
}

static json_t *
fp_exception_parse(json_t *params, struct fp_invalid *inv)
{
	json_t		*m = json_object_get(params, "message");
	json_t		*data = json_object_get(params, "data"), *e;
	const char	*type;

	if (fp_exception_type_check(json_object_get(params, "type"), &type,
	    inv) == -1)
		return NULL;
	if (m == NULL || json_is_null(m)) {
		fp_invalid_set(inv, "message", "required");
		return NULL;
	}
	if (!json_is_string(m) || json_string_length(m) >
	    FP_EXCEPTION_MESSAGE_MAX) {
		fp_invalid_set(inv, "message", "must be a string of at most %d "
		    "bytes", FP_EXCEPTION_MESSAGE_MAX);
		return NULL;
	}
	if (data != NULL && !json_is_null(data) && !json_is_object(data)) {
		fp_invalid_set(inv, "data", "must be an object");
		return NULL;
	}
	e = json_is_object(data) ? json_deep_copy(data) : json_object();
	if (e == NULL || json_object_set_new(e, "type", json_string(type)) ||
	    json_object_set(e, "message", m)) {
		json_decref(e);
		fp_invalid_set(inv, "data", "out of memory");
		return NULL;
	}
	return e;
}

int
fp_resolve_parse(json_t *params, int failure, int64_t *id, json_t **outcome,
    struct fp_invalid *inv)
{
	static const char *const result_keys[] = { "result", NULL };
	static const char *const exception_keys[] = { "type", "message", "data",
	    NULL };
	json_t	*v;

	*outcome = NULL;
	if (fp_params_id(params, failure ? exception_keys : result_keys, id,
	    inv) == -1)
		return -1;
	if (failure)
		*outcome = fp_exception_parse(params, inv);
	else if ((v = json_object_get(params, "result")) == NULL)
		*outcome = json_null();
	else
		*outcome = json_incref(v);
	return *outcome == NULL ? -1 : 0;
}

/* ---- task.as_completed ---- */

/*
 * A cursor: FP_CURSOR_MARK, 8 hex digits naming what it is a cursor of
 * (the ids in their order, or the group), then one hex digit per 4 ids.
 */
#define FP_CURSOR_MARK	'h'
#define FP_CURSOR_KEY	8

/* FNV-1a over bytes. */
static uint32_t
fp_fnv(uint32_t h, const unsigned char *p, size_t n)
{
	while (n-- > 0) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/* Over the ids in their order (a group's cursor: over its id). */
static uint32_t
fp_cursor_key(const int64_t *ids, size_t n)
{
	unsigned char	b[8];
	uint32_t	h = 2166136261u;
	size_t		i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 8; k++)
			b[k] = (unsigned char)((uint64_t)ids[i] >> (8 * k));
		h = fp_fnv(h, b, sizeof b);
	}
	return h;
}

/* Over the labels as compact text with sorted keys. */
static uint32_t
fp_cursor_label_key(json_t *label)
{
	char		*text = json_dumps(label, JSON_COMPACT | JSON_SORT_KEYS);
	uint32_t	 h;

	h = fp_fnv(2166136261u, (const unsigned char *)(text != NULL ?
	    text : ""), text != NULL ? strlen(text) : 0);
	free(text);
	return h;
}

static int
fp_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The cursor's ids among ac's.  grow: ids may have more ids than when the
 * cursor was made (a group's members: new ones come last, in id order).
 */
static int
fp_seen_parse(json_t *v, struct fp_as_completed *ac, int grow,
    struct fp_invalid *inv)
{
	const char	*s = fp_cstr(v);
	size_t		 i, given, digits = (ac->w.n_ids + 3) / 4;
	char		 key[FP_CURSOR_KEY + 1];
	int		 d;

	if (ac->label != NULL)
		ac->key = fp_cursor_label_key(ac->label);
	else
		ac->key = ac->group != 0 ? fp_cursor_key(&ac->group, 1) :
		    fp_cursor_key(ac->w.ids, ac->w.n_ids);
	ac->seen = calloc(digits + 1, 1);
	if (ac->seen == NULL)
		return fp_invalid_set(inv, "cursor", "out of memory");
	if (v == NULL || json_is_null(v))
		return 0;
	snprintf(key, sizeof key, "%08x", (unsigned)ac->key);
	given = s != NULL && s[0] == FP_CURSOR_MARK &&
	    strlen(s + 1) >= FP_CURSOR_KEY ? strlen(s + 1) - FP_CURSOR_KEY : 0;
	if (s == NULL || s[0] != FP_CURSOR_MARK ||
	    strncmp(s + 1, key, FP_CURSOR_KEY) != 0 || given > digits ||
	    (!grow && given != digits))
		return fp_invalid_set(inv, "cursor", "not a cursor of "
		    "task.as_completed for these ids, in this order");
	s += FP_CURSOR_KEY;
	for (i = 0; i < given; i++) {
		if ((d = fp_hex(s[1 + i])) == -1 || (i == digits - 1 &&
		    ac->w.n_ids % 4 != 0 && d >> (ac->w.n_ids % 4) != 0))
			return fp_invalid_set(inv, "cursor", "not a cursor of "
			    "task.as_completed for these ids");
		ac->seen[i] = (unsigned char)d;
	}
	return 0;
}

int
fp_as_completed_parse(json_t *params, double cap, struct fp_as_completed *ac,
    struct fp_invalid *inv)
{
	static const char *const keys[] = { "ids", "group", "label", "cursor",
	    "timeout", NULL };
	json_t	*ids = json_object_get(params, "ids");
	json_t	*group = json_object_get(params, "group");
	json_t	*label = json_object_get(params, "label");

	memset(ac, 0, sizeof *ac);
	if (fp_params_only(params, keys, inv) == -1)
		return -1;
	if ((ids != NULL) + (group != NULL) + (label != NULL) > 1)
		return fp_invalid_set(inv, group != NULL ? "group" : "label",
		    "give one of ids, group and label");
	if (fp_timeout_parse(params, "timeout", cap, cap, &ac->w.timeout,
	    inv) == -1)
		return -1;
	if (label != NULL) {
		if (fp_labels_check(label, "label", inv) == -1)
			return -1;
		if (json_object_size(label) == 0)
			return fp_invalid_set(inv, "label",
			    "must name at least one label");
		ac->label = label;
		ac->cursor = json_object_get(params, "cursor");
		return 0;	/* the ids come with fp_as_completed_members */
	}
	if (group != NULL) {
		if (fp_id_parse(group, &ac->group) == -1)
			return fp_invalid_set(inv, "group", "must be a task id");
		ac->cursor = json_object_get(params, "cursor");
		return 0;	/* the ids come with fp_as_completed_members */
	}
	/* no ids at all: as_completed([]), nothing to wait for */
	if (ids != NULL && fp_ids_array(ids, "ids", FP_WAIT_MAX, &ac->w.ids,
	    &ac->w.n_ids, inv) == -1)
		return -1;
	if (fp_seen_parse(json_object_get(params, "cursor"), ac, 0,
	    inv) == -1) {
		fp_as_completed_clear(ac);
		return -1;
	}
	return 0;
}

int
fp_as_completed_members(struct fp_as_completed *ac, int64_t *ids, size_t n,
    struct fp_invalid *inv)
{
	ac->w.ids = ids;
	ac->w.n_ids = n;
	return fp_seen_parse(ac->cursor, ac, 1, inv);
}

int
fp_as_completed_seen(const struct fp_as_completed *ac, size_t i)
{
	return ac->seen[i / 4] >> (i % 4) & 1;
}

void
fp_as_completed_mark(struct fp_as_completed *ac, size_t i)
{
	ac->seen[i / 4] |= (unsigned char)(1 << (i % 4));
}

json_t *
fp_as_completed_cursor(const struct fp_as_completed *ac)
{
	size_t	 i, digits = (ac->w.n_ids + 3) / 4;
	char	*s = malloc(digits + FP_CURSOR_KEY + 2);
	json_t	*v;

	if (s == NULL)
		return NULL;
	snprintf(s, FP_CURSOR_KEY + 2, "%c%08x", FP_CURSOR_MARK,
	    (unsigned)ac->key);
	for (i = 0; i < digits; i++)
		s[1 + FP_CURSOR_KEY + i] = "0123456789abcdef"[ac->seen[i] & 0xf];
	s[1 + FP_CURSOR_KEY + digits] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

void
fp_as_completed_clear(struct fp_as_completed *ac)
{
	fp_wait_clear(&ac->w);
	free(ac->seen);
	ac->seen = NULL;
}
