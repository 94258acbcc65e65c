/*
 * ctl-submit.c: submit and run, and the task options they share.
 *
 * Each option maps to one task.submit parameter through ctl_fields; the
 * finished parameters are checked with fp_submit_parse, the daemon's own
 * validation, so a bad value is a usage error here rather than a refusal
 * from the daemon.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum ctl_ftype {
	CTL_F_STRING,
	CTL_F_INT,
	CTL_F_SECONDS,
	CTL_F_TIME,	/* RFC 3339, sent as given */
	CTL_F_JSON,
	CTL_F_FILE,	/* the file's contents as a string */
	CTL_F_ID,	/* appended to an array */
	CTL_F_PAIR,	/* K=V into an object */
	CTL_F_HEADER,	/* "K: V" into an object */
	CTL_F_BODY,	/* a string, or @FILE's contents */
	CTL_F_FALSE,	/* a flag that sets the field to false */
	CTL_F_TRUE,	/* a flag that sets the field to true */
	CTL_F_NULL,	/* a flag that sets the field to null: none */
	CTL_F_TASK,	/* one task id */
	CTL_F_LIMIT,	/* KEY=N into an object, N an integer */
};

static const struct ctl_field {
	const char	*opt;
	const char	*field;
	enum ctl_ftype	 type;
} ctl_fields[] = {
	{ "shell", "shell", CTL_F_STRING },
	{ "sleep", "seconds", CTL_F_SECONDS },
	{ "result", "result", CTL_F_JSON },
	{ "queue", "queue", CTL_F_STRING },
	{ "priority", "priority", CTL_F_INT },
	{ "timeout", "timeout", CTL_F_SECONDS },
	{ "delay", "delay", CTL_F_SECONDS },
	{ "not-before", "not_before", CTL_F_TIME },
	{ "retries", "retries", CTL_F_INT },
	{ "retry-backoff", "retry_backoff", CTL_F_SECONDS },
	{ "key", "key", CTL_F_STRING },
	{ "after", "after", CTL_F_ID },
	{ "label", "labels", CTL_F_PAIR },
	{ "env", "env", CTL_F_PAIR },
	{ "cwd", "cwd", CTL_F_STRING },
	{ "stdin-file", "stdin", CTL_F_FILE },
	{ "capture", "capture", CTL_F_STRING },
	{ "max-output", "max_output", CTL_F_INT },
	{ "http", "url", CTL_F_STRING },
	{ "method", "method", CTL_F_STRING },
	{ "header", "headers", CTL_F_HEADER },
	{ "data", "body", CTL_F_BODY },
	{ "max-body", "max_body", CTL_F_INT },
	{ "no-follow", "follow_redirects", CTL_F_FALSE },
	{ "no-raise", "raise_for_status", CTL_F_FALSE },
	{ "parent", "parent", CTL_F_TASK },
	{ "no-parent", "parent", CTL_F_NULL },
	{ "child-policy", "child_policy", CTL_F_STRING },
	{ "return-exceptions", "return_exceptions", CTL_F_TRUE },
	{ "concurrency", "concurrency", CTL_F_LIMIT },
	{ "rate-limit", "rate_limit", CTL_F_STRING },
	{ "rate-key", "rate_key", CTL_F_STRING },
};
#define CTL_NFIELDS	(sizeof ctl_fields / sizeof ctl_fields[0])
#define CTL_OPT_FIELD	256	/* getopt value of ctl_fields[i] */
#define CTL_OPT_NOREPLY	'n'
#define CTL_OPT_DETACH	'd'

int
ctl_read_all(FILE *f, size_t max, char **buf, size_t *len)
{
	size_t	 size = 0, n;
	char	*p;

	*buf = NULL;
	*len = 0;
	do {
		if (*len == size) {
			size = size != 0 ? size * 2 : 65536;
			if (*len > max || (p = realloc(*buf, size)) == NULL)
				return -1;
			*buf = p;
		}
		n = fread(*buf + *len, 1, size - *len, f);
		*len += n;
	} while (n > 0);
	return ferror(f) || *len > max ? -1 : 0;
}

/* Reads a whole file ("-" is our stdin) as a JSON string. */
static json_t *
ctl_file_string(const char *path)
{
	FILE	*f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char	*buf = NULL;
	size_t	 len;
	json_t	*s = NULL;

	if (f == NULL)
		fprintf(stderr, "futurectl: %s: %s\n", path, strerror(errno));
	else if (ctl_read_all(f, CTL_STDIN_MAX, &buf, &len) == -1)
		fprintf(stderr, "futurectl: %s: %s\n", path, ferror(f) ?
		    strerror(errno) : "too big for stdin");
	else if ((s = json_stringn(buf, len)) == NULL)
		fprintf(stderr, "futurectl: %s: not UTF-8 text\n", path);
	if (f != NULL && f != stdin)
		fclose(f);
	free(buf);
	return s;
}

