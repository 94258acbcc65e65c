/*
 * ctl-manage.c: the commands that change tasks.  retry, delete and clean
 * manage finished tasks (task.retry, task.delete); delete by a filter with
 * --cancel first cancels and deletes the filter's unfinished tasks by id
 * (task.delete deletes finished tasks only by filter), then the finished.
 * cancel, resolve and reject end a task from outside (task.cancel,
 * task.set_result, task.set_exception): a future's cancel(msg),
 * set_result and set_exception; close ends a group's own part
 * (task.close), after which it ends once its members have.
 *
 * Their parameters are checked with proto's own parsers before anything is
 * sent, so a bad TYPE or --data is a usage error here, as for submit.  A
 * future that had already finished is not an error of the call (set:
 * false), but resolve and reject say so and exit CTL_EXIT_ALREADY_DONE: a
 * script learns whether its value is the one that counts; so does close of
 * a group closed or finished before.
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

/* ---- cancel, resolve, reject ---- */

/* Flags of the options below, in the struct ctl_settle they fill. */
#define CTL_SETTLE_STRING	's'	/* resolve --string */
#define CTL_SETTLE_DATA		'd'	/* reject --data JSON */
#define CTL_SETTLE_MESSAGE	'm'	/* cancel --message M */

struct ctl_settle {
	json_int_t	 id;
	int		 string;	/* VALUE is a string, even if JSON */
	const char	*data;		/* --data, borrowed from argv */
	const char	*message;	/* --message, borrowed from argv */
};

/*
 * The options, then the ID and nargs more operands.  optstring: "+:h" for
 * resolve and reject, whose operands are data ("-1" is a value, not an
 * option), ":h" for cancel, whose options may follow the id as before.
 * Returns -1 to go on, else an exit status.
 */
static int
ctl_settle_args(struct ctl *ctx, int argc, char **argv, const char *optstring,
    const struct option *lo, int nargs, struct ctl_settle *s)
{
	int	ch;

	while ((ch = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		if (ch == CTL_SETTLE_STRING)
			s->string = 1;
		else if (ch == CTL_SETTLE_DATA)
			s->data = optarg;
		else if (ch == CTL_SETTLE_MESSAGE)
			s->message = optarg;
		else if (ch == 'j')
			ctx->json = 1;
		else
			return ctl_bad_option(ctx, ch, argv);
	}
	if (argc - optind > 1 + nargs && argv[optind + 1 + nargs][0] == '-' &&
	    optstring[0] == '+')
		return ctl_usage(ctx, "options go before ID, not after '%s'",
		    argv[optind + nargs]);
	if (argc - optind != 1 + nargs)
		return ctl_usage(ctx, "give %s", nargs == 0 ? "one task id" :
		    nargs == 1 ? "a task id and a value" :
		    "a task id, a type and a message");
	if (ctl_parse_id(argv[optind], &s->id) == -1)
		return ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
	optind++;
	return -1;
}

/*
 * A proto refusal of what we would send, naming the operand or option it
 * came from ("data.x" -> "--data.x"); message: what gave "message".
 */
static int
ctl_settle_invalid(struct ctl *ctx, const struct fp_invalid *inv,
    const char *message)
{
	static const char *const args[][2] = {
		{ "id", "ID" }, { "result", "VALUE" }, { "type", "TYPE" },
		{ "data", "--data" }, { "message", NULL },
	};
	size_t	i, n = strcspn(inv->field, "[.");

	for (i = 0; i < sizeof args / sizeof args[0]; i++)
		if (strlen(args[i][0]) == n &&
		    strncmp(inv->field, args[i][0], n) == 0)
			return ctl_usage(ctx, "%s%s: %s", args[i][1] != NULL ?
			    args[i][1] : message, inv->field + n, inv->reason);
	return ctl_usage(ctx, "%s: %s", inv->field, inv->reason);
}

/*
 * The answer {set, state}: "resolved" or "rejected" (--json: the answer),
 * or, when the task had finished before, how it ended on stderr and
 * CTL_EXIT_ALREADY_DONE.  A rejected future with retries left waits again.
 */
static int
ctl_settle_print(struct ctl *ctx, json_int_t id, json_t *res, const char *did)
{
	const char	*state = json_string_value(json_object_get(res,
			    "state"));
	int		 set = json_is_true(json_object_get(res, "set"));

	if (state == NULL)
		state = "?";
	if (ctx->json)
		ctl_print_json(res, 0);
	else if (set && strcmp(did, "rejected") == 0 &&
	    strcmp(state, "failed") != 0)
		printf("rejected; it waits again, a retry (%s)\n", state);
	else if (set)
		puts(did);
	if (set)
		return CTL_EXIT_OK;
	fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT " had already "
	    "finished: %s%s%s; nothing changed\n", id, ctl_color(stderr,
	    ctl_state_color(state)), state, ctl_color(stderr, CTL_PLAIN));
	return CTL_EXIT_ALREADY_DONE;
}

