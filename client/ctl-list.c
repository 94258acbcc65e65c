/*
 * ctl-list.c: list (a table of tasks, page by page), tree (a task and its
 * descendants), info and ui.
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

/* ---- tree ---- */

/*
 * tree: a task and its descendants (task.list by parent, page by page),
 * or every unfinished task without a parent with theirs, as an indented
 * tree like `python -m asyncio pstree`.  The tree is read whole first, a
 * task.list a task (leaves too: only the store knows they have none),
 * then printed; --max bounds the tasks read, and a depth past
 * CTL_TREE_DEPTH is cut, so a huge or deep tree stops with "…" where
 * tasks were left out.  Children come in id order: the order they were
 * submitted in.
 */
#define CTL_TREE_MAX	10000	/* tasks read, unless --max says */
#define CTL_TREE_DEPTH	100	/* levels below the first */
/* bytes of the prefix of one level: "│   " is 6 */
#define CTL_TREE_INDENT	6

struct ctl_tree {
	struct ctl	*ctx;
	long long	 max;		/* tasks to read at most */
	long long	 count;		/* tasks read */
	int		 cut;		/* some were left out: --max */
	int		 deep;		/* some were left out: too deep */
};

static int
ctl_tree_id_cmp(const void *a, const void *b)
{
	json_int_t	x = json_integer_value(json_object_get(
			    *(json_t *const *)a, "id"));
	json_int_t	y = json_integer_value(json_object_get(
			    *(json_t *const *)b, "id"));

	return x < y ? -1 : x > y;
}

/* Sorts an array of task objects by id. */
static int
ctl_tree_sort(json_t *tasks)
{
	size_t	  i, n = json_array_size(tasks);
	json_t	**v = calloc(n + 1, sizeof *v);

	if (v == NULL)
		return -1;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(tasks, i));
	qsort(v, n, sizeof *v, ctl_tree_id_cmp);
	json_array_clear(tasks);
	for (i = 0; i < n; i++)
		json_array_append_new(tasks, v[i]);
	free(v);
	return 0;
}

/*
 * Appends to tasks what task.list with p (stolen) lists, page after page,
 * while the tree has room; *more: some were left out.
 */
static int
ctl_tree_list(struct ctl_tree *tr, json_t *p, json_t *tasks, int *more)
{
	json_t	*page = json_array(), *last = NULL, *next;
	int	 rc = p != NULL && page != NULL ? 0 : CTL_EXIT_CONN;

	while (rc == 0) {
		json_object_set_new(p, "limit", json_integer(FP_LIST_MAX));
		json_array_clear(page);
		if ((rc = ctl_list_fetch(tr->ctx, p, 0, page, &last)) != 0)
			break;
		while ((long long)json_array_size(page) > tr->max - tr->count) {
			json_array_remove(page, json_array_size(page) - 1);
			*more = tr->cut = 1;
		}
		tr->count += json_array_size(page);
		json_array_extend(tasks, page);
		next = json_object_get(last, "next");
		if (*more || next == NULL || json_is_null(next))
			break;
	}
	json_decref(page);
	json_decref(last);
	json_decref(p);
	return rc;
}

/* A task at the deepest level read: whether it has children left out. */
static int
ctl_tree_beyond(struct ctl_tree *tr, json_t *t)
{
	json_t	*p, *page = json_array(), *last = NULL;
	int	 rc;

	p = json_pack("{s:O,s:i}", "parent", json_object_get(t, "id"),
	    "limit", 1);
	if (p == NULL || page == NULL)
		rc = CTL_EXIT_CONN;
	else if ((rc = ctl_list_fetch(tr->ctx, p, 0, page, &last)) == 0 &&
	    json_array_size(page) > 0) {
		json_object_set_new(t, "truncated", json_true());
		tr->deep = 1;
	}
	json_decref(p);
	json_decref(page);
	json_decref(last);
	return rc;
}

/* Reads t's children, and theirs, into t's "children"; depth: t's level. */
static int
ctl_tree_read(struct ctl_tree *tr, json_t *t, int depth)
{
	json_t	*kids = json_array(), *k;
	size_t	 i;
	int	 rc, more = 0;

	if (kids == NULL || json_object_set_new(t, "children", kids) == -1)
		return CTL_EXIT_CONN;
	if (depth >= CTL_TREE_DEPTH)
		return ctl_tree_beyond(tr, t);
	rc = ctl_tree_list(tr, json_pack("{s:O}", "parent", json_object_get(t,
	    "id")), kids, &more);
	if (rc == 0 && ctl_tree_sort(kids) == -1)
		rc = CTL_EXIT_CONN;
	if (more)
		json_object_set_new(t, "truncated", json_true());
	json_array_foreach(kids, i, k)
		if (rc == 0)
			rc = ctl_tree_read(tr, k, depth + 1);
	return rc;
}

