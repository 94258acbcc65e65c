/*
 * ctl-future.c: get, result, exception and wait (--as-completed too): the
 * commands that look at one future or wait for some.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define CTL_RESULT_SHOW	200	/* bytes of a result `get` shows */

/*
 * A long-poll that comes back at once, though we asked to wait, would turn
 * the loops below into a busy loop against the daemon: pause a little.
 */
static void
ctl_poll_pace(double started, double asked)
{
	struct timespec	ts = { 0, 200 * 1000 * 1000 };

	if (asked >= 1 && ctl_now() - started < 0.2)
		nanosleep(&ts, NULL);
}

/* The timeout to ask for: the time left, at most one poll's worth. */
static double
ctl_poll_timeout(double deadline)
{
	double	left;

	if (deadline <= 0)
		return CTL_POLL_MAX;
	left = deadline - ctl_now();
	return left < 0 ? 0 : left < CTL_POLL_MAX ? left : CTL_POLL_MAX;
}

int
ctl_future_poll(struct ctl *ctx, const char *method, json_int_t id,
    double wait, struct ctl_reply *r)
{
	double	 deadline = wait > 0 ? ctl_now() + wait : 0, asked, started;
	double	 since = ctl_now();
	json_t	*p;
	int	 rc;
	char	 took[32];

	for (;;) {
		if ((p = json_pack("{s:I}", "id", id)) == NULL)
			return CTL_EXIT_CONN;
		asked = ctl_poll_timeout(deadline);
		if (asked > CTL_PROGRESS_EVERY && ctl_progress_wanted())
			asked = CTL_PROGRESS_EVERY;
		if (wait != 0)
			json_object_set_new(p, "timeout", json_real(asked));
		started = ctl_now();
		rc = ctl_call(ctx, method, p, r);
		if (rc != CTL_REPLY_ERROR || r->code != FP_ERR_TASK_NOT_DONE ||
		    wait == 0 || (deadline > 0 && ctl_now() >= deadline)) {
			ctl_progress_clear();
			return rc;
		}
		ctl_progress("task %" JSON_INTEGER_FORMAT " %s, waited %s", id,
		    json_string_value(json_object_get(r->data, "state")) ?
		    json_string_value(json_object_get(r->data, "state")) :
		    "not done", ctl_fmt_duration(ctl_now() - since, took,
		    sizeof took));
		ctl_reply_clear(r);
		ctl_poll_pace(started, asked);
	}
}

/* An exec result with capture text: {exit_code, stdout, stderr, ...}. */
static int
ctl_is_exec_result(json_t *res)
{
	return json_is_integer(json_object_get(res, "exit_code")) &&
	    json_is_string(json_object_get(res, "stdout")) &&
	    json_is_string(json_object_get(res, "stderr"));
}

static int
ctl_is_http_result(json_t *res)
{
	return json_is_integer(json_object_get(res, "status")) &&
	    json_is_string(json_object_get(res, "body_encoding"));
}

/* An http result: the status line on stderr, the body as it came. */
static int
ctl_print_http_result(json_t *res)
{
	const char	*enc = json_string_value(json_object_get(res,
			    "body_encoding"));

	fprintf(stderr, "HTTP %" JSON_INTEGER_FORMAT " %s (%.3fs)%s\n",
	    json_integer_value(json_object_get(res, "status")),
	    json_string_value(json_object_get(res, "url")),
	    json_number_value(json_object_get(res, "duration")),
	    json_is_true(json_object_get(res, "body_truncated")) ?
	    ", body truncated" : "");
	if (strcmp(enc, "base64") == 0)
		ctl_write_base64(stdout, json_string_value(json_object_get(res,
		    "body")));
	else
		ctl_write_string(stdout, json_object_get(res, "body"));
	fflush(stdout);
	return CTL_EXIT_OK;
}

int
ctl_future_print_result(struct ctl *ctx, json_t *res)
{
	if (ctx->json) {
		ctl_print_json(res, 0);
		return CTL_EXIT_OK;
	}
	if (ctl_is_http_result(res))
		return ctl_print_http_result(res);
	if (!ctl_is_exec_result(res)) {
		ctl_print_json(res, 1);
		return CTL_EXIT_OK;
	}
	ctl_write_string(stdout, json_object_get(res, "stdout"));
	fflush(stdout);
	ctl_write_string(stderr, json_object_get(res, "stderr"));
	if (json_is_true(json_object_get(res, "stdout_truncated")))
		fprintf(stderr, "futurectl: the task's stdout was truncated\n");
	if (json_is_true(json_object_get(res, "stderr_truncated")))
		fprintf(stderr, "futurectl: the task's stderr was truncated\n");
	return CTL_EXIT_OK;
}

