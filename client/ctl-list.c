/*
 * ctl-list.c: list (a table of tasks, page by page) and info.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_LIST_COLS	7

/* list's options into params p; -1 to go on, else an exit status. */
static int
ctl_list_args(struct ctl *ctx, int argc, char **argv, json_t *p, int *all)
{
	static const struct option lo[] = {
		{ "state", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ "label", required_argument, NULL, 'l' },
		{ "unretrieved", no_argument, NULL, 'u' },
		{ "limit", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		CTL_OPTS_COMMON
	};
	enum fp_state	state;
	long long	n;
	int		ch;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 's' && fp_state_parse(optarg, &state) == -1)
			return ctl_usage(ctx, "bad --state '%s'", optarg);
		else if (ch == 'n' && ctl_parse_int(optarg, 1, FP_LIST_MAX,
		    &n) == -1)
			return ctl_usage(ctx, "--limit wants 1 to %d",
			    FP_LIST_MAX);
		else if (ch == 'l' && ctl_parse_pair(optarg, '=',
		    json_object_get(p, "label")) == -1)
			return ctl_usage(ctx, "bad --label '%s' (want K=V)",
			    optarg);
		else if (ch == 's' || ch == 'q')
			json_object_set_new(p, ch == 's' ? "state" : "queue",
			    json_string(optarg));
		else if (ch == 'n')
			json_object_set_new(p, "limit", json_integer(n));
		else if (ch == 'u')
			json_object_set_new(p, "unretrieved", json_true());
		else if (ch == 'a')
			*all = 1;
		else if (ch == 'j')
			ctx->json = 1;
		else if (ch != 'l')
			return ctl_bad_option(ctx, ch, argv);
	}
	if (optind < argc)
		return ctl_usage(ctx, "unexpected argument '%s'", argv[optind]);
	if (json_object_size(json_object_get(p, "label")) == 0)
		json_object_del(p, "label");
	return -1;
}

/*
 * Calls task.list page after page into tasks (one page unless all);
 * *next is the cursor after the last page read (borrowed from *last).
 */
static int
ctl_list_fetch(struct ctl *ctx, json_t *p, int all, json_t *tasks,
    json_t **last)
{
	struct ctl_reply	 r;
	json_t			*next;
	int			 rc;

	do {
		rc = ctl_call_ok(ctx, FP_TASK_LIST, json_copy(p), &r);
		if (rc == 0) {
			json_array_extend(tasks, json_object_get(r.result,
			    "tasks"));
			json_decref(*last);
			*last = json_incref(r.result);
		}
		ctl_reply_clear(&r);
		if (rc != 0)
			return rc;
		next = json_object_get(*last, "next");
		json_object_set(p, "cursor", next);
	} while (all && next != NULL && !json_is_null(next));
	return 0;
}

int
ctl_list_unfinished(struct ctl *ctx, json_t *filter, json_t *ids)
{
	static const char *const states[] = { "pending", "running" };
	json_t		*p, *tasks, *last = NULL, *t;
	size_t		 i, j;
	int		 rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		p = json_deep_copy(filter);
		tasks = json_array();
		json_object_set_new(p, "state", json_string(states[i]));
		json_object_set_new(p, "limit", json_integer(FP_LIST_MAX));
		rc = ctl_list_fetch(ctx, p, 1, tasks, &last);
		json_array_foreach(tasks, j, t)
			json_array_append(ids, json_object_get(t, "id"));
		json_decref(p);
		json_decref(tasks);
	}
	json_decref(last);
	return rc;
}

static void
ctl_list_row(struct ctl_table *t, json_t *task, double now)
{
	const char	*row[CTL_LIST_COLS];
	const char	*state = json_string_value(json_object_get(task,
			    "state"));
	char		 id[32], age[32], dur[32], st[64], *cmd;

	snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(task, "id")));
	snprintf(st, sizeof st, "%s%s%s", ctl_color(stdout,
	    ctl_state_color(state)), state != NULL ? state : "?",
	    ctl_color(stdout, CTL_PLAIN));
	row[0] = id;
	row[1] = st;
	row[2] = json_string_value(json_object_get(task, "kind"));
	row[3] = json_string_value(json_object_get(task, "queue"));
	row[4] = ctl_fmt_duration(now - ctl_task_time(task, "created_at"),
	    age, sizeof age);
	row[5] = ctl_fmt_task_duration(task, dur, sizeof dur);
	row[6] = cmd = ctl_fmt_command(json_object_get(task, "spec"));
	ctl_table_add(t, row);
	free(cmd);
}

static int
ctl_list_print(json_t *tasks)
{
	static const char *const head[CTL_LIST_COLS] = { "ID", "STATE",
	    "KIND", "QUEUE", "AGE", "DURATION", "COMMAND" };
	struct ctl_table	*t;
	json_t			*task;
	double			 now = ctl_now();
	size_t			 i;

	if ((t = ctl_table_create(CTL_LIST_COLS)) == NULL)
		return CTL_EXIT_CONN;
	ctl_table_add(t, head);
	json_array_foreach(tasks, i, task)
		ctl_list_row(t, task, now);
	ctl_table_print(t, stdout, ctl_term_width());
	ctl_table_free(t);
	return CTL_EXIT_OK;
}

