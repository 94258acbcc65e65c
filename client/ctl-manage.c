/*
 * ctl-manage.c: retry, delete and clean: the commands that manage
 * finished tasks (task.retry, task.delete).  delete by a filter with
 * --cancel first cancels and deletes the filter's unfinished tasks by id
 * (task.delete deletes finished tasks only by filter), then the finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int
ctl_retry(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = { CTL_OPTS_COMMON };
	struct ctl_reply	 r;
	json_int_t		 id;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch != 'j')
			return ctl_bad_option(ctx, ch, argv);
		ctx->json = 1;
	}
	if (argc - optind != 1)
		return ctl_usage(ctx, "give one task id");
	if (ctl_parse_id(argv[optind], &id) == -1)
		return ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
	rc = ctl_call(ctx, FP_TASK_RETRY, json_pack("{s:I}", "id", id), &r);
	if (rc == CTL_REPLY_ERROR && r.code == FP_ERR_TASK_NOT_DONE) {
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT " is %s: "
		    "only a finished task is retried\n", id, json_string_value(
		    json_object_get(r.data, "state")));
		rc = CTL_EXIT_REFUSED;
	} else if (rc == CTL_REPLY_ERROR)
		rc = ctl_reply_error(ctx, &r);
	else if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(
		    json_object_get(r.result, "id")));
	ctl_reply_clear(&r);
	return rc;
}

/* What a delete or clean did, summed over its calls. */
struct ctl_deleted {
	json_int_t	 deleted;
	json_t		*unfinished;
	json_t		*missing;
};

/* One task.delete (p stolen); its answer added to d. */
static int
ctl_delete_call(struct ctl *ctx, json_t *p, struct ctl_deleted *d)
{
	struct ctl_reply	r;
	int			rc;

	if ((rc = ctl_call_ok(ctx, FP_TASK_DELETE, p, &r)) == 0) {
		d->deleted += json_integer_value(json_object_get(r.result,
		    "deleted"));
		json_array_extend(d->unfinished, json_object_get(r.result,
		    "unfinished"));
		json_array_extend(d->missing, json_object_get(r.result,
		    "missing"));
	}
	ctl_reply_clear(&r);
	return rc;
}

/* Deletes ids (an array), at most FP_WAIT_MAX a call. */
static int
ctl_delete_ids(struct ctl *ctx, json_t *ids, int cancel, struct ctl_deleted *d)
{
	json_t	*chunk;
	size_t	 i, n = json_array_size(ids);
	int	 rc = 0;

	for (i = 0; i < n && rc == 0; i += FP_WAIT_MAX) {
		chunk = json_array();
		while (json_array_size(chunk) < FP_WAIT_MAX &&
		    i + json_array_size(chunk) < n)
			json_array_append(chunk, json_array_get(ids, i +
			    json_array_size(chunk)));
		rc = ctl_delete_call(ctx, json_pack("{s:o,s:b}", "ids", chunk,
		    "cancel", cancel), d);
	}
	return rc;
}

/* "deleted N tasks", and why named ones were not. */
static int
ctl_delete_report(struct ctl *ctx, struct ctl_deleted *d, int cancel)
{
	json_t	*v;
	size_t	 i;

	if (ctx->json) {
		v = json_pack("{s:I,s:O,s:O}", "deleted", d->deleted,
		    "unfinished", d->unfinished, "missing", d->missing);
		ctl_print_json(v, 0);
		json_decref(v);
	} else
		printf("deleted %" JSON_INTEGER_FORMAT " task%s\n", d->deleted,
		    d->deleted == 1 ? "" : "s");
	json_array_foreach(d->unfinished, i, v)
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT " is "
		    "unfinished: kept%s\n", json_integer_value(v), cancel ?
		    " (its cancel has not ended it yet, or another node "
		    "runs it)" : " (--cancel cancels and deletes it)");
	json_array_foreach(d->missing, i, v)
		fprintf(stderr, "futurectl: no task %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(v));
	return json_array_size(d->unfinished) + json_array_size(d->missing) >
	    0 ? CTL_EXIT_REFUSED : CTL_EXIT_OK;
}