int
ctl_future_failed(struct ctl *ctx, const struct ctl_reply *r)
{
	if (ctx->json)
		ctl_print_json(json_object_get(r->data, "exception"), 0);
	return ctl_reply_error(ctx, r);
}

/*
 * The arguments of get, result and exception: exactly one ID, and
 * when wait is not NULL --wait (*wait -1: forever) or --timeout S (up to
 * S; --wait=S, its older name, too); *wait 0: not at all.
 * Returns -1 to go on, else an exit status.
 */
static int
ctl_id_args(struct ctl *ctx, int argc, char **argv, json_int_t *id,
    double *wait)
{
	static const struct option lo[] = {
		{ "wait", optional_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' }, CTL_OPTS_COMMON
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, ":h", wait != NULL ? lo : lo + 2,
	    NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if ((ch != 'w' && ch != 't') || wait == NULL)
			return ctl_bad_option(ctx, ch, argv);
		else if (optarg == NULL)
			*wait = -1;
		else if (ctl_parse_seconds(optarg, wait) == -1)
			return ctl_usage(ctx, "bad --%s '%s'", ch == 't' ?
			    "timeout" : "wait", optarg);
	}
	if (argc - optind != 1)
		return ctl_usage(ctx, "give one task id");
	if (ctl_parse_id(argv[optind], id) == -1)
		return ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
	return -1;
}

int
ctl_result(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	r;
	json_int_t		id = 0;
	double			wait = 0;
	int			rc;

	if ((rc = ctl_id_args(ctx, argc, argv, &id, &wait)) != -1)
		return rc;
	rc = ctl_future_poll(ctx, FP_TASK_RESULT, id, wait, &r);
	if (rc == 0)
		rc = ctl_future_print_result(ctx, r.result);
	else if (rc == CTL_REPLY_ERROR && r.code == FP_ERR_TASK_FAILED)
		rc = ctl_future_failed(ctx, &r);
	else if (rc == CTL_REPLY_ERROR)
		rc = ctl_reply_error(ctx, &r);
	ctl_reply_clear(&r);
	return rc;
}

int
ctl_exception(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	r;
	json_int_t		id = 0;
	double			wait = 0;
	int			rc;

	if ((rc = ctl_id_args(ctx, argc, argv, &id, &wait)) != -1)
		return rc;
	rc = ctl_future_poll(ctx, FP_TASK_EXCEPTION, id, wait, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		ctl_print_exception(stdout, r.result);
	else if (rc == CTL_REPLY_ERROR)
		rc = ctl_reply_error(ctx, &r);
	ctl_reply_clear(&r);
	return rc;
}

/* Runs a method whose only argument is one ID; prints JSON or human. */
static int
ctl_id_call(struct ctl *ctx, int argc, char **argv, const char *method,
    void (*human)(json_t *))
{
	struct ctl_reply	r;
	json_int_t		id = 0;
	int			rc;

	if ((rc = ctl_id_args(ctx, argc, argv, &id, NULL)) != -1)
		return rc;
	rc = ctl_call_ok(ctx, method, json_pack("{s:I}", "id", id), &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		human(r.result);
	ctl_reply_clear(&r);
	return rc;
}

/* ---- get ---- */

static void
ctl_get_time(json_t *t, const char *label, const char *field)
{
	const char	*s = json_string_value(json_object_get(t, field));
	char		 ago[48];
	double		 when = ctl_task_time(t, field);

	if (s != NULL && when > 0)
		ctl_print_kv(label, "%s (%s)", s, ctl_fmt_ago(when, ago,
		    sizeof ago));
}

/* "a=1 b=2", or the ids of an array: "3 4". */
static void
ctl_get_list(const char *label, json_t *v)
{
	const char	*k;
	json_t		*x;
	size_t		 i;
	int		 n = 0;

	if (json_object_size(v) == 0 && json_array_size(v) == 0)
		return;
	ctl_print_key(label);
	json_object_foreach(v, k, x)
		printf("%s%s=%s", n++ > 0 ? " " : "", k, json_string_value(x));
	json_array_foreach(v, i, x)
		printf("%s%" JSON_INTEGER_FORMAT, i > 0 ? " " : "",
		    json_integer_value(x));
	putchar('\n');
}

static void
ctl_get_result(json_t *res)
{
	char	*s;

	if (ctl_is_exec_result(res)) {
		ctl_print_kv("result", "exit %" JSON_INTEGER_FORMAT ", %zu "
		    "bytes of stdout, %zu of stderr", json_integer_value(
		    json_object_get(res, "exit_code")), json_string_length(
		    json_object_get(res, "stdout")), json_string_length(
		    json_object_get(res, "stderr")));
		return;
	}
	if ((s = fp_json_text(res)) == NULL)
		return;
	ctl_print_kv("result", "%.*s%s", CTL_RESULT_SHOW, s,
	    strlen(s) > CTL_RESULT_SHOW ? "..." : "");
	free(s);
}

static void
ctl_get_outcome(json_t *t)
{
	json_t	*exc = json_object_get(t, "exception"), *v;
	char	 d[32];

	if (json_object_get(t, "started_at") != NULL &&
	    !json_is_null(json_object_get(t, "started_at")))
		ctl_print_kv("duration", "%s", ctl_fmt_task_duration(t, d,
		    sizeof d));
	if ((v = json_object_get(t, "result")) != NULL)
		ctl_get_result(v);
	if (exc != NULL) {
		ctl_print_key("exception");
		ctl_print_exception(stdout, exc);
	}
	if ((v = json_object_get(t, "retrieved")) != NULL)
		ctl_print_kv("retrieved", "%s", json_is_true(v) ? "yes" : "no");
}

/* "concurrency k=1 db=5, rate limit api (key cust:42)": what it asked. */
static void
ctl_get_limits(json_t *limits)
{
	const char	*rate = json_string_value(json_object_get(limits,
			    "rate_limit"));
	const char	*rkey = json_string_value(json_object_get(limits,
			    "rate_key"));
	const char	*k;
	json_t		*v;
	int		 n = 0;

	if (!json_is_object(limits) || json_object_size(limits) == 0)
		return;
	ctl_print_key("limits");
	json_object_foreach(json_object_get(limits, "concurrency"), k, v)
		printf("%s%s=%" JSON_INTEGER_FORMAT, n++ > 0 ? " " :
		    "concurrency ", k, json_integer_value(v));
	if (rate != NULL)
		printf("%srate limit %s", n > 0 ? ", " : "", rate);
	if (rate != NULL && rkey != NULL)
		printf(" (key %s)", rkey);
	putchar('\n');
}

/* "waiting for: concurrency key K" or "rate limit N (key K)". */
static void
ctl_get_waiting(json_t *w)
{
	const char	*limit = json_string_value(json_object_get(w, "limit"));
	const char	*key = json_string_value(json_object_get(w, "key"));
	const char	*name = json_string_value(json_object_get(w, "name"));

	if (limit == NULL)
		return;
	if (strcmp(limit, "concurrency") == 0)
		ctl_print_kv("waiting for", "concurrency key %s", key != NULL ?
		    key : "?");
	else if (strcmp(limit, "rate") == 0 && key != NULL && *key != '\0')
		ctl_print_kv("waiting for", "rate limit %s (key %s)",
		    name != NULL ? name : "?", key);
	else if (strcmp(limit, "rate") == 0)
		ctl_print_kv("waiting for", "rate limit %s", name != NULL ?
		    name : "?");
	else
		ctl_print_kv("waiting for", "%s", limit);
}

static void
ctl_get_print(json_t *t)
{
	const char	*key = json_string_value(json_object_get(t, "key"));
	const char	*state = json_string_value(json_object_get(t, "state"));
	char		*cmd = ctl_fmt_command(json_object_get(t, "spec"));
	json_t		*v;

	ctl_print_kv("id", "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(t, "id")));
	ctl_print_kv("state", "%s%s%s", ctl_color(stdout,
	    ctl_state_color(state)), state, ctl_color(stdout, CTL_PLAIN));
	ctl_print_kv("kind", "%s", json_string_value(json_object_get(t,
	    "kind")));
	ctl_print_kv("command", "%s", cmd != NULL ? cmd : "?");
	free(cmd);
	ctl_print_kv("queue", "%s", json_string_value(json_object_get(t,
	    "queue")));
	ctl_print_kv("priority", "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(t, "priority")));
	if (key != NULL)
		ctl_print_kv("key", "%s", key);
	ctl_get_list("labels", json_object_get(t, "labels"));
	ctl_get_list("after", json_object_get(t, "after"));
	if ((v = json_object_get(t, "parent")) != NULL && json_is_integer(v))
		ctl_print_kv("parent", "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	if ((v = json_object_get(t, "child_policy")) != NULL &&
	    json_is_string(v))
		ctl_print_kv("children", "%s when its own work ends "
		    "(child_policy %s)", strcmp(json_string_value(v),
		    "cancel") == 0 ? "cancelled" : strcmp(json_string_value(v),
		    "abandon") == 0 ? "left running" : "waited for",
		    json_string_value(v));
	ctl_get_limits(json_object_get(t, "limits"));
	ctl_get_waiting(json_object_get(t, "waiting_for"));
	ctl_print_kv("attempt", "%" JSON_INTEGER_FORMAT " of %"
	    JSON_INTEGER_FORMAT, json_integer_value(json_object_get(t,
	    "attempt")), json_integer_value(json_object_get(t,
	    "max_retries")) + 1);
	if ((v = json_object_get(t, "timeout")) != NULL && json_is_number(v))
		ctl_print_kv("timeout", "%gs", json_number_value(v));
	ctl_get_time(t, "not before", "not_before");
	ctl_get_time(t, "created", "created_at");
	ctl_get_time(t, "started", "started_at");
	ctl_get_time(t, "finished", "finished_at");
	ctl_get_outcome(t);
}

int
ctl_get(struct ctl *ctx, int argc, char **argv)
{
	return ctl_id_call(ctx, argc, argv, FP_TASK_GET, ctl_get_print);
}

/* ---- wait ---- */

/*
 * wait asks task.wait for FIRST_COMPLETED on the ids still pending, so
 * every answer shrinks the pending set and can be reported as it happens:
 * a progress line rewritten in place when stderr is a terminal, else one
 * "done ID STATE" line per task.  Which condition ends the wait is ours
 * (return_when), checked after each answer.
 */
struct ctl_wait {
	json_t		*ids;		/* what we wait for, in given order */
	json_t		*pending;	/* those not done yet, same order */
	const char	*return_when;
	double		 started;
	double		 deadline;	/* 0: none */
	json_t		*states;	/* id -> state of the done ones */
	json_t		*last;		/* {done, pending} for the report */
	size_t		 ndone;
	int		 failed;
	int		 cancelled;
	int		 tty;		/* stderr is a terminal: progress */
	int		 shown;		/* width of the progress line shown */
	int		 as_completed;	/* --as-completed */
	json_int_t	 group;		/* --group: its members; 0: ids */
	json_int_t	 remaining;	/* members not handed back yet */
	int		 group_ended;	/* seen finished before the last call */
};

/* At most this long per call on a terminal, so the elapsed time ticks. */
#define CTL_WAIT_TICK	1.0
/* Answers closer together than this are paced, batching completions. */
#define CTL_WAIT_PACE	0.1

static void
ctl_wait_key(json_t *id, char *key, size_t len)
{
	snprintf(key, len, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
}

/* Rewrites the progress line: "done/total, N failed, elapsed". */
static void
ctl_wait_progress(struct ctl_wait *w, int final)
{
	char	line[128], d[32];
	int	n;

	if (!w->tty)
		return;
	n = snprintf(line, sizeof line, "%zu/%zu, %d failed, %s", w->ndone,
	    json_array_size(w->ids), w->failed, ctl_fmt_duration(ctl_now() -
	    w->started, d, sizeof d));
	fprintf(stderr, "\r%s%*s%s", line, w->shown > n ? w->shown - n : 0, "",
	    final ? "\n" : "");
	fflush(stderr);
	w->shown = n;
}

/* Records a done id's state (task.get) and reports it. */
static int
ctl_wait_state(struct ctl *ctx, struct ctl_wait *w, json_t *id)
{
	struct ctl_reply	 r;
	char			 key[32];
	const char		*st;
	int			 rc;

	ctl_wait_key(id, key, sizeof key);
	if (json_object_get(w->states, key) != NULL)
		return 0;
	rc = ctl_call_ok(ctx, FP_TASK_GET, json_pack("{s:O}", "id", id), &r);
	if (rc != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	st = json_string_value(json_object_get(r.result, "state"));
	if (st == NULL)
		st = "?";
	w->failed += strcmp(st, "failed") == 0;
	w->cancelled += strcmp(st, "cancelled") == 0;
	w->ndone++;
	json_object_set_new(w->states, key, json_string(st));
	if (!w->tty)
		fprintf(stderr, "done %s %s\n", key, st);
	ctl_reply_clear(&r);
	return 0;
}

/* Records the done ids of an answer and drops them from w->pending. */
static int
ctl_wait_states(struct ctl *ctx, struct ctl_wait *w, json_t *done)
{
	json_t	*v, *left;
	char	 key[32];
	size_t	 i;
	int	 rc;

	json_array_foreach(done, i, v)
		if ((rc = ctl_wait_state(ctx, w, v)) != 0)
			return rc;
	if ((left = json_array()) == NULL)
		return CTL_EXIT_CONN;
	json_array_foreach(w->pending, i, v) {
		ctl_wait_key(v, key, sizeof key);
		if (json_object_get(w->states, key) == NULL)
			json_array_append(left, v);
	}
	json_decref(w->pending);
	w->pending = left;
	return 0;
}

/* Whether what return_when asked for has happened. */
static int
ctl_wait_met(struct ctl_wait *w)
{
	if (json_array_size(w->pending) == 0)
		return 1;
	if (strcmp(w->return_when, "FIRST_COMPLETED") == 0)
		return w->ndone > 0;
	if (strcmp(w->return_when, "FIRST_EXCEPTION") == 0)
		return w->failed > 0;
	return 0;
}

/* One task.wait call; -1 when the wait is over, else an exit status. */
static int
ctl_wait_once(struct ctl *ctx, struct ctl_wait *w)
{
	struct ctl_reply	 r;
	struct timespec		 ts = { 0, (long)(CTL_WAIT_PACE * 1e9) };
	double			 asked = ctl_poll_timeout(w->deadline);
	double			 started = ctl_now();
	int			 rc;

	if (w->tty && asked > CTL_WAIT_TICK)
		asked = CTL_WAIT_TICK;
	rc = ctl_call_ok(ctx, FP_TASK_WAIT, json_pack("{s:O,s:s,s:f}", "ids",
	    w->pending, "return_when", "FIRST_COMPLETED", "timeout", asked),
	    &r);
	if (rc == 0)
		rc = ctl_wait_states(ctx, w, json_object_get(r.result, "done"));
	ctl_reply_clear(&r);
	if (rc != 0)
		return rc;
	ctl_wait_progress(w, 0);
	if (ctl_wait_met(w) || (w->deadline > 0 && ctl_now() >= w->deadline))
		return -1;
	if (asked >= CTL_WAIT_PACE && ctl_now() - started < CTL_WAIT_PACE)
		nanosleep(&ts, NULL);
	return CTL_EXIT_OK;
}

/* Prints "label: id id ..." for the ids of arr in state (NULL: any). */
static void
ctl_wait_line(struct ctl_wait *w, const char *label, json_t *arr,
    const char *state)
{
	char		 key[32];
	const char	*st;
	json_t		*v;
	size_t		 i;
	int		 n = 0;

	json_array_foreach(arr, i, v) {
		ctl_wait_key(v, key, sizeof key);
		st = json_string_value(json_object_get(w->states, key));
		if (state != NULL && (st == NULL || strcmp(st, state) != 0))
			continue;
		if (n++ == 0)
			printf("%s:", label);
		printf(" %s", key);
	}
	if (n == 0 && state == NULL)
		printf("%s:", label);
	if (n > 0 || state == NULL)
		putchar('\n');
}

/* w->last = {done, pending}, each in the order the ids were given. */
static int
ctl_wait_result(struct ctl_wait *w)
{
	json_t	*done = json_array(), *v;
	char	 key[32];
	size_t	 i;

	if (done == NULL)
		return -1;
	json_array_foreach(w->ids, i, v) {
		ctl_wait_key(v, key, sizeof key);
		if (json_object_get(w->states, key) != NULL)
			json_array_append(done, v);
	}
	w->last = json_pack("{s:o,s:O}", "done", done, "pending", w->pending);
	return w->last != NULL ? 0 : -1;
}

static int
ctl_wait_report(struct ctl *ctx, struct ctl_wait *w)
{
	json_t	*done;

	ctl_wait_progress(w, 1);
	if (ctl_wait_result(w) == -1)
		return CTL_EXIT_CONN;
	done = json_object_get(w->last, "done");
	if (ctx->json)
		ctl_print_json(w->last, 0);
	else {
		ctl_wait_line(w, "done", done, NULL);
		ctl_wait_line(w, "pending", w->pending, NULL);
		ctl_wait_line(w, "failed", done, "failed");
		ctl_wait_line(w, "cancelled", done, "cancelled");
	}
	if (w->failed > 0)
		return CTL_EXIT_FAILED;
	if (!ctl_wait_met(w))
		return CTL_EXIT_TIMEOUT;
	return w->cancelled > 0 ? CTL_EXIT_CANCELLED : CTL_EXIT_OK;
}

static int
ctl_id_cmp(const void *a, const void *b)
{
	json_int_t	x = *(const json_int_t *)a, y = *(const json_int_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * ids in ascending order (the order they were submitted in), each once: a
 * task listed pending may start before the running ones are listed.
 */
static int
ctl_ids_sort(json_t *ids)
{
	size_t		 i, n = json_array_size(ids);
	json_int_t	*v = calloc(n + 1, sizeof *v);

	if (v == NULL)
		return -1;
	for (i = 0; i < n; i++)
		v[i] = json_integer_value(json_array_get(ids, i));
	qsort(v, n, sizeof *v, ctl_id_cmp);
	json_array_clear(ids);
	for (i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			json_array_append_new(ids, json_integer(v[i]));
	free(v);
	return 0;
}

/* The unfinished tasks --queue, --label or --all select, as w's ids. */
static int
ctl_wait_select(struct ctl *ctx, struct ctl_wait *w, json_t *filter)
{
	int	rc;

	if ((rc = ctl_list_unfinished(ctx, filter, w->ids)) != 0)
		return rc;
	if (ctl_ids_sort(w->ids) == -1)
		return CTL_EXIT_CONN;
	if (json_array_size(w->ids) > FP_WAIT_MAX) {
		fprintf(stderr, "futurectl: %zu unfinished tasks; wait for at "
		    "most %d at once\n", json_array_size(w->ids),
		    FP_WAIT_MAX);
		return CTL_EXIT_USAGE;
	}
	return -1;
}

/* --group G: the members of G, and nothing else to wait for. */
static int
ctl_wait_group_args(struct ctl *ctx, int argc, char **argv, struct ctl_wait *w,
    json_t *filter, int all)
{
	if (!w->as_completed)
		return ctl_usage(ctx, "--group goes with --as-completed (wait "
		    "G waits for the group itself)");
	if (all || optind < argc || json_object_size(json_object_get(filter,
	    "label")) > 0 || json_object_get(filter, "queue") != NULL)
		return ctl_usage(ctx, "give ids, --group, or --queue, --label "
		    "or --all");
	return -1;
}

/* wait's options and ids into w; -1 to go on, else an exit status. */
static int
ctl_wait_args(struct ctl *ctx, int argc, char **argv, struct ctl_wait *w,
    json_t *filter)
{
	static const struct option lo[] = {
		{ "any", no_argument, NULL, 'a' },
		{ "first-exception", no_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "queue", required_argument, NULL, 'q' },
		{ "label", required_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'A' },
		{ "as-completed", no_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },
		CTL_OPTS_COMMON
	};
	json_int_t	id;
	double		secs;
	int		ch, all = 0;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 'a')
			w->return_when = "FIRST_COMPLETED";
		else if (ch == 'e')
			w->return_when = "FIRST_EXCEPTION";
		else if (ch == 'j')
			ctx->json = 1;
		else if (ch == 't' && ctl_parse_seconds(optarg, &secs) == -1)
			return ctl_usage(ctx, "bad --timeout '%s'", optarg);
		else if (ch == 't')
			w->deadline = ctl_now() + (secs > 0 ? secs : 1e-9);
		else if (ch == 'q')
			json_object_set_new(filter, "queue", json_string(optarg));
		else if (ch == 'l' && ctl_parse_pair(optarg, '=',
		    json_object_get(filter, "label")) == -1)
			return ctl_usage(ctx, "bad --label '%s' (want K=V)",
			    optarg);
		else if (ch == 'A')
			all = 1;
		else if (ch == 'c')
			w->as_completed = 1;
		else if (ch == 'g' && ctl_parse_id(optarg, &w->group) == -1)
			return ctl_usage(ctx, "bad --group '%s' (want a task "
			    "id)", optarg);
		else if (ch != 'l' && ch != 'g')
			return ctl_bad_option(ctx, ch, argv);
	}
	if (w->as_completed && strcmp(w->return_when, "ALL_COMPLETED") != 0)
		return ctl_usage(ctx, "--as-completed goes with neither --any "
		    "nor --first-exception");
	if (w->group > 0)
		return ctl_wait_group_args(ctx, argc, argv, w, filter, all);
	if (json_object_size(json_object_get(filter, "label")) == 0)
		json_object_del(filter, "label");
	all |= json_object_size(filter) > 0;
	if (all && optind < argc)
		return ctl_usage(ctx, "give ids, or --queue, --label or --all");
	if (all)
		return ctl_wait_select(ctx, w, filter);
	if (optind >= argc)
		return ctl_usage(ctx, "give the ids to wait for (or --queue, "
		    "--label, --all)");
	for (; optind < argc; optind++) {
		if (ctl_parse_id(argv[optind], &id) == -1)
			return ctl_usage(ctx, "not a task id: '%s'",
			    argv[optind]);
		json_array_append_new(w->ids, json_integer(id));
	}
	return -1;
}

/* ---- wait --as-completed ---- */

/*
 * task.as_completed hands back each task once, as it finishes and in that
 * order, with its state; its cursor says which were handed back and goes
 * with the next call.  Each task is printed as it comes, "ID STATE" (or its
 * {id, state} with --json), one a line and flushed, so a pipe reads them in
 * the order the tasks ended.
 */

/*
 * Prints a task handed back and counts it in w; 0 for one printed before
 * (an answer that repeated it), else 1.
 */
static int
ctl_wait_completed_print(struct ctl *ctx, struct ctl_wait *w, json_t *item)
{
	const char	*st = json_string_value(json_object_get(item, "state"));
	char		 key[32];

	ctl_wait_key(json_object_get(item, "id"), key, sizeof key);
	if (json_object_get(w->states, key) != NULL)
		return 0;
	if (st == NULL)
		st = "?";
	json_object_set_new(w->states, key, json_string(st));
	w->ndone++;
	w->failed += strcmp(st, "failed") == 0;
	w->cancelled += strcmp(st, "cancelled") == 0;
	if (ctx->json)
		ctl_print_json(item, 0);
	else
		printf("%s %s%s%s\n", key, ctl_color(stdout,
		    ctl_state_color(st)), st, ctl_color(stdout, CTL_PLAIN));
	fflush(stdout);
	return 1;
}

/*
 * A group's members are the group's children as they are at each call, so
 * all handed back (remaining 0) is the end only once the group can take
 * no more: it has finished, and a call made since said so.  Until then the
 * group is waited for a tick at a time (a member that joins meanwhile is
 * seen at the next call), which also paces the calls.  -1 when it is over,
 * 0 to call again, else an exit status.
 */
static int
ctl_wait_group_over(struct ctl *ctx, struct ctl_wait *w)
{
	struct ctl_reply	 r;
	double			 asked = ctl_poll_timeout(w->deadline);
	int			 rc;

	if (w->group_ended)
		return -1;
	if (asked > CTL_WAIT_TICK)
		asked = CTL_WAIT_TICK;
	rc = ctl_call_ok(ctx, FP_TASK_WAIT, json_pack("{s:[I],s:f}", "ids",
	    w->group, "timeout", asked), &r);
	if (rc == 0)
		w->group_ended = json_array_size(json_object_get(r.result,
		    "done")) > 0;
	ctl_reply_clear(&r);
	return rc;
}

/* task.as_completed's params: the ids, or the group's members. */
static json_t *
ctl_wait_completed_params(struct ctl_wait *w, json_t *cursor, double asked)
{
	json_t	*p;

	if (w->group > 0)
		p = json_pack("{s:I,s:f}", "group", w->group, "timeout", asked);
	else
		p = json_pack("{s:O,s:f}", "ids", w->ids, "timeout", asked);
	if (p != NULL && cursor != NULL)
		json_object_set(p, "cursor", cursor);
	return p;
}

/*
 * One task.as_completed call, *cursor the last answer's (new).  -1 once
 * every task was handed back or the time is up, 0 to call again, else an
 * exit status.
 */
static int
ctl_wait_completed_once(struct ctl *ctx, struct ctl_wait *w, json_t **cursor)
{
	struct ctl_reply	 r;
	json_t			*p, *v;
	double			 asked = ctl_poll_timeout(w->deadline);
	double			 started = ctl_now();
	size_t			 i, n = 0;
	int			 rc;

	/* members that join meanwhile are not what a parked call waits on */
	if (w->group > 0 && asked > CTL_WAIT_TICK)
		asked = CTL_WAIT_TICK;
	if ((p = ctl_wait_completed_params(w, *cursor, asked)) == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_call_ok(ctx, FP_TASK_AS_COMPLETED, p, &r)) != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	json_array_foreach(json_object_get(r.result, "done"), i, v)
		n += ctl_wait_completed_print(ctx, w, v);
	json_decref(*cursor);
	*cursor = json_incref(json_object_get(r.result, "cursor"));
	w->remaining = json_integer_value(json_object_get(r.result,
	    "remaining"));
	ctl_reply_clear(&r);
	if (w->remaining == 0 && w->group > 0)
		rc = ctl_wait_group_over(ctx, w);
	else if (w->remaining == 0)
		rc = -1;
	if (rc == 0 && w->deadline > 0 && ctl_now() >= w->deadline)
		rc = -1;
	if (rc == 0 && n == 0 && w->remaining > 0)
		ctl_poll_pace(started, asked);
	return rc;
}

/* Names the tasks not handed back; the exit status, as wait's. */
static int
ctl_wait_completed_report(struct ctl_wait *w)
{
	json_t	*v;
	char	 key[32];
	size_t	 i;
	int	 over = w->group > 0 ? w->group_ended && w->remaining == 0 :
		    w->ndone == json_array_size(w->ids);

	if (!over && w->group > 0)
		fprintf(stderr, "futurectl: not done within the timeout: "
		    "group %" JSON_INTEGER_FORMAT " (%s; %" JSON_INTEGER_FORMAT
		    " of its members unfinished)\n", w->group,
		    w->group_ended ? "ended" : "unfinished", w->remaining);
	else if (!over) {
		fputs("futurectl: not done within the timeout:", stderr);
		json_array_foreach(w->ids, i, v) {
			ctl_wait_key(v, key, sizeof key);
			if (json_object_get(w->states, key) == NULL)
				fprintf(stderr, " %s", key);
		}
		fputc('\n', stderr);
	}
	if (w->failed > 0)
		return CTL_EXIT_FAILED;
	if (!over)
		return CTL_EXIT_TIMEOUT;
	return w->cancelled > 0 ? CTL_EXIT_CANCELLED : CTL_EXIT_OK;
}

static int
ctl_wait_as_completed(struct ctl *ctx, struct ctl_wait *w)
{
	json_t	*cursor = NULL;
	int	 rc = json_array_size(w->ids) > 0 || w->group > 0 ?
		    CTL_EXIT_OK : -1;

	while (rc == CTL_EXIT_OK)
		rc = ctl_wait_completed_once(ctx, w, &cursor);
	json_decref(cursor);
	return rc == -1 ? ctl_wait_completed_report(w) : rc;
}

/* wait without --as-completed: task.wait until return_when holds. */
static int
ctl_wait_run(struct ctl *ctx, struct ctl_wait *w)
{
	int	rc;

	w->pending = json_copy(w->ids);
	ctl_wait_progress(w, 0);
	while ((rc = ctl_wait_once(ctx, w)) == CTL_EXIT_OK)
		;
	if (rc == -1)
		rc = ctl_wait_report(ctx, w);
	else if (w->shown > 0)
		fputc('\n', stderr);	/* end the progress line */
	return rc;
}

int
ctl_wait(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_wait	 w;
	json_t		*filter = json_pack("{s:{}}", "label");
	int		 rc;

	memset(&w, 0, sizeof w);
	w.return_when = "ALL_COMPLETED";
	w.started = ctl_now();
	w.tty = isatty(STDERR_FILENO);
	w.ids = json_array();
	w.states = json_object();
	if (w.ids == NULL || w.states == NULL || filter == NULL)
		rc = CTL_EXIT_CONN;
	else if ((rc = ctl_wait_args(ctx, argc, argv, &w, filter)) == -1)
		rc = w.as_completed ? ctl_wait_as_completed(ctx, &w) :
		    ctl_wait_run(ctx, &w);
	json_decref(filter);
	json_decref(w.ids);
	json_decref(w.pending);
	json_decref(w.states);
	json_decref(w.last);
	return rc;
}
