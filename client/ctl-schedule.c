/*
 * ctl-schedule.c: schedule add, ls, show, rm, pause, resume and run-now:
 * named recipes futured fires on a cron expression or an interval, each
 * firing one task (schedule.create, .list, .get, .delete, .pause, .resume
 * and .trigger).  add reads the task's options as submit does
 * (ctl_spec_parse_extra), less those the schedule sets for each firing
 * itself: its key, its start and its parent.  What only futured can judge
 * (a cron expression, a zone) is left to it: its -32602 names the field.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_SCHED_COLS	9

static const char *const ctl_sched_overlaps[] = { "skip", "buffer_one",
	"allow_all", "cancel_other", NULL };
static const char *const ctl_sched_catchups[] = { "latest", "all", NULL };

enum ctl_sched_type {
	CTL_S_STRING,
	CTL_S_SECONDS,
	CTL_S_TIME,	/* RFC 3339, sent as given */
	CTL_S_CHOICE,	/* one of choices */
	CTL_S_TRUE,	/* a flag */
};

#define CTL_SCHED_SECONDS	"seconds: 90, 90s, 1.5m, 2h, 7d"
#define CTL_SCHED_TIME		"an RFC 3339 time"

/* add's own options, each one schedule.create parameter. */
static const struct ctl_sched_field {
	const char		*opt;
	const char		*field;
	enum ctl_sched_type	 type;
	const char *const	*choices;
	const char		*want;		/* for a bad value's message */
} ctl_sched_fields[] = {
	{ "cron", "cron", CTL_S_STRING, NULL, NULL },
	{ "every", "every", CTL_S_SECONDS, NULL, CTL_SCHED_SECONDS },
	{ "tz", "tz", CTL_S_STRING, NULL, NULL },
	{ "start-at", "start_at", CTL_S_TIME, NULL, CTL_SCHED_TIME },
	{ "end-at", "end_at", CTL_S_TIME, NULL, CTL_SCHED_TIME },
	{ "jitter", "jitter", CTL_S_SECONDS, NULL, CTL_SCHED_SECONDS },
	{ "overlap", "overlap", CTL_S_CHOICE, ctl_sched_overlaps,
	    "skip, buffer_one, allow_all or cancel_other" },
	{ "catchup", "catchup", CTL_S_CHOICE, ctl_sched_catchups,
	    "latest or all" },
	{ "catchup-window", "catchup_window", CTL_S_SECONDS, NULL,
	    CTL_SCHED_SECONDS },
	{ "paused", "paused", CTL_S_TRUE, NULL, NULL },
};
#define CTL_SCHED_NFIELDS (sizeof ctl_sched_fields / sizeof ctl_sched_fields[0])

/* What a schedule's task may not say: each firing's own (task option). */
static const struct {
	const char	*field;
	const char	*opt;
} ctl_sched_owned[] = {
	{ "key", "--key" }, { "delay", "--delay" },
	{ "not_before", "--not-before" }, { "after", "--after" },
	{ "parent", "--parent" },
};

/* Whether s is one of the NULL-terminated names. */
static int
ctl_sched_choice(const char *const *names, const char *s)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, s) == 0)
			return 0;
	return -1;
}