/* Sends set_result (failure 0) or set_exception; p is stolen. */
static int
ctl_settle_call(struct ctl *ctx, json_int_t id, int failure, json_t *p)
{
	struct ctl_reply	 r;
	struct fp_invalid	 inv;
	json_t			*outcome;
	int64_t			 id64;
	int			 rc;

	if (p == NULL)
		return CTL_EXIT_USAGE;
	if (fp_resolve_parse(p, failure, &id64, &outcome, &inv) == -1) {
		json_decref(p);
		return ctl_settle_invalid(ctx, &inv, "MESSAGE");
	}
	json_decref(outcome);
	rc = ctl_call_ok(ctx, failure ? FP_TASK_SET_EXCEPTION :
	    FP_TASK_SET_RESULT, p, &r);
	if (rc == 0)
		rc = ctl_settle_print(ctx, id, r.result, failure ? "rejected" :
		    "resolved");
	ctl_reply_clear(&r);
	return rc;
}

/*
 * VALUE: its JSON when it parses as JSON, else the text as a string (as
 * it is, with --string); "-" reads it from stdin, every byte of it (a
 * trailing newline too).  NULL after a message.
 */
static json_t *
ctl_resolve_value(struct ctl *ctx, const char *arg, int string)
{
	json_error_t	 err;
	json_t		*v = NULL;
	char		*buf = NULL;
	size_t		 len = strlen(arg);

	if (strcmp(arg, "-") == 0 &&
	    ctl_read_all(stdin, CTL_STDIN_MAX, &buf, &len) == -1) {
		fprintf(stderr, "futurectl: reading the value from stdin: %s\n",
		    ferror(stdin) ? "read error" : "too big");
		free(buf);
		return NULL;
	}
	if (buf != NULL)
		arg = buf;
	if (!string)
		v = json_loadb(arg, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (v == NULL && (v = json_stringn(arg, len)) == NULL)
		ctl_usage(ctx, "VALUE is not UTF-8 text");
	free(buf);
	return v;
}

int
ctl_resolve(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "string", no_argument, NULL, CTL_SETTLE_STRING },
		CTL_OPTS_COMMON
	};
	struct ctl_settle	 s;
	json_t			*v;
	int			 rc;

	memset(&s, 0, sizeof s);
	if ((rc = ctl_settle_args(ctx, argc, argv, "+:h", lo, 1, &s)) != -1)
		return rc;
	if ((v = ctl_resolve_value(ctx, argv[optind], s.string)) == NULL)
		return CTL_EXIT_USAGE;
	return ctl_settle_call(ctx, s.id, 0, json_pack("{s:I,s:o}", "id",
	    s.id, "result", v));
}

