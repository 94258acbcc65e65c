/*
 * ctl-queue.c: queue ls, set, pause, resume and delete: the queues'
 * concurrency limits and whether they start new tasks (queue.list,
 * queue.set, queue.delete).  set, pause and resume change a queue that
 * exists (one with tasks or settings) unless --create says to make it, so
 * a typo does not quietly make a paused queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_QUEUE_COLS	5

/* One queue as a table row; concurrency 0 (only --jobs limits) is "-". */
static void
ctl_queue_row(struct ctl_table *t, json_t *q)
{
	const char	*row[CTL_QUEUE_COLS];
	char		 conc[32], run[32], wait[32];
	json_int_t	 c = json_integer_value(json_object_get(q,
			    "concurrency"));

	if (c > 0)
		snprintf(conc, sizeof conc, "%" JSON_INTEGER_FORMAT, c);
	else
		snprintf(conc, sizeof conc, "-");
	snprintf(run, sizeof run, "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(q, "running")));
	snprintf(wait, sizeof wait, "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(q, "waiting")));
	row[0] = json_string_value(json_object_get(q, "name"));
	row[1] = conc;
	row[2] = json_is_true(json_object_get(q, "paused")) ? "yes" : "no";
	row[3] = run;
	row[4] = wait;
	ctl_table_add(t, row);
}

/* Prints queues (an array) as an aligned table with a header. */
static int
ctl_queue_print(json_t *queues)
{
	static const char *const head[CTL_QUEUE_COLS] = { "NAME",
	    "CONCURRENCY", "PAUSED", "RUNNING", "WAITING" };
	struct ctl_table	*t;
	json_t			*q;
	size_t			 i;

	if ((t = ctl_table_create(CTL_QUEUE_COLS)) == NULL)
		return CTL_EXIT_CONN;
	ctl_table_add(t, head);
	json_array_foreach(queues, i, q)
		ctl_queue_row(t, q);
	ctl_table_print(t, stdout, 0);
	ctl_table_free(t);
	return CTL_EXIT_OK;
}

/*
 * The options after the subcommand: --json, --help and, when p is not
 * NULL (set, pause, resume), --create (create: true, else false) and with
 * concurrency --concurrency N, into p.  With want_name exactly one NAME
 * operand must follow, at argv[optind].  Returns -1 to go on, else an exit
 * status.
 */
static int
ctl_queue_args(struct ctl *ctx, int argc, char **argv, int want_name,
    json_t *p, int concurrency)
{
	static const struct option lo[] = {
		{ "concurrency", required_argument, NULL, 'c' },
		{ "create", no_argument, NULL, 'C' },
		CTL_OPTS_COMMON
	};
	long long	n;
	int		ch;

	optind = 0;
	if (p != NULL)
		json_object_set_new(p, "create", json_false());
	while ((ch = getopt_long(argc, argv, ":h", p == NULL ? lo + 2 :
	    concurrency ? lo : lo + 1, NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if (ch == 'C')
			json_object_set_new(p, "create", json_true());
		else if (ch != 'c')
			return ctl_bad_option(ctx, ch, argv);
		else if (ctl_parse_int(optarg, 0, 1000000, &n) == -1)
			return ctl_usage(ctx, "--concurrency wants 0 (no limit) "
			    "to 1000000, not '%s'", optarg);
		else
			json_object_set_new(p, "concurrency", json_integer(n));
	}
	if (!want_name && optind < argc)
		return ctl_usage(ctx, "unexpected argument '%s'", argv[optind]);
	if (want_name && argc - optind != 1)
		return ctl_usage(ctx, "give one queue name");
	return -1;
}

static int
ctl_queue_ls(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	r;
	int			rc;

	if ((rc = ctl_queue_args(ctx, argc, argv, 0, NULL, 0)) != -1)
		return rc;
	rc = ctl_call_ok(ctx, FP_QUEUE_LIST, NULL, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		rc = ctl_queue_print(json_object_get(r.result, "queues"));
	ctl_reply_clear(&r);
	return rc;
}

/* queue.set with p (stolen) after checking it as the daemon would. */
static int
ctl_queue_set_call(struct ctl *ctx, json_t *p)
{
	struct fp_queue_set	 qs;
	struct fp_invalid	 inv;
	struct ctl_reply	 r;
	json_t			*one;
	int			 rc;

	if (fp_queue_set_parse(p, &qs, &inv) == -1) {
		json_decref(p);
		return ctl_usage(ctx, "%s: %s", strcmp(inv.field, "name") == 0 ?
		    "queue name" : inv.field, inv.reason);
	}
	rc = ctl_call_ok(ctx, FP_QUEUE_SET, p, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0 && (one = json_pack("[O]", r.result)) != NULL) {
		rc = ctl_queue_print(one);
		json_decref(one);
	}
	ctl_reply_clear(&r);
	return rc;
}

/* set, pause and resume: paused is -1 (leave), 0 or 1. */
static int
ctl_queue_change(struct ctl *ctx, int argc, char **argv, int paused)
{
	json_t	*p;
	int	 rc;

	if ((p = json_object()) == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_queue_args(ctx, argc, argv, 1, p, paused < 0)) != -1) {
		json_decref(p);
		return rc;
	}
	json_object_set_new(p, "name", json_string(argv[optind]));
	if (paused >= 0)
		json_object_set_new(p, "paused", json_boolean(paused));
	else if (json_object_get(p, "concurrency") == NULL) {
		json_decref(p);
		return ctl_usage(ctx, "nothing to set (give --concurrency N)");
	}
	return ctl_queue_set_call(ctx, p);
}

static int
ctl_queue_set(struct ctl *ctx, int argc, char **argv)
{
	return ctl_queue_change(ctx, argc, argv, -1);
}

static int
ctl_queue_pause(struct ctl *ctx, int argc, char **argv)
{
	return ctl_queue_change(ctx, argc, argv, 1);
}

static int
ctl_queue_resume(struct ctl *ctx, int argc, char **argv)
{
	return ctl_queue_change(ctx, argc, argv, 0);
}

/* delete NAME: a queue without unfinished tasks. */
static int
ctl_queue_delete(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	 r;
	json_t			*p;
	int			 rc;

	if ((rc = ctl_queue_args(ctx, argc, argv, 1, NULL, 0)) != -1)
		return rc;
	if ((p = json_pack("{s:s}", "name", argv[optind])) == NULL)
		return CTL_EXIT_CONN;
	rc = ctl_call_ok(ctx, FP_QUEUE_DELETE, p, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		printf("deleted queue %s\n", argv[optind]);
	ctl_reply_clear(&r);
	return rc;
}

static const struct {
	const char	*name;
	int		(*exec)(struct ctl *, int, char **);
} ctl_queue_cmds[] = {
	{ "ls", ctl_queue_ls },
	{ "list", ctl_queue_ls },
	{ "set", ctl_queue_set },
	{ "pause", ctl_queue_pause },
	{ "resume", ctl_queue_resume },
	{ "delete", ctl_queue_delete },
};

int
ctl_queue(struct ctl *ctx, int argc, char **argv)
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
		return ctl_usage(ctx, "give a subcommand: ls, set, pause, "
		    "resume or delete");
	for (i = 0; i < sizeof ctl_queue_cmds / sizeof ctl_queue_cmds[0]; i++)
		if (strcmp(argv[optind], ctl_queue_cmds[i].name) == 0)
			return ctl_queue_cmds[i].exec(ctx, argc - optind,
			    argv + optind);
	return ctl_usage(ctx, "unknown queue subcommand '%s'", argv[optind]);
}