/* Seconds as an integer when whole, as submit sends them. */
static json_t *
ctl_sched_seconds(double d)
{
	if (d == floor(d) && d < (double)FP_ID_LIMIT)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* One of add's own options into the schedule's params (arg). */
static int
ctl_sched_set(struct ctl *ctx, int ch, const char *val, void *arg)
{
	const struct ctl_sched_field	*f;
	json_t				*p = arg, *v = NULL;
	double				 d;

	if (ch < CTL_OPT_EXTRA || ch >= CTL_OPT_EXTRA + (int)CTL_SCHED_NFIELDS)
		return ctl_usage(ctx, "unknown option");
	f = &ctl_sched_fields[ch - CTL_OPT_EXTRA];
	switch (f->type) {
	case CTL_S_SECONDS:
		if (ctl_parse_seconds(val, &d) == 0)
			v = ctl_sched_seconds(d);
		break;
	case CTL_S_TIME:
		if (fp_time_parse(val, &d) == 0)
			v = json_string(val);
		break;
	case CTL_S_CHOICE:
		if (ctl_sched_choice(f->choices, val) == 0)
			v = json_string(val);
		break;
	case CTL_S_TRUE:
		v = json_true();
		break;
	default:
		v = json_string(val);
		break;
	}
	if (v == NULL)
		return ctl_usage(ctx, "bad value for --%s: '%s'%s%s%s", f->opt,
		    val, f->want != NULL ? " (want " : "", f->want != NULL ?
		    f->want : "", f->want != NULL ? ")" : "");
	json_object_set_new(p, f->field, v);
	return -1;
}

/* getopt_long's entries of add's own options, from ctl_sched_fields. */
static void
ctl_sched_options(struct option *lo)
{
	size_t	i;

	for (i = 0; i < CTL_SCHED_NFIELDS; i++) {
		lo[i].name = ctl_sched_fields[i].opt;
		lo[i].has_arg = ctl_sched_fields[i].type == CTL_S_TRUE ?
		    no_argument : required_argument;
		lo[i].flag = NULL;
		lo[i].val = CTL_OPT_EXTRA + (int)i;
	}
	memset(&lo[i], 0, sizeof lo[i]);
}

/* What add's options say, checked before sending; -1 when all is well. */
static int
ctl_sched_check(struct ctl *ctx, json_t *p, json_t *task)
{
	json_t	*labels = json_object_get(task, "labels");
	size_t	 i;

	if (json_is_null(json_object_get(task, "parent")))
		json_object_del(task, "parent");	/* --no-parent */
	for (i = 0; i < sizeof ctl_sched_owned / sizeof ctl_sched_owned[0];
	    i++)
		if (json_object_get(task, ctl_sched_owned[i].field) != NULL)
			return ctl_usage(ctx, "%s is not for a schedule: it "
			    "sets each firing's key, start and parent itself",
			    ctl_sched_owned[i].opt);
	if (json_object_get(labels, "schedule") != NULL ||
	    json_object_get(labels, "scheduled_at") != NULL)
		return ctl_usage(ctx, "the labels schedule and scheduled_at "
		    "are the schedule's to set");
	if ((json_object_get(p, "cron") == NULL) ==
	    (json_object_get(p, "every") == NULL))
		return ctl_usage(ctx, "give --cron EXPR or --every SECONDS");
	if (json_object_get(p, "tz") != NULL &&
	    json_object_get(p, "cron") == NULL)
		return ctl_usage(ctx, "--tz goes with --cron");
	return -1;
}

/*
 * Calls method with p (stolen) about schedule name; NoSuchSchedule and
 * ScheduleExists are said in words here, other errors as everywhere.
 * Returns 0 with r->result set, else an exit status.
 */
static int
ctl_sched_call(struct ctl *ctx, const char *method, json_t *p,
    const char *name, struct ctl_reply *r)
{
	const char	*named;
	int		 rc;

	if ((rc = ctl_call(ctx, method, p, r)) != CTL_REPLY_ERROR)
		return rc;
	named = json_string_value(json_object_get(r->data, "name"));
	if (named == NULL)
		named = name;
	if (r->code == FP_ERR_NO_SUCH_SCHEDULE)
		fprintf(stderr, "futurectl: NoSuchSchedule: no schedule %s\n",
		    named);
	else if (r->code == FP_ERR_SCHEDULE_EXISTS)
		fprintf(stderr, "futurectl: ScheduleExists: schedule %s exists "
		    "(futurectl schedule rm %s deletes it)\n", named, named);
	else
		return ctl_reply_error(ctx, r);
	return CTL_EXIT_REFUSED;
}

/* ---- formatting ---- */

/* An interval in its largest whole unit: "every 90s", "every 5m". */
static void
ctl_sched_every(double d, char *buf, size_t len)
{
	static const struct {
		double	unit;
		char	suffix;
	} u[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	size_t	i;

	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		if (d >= u[i].unit && fmod(d, u[i].unit) == 0) {
			snprintf(buf, len, "every %.15g%c", d / u[i].unit,
			    u[i].suffix);
			return;
		}
	snprintf(buf, len, "every %.15gs", d);
}

/* When it fires: the cron expression and its zone, or "every 90s". */
static char *
ctl_sched_when(json_t *s, char *buf, size_t len)
{
	const char	*cron = json_string_value(json_object_get(s, "cron"));
	const char	*tz = json_string_value(json_object_get(s, "tz"));
	json_t		*every = json_object_get(s, "every");

	if (cron != NULL)
		snprintf(buf, len, "%s %s", cron, tz != NULL ? tz : "UTC");
	else if (json_is_number(every))
		ctl_sched_every(json_number_value(every), buf, len);
	else
		snprintf(buf, len, "?");
	return buf;
}

/* A firing to come: "in 4m12s", or "now" once it is due. */
static char *
ctl_sched_until(double t, char *buf, size_t len)
{
	char	d[32];
	double	now = ctl_now();

	if (t > now)
		snprintf(buf, len, "in %s", ctl_fmt_duration(t - now, d,
		    sizeof d));
	else
		snprintf(buf, len, "now");
	return buf;
}

/* The next firing: "in 42s", "paused", or "-" (none to come). */
static char *
ctl_sched_next(json_t *s, char *buf, size_t len)
{
	double	t = ctl_task_time(s, "next_at");

	if (json_is_true(json_object_get(s, "paused")))
		snprintf(buf, len, "paused");
	else if (t <= 0)
		snprintf(buf, len, "-");
	else
		ctl_sched_until(t, buf, len);
	return buf;
}

/*
 * The latest firing's outcome: its task's state, "error" when it made no
 * task (last.error says why), "-" before the first.
 */
static const char *
ctl_sched_outcome(json_t *last)
{
	const char	*st = json_string_value(json_object_get(last, "state"));

	if (st != NULL)
		return st;
	if (json_is_string(json_object_get(last, "error")))
		return "error";
	return "-";
}

static char *
ctl_sched_count(json_t *s, const char *field, char *buf, size_t len)
{
	snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(s, field)));
	return buf;
}