/* Seconds as an integer when whole, so a spec reads "seconds": 5. */
static json_t *
ctl_seconds_json(double d)
{
	if (d == floor(d) && d < (double)FP_ID_LIMIT)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* The JSON value of a scalar option, or NULL after a message. */
static json_t *
ctl_field_value(struct ctl *ctx, const struct ctl_field *f, const char *arg,
    int *rc)
{
	json_error_t	 err;
	json_int_t	 id;
	long long	 n;
	double		 d;
	json_t		*v = NULL;

	*rc = CTL_EXIT_USAGE;
	switch (f->type) {
	case CTL_F_INT:
		if (ctl_parse_int(arg, -FP_ID_LIMIT, FP_ID_LIMIT, &n) == 0)
			return json_integer(n);
		break;
	case CTL_F_SECONDS:
		if (ctl_parse_seconds(arg, &d) == 0)
			return ctl_seconds_json(d);
		break;
	case CTL_F_TIME:
		if (fp_time_parse(arg, &d) == 0)
			return json_string(arg);
		break;
	case CTL_F_JSON:
		if ((v = json_loads(arg, JSON_DECODE_ANY, &err)) == NULL)
			*rc = ctl_usage(ctx, "--%s: %s", f->opt, err.text);
		return v;
	case CTL_F_FILE:
		return ctl_file_string(arg);
	case CTL_F_BODY:
		return arg[0] == '@' ? ctl_file_string(arg + 1) :
		    json_string(arg);
	case CTL_F_FALSE:
		return json_false();
	case CTL_F_TRUE:
		return json_true();
	case CTL_F_NULL:
		return json_null();
	case CTL_F_TASK:
		if (ctl_parse_id(arg, &id) == 0)
			return json_integer(id);
		break;
	default:
		if ((v = json_string(arg)) != NULL)
			return v;
		break;
	}
	*rc = ctl_usage(ctx, "bad value for --%s: '%s'", f->opt, arg);
	return NULL;
}

/*
 * "KEY=N" into obj[KEY] = N, at the last '=' (a key may hold one); the
 * range of N is fp_submit_parse's to judge.
 */
static int
ctl_parse_limit(const char *s, json_t *obj)
{
	const char	*eq = strrchr(s, '=');
	long long	 n;
	char		*k;
	int		 rc;

	if (eq == NULL || eq == s ||
	    ctl_parse_int(eq + 1, -FP_ID_LIMIT, FP_ID_LIMIT, &n) == -1)
		return -1;
	if ((k = strndup(s, eq - s)) == NULL)
		return -1;
	rc = json_object_set_new(obj, k, json_integer(n));
	free(k);
	return rc;
}

/* Adds a repeatable option's value to the array or object it builds. */
static int
ctl_field_add(struct ctl *ctx, json_t *p, const struct ctl_field *f,
    const char *arg)
{
	json_t		*to = json_object_get(p, f->field);
	json_int_t	 id;

	if (to == NULL) {
		to = f->type == CTL_F_ID ? json_array() : json_object();
		if (json_object_set_new(p, f->field, to) == -1)
			return CTL_EXIT_USAGE;
	}
	if (f->type == CTL_F_ID && ctl_parse_id(arg, &id) == 0 &&
	    json_array_append_new(to, json_integer(id)) == 0)
		return -1;
	if (f->type == CTL_F_PAIR && ctl_parse_pair(arg, '=', to) == 0)
		return -1;
	if (f->type == CTL_F_HEADER && ctl_parse_pair(arg, ':', to) == 0)
		return -1;
	if (f->type == CTL_F_LIMIT && ctl_parse_limit(arg, to) == 0)
		return -1;
	return ctl_usage(ctx, "bad value for --%s: '%s'%s", f->opt, arg,
	    f->type == CTL_F_PAIR ? " (want K=V)" : f->type == CTL_F_HEADER ?
	    " (want 'Name: value')" : f->type == CTL_F_LIMIT ?
	    " (want KEY=N)" : " (want a task id)");
}

/* Sets one option's parameter; -1 to go on, else an exit status. */
static int
ctl_field_set(struct ctl *ctx, json_t *p, const struct ctl_field *f,
    const char *arg)
{
	json_t	*v;
	int	 rc;

	if (f->type == CTL_F_ID || f->type == CTL_F_PAIR ||
	    f->type == CTL_F_HEADER || f->type == CTL_F_LIMIT)
		return ctl_field_add(ctx, p, f, arg);
	if ((v = ctl_field_value(ctx, f, arg, &rc)) == NULL)
		return rc;
	json_object_set_new(p, f->field, v);
	return -1;
}

static const struct ctl_field *
ctl_field_named(const char *opt)
{
	size_t	i;

	for (i = 0; i < CTL_NFIELDS; i++)
		if (strcmp(ctl_fields[i].opt, opt) == 0)
			return &ctl_fields[i];
	return NULL;
}

/*
 * getopt_long's table: every field, then submit's or run's own, another
 * command's (x) and the common options.
 */
static void
ctl_spec_options(struct option *lo, int submit, int run,
    const struct ctl_spec_extra *x)
{
	static const struct option common[] = { CTL_OPTS_COMMON };
	size_t	i, n = 0;

	for (i = 0; i < CTL_NFIELDS; i++) {
		lo[n].name = ctl_fields[i].opt;
		lo[n].has_arg = ctl_fields[i].type == CTL_F_FALSE ||
		    ctl_fields[i].type == CTL_F_TRUE ||
		    ctl_fields[i].type == CTL_F_NULL ? no_argument :
		    required_argument;
		lo[n].flag = NULL;
		lo[n++].val = CTL_OPT_FIELD + (int)i;
	}
	if (submit) {
		lo[n].name = "no-wait-reply";
		lo[n].has_arg = no_argument;
		lo[n].flag = NULL;
		lo[n++].val = CTL_OPT_NOREPLY;
	}
	if (run) {
		lo[n].name = "detach";
		lo[n].has_arg = no_argument;
		lo[n].flag = NULL;
		lo[n++].val = CTL_OPT_DETACH;
	}
	for (i = 0; x != NULL && x->opts[i].name != NULL &&
	    i < CTL_SPEC_EXTRA_MAX; i++)
		lo[n++] = x->opts[i];
	memcpy(&lo[n], common, sizeof common);
}

/* The option a task.submit field came from ("argv[2]" -> the command). */
static const char *
ctl_field_option(const char *field, char *buf, size_t len)
{
	size_t	i, n = strcspn(field, "[.");

	if (strncmp(field, "argv", n) == 0 && n == 4)
		return "the command";
	for (i = 0; i < CTL_NFIELDS; i++) {
		if (strlen(ctl_fields[i].field) == n &&
		    strncmp(ctl_fields[i].field, field, n) == 0) {
			snprintf(buf, len, "--%s%s", ctl_fields[i].opt,
			    field + n);
			return buf;
		}
	}
	return field;
}

/* The command, its kind, then fp_submit_parse; -1 when all is well. */
static int
ctl_spec_finish(struct ctl *ctx, json_t *p, int argc, char **argv)
{
	struct fp_submit	 s;
	struct fp_invalid	 inv;
	char			 buf[FP_FIELD_LEN + 32];
	json_t			*cmd;
	int			 i, n = 0;

	n += argc > 0;
	n += json_object_get(p, "shell") != NULL;
	n += json_object_get(p, "seconds") != NULL;
	n += json_object_get(p, "url") != NULL;
	n += json_object_get(p, "kind") != NULL;	/* future, group */
	if (n != 1)
		return ctl_usage(ctx, "give one of a command, --shell, "
		    "--sleep, --http, future or group");
	if (argc > 0) {
		if ((cmd = json_array()) == NULL)
			return CTL_EXIT_USAGE;
		json_object_set_new(p, "argv", cmd);
		for (i = 0; i < argc; i++)
			if (json_array_append_new(cmd,
			    json_string(argv[i])) == -1)
				return ctl_usage(ctx, "'%s' is not UTF-8",
				    argv[i]);
	}
	if (json_object_get(p, "kind") == NULL)
		json_object_set_new(p, "kind", json_string(json_object_get(p,
		    "seconds") != NULL ? FP_KIND_SLEEP : json_object_get(p,
		    "url") != NULL ? FP_KIND_HTTP : FP_KIND_EXEC));
	if (fp_submit_parse(p, &s, &inv) == -1)
		return ctl_usage(ctx, "%s: %s", ctl_field_option(inv.field, buf,
		    sizeof buf), inv.reason);
	fp_submit_clear(&s);
	return -1;
}

/* The options up to the first operand into p; -1 to go on. */
static int
ctl_spec_getopt(struct ctl *ctx, int argc, char **argv,
    const struct option *lo, json_t *p, int *no_reply, int *detach,
    const struct ctl_spec_extra *x)
{
	int	ch, rc = -1;

	while (rc == -1 &&
	    (ch = getopt_long(argc, argv, "+:hH:", lo, NULL)) != -1) {
		if (ch == 'H')
			rc = ctl_field_set(ctx, p, ctl_field_named("header"),
			    optarg);
		else if (ch >= CTL_OPT_FIELD &&
		    ch < CTL_OPT_FIELD + (int)CTL_NFIELDS)
			rc = ctl_field_set(ctx, p,
			    &ctl_fields[ch - CTL_OPT_FIELD], optarg);
		else if (ch == CTL_OPT_NOREPLY && no_reply != NULL)
			*no_reply = 1;
		else if (ch == CTL_OPT_DETACH && detach != NULL)
			*detach = 1;
		else if (ch >= CTL_OPT_EXTRA && x != NULL)
			rc = x->set(ctx, ch, optarg, x->arg);
		else if (ch == 'j')
			ctx->json = 1;
		else
			rc = ctl_bad_option(ctx, ch, argv);
	}
	return rc;
}

/*
 * The operands "future" and "group" name the kind (NULL: neither), unless
 * they follow "--": a program of that name is still run with `submit --
 * future`.
 */
static const char *
ctl_spec_kind_operand(int argc, char **argv)
{
	static const char *const kinds[] = { FP_KIND_FUTURE, FP_KIND_GROUP };
	size_t	i;

	if (optind >= argc || strcmp(argv[optind - 1], "--") == 0)
		return NULL;
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(argv[optind], kinds[i]) == 0)
			return kinds[i];
	return NULL;
}