/*
 * The unfinished tasks without a parent into roots, by id; *more: some
 * were left out.
 */
static int
ctl_tree_roots(struct ctl_tree *tr, json_t *roots, int *more)
{
	static const char *const states[] = { "pending", "running" };
	size_t	i;
	int	rc = 0;

	for (i = 0; i < 2 && rc == 0; i++)
		rc = ctl_tree_list(tr, json_pack("{s:i,s:s}", "parent", 0,
		    "state", states[i]), roots, more);
	if (rc == 0 && ctl_tree_sort(roots) == -1)
		rc = CTL_EXIT_CONN;
	return rc;
}

/*
 * A task's own part ended and it waits for its children: running, with a
 * finished attempt of the current number.
 */
static int
ctl_tree_waiting(json_t *t)
{
	const char	*state = json_string_value(json_object_get(t, "state"));
	json_t		*attempts = json_object_get(t, "attempts"), *a;

	a = json_array_get(attempts, json_array_size(attempts) - 1);
	return a != NULL && state != NULL && strcmp(state, "running") == 0 &&
	    json_integer_value(json_object_get(a, "attempt")) ==
	    json_integer_value(json_object_get(t, "attempt"));
}

/*
 * What a task is and how it stands, after its command: notes in brackets.
 * A group that waits for its members is closed (task.get says no more).
 */
static void
ctl_tree_notes(FILE *f, json_t *t)
{
	const char	*policy = json_string_value(json_object_get(t,
			    "child_policy"));
	const char	*kind = json_string_value(json_object_get(t, "kind"));
	const char	*state = json_string_value(json_object_get(t, "state"));
	json_t		*exc = json_object_get(t, "exception");
	int		 group, running;

	group = kind != NULL && strcmp(kind, FP_KIND_GROUP) == 0;
	running = state != NULL && strcmp(state, "running") == 0;
	if (json_is_true(json_object_get(json_object_get(t, "spec"),
	    "return_exceptions")))
		fputs(" [return_exceptions]", f);
	if (policy != NULL)
		fprintf(f, " [child_policy %s]", policy);
	if (group && ctl_tree_waiting(t))
		fputs(" [closed]", f);
	else if (group && running)
		fputs(" [open]", f);
	else if (ctl_tree_waiting(t))
		fputs(" [waits for its children]", f);
	if (json_is_object(exc))
		fprintf(f, " [%s: %s]", json_string_value(json_object_get(exc,
		    "type")) ? json_string_value(json_object_get(exc, "type")) :
		    "?", json_string_value(json_object_get(exc, "message")) ?
		    json_string_value(json_object_get(exc, "message")) : "");
}

/*
 * "KIND COMMAND [notes]" on one line ("sleep 5", "future", "exec make
 * all"): the kind once, what it runs as list shows it.  New string.
 */