/* Prints what list fetched; all pages are one answer with next null. */
static int
ctl_list_output(struct ctl *ctx, json_t *tasks, json_t *last, int all)
{
	json_t	*merged;

	if (!ctx->json)
		return ctl_list_print(tasks);
	if (!all) {
		ctl_print_json(last, 0);
		return CTL_EXIT_OK;
	}
	if ((merged = json_pack("{s:O,s:n}", "tasks", tasks, "next")) == NULL)
		return CTL_EXIT_CONN;
	ctl_print_json(merged, 0);
	json_decref(merged);
	return CTL_EXIT_OK;
}

int
ctl_list(struct ctl *ctx, int argc, char **argv)
{
	json_t	*p, *tasks, *last = NULL, *next;
	int	 rc, all = 0;

	p = json_pack("{s:{}}", "label");
	tasks = json_array();
	if (p == NULL || tasks == NULL)
		rc = CTL_EXIT_CONN;
	else if ((rc = ctl_list_args(ctx, argc, argv, p, &all)) == -1 &&
	    (rc = ctl_list_fetch(ctx, p, all, tasks, &last)) == 0) {
		rc = ctl_list_output(ctx, tasks, last, all);
		next = json_object_get(last, "next");
		if (!ctx->json && !all && next != NULL && !json_is_null(next))
			fprintf(stderr, "futurectl: more tasks; --all lists "
			    "them all\n");
	}
	json_decref(p);
	json_decref(tasks);
	json_decref(last);
	return rc;
}

/* ---- info ---- */

/* A scalar, or an array of them joined by spaces. */
static void
ctl_info_scalar(const char *key, json_t *v)
{
	char	 d[32], *s;
	json_t	*x;
	size_t	 i;

	if (json_is_string(v))
		fputs(json_string_value(v), stdout);
	else if (json_is_number(v) && strcmp(key, "uptime") == 0)
		fputs(ctl_fmt_duration(json_number_value(v), d, sizeof d),
		    stdout);
	else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (i > 0)
				putchar(' ');
			ctl_info_scalar("", x);
		}
	} else {
		s = fp_json_text(v);
		fputs(s != NULL ? s : "?", stdout);
		free(s);
	}
}

/* "key: value" lines aligned per object; objects nest, indented. */
static void
ctl_info_object(json_t *obj, int indent)
{
	const char	*k;
	json_t		*v;
	int		 width = 0;

	json_object_foreach(obj, k, v)
		if ((int)strlen(k) > width)
			width = (int)strlen(k);
	json_object_foreach(obj, k, v) {
		if (json_is_object(v)) {
			printf("%*s%s:\n", indent, "", k);
			ctl_info_object(v, indent + 2);
			continue;
		}
		printf("%*s%s:%*s", indent, "", k, width - (int)strlen(k) + 1,
		    "");
		ctl_info_scalar(k, v);
		putchar('\n');
	}
}

int
ctl_info(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = { CTL_OPTS_COMMON };
	struct ctl_reply	 r;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch != 'j')
			return ctl_bad_option(ctx, ch, argv);
		ctx->json = 1;
	}
	if (optind < argc)
		return ctl_usage(ctx, "unexpected argument '%s'", argv[optind]);
	rc = ctl_call_ok(ctx, FP_DAEMON_INFO, NULL, &r);
	if (rc == 0 && ctx->json)
		ctl_print_json(r.result, 0);
	else if (rc == 0)
		ctl_info_object(r.result, 0);
	ctl_reply_clear(&r);
	return rc;
}

/*
 * ui: a one-time login link to the dashboard.  It is printed, not opened:
 * futurectl often runs over ssh, far from the browser.
 */
int
ctl_ui(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = { CTL_OPTS_COMMON };
	struct ctl_reply	 r;
	json_t			*urls;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch != 'j')
			return ctl_bad_option(ctx, ch, argv);
		ctx->json = 1;
	}
	if (optind < argc)
		return ctl_usage(ctx, "unexpected argument '%s'", argv[optind]);
	rc = ctl_call_ok(ctx, FP_UI_LOGIN, NULL, &r);
	if (rc != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	urls = json_object_get(r.result, "urls");
	if (ctx->json)
		ctl_print_json(r.result, 0);
	else if (json_array_size(urls) > 0)
		printf("%s\n", json_string_value(json_array_get(urls, 0)));
	else {
		fprintf(stderr, "futurectl: futured serves no TCP: start it with "
		    "--listen 127.0.0.1:PORT to reach the dashboard; then open "
		    "http://127.0.0.1:PORT%s\n", json_string_value(
		    json_object_get(r.result, "path")));
		rc = CTL_EXIT_REFUSED;
	}
	ctl_reply_clear(&r);
	return rc;
}
