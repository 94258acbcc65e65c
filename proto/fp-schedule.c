/*
 * fp-schedule.c: what schedule.create and schedule.update may say, as a
 * definition with every field filled, so that the daemon stores and fires
 * one shape whatever the client sent.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static const char *const fp_overlaps[] = {
	[FP_OVERLAP_SKIP] = "skip",
	[FP_OVERLAP_BUFFER_ONE] = "buffer_one",
	[FP_OVERLAP_ALLOW_ALL] = "allow_all",
	[FP_OVERLAP_CANCEL_OTHER] = "cancel_other",
};
static const char *const fp_catchups[] = {
	[FP_CATCHUP_LATEST] = "latest",
	[FP_CATCHUP_ALL] = "all",
};

/* What a schedule's task may not say: the schedule says it. */
static const char *const fp_schedule_owns[] = {
	"key", "delay", "not_before", "after", "parent", NULL
};
/* Labels each firing's task gets. */
static const char *const fp_schedule_labels[] = {
	"schedule", "scheduled_at", NULL
};

static int
fp_name_find(const char *const *names, size_t n, const char *s, int *out)
{
	size_t	i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			return 0;
		}
	return -1;
}

const char *
fp_overlap_name(int o)
{
	return o >= 0 && o <= FP_OVERLAP_CANCEL_OTHER ? fp_overlaps[o] : "?";
}

int
fp_overlap_parse(const char *s, int *out)
{
	return fp_name_find(fp_overlaps, 4, s, out);
}

const char *
fp_catchup_name(int c)
{
	return c == FP_CATCHUP_ALL ? "all" : "latest";
}

int
fp_schedule_name(json_t *params, const char *const *extra, const char **name,
    struct fp_invalid *inv)
{
	static const char *const only_name[] = { "name", NULL };
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(params))
		return fp_invalid_set(inv, "params", "must be an object");
	json_object_foreach(params, k, v) {
		for (i = 0; extra != NULL && extra[i] != NULL; i++)
			if (strcmp(extra[i], k) == 0)
				break;
		if ((extra == NULL || extra[i] == NULL) &&
		    strcmp(k, "name") != 0 &&
		    fp_params_only(params, only_name, inv) == -1)
			return -1;
	}
	return fp_queue_name_check(params, "name", name, inv) == -1 ? -1 :
	    *name == NULL ? fp_invalid_set(inv, "name", "required") : 0;
}

/* A string field in def, one of names; absent: dflt. */
static int
fp_def_choice(json_t *def, const char *field, const char *const *names,
    size_t n, int dflt, struct fp_invalid *inv)
{
	json_t	*v = json_object_get(def, field);
	int	 i;

	if (v == NULL || json_is_null(v))
		i = dflt;
	else if (fp_name_find(names, n, json_string_value(v), &i) == -1)
		return fp_invalid_set(inv, field, "must be one of %s%s%s%s%s%s%s",
		    names[0], n > 1 ? ", " : "", n > 1 ? names[1] : "",
		    n > 2 ? ", " : "", n > 2 ? names[2] : "",
		    n > 3 ? ", " : "", n > 3 ? names[3] : "");
	json_object_set_new(def, field, json_string(names[i]));
	return 0;
}

/* A duration field in def within [min, max]; absent: dflt. */
static int
fp_def_seconds(json_t *def, const char *field, double dflt, double min,
    double max, struct fp_invalid *inv)
{
	double	d;

	if (fp_seconds_parse(def, field, dflt, max, &d, inv) == -1)
		return -1;
	if (d < min)
		return fp_invalid_set(inv, field, "must be at least %g", min);
	json_object_set_new(def, field, d == floor(d) ?
	    json_integer((json_int_t)d) : json_real(d));
	return 0;
}

/* start_at or end_at: an RFC 3339 string, or a number already stored. */
static int
fp_def_time(json_t *def, const char *field, double *out,
    struct fp_invalid *inv)
{
	json_t	*v = json_object_get(def, field);

	*out = 0;
	if (v == NULL || json_is_null(v)) {
		json_object_del(def, field);
		return 0;
	}
	if (json_is_number(v))		/* as stored: epoch seconds */
		*out = json_number_value(v);
	else if (!json_is_string(v) || fp_time_parse(json_string_value(v),
	    out) == -1)
		return fp_invalid_set(inv, field, "must be an RFC 3339 time");
	if (!(*out > 0 && *out < FP_SCHEDULE_TIME_MAX))
		return fp_invalid_set(inv, field, "must be a time from 1970 to "
		    "9999");
	json_object_set_new(def, field, json_real(*out));
	return 0;
}