/*
 * A task submitted from inside a task of futured is its child unless
 * --parent or --no-parent said otherwise (the tree PROTOCOL.md's "Task
 * trees" describes): futured puts FUTURED_TASK_ID in an exec task's
 * environment.  A value that is not an id is not ours to refuse.
 */
static void
ctl_spec_parent(json_t *p)
{
	const char	*env = getenv("FUTURED_TASK_ID");
	json_t		*v = json_object_get(p, "parent");
	json_int_t	 id;

	if (v == NULL && env != NULL && ctl_parse_id(env, &id) == 0)
		json_object_set_new(p, "parent", json_integer(id));
	else if (json_is_null(v))
		json_object_del(p, "parent");	/* --no-parent */
}

/*
 * x's operand (the schedule's name), where the options stop at the first
 * operand that is not after "--"; then the options that follow it.
 */
static int
ctl_spec_name(struct ctl *ctx, int argc, char **argv,
    const struct option *lo, json_t *p, const struct ctl_spec_extra *x)
{
	if (optind >= argc || strcmp(argv[optind - 1], "--") == 0)
		return ctl_usage(ctx, "give %s", x->what);
	*x->name = argv[optind++];
	return ctl_spec_getopt(ctx, argc, argv, lo, p, NULL, NULL, x);
}