/* One schedule as a table row. */
static void
ctl_sched_row(struct ctl_table *t, json_t *s)
{
	const char	*row[CTL_SCHED_COLS];
	json_t		*last = json_object_get(s, "last");
	const char	*st = ctl_sched_outcome(last);
	char		 when[FP_CRON_MAX + 80], next[48], lastat[48];
	char		 task[32], state[64];
	char		 fired[32], skipped[32], missed[32];
	double		 at = ctl_task_time(last, "scheduled_at");
	json_t		*id = json_object_get(last, "task");

	snprintf(lastat, sizeof lastat, "-");
	if (at > 0)
		ctl_fmt_ago(at, lastat, sizeof lastat);
	snprintf(task, sizeof task, "-");
	if (json_is_integer(id))
		snprintf(task, sizeof task, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(id));
	snprintf(state, sizeof state, "%s%s%s", ctl_color(stdout,
	    ctl_state_color(st)), st, ctl_color(stdout, CTL_PLAIN));
	row[0] = json_string_value(json_object_get(s, "name"));
	row[1] = ctl_sched_when(s, when, sizeof when);
	row[2] = ctl_sched_next(s, next, sizeof next);
	row[3] = lastat;
	row[4] = task;
	row[5] = state;
	row[6] = ctl_sched_count(s, "fired", fired, sizeof fired);
	row[7] = ctl_sched_count(s, "skipped", skipped, sizeof skipped);
	row[8] = ctl_sched_count(s, "missed", missed, sizeof missed);
	ctl_table_add(t, row);
}

