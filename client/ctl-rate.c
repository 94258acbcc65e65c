/*
 * ctl-rate.c: rate set, ls and rm: the named rate limits (token buckets)
 * whose tokens tasks submitted with --rate-limit take at each start
 * (rate.set, rate.list, rate.delete).  The ranges of --starts, --per and
 * --burst are futured's to judge: its -32602 names the field.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_RATE_COLS	4

/* One rate limit as a table row: PER in seconds ("1s", "0.5s"). */
static void
ctl_rate_row(struct ctl_table *t, json_t *r)
{
	const char	*row[CTL_RATE_COLS];
	char		 starts[32], per[32], burst[32];

	snprintf(starts, sizeof starts, "%g", json_number_value(
	    json_object_get(r, "starts")));
	snprintf(per, sizeof per, "%gs", json_number_value(
	    json_object_get(r, "per")));
	snprintf(burst, sizeof burst, "%g", json_number_value(
	    json_object_get(r, "burst")));
	row[0] = json_string_value(json_object_get(r, "name"));
	row[1] = starts;
	row[2] = per;
	row[3] = burst;
	ctl_table_add(t, row);
}

/* Prints rate limits (an array) as an aligned table with a header. */
static int
ctl_rate_print(json_t *rates)
{
	static const char *const head[CTL_RATE_COLS] = { "NAME", "STARTS",
	    "PER", "BURST" };
	struct ctl_table	*t;
	json_t			*r;
	size_t			 i;

	if ((t = ctl_table_create(CTL_RATE_COLS)) == NULL)
		return CTL_EXIT_CONN;
	ctl_table_add(t, head);
	json_array_foreach(rates, i, r)
		ctl_rate_row(t, r);
	ctl_table_print(t, stdout, 0);
	ctl_table_free(t);
	return CTL_EXIT_OK;
}

/* A number as JSON: an integer when whole, as submit sends seconds. */
static json_t *
ctl_rate_json(double d)
{
	if (d == floor(d) && fabs(d) < (double)FP_ID_LIMIT)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* --starts N or --burst B: any finite number, futured judges its range. */
static int
ctl_rate_number(struct ctl *ctx, const char *opt, const char *s,
    json_t *p, const char *field)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(d))
		return ctl_usage(ctx, "%s wants a number, not '%s'", opt, s);
	json_object_set_new(p, field, ctl_rate_json(d));
	return -1;
}

/* --per S: seconds as submit takes them (1, 0.5, 90s, 1.5m, 2h). */
static int
ctl_rate_per(struct ctl *ctx, const char *s, json_t *p)
{
	double	d;

	if (ctl_parse_seconds(s, &d) == -1)
		return ctl_usage(ctx, "--per wants seconds (1, 0.5, 90s, 1m, "
		    "1h), not '%s'", s);
	json_object_set_new(p, "per", ctl_rate_json(d));
	return -1;
}

/*
 * The options after the subcommand: --json, --help and, when p is not
 * NULL (set), --starts, --per and --burst into p.  With want_name exactly
 * one NAME operand must follow, at argv[optind].  Returns -1 to go on,
 * else an exit status.
 */
static int
ctl_rate_args(struct ctl *ctx, int argc, char **argv, int want_name,
    json_t *p)
{
	static const struct option lo[] = {
		{ "starts", required_argument, NULL, 's' },
		{ "per", required_argument, NULL, 'p' },
		{ "burst", required_argument, NULL, 'b' },
		CTL_OPTS_COMMON
	};
	int	ch, rc = -1;

	optind = 0;
	while (rc == -1 && (ch = getopt_long(argc, argv, ":h",
	    p != NULL ? lo : lo + 3, NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if (ch == 's')
			rc = ctl_rate_number(ctx, "--starts", optarg, p,
			    "starts");
		else if (ch == 'p')
			rc = ctl_rate_per(ctx, optarg, p);
		else if (ch == 'b')
			rc = ctl_rate_number(ctx, "--burst", optarg, p,
			    "burst");
		else
			rc = ctl_bad_option(ctx, ch, argv);
	}
	if (rc != -1)
		return rc;
	if (!want_name && optind < argc)
		return ctl_usage(ctx, "unexpected argument '%s'", argv[optind]);
	if (want_name && argc - optind != 1)
		return ctl_usage(ctx, "give one rate limit name");
	return -1;
}

/* "N tasks waiting for a limit", after ls's table. */
static void
ctl_rate_waiting(json_t *res)
{
	json_int_t	n = json_integer_value(json_object_get(res, "waiting"));

	printf("%" JSON_INTEGER_FORMAT " task%s waiting for a limit\n", n,
	    n == 1 ? "" : "s");
}

static int
ctl_rate_ls(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	r;
	int			rc;

	if ((rc = ctl_rate_args(ctx, argc, argv, 0, NULL)) != -1)
		return rc;
	rc = ctl_call_ok(ctx, FP_RATE_LIST, NULL, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0 && (rc = ctl_rate_print(json_object_get(r.result,
	    "rate_limits"))) == 0)
		ctl_rate_waiting(r.result);
	ctl_reply_clear(&r);
	return rc;
}

/* set NAME --starts N [--per S] [--burst B]: prints it as ls does. */
static int
ctl_rate_set(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	 r;
	json_t			*p, *one;
	int			 rc;

	if ((p = json_object()) == NULL)
		return CTL_EXIT_CONN;
	if ((rc = ctl_rate_args(ctx, argc, argv, 1, p)) == -1 &&
	    json_object_get(p, "starts") == NULL)
		rc = ctl_usage(ctx, "give --starts N");
	if (rc == -1 && json_object_set_new(p, "name",
	    json_string(argv[optind])) == -1)
		rc = ctl_usage(ctx, "'%s' is not UTF-8", argv[optind]);
	if (rc != -1) {
		json_decref(p);
		return rc;
	}
	rc = ctl_call_ok(ctx, FP_RATE_SET, p, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0 && (one = json_pack("[O]", r.result)) != NULL) {
		rc = ctl_rate_print(one);
		json_decref(one);
	}
	ctl_reply_clear(&r);
	return rc;
}

/* rm NAME: the tasks waiting for its tokens start. */
static int
ctl_rate_rm(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	 r;
	json_t			*p;
	int			 rc;

	if ((rc = ctl_rate_args(ctx, argc, argv, 1, NULL)) != -1)
		return rc;
	if ((p = json_pack("{s:s}", "name", argv[optind])) == NULL)
		return ctl_usage(ctx, "'%s' is not UTF-8", argv[optind]);
	rc = ctl_call_ok(ctx, FP_RATE_DELETE, p, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		printf("deleted rate limit %s\n", argv[optind]);
	ctl_reply_clear(&r);
	return rc;
}

static const struct {
	const char	*name;
	int		(*exec)(struct ctl *, int, char **);
} ctl_rate_cmds[] = {
	{ "set", ctl_rate_set },
	{ "ls", ctl_rate_ls },
	{ "list", ctl_rate_ls },
	{ "rm", ctl_rate_rm },
};

int
ctl_rate(struct ctl *ctx, int argc, char **argv)
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
		return ctl_usage(ctx, "give a subcommand: set, ls or rm");
	for (i = 0; i < sizeof ctl_rate_cmds / sizeof ctl_rate_cmds[0]; i++)
		if (strcmp(argv[optind], ctl_rate_cmds[i].name) == 0)
			return ctl_rate_cmds[i].exec(ctx, argc - optind,
			    argv + optind);
	return ctl_usage(ctx, "unknown rate subcommand '%s'", argv[optind]);
}