/* delete's and clean's options into the task.delete filter f. */
static int
ctl_delete_args(struct ctl *ctx, int argc, char **argv, json_t *f,
    int *cancel, int clean)
{
	static const struct option lo[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "state", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "cancel", no_argument, NULL, 'c' },
		CTL_OPTS_COMMON
	};
	enum fp_state	st;
	double		secs;
	int		ch;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if ((clean && (ch == 'a' || ch == 'c')) || (!clean && ch == 'o'))
			return ctl_bad_option(ctx, '?', argv);
		if (ch == 'j')
			ctx->json = 1;
		else if (ch == 'q')
			json_object_set_new(f, "queue", json_string(optarg));
		else if (ch == 's' && (fp_state_parse(optarg, &st) == -1 ||
		    !fp_state_done(st)))
			return ctl_usage(ctx, "--state is succeeded, failed or "
			    "cancelled, not '%s'", optarg);
		else if (ch == 's')
			json_object_set_new(f, "state", json_string(optarg));
		else if (ch == 'l' && ctl_parse_pair(optarg, '=',
		    json_object_get(f, "label")) == -1)
			return ctl_usage(ctx, "bad --label '%s' (want K=V)",
			    optarg);
		else if (ch == 'o' && (ctl_parse_seconds(optarg, &secs) == -1 ||
		    secs <= 0))
			return ctl_usage(ctx, "bad --older-than '%s' (seconds, "
			    "or 30m, 2h, 7d)", optarg);
		else if (ch == 'o')
			json_object_set_new(f, "older_than", json_real(secs));
		else if (ch == 'a')
			json_object_set_new(f, "all", json_true());
		else if (ch == 'c')
			*cancel = 1;
		else if (ch != 'l')
			return ctl_bad_option(ctx, ch, argv);
	}
	if (json_object_size(json_object_get(f, "label")) == 0)
		json_object_del(f, "label");
	return -1;
}

/*
 * The filter's unfinished tasks, cancelled and deleted by id (a state
 * filter names finished ones only: none).
 */
static int
ctl_delete_unfinished(struct ctl *ctx, json_t *f, struct ctl_deleted *d)
{
	json_t	*sel, *ids;
	int	 rc;

	if (json_object_get(f, "state") != NULL)
		return 0;
	sel = json_pack("{s:O*,s:O*}", "queue", json_object_get(f, "queue"),
	    "label", json_object_get(f, "label"));
	ids = json_array();
	if (sel == NULL || ids == NULL)
		rc = CTL_EXIT_CONN;
	else if ((rc = ctl_list_unfinished(ctx, sel, ids)) == 0)
		rc = ctl_delete_ids(ctx, ids, 1, d);
	json_decref(sel);
	json_decref(ids);
	return rc;
}

/* delete or clean, once the options are in f. */
static int
ctl_delete_run(struct ctl *ctx, int argc, char **argv, json_t *f, int cancel)
{
	struct ctl_deleted	 d = { 0 };
	json_t			*ids = json_array();
	json_int_t		 id;
	int			 rc = 0;

	d.unfinished = json_array();
	d.missing = json_array();
	for (; optind < argc && rc == 0; optind++) {
		if (ctl_parse_id(argv[optind], &id) == -1)
			rc = ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
		else
			json_array_append_new(ids, json_integer(id));
	}
	if (rc == 0 && json_array_size(ids) > 0)
		rc = ctl_delete_ids(ctx, ids, cancel, &d);
	else if (rc == 0 && cancel)
		rc = ctl_delete_unfinished(ctx, f, &d);
	if (rc == 0 && json_array_size(ids) == 0)
		rc = ctl_delete_call(ctx, json_incref(f), &d);
	if (rc == 0)
		rc = ctl_delete_report(ctx, &d, cancel);
	json_decref(ids);
	json_decref(d.unfinished);
	json_decref(d.missing);
	return rc;
}

int
ctl_delete(struct ctl *ctx, int argc, char **argv)
{
	json_t	*f = json_pack("{s:{}}", "label");
	int	 rc, cancel = 0;

	if (f == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_delete_args(ctx, argc, argv, f, &cancel, 0)) == -1) {
		if (optind < argc && json_object_size(f) > 0)
			rc = ctl_usage(ctx, "give ids or a filter, not both");
		else if (optind == argc && json_object_size(f) == 0)
			rc = ctl_usage(ctx, "give ids, or --queue, --state, "
			    "--label or --all");
		else
			rc = ctl_delete_run(ctx, argc, argv, f, cancel);
	}
	json_decref(f);
	return rc;
}

int
ctl_clean(struct ctl *ctx, int argc, char **argv)
{
	json_t	*f = json_pack("{s:{}}", "label");
	int	 rc, cancel = 0;

	if (f == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_delete_args(ctx, argc, argv, f, &cancel, 1)) == -1) {
		if (optind < argc)
			rc = ctl_usage(ctx, "unexpected argument '%s'",
			    argv[optind]);
		else {
			if (json_object_size(f) == 0)
				json_object_set_new(f, "all", json_true());
			rc = ctl_delete_run(ctx, argc, argv, f, 0);
		}
	}
	json_decref(f);
	return rc;
}