/* Prints schedules (an array) as an aligned table with a header. */
static int
ctl_sched_print(json_t *schedules)
{
	static const char *const head[CTL_SCHED_COLS] = { "NAME", "WHEN",
	    "NEXT", "LAST", "TASK", "OUTCOME", "FIRED", "SKIPPED", "MISSED" };
	struct ctl_table	*t;
	json_t			*s;
	size_t			 i;

	if ((t = ctl_table_create(CTL_SCHED_COLS)) == NULL)
		return CTL_EXIT_CONN;
	ctl_table_add(t, head);
	json_array_foreach(schedules, i, s)
		ctl_sched_row(t, s);
	ctl_table_print(t, stdout, 0);
	ctl_table_free(t);
	return CTL_EXIT_OK;
}

/* One schedule (pause, resume) as ls shows it, or as JSON. */
static int
ctl_sched_print_one(struct ctl *ctx, json_t *s)
{
	json_t	*one;
	int	 rc;

	if (ctx->json) {
		ctl_print_json(s, 0);
		return CTL_EXIT_OK;
	}
	if ((one = json_pack("[O]", s)) == NULL)
		return CTL_EXIT_CONN;
	rc = ctl_sched_print(one);
	json_decref(one);
	return rc;
}

/* "label:  TIME (in 5m00s)" when s has the time field. */
static void
ctl_sched_time(json_t *s, const char *label, const char *field)
{
	const char	*v = json_string_value(json_object_get(s, field));
	double		 t = ctl_task_time(s, field);
	char		 ago[48];

	if (v != NULL && t > 0)
		ctl_print_kv(label, "%s (%s)", v, ctl_fmt_ago(t, ago,
		    sizeof ago));
}

/* "last:  TIME (3m ago): task 912 succeeded", or why it made no task. */
static void
ctl_sched_show_last(json_t *last)
{
	const char	*st = ctl_sched_outcome(last);
	const char	*error = json_string_value(json_object_get(last,
			    "error"));
	json_t		*id = json_object_get(last, "task");
	char		 ago[48], task[48];

	if (!json_is_object(last)) {
		ctl_print_kv("last", "never fired");
		return;
	}
	snprintf(task, sizeof task, "no task");
	if (json_is_integer(id))
		snprintf(task, sizeof task, "task %" JSON_INTEGER_FORMAT,
		    json_integer_value(id));
	ctl_print_kv("last", "%s (%s): %s %s%s%s%s%s", json_string_value(
	    json_object_get(last, "scheduled_at")), ctl_fmt_ago(
	    ctl_task_time(last, "scheduled_at"), ago, sizeof ago), task,
	    ctl_color(stdout, ctl_state_color(st)), st, ctl_color(stdout,
	    CTL_PLAIN), error != NULL ? ": " : "", error != NULL ? error : "");
}

/* show's lines about the next and latest firings and the counts. */
static void
ctl_sched_show_firings(json_t *s)
{
	char	until[48];

	if (json_is_true(json_object_get(s, "paused")))
		ctl_print_kv("next", "- (paused)");
	else if (ctl_task_time(s, "next_at") <= 0)
		ctl_print_kv("next", "- (none to come)");
	else
		ctl_print_kv("next", "%s (%s)", json_string_value(
		    json_object_get(s, "next_at")), ctl_sched_until(
		    ctl_task_time(s, "next_at"), until, sizeof until));
	ctl_sched_show_last(json_object_get(s, "last"));
	ctl_sched_time(s, "buffered", "buffered");
	ctl_print_kv("fired", "%" JSON_INTEGER_FORMAT " (skipped %"
	    JSON_INTEGER_FORMAT ", missed %" JSON_INTEGER_FORMAT ")",
	    json_integer_value(json_object_get(s, "fired")),
	    json_integer_value(json_object_get(s, "skipped")),
	    json_integer_value(json_object_get(s, "missed")));
}