static char *
ctl_tree_what(json_t *t)
{
	const char	*kind = json_string_value(json_object_get(t, "kind"));
	char		*cmd, *buf = NULL, *p;
	size_t		 len = 0, n;
	FILE		*f;

	if (kind == NULL)
		kind = "?";
	n = strlen(kind);
	if ((cmd = ctl_fmt_command(json_object_get(t, "spec"))) == NULL ||
	    (f = open_memstream(&buf, &len)) == NULL) {
		free(cmd);
		return NULL;
	}
	if (strcmp(cmd, kind) == 0 || (strncmp(cmd, kind, n) == 0 &&
	    cmd[n] == ' '))
		fputs(cmd, f);
	else
		fprintf(f, "%s %s", kind, cmd);
	ctl_tree_notes(f, t);
	free(cmd);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	for (p = buf; *p != '\0'; p++)	/* one line: a message may have more */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

/* One line: prefix and branch, "ID STATE", then what it is, cut to width. */
static void
ctl_tree_line(json_t *t, const char *prefix, const char *branch, int width)
{
	const char	*state = json_string_value(json_object_get(t, "state"));
	char		 head[CTL_TREE_DEPTH * CTL_TREE_INDENT + 128], *what;
	size_t		 used;

	snprintf(head, sizeof head, "%s%s%" JSON_INTEGER_FORMAT " %s%s%s ",
	    prefix, branch, json_integer_value(json_object_get(t, "id")),
	    ctl_color(stdout, ctl_state_color(state)), state != NULL ? state :
	    "?", ctl_color(stdout, CTL_PLAIN));
	fputs(head, stdout);
	what = ctl_tree_what(t);
	used = ctl_width(head);
	if (what != NULL && width > 0 && (size_t)width > used)
		ctl_put_cut(stdout, what, (size_t)width - used);
	else if (what != NULL && width <= 0)
		fputs(what, stdout);
	putchar('\n');
	free(what);
}

/*
 * t's children under it, prefix being their indent so far: each child's
 * line, then its own children one level in ("│   " under all but the
 * last).  A list cut short starts with "…": task.list reads the newest
 * first, so the ones left out are the oldest.
 */
static void
ctl_tree_print_children(json_t *t, char *prefix, size_t plen, int width)
{
	json_t	*kids = json_object_get(t, "children"), *k;
	size_t	 i, n = json_array_size(kids);
	int	 last;

	if (json_is_true(json_object_get(t, "truncated")))
		printf("%s%s…\n", prefix, n > 0 ? "├── " : "└── ");
	json_array_foreach(kids, i, k) {
		last = i + 1 == n;
		ctl_tree_line(k, prefix, last ? "└── " : "├── ", width);
		if (plen + CTL_TREE_INDENT >= CTL_TREE_DEPTH *
		    CTL_TREE_INDENT + 1)
			continue;	/* deeper than read: none there */
		strcpy(prefix + plen, last ? "    " : "│   ");
		ctl_tree_print_children(k, prefix, plen + strlen(prefix + plen),
		    width);
		prefix[plen] = '\0';
	}
}

static void
ctl_tree_print(json_t *root, int width)
{
	char	prefix[CTL_TREE_DEPTH * CTL_TREE_INDENT + 1] = "";

	ctl_tree_line(root, "", "", width);
	ctl_tree_print_children(root, prefix, 0, width);
}

/* tree's options and its ID (0: none); -1 to go on, else an exit status. */
static int
ctl_tree_args(struct ctl *ctx, int argc, char **argv, struct ctl_tree *tr,
    json_int_t *id)
{
	static const struct option lo[] = {
		{ "max", required_argument, NULL, 'm' },
		CTL_OPTS_COMMON
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if (ch == 'm' && ctl_parse_int(optarg, 1, FP_ID_LIMIT,
		    &tr->max) == -1)
			return ctl_usage(ctx, "--max wants a number of tasks, "
			    "at least 1");
		else if (ch != 'm')
			return ctl_bad_option(ctx, ch, argv);
	}
	if (argc - optind > 1)
		return ctl_usage(ctx, "give one task id, or none");
	if (argc - optind == 1 && ctl_parse_id(argv[optind], id) == -1)
		return ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
	return -1;
}

/* The tree of id into *out (new): the task with its descendants. */
static int
ctl_tree_of(struct ctl_tree *tr, json_int_t id, json_t **out)
{
	struct ctl_reply	r;
	int			rc;

	*out = NULL;
	rc = ctl_call_ok(tr->ctx, FP_TASK_GET, json_pack("{s:I}", "id", id),
	    &r);
	if (rc == 0) {
		*out = json_deep_copy(r.result);
		tr->count++;
		rc = *out != NULL ? ctl_tree_read(tr, *out, 0) : CTL_EXIT_CONN;
	}
	ctl_reply_clear(&r);
	return rc;
}

/* Every unfinished task without a parent, each with its tree: *out new. */
static int
ctl_tree_forest(struct ctl_tree *tr, json_t **out, int *more)
{
	json_t	*root;
	size_t	 i;
	int	 rc;

	if ((*out = json_array()) == NULL)
		return CTL_EXIT_CONN;
	rc = ctl_tree_roots(tr, *out, more);
	json_array_foreach(*out, i, root)
		if (rc == 0)
			rc = ctl_tree_read(tr, root, 0);
	return rc;
}

static void
ctl_tree_output(struct ctl *ctx, struct ctl_tree *tr, json_t *tree, int more)
{
	json_t	*root;
	size_t	 i;
	int	 width = ctl_term_width();

	if (ctx->json)
		ctl_print_json(tree, 0);
	else if (json_is_object(tree))
		ctl_tree_print(tree, width);
	else {
		if (more)
			puts("…");
		json_array_foreach(tree, i, root)
			ctl_tree_print(root, width);
	}
	if (tr->cut)
		fprintf(stderr, "futurectl: the tree was cut short at %lld "
		    "tasks (--max)%s\n", tr->max, ctx->json ? "" :
		    "; … stands for the older ones left out");
	if (tr->deep)
		fprintf(stderr, "futurectl: the tree was cut short %d levels "
		    "deep%s\n", CTL_TREE_DEPTH, ctx->json ? "" :
		    "; … stands for the tasks below");
}

int
ctl_tree(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_tree	 tr;
	json_int_t	 id = 0;
	json_t		*tree = NULL;
	int		 rc, more = 0;

	memset(&tr, 0, sizeof tr);
	tr.ctx = ctx;
	tr.max = CTL_TREE_MAX;
	if ((rc = ctl_tree_args(ctx, argc, argv, &tr, &id)) != -1)
		return rc;
	if (id > 0)
		rc = ctl_tree_of(&tr, id, &tree);
	else
		rc = ctl_tree_forest(&tr, &tree, &more);
	if (rc == 0)
		ctl_tree_output(ctx, &tr, tree, more);
	json_decref(tree);
	return rc;
}