/* When it fires: cron (and tz) or every. */
static int
fp_def_when(json_t *def, struct fp_invalid *inv)
{
	json_t		*cron = json_object_get(def, "cron");
	json_t		*every = json_object_get(def, "every");
	json_t		*tz = json_object_get(def, "tz");
	const char	*s;

	if (json_is_null(cron))
		json_object_del(def, "cron"), cron = NULL;
	if (json_is_null(every))
		json_object_del(def, "every"), every = NULL;
	if ((cron == NULL) == (every == NULL))
		return fp_invalid_set(inv, cron ? "every" : "cron",
		    "give one of cron and every");
	if (every != NULL) {
		if (tz != NULL && !json_is_null(tz))
			return fp_invalid_set(inv, "tz", "applies to cron only");
		json_object_del(def, "tz");
		if (json_is_number(every) && floor(json_number_value(every)) !=
		    json_number_value(every))
			return fp_invalid_set(inv, "every",
			    "must be a whole number of seconds");
		return fp_def_seconds(def, "every", 0, 1, FP_MAX_SECONDS, inv);
	}
	if (!json_is_string(cron) || (s = fp_cstr(cron)) == NULL ||
	    *s == '\0' || strlen(s) > FP_CRON_MAX)
		return fp_invalid_set(inv, "cron",
		    "must be a cron expression of 1 to %d bytes", FP_CRON_MAX);
	if (tz == NULL || json_is_null(tz))
		json_object_set_new(def, "tz", json_string("UTC"));
	else if (!json_is_string(tz) || (s = fp_cstr(tz)) == NULL ||
	    *s == '\0' || strlen(s) > 64)
		return fp_invalid_set(inv, "tz", "must be a time zone name");
	return 0;
}

/* The task each firing submits: a submission without what is ours. */
static int
fp_def_task(json_t *def, struct fp_invalid *inv)
{
	json_t			*task = json_object_get(def, "task"), *labels;
	struct fp_submit	 s;
	const char *const	*k;

	if (!json_is_object(task))
		return fp_invalid_set(inv, "task",
		    "must be an object: task.submit's params");
	for (k = fp_schedule_owns; *k != NULL; k++)
		if (json_object_get(task, *k) != NULL)
			return fp_invalid_set(inv, "task", "%s is the "
			    "schedule's to set", *k);
	labels = json_object_get(task, "labels");
	for (k = fp_schedule_labels; *k != NULL; k++)
		if (json_object_get(labels, *k) != NULL)
			return fp_invalid_set(inv, "task",
			    "the label %s is the schedule's to set", *k);
	if (json_object_size(labels) > 62)
		return fp_invalid_set(inv, "task", "at most 62 labels: the "
		    "schedule adds two");
	if (fp_submit_parse(task, &s, inv) == -1) {
		char	field[FP_FIELD_LEN + 8];

		snprintf(field, sizeof field, "task.%s", inv->field);
		snprintf(inv->field, sizeof inv->field, "%.*s",
		    (int)sizeof inv->field - 1, field);
		return -1;
	}
	fp_submit_clear(&s);
	return 0;
}

/* The definition's fields, each checked and filled. */
static int
fp_def_check(json_t *def, struct fp_invalid *inv)
{
	double	start, end, every;

	if (fp_def_when(def, inv) == -1 ||
	    fp_def_time(def, "start_at", &start, inv) == -1 ||
	    fp_def_time(def, "end_at", &end, inv) == -1)
		return -1;
	if (start > 0 && end > 0 && end <= start)
		return fp_invalid_set(inv, "end_at", "must be after start_at");
	every = json_number_value(json_object_get(def, "every"));
	if (fp_def_seconds(def, "jitter", 0, 0, every > 0 && every <
	    FP_JITTER_MAX ? every : FP_JITTER_MAX, inv) == -1 ||
	    fp_def_choice(def, "overlap", fp_overlaps, 4, FP_OVERLAP_SKIP,
	    inv) == -1 ||
	    fp_def_choice(def, "catchup", fp_catchups, 2, FP_CATCHUP_LATEST,
	    inv) == -1 ||
	    fp_def_seconds(def, "catchup_window", 60, 1, FP_MAX_SECONDS,
	    inv) == -1)
		return -1;
	return fp_def_task(def, inv);
}

json_t *
fp_schedule_def(json_t *params, json_t *base, int *paused,
    struct fp_invalid *inv)
{
	static const char *const keys[] = { "name", "cron", "every", "tz",
	    "start_at", "end_at", "jitter", "task", "overlap", "catchup",
	    "catchup_window", "paused", NULL };
	const char	*name, *k;
	json_t		*def, *v, *p;

	if (fp_schedule_name(params, keys + 1, &name, inv) == -1)
		return NULL;
	p = json_object_get(params, "paused");
	if (p != NULL && !json_is_null(p) && !json_is_boolean(p)) {
		fp_invalid_set(inv, "paused", "must be a boolean");
		return NULL;
	}
	*paused = p == NULL || json_is_null(p) ? -1 : json_is_true(p);
	v = json_object_get(params, "cron");
	if (v != NULL && !json_is_null(v) && (v = json_object_get(params,
	    "every")) != NULL && !json_is_null(v)) {
		fp_invalid_set(inv, "every", "give one of cron and every");
		return NULL;
	}
	def = base != NULL ? json_deep_copy(base) : json_object();
	if (def == NULL) {
		fp_invalid_set(inv, "params", "out of memory");
		return NULL;
	}
	json_object_foreach(params, k, v) {
		if (strcmp(k, "name") == 0 || strcmp(k, "paused") == 0)
			continue;
		/* cron and every replace each other */
		if (strcmp(k, "cron") == 0 && !json_is_null(v))
			json_object_del(def, "every");
		if (strcmp(k, "every") == 0 && !json_is_null(v)) {
			json_object_del(def, "cron");
			json_object_del(def, "tz");
		}
		json_object_set(def, k, v);
	}
	if (fp_def_check(def, inv) == -1) {
		json_decref(def);
		return NULL;
	}
	return def;
}