/* show's lines about the task each firing submits. */
static void
ctl_sched_show_task(json_t *task)
{
	const char	*queue = json_string_value(json_object_get(task,
			    "queue"));
	char		*cmd = ctl_fmt_command(task);
	json_t		*labels = json_object_get(task, "labels"), *v;
	const char	*k;
	int		 n = 0;

	ctl_print_kv("command", "%s", cmd != NULL ? cmd : "?");
	free(cmd);
	ctl_print_kv("queue", "%s", queue != NULL ? queue : "default");
	if (json_object_size(labels) > 0) {
		ctl_print_key("labels");
		json_object_foreach(labels, k, v)
			printf("%s%s=%s", n++ > 0 ? " " : "", k,
			    json_string_value(v));
		putchar('\n');
	}
	if (json_is_number(v = json_object_get(task, "timeout")))
		ctl_print_kv("timeout", "%gs", json_number_value(v));
	if (json_is_integer(v = json_object_get(task, "retries")))
		ctl_print_kv("retries", "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
}

/* show: the schedule, one "key: value" line a field. */
static void
ctl_sched_show_print(json_t *s)
{
	char	when[FP_CRON_MAX + 80], d[32];
	double	jitter = json_number_value(json_object_get(s, "jitter"));

	ctl_print_kv("name", "%s", json_string_value(json_object_get(s,
	    "name")));
	ctl_print_kv("when", "%s", ctl_sched_when(s, when, sizeof when));
	ctl_sched_time(s, "start", "start_at");
	ctl_sched_time(s, "end", "end_at");
	ctl_print_kv("state", "%s", json_is_true(json_object_get(s,
	    "paused")) ? "paused" : "active");
	ctl_sched_show_firings(s);
	ctl_sched_show_task(json_object_get(s, "task"));
	ctl_print_kv("overlap", "%s", json_string_value(json_object_get(s,
	    "overlap")));
	ctl_print_kv("catchup", "%s, within %s", json_string_value(
	    json_object_get(s, "catchup")), ctl_fmt_duration(
	    json_number_value(json_object_get(s, "catchup_window")), d,
	    sizeof d));
	if (jitter > 0)
		ctl_print_kv("jitter", "%gs", jitter);
	ctl_sched_time(s, "created", "created_at");
	ctl_sched_time(s, "updated", "updated_at");
}

/* ---- the subcommands ---- */

/*
 * The options after ls, show, rm, pause, resume and run-now: --json,
 * --help and, for run-now (wait not NULL), --overlap P and --wait.  With
 * p, exactly one NAME operand must follow: p gets {name}.  Returns -1 to
 * go on, else an exit status.
 */
static int
ctl_sched_args(struct ctl *ctx, int argc, char **argv, json_t *p,
    int *wait)
{
	static const struct option lo[] = {
		{ "overlap", required_argument, NULL, 'o' },
		{ "wait", no_argument, NULL, 'w' },
		CTL_OPTS_COMMON
	};
	int	ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", wait != NULL ? lo : lo + 2,
	    NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if (ch == 'w')
			*wait = 1;
		else if (ch != 'o')
			return ctl_bad_option(ctx, ch, argv);
		else if (ctl_sched_choice(ctl_sched_overlaps, optarg) == -1)
			return ctl_usage(ctx, "--overlap is skip, buffer_one, "
			    "allow_all or cancel_other, not '%s'", optarg);
		else
			json_object_set_new(p, "overlap", json_string(optarg));
	}
	if (p == NULL && optind < argc)
		return ctl_usage(ctx, "unexpected argument '%s'", argv[optind]);
	if (p != NULL && argc - optind != 1)
		return ctl_usage(ctx, "give one schedule name");
	if (p != NULL && json_object_set_new(p, "name",
	    json_string(argv[optind])) == -1)
		return ctl_usage(ctx, "'%s' is not UTF-8", argv[optind]);
	return -1;
}