int
ctl_reject(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, CTL_SETTLE_DATA },
		CTL_OPTS_COMMON
	};
	struct ctl_settle	 s;
	json_error_t		 err;
	json_t			*p, *data = NULL;
	int			 rc;

	memset(&s, 0, sizeof s);
	if ((rc = ctl_settle_args(ctx, argc, argv, "+:h", lo, 2, &s)) != -1)
		return rc;
	if (s.data != NULL && (data = json_loads(s.data, JSON_DECODE_ANY,
	    &err)) == NULL)
		return ctl_usage(ctx, "--data: %s", err.text);
	p = json_pack("{s:I,s:s,s:s}", "id", s.id, "type", argv[optind],
	    "message", argv[optind + 1]);
	if (p == NULL) {
		json_decref(data);
		return ctl_usage(ctx, "TYPE and MESSAGE must be UTF-8 text");
	}
	if (data != NULL)
		json_object_set_new(p, "data", data);
	return ctl_settle_call(ctx, s.id, 1, p);
}

static void
ctl_cancel_print(struct ctl *ctx, json_t *result)
{
	if (ctx->json)
		ctl_print_json(result, 0);
	else
		puts(json_is_true(json_object_get(result, "cancelled")) ?
		    "cancelled" : "already finished");
}

int
ctl_cancel(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "message", required_argument, NULL, CTL_SETTLE_MESSAGE },
		CTL_OPTS_COMMON
	};
	struct ctl_settle	 s;
	struct ctl_reply	 r;
	struct fp_invalid	 inv;
	const char		*msg;
	json_t			*p;
	int64_t			 id64;
	int			 rc;

	memset(&s, 0, sizeof s);
	if ((rc = ctl_settle_args(ctx, argc, argv, ":h", lo, 0, &s)) != -1)
		return rc;
	if ((p = json_pack("{s:I}", "id", s.id)) == NULL)
		return CTL_EXIT_USAGE;
	if (s.message != NULL && json_object_set_new(p, "message",
	    json_string(s.message)) == -1) {
		json_decref(p);
		return ctl_usage(ctx, "--message must be UTF-8 text");
	}
	if (fp_cancel_parse(p, &id64, &msg, &inv) == -1) {
		json_decref(p);
		return ctl_settle_invalid(ctx, &inv, "--message");
	}
	if ((rc = ctl_call_ok(ctx, FP_TASK_CANCEL, p, &r)) == 0)
		ctl_cancel_print(ctx, r.result);
	ctl_reply_clear(&r);
	return rc;
}

/* ---- close ---- */

/*
 * The answer {closed, state}: "closed" while the group waits for its
 * members, "closed; STATE" when that ended it at once; a group closed or
 * finished before is said on stderr with CTL_EXIT_ALREADY_DONE, as
 * resolve says a future finished before.
 */
static int
ctl_close_print(struct ctl *ctx, json_int_t id, json_t *res)
{
	const char	*state = json_string_value(json_object_get(res,
			    "state"));
	int		 closed = json_is_true(json_object_get(res, "closed"));

	if (state == NULL)
		state = "?";
	if (ctx->json)
		ctl_print_json(res, 0);
	else if (closed && strcmp(state, "running") == 0)
		puts("closed");
	else if (closed)
		printf("closed; %s%s%s\n", ctl_color(stdout,
		    ctl_state_color(state)), state, ctl_color(stdout,
		    CTL_PLAIN));
	if (closed)
		return CTL_EXIT_OK;
	fprintf(stderr, "futurectl: group %" JSON_INTEGER_FORMAT " %s: %s%s%s; "
	    "nothing changed\n", id, strcmp(state, "running") == 0 ||
	    strcmp(state, "pending") == 0 ? "was already closed" :
	    "had already finished", ctl_color(stderr, ctl_state_color(state)),
	    state, ctl_color(stderr, CTL_PLAIN));
	return CTL_EXIT_ALREADY_DONE;
}

int
ctl_close(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = { CTL_OPTS_COMMON };
	struct ctl_settle	 s;
	struct ctl_reply	 r;
	int			 rc;

	memset(&s, 0, sizeof s);
	if ((rc = ctl_settle_args(ctx, argc, argv, ":h", lo, 0, &s)) != -1)
		return rc;
	rc = ctl_call_ok(ctx, FP_TASK_CLOSE, json_pack("{s:I}", "id", s.id),
	    &r);
	if (rc == 0)
		rc = ctl_close_print(ctx, s.id, r.result);
	ctl_reply_clear(&r);
	return rc;
}