/* ctl_spec_parse, and for another command than submit and run, x. */
static int
ctl_spec_parse_with(struct ctl *ctx, int argc, char **argv, int *no_reply,
    int *detach, const struct ctl_spec_extra *x, json_t **out)
{
	struct option	 lo[CTL_NFIELDS + 5 + CTL_SPEC_EXTRA_MAX];
	const char	*kind;
	json_t		*p;
	int		 rc;

	*out = NULL;
	ctl_spec_options(lo, no_reply != NULL, detach != NULL, x);
	if ((p = json_object()) == NULL)
		return CTL_EXIT_USAGE;
	rc = ctl_spec_getopt(ctx, argc, argv, lo, p, no_reply, detach, x);
	if (rc == -1 && x != NULL)
		rc = ctl_spec_name(ctx, argc, argv, lo, p, x);
	if (rc == -1 && (kind = ctl_spec_kind_operand(argc, argv)) != NULL) {
		json_object_set_new(p, "kind", json_string(kind));
		optind++;	/* options may follow the kind too */
		rc = ctl_spec_getopt(ctx, argc, argv, lo, p, no_reply, detach,
		    x);
	}
	if (rc == -1) {
		if (x == NULL)
			ctl_spec_parent(p);
		rc = ctl_spec_finish(ctx, p, argc - optind, argv + optind);
	}
	if (rc != -1)
		json_decref(p);
	else
		*out = p;
	return rc;
}

int
ctl_spec_parse(struct ctl *ctx, int argc, char **argv, int *no_reply,
    int *detach, json_t **out)
{
	return ctl_spec_parse_with(ctx, argc, argv, no_reply, detach, NULL,
	    out);
}

int
ctl_spec_parse_extra(struct ctl *ctx, int argc, char **argv,
    const struct ctl_spec_extra *x, json_t **out)
{
	return ctl_spec_parse_with(ctx, argc, argv, NULL, NULL, x, out);
}

int
ctl_submit(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_reply	 r;
	json_t			*p;
	int			 rc, no_reply = 0;

	if ((rc = ctl_spec_parse(ctx, argc, argv, &no_reply, NULL, &p)) != -1)
		return rc;
	if (no_reply)
		return ctl_notify(ctx, FP_TASK_SUBMIT, p);
	if ((rc = ctl_call_ok(ctx, FP_TASK_SUBMIT, p, &r)) == 0) {
		if (ctx->json)
			ctl_print_json(r.result, 0);
		else
			printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(
			    json_object_get(r.result, "id")));
	}
	ctl_reply_clear(&r);
	return rc;
}