/* What add prints: the name and when it fires next. */
static void
ctl_sched_added(json_t *s)
{
	const char	*name = json_string_value(json_object_get(s, "name"));
	const char	*next = json_string_value(json_object_get(s,
			    "next_at"));
	char		 until[48];

	if (json_is_true(json_object_get(s, "paused")))
		printf("schedule %s: paused (resume starts it)\n", name);
	else if (next == NULL || ctl_task_time(s, "next_at") <= 0)
		printf("schedule %s: no firing to come\n", name);
	else
		printf("schedule %s: next firing %s (%s)\n", name, next,
		    ctl_sched_until(ctl_task_time(s, "next_at"), until,
		    sizeof until));
}

/* add NAME (--cron EXPR | --every S) [OPTIONS] -- CMD [ARGS...] */
static int
ctl_sched_add(struct ctl *ctx, int argc, char **argv)
{
	struct option		 lo[CTL_SCHED_NFIELDS + 1];
	struct ctl_spec_extra	 x;
	struct ctl_reply	 r;
	const char		*name = NULL;
	json_t			*p, *task = NULL;
	int			 rc;

	if ((p = json_object()) == NULL)
		return CTL_EXIT_CONN;
	ctl_sched_options(lo);
	memset(&x, 0, sizeof x);
	x.opts = lo;
	x.set = ctl_sched_set;
	x.arg = p;
	x.what = "the schedule's name";
	x.name = &name;
	optind = 0;
	if ((rc = ctl_spec_parse_extra(ctx, argc, argv, &x, &task)) == -1)
		rc = ctl_sched_check(ctx, p, task);
	if (rc == -1 && json_object_set_new(p, "name", json_string(name)) == -1)
		rc = ctl_usage(ctx, "'%s' is not UTF-8", name);
	if (rc != -1) {
		json_decref(task);
		json_decref(p);
		return rc;
	}
	json_object_set_new(p, "task", task);
	rc = ctl_sched_call(ctx, FP_SCHEDULE_CREATE, p, name, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		ctl_sched_added(r.result);
	ctl_reply_clear(&r);
	return rc;
}

static int
ctl_sched_ls(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	r;
	int			rc;

	if ((rc = ctl_sched_args(ctx, argc, argv, NULL, NULL)) != -1)
		return rc;
	rc = ctl_call_ok(ctx, FP_SCHEDULE_LIST, NULL, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		rc = ctl_sched_print(json_object_get(r.result, "schedules"));
	ctl_reply_clear(&r);
	return rc;
}

/*
 * show, rm, pause and resume: method with {name}; the answer printed by
 * human unless --json.
 */
static int
ctl_sched_named(struct ctl *ctx, int argc, char **argv, const char *method,
    int (*human)(struct ctl *, json_t *))
{
	struct ctl_reply	 r;
	json_t			*p;
	int			 rc;

	if ((p = json_object()) == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_sched_args(ctx, argc, argv, p, NULL)) != -1) {
		json_decref(p);
		return rc;
	}
	rc = ctl_sched_call(ctx, method, p, argv[optind], &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		rc = human(ctx, r.result);
	ctl_reply_clear(&r);
	return rc;
}

static int
ctl_sched_show_human(struct ctl *ctx, json_t *s)
{
	(void)ctx;
	ctl_sched_show_print(s);
	return CTL_EXIT_OK;
}

static int
ctl_sched_rm_human(struct ctl *ctx, json_t *res)
{
	(void)ctx;
	printf("deleted schedule %s\n", json_string_value(json_object_get(res,
	    "name")));
	return CTL_EXIT_OK;
}

static int
ctl_sched_show(struct ctl *ctx, int argc, char **argv)
{
	return ctl_sched_named(ctx, argc, argv, FP_SCHEDULE_GET,
	    ctl_sched_show_human);
}

static int
ctl_sched_rm(struct ctl *ctx, int argc, char **argv)
{
	return ctl_sched_named(ctx, argc, argv, FP_SCHEDULE_DELETE,
	    ctl_sched_rm_human);
}

static int
ctl_sched_pause(struct ctl *ctx, int argc, char **argv)
{
	return ctl_sched_named(ctx, argc, argv, FP_SCHEDULE_PAUSE,
	    ctl_sched_print_one);
}

static int
ctl_sched_resume(struct ctl *ctx, int argc, char **argv)
{
	return ctl_sched_named(ctx, argc, argv, FP_SCHEDULE_RESUME,
	    ctl_sched_print_one);
}

/* run-now --wait: the fired task's result, as `result --wait` prints it. */
static int
ctl_sched_wait(struct ctl *ctx, json_int_t id)
{
	struct ctl_reply	r;
	int			rc;

	rc = ctl_future_poll(ctx, FP_TASK_RESULT, id, -1, &r);
	if (rc == 0)
		rc = ctl_future_print_result(ctx, r.result);
	else if (rc == CTL_REPLY_ERROR && r.code == FP_ERR_TASK_FAILED)
		rc = ctl_future_failed(ctx, &r);
	else if (rc == CTL_REPLY_ERROR)
		rc = ctl_reply_error(ctx, &r);
	ctl_reply_clear(&r);
	return rc;
}

/*
 * run-now NAME: the new task's id, or the outcome that made none
 * ("skipped", "buffered"); with --wait, the task's result instead.
 */
static int
ctl_sched_run_now(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	 r;
	json_t			*p, *task;
	const char		*outcome;
	int			 rc, wait = 0;

	if ((p = json_object()) == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_sched_args(ctx, argc, argv, p, &wait)) != -1) {
		json_decref(p);
		return rc;
	}
	if ((rc = ctl_sched_call(ctx, FP_SCHEDULE_TRIGGER, p, argv[optind],
	    &r)) != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	task = json_object_get(r.result, "task");
	outcome = json_string_value(json_object_get(r.result, "outcome"));
	if (wait && json_is_integer(task))
		rc = ctl_sched_wait(ctx, json_integer_value(task));
	else if (ctx->json)
		ctl_print_json(r.result, 0);
	else if (json_is_integer(task))
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(task));
	else
		printf("%s\n", outcome != NULL ? outcome : "?");
	ctl_reply_clear(&r);
	return rc;
}

static const struct {
	const char	*name;
	int		(*exec)(struct ctl *, int, char **);
} ctl_sched_cmds[] = {
	{ "add", ctl_sched_add },
	{ "ls", ctl_sched_ls },
	{ "list", ctl_sched_ls },
	{ "show", ctl_sched_show },
	{ "rm", ctl_sched_rm },
	{ "pause", ctl_sched_pause },
	{ "resume", ctl_sched_resume },
	{ "run-now", ctl_sched_run_now },
};

int
ctl_schedule(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = { CTL_OPTS_COMMON };
	size_t	i;
	int	ch;

	/* Options before the subcommand: --json, --help. */
	while ((ch = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		if (ch != 'j')
			return ctl_bad_option(ctx, ch, argv);
		ctx->json = 1;
	}
	if (optind >= argc)
		return ctl_usage(ctx, "give a subcommand: add, ls, show, rm, "
		    "pause, resume or run-now");
	for (i = 0; i < sizeof ctl_sched_cmds / sizeof ctl_sched_cmds[0]; i++)
		if (strcmp(argv[optind], ctl_sched_cmds[i].name) == 0)
			return ctl_sched_cmds[i].exec(ctx, argc - optind,
			    argv + optind);
	return ctl_usage(ctx, "unknown schedule subcommand '%s'",
	    argv[optind]);
}
