/*
 * ctl-stream.c: follow and logs, the commands that read what a task
 * produces while it runs: the items it yields (task.stream, `async for`)
 * and its standard output or error (task.output, `tail -f`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/*
 * An answer that comes back at once with nothing new, though we asked to
 * wait, would make a busy loop against the daemon: pause a little.
 */
static void
ctl_stream_pace(double started)
{
	struct timespec	ts = { 0, 200 * 1000 * 1000 };

	if (ctl_now() - started < 0.2)
		nanosleep(&ts, NULL);
}

/* The exit status of a finished task: 0, 1 failed, 6 cancelled. */
static int
ctl_stream_status(struct ctl *ctx, json_int_t id)
{
	struct ctl_reply	 r;
	const char		*st;
	int			 rc;

	if ((rc = ctl_call_ok(ctx, FP_TASK_GET, json_pack("{s:I}", "id", id),
	    &r)) != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	st = json_string_value(json_object_get(r.result, "state"));
	if (st != NULL && strcmp(st, "failed") == 0)
		rc = CTL_EXIT_FAILED;
	else if (st != NULL && strcmp(st, "cancelled") == 0)
		rc = CTL_EXIT_CANCELLED;
	ctl_reply_clear(&r);
	return rc;
}

/* ---- follow ---- */

/* One item: its value on stdout, or an error item on stderr. */
static void
ctl_follow_item(struct ctl *ctx, json_t *item)
{
	json_t	*err = json_object_get(item, "error");
	char	*s;

	if (ctx->json) {
		ctl_print_json(item, 0);
		return;
	}
	if (err == NULL) {
		s = fp_json_text(json_object_get(item, "value"));
		if (s != NULL)
			puts(s);
		free(s);
		return;
	}
	fflush(stdout);		/* keep the order of stdout and stderr */
	fprintf(stderr, "futurectl: item %" JSON_INTEGER_FORMAT ": ",
	    json_integer_value(json_object_get(item, "seq")));
	ctl_print_exception(stderr, err);
}

/*
 * One task.stream call from *from; prints the items and advances *from.
 * Returns -1 when the stream is done, 0 to call again, else a status.
 */
static int
ctl_follow_once(struct ctl *ctx, json_int_t id, json_int_t *from,
    int *overflow)
{
	struct ctl_reply	 r;
	json_t			*items, *item;
	double			 started = ctl_now();
	size_t			 i;
	int			 rc, done;

	rc = ctl_call_ok(ctx, FP_TASK_STREAM, json_pack("{s:I,s:I,s:f}", "id",
	    id, "from", *from, "timeout", CTL_POLL_MAX), &r);
	if (rc != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	items = json_object_get(r.result, "items");
	json_array_foreach(items, i, item)
		ctl_follow_item(ctx, item);
	fflush(stdout);
	if (json_is_true(json_object_get(r.result, "overflow")) &&
	    !*overflow) {
		*overflow = 1;
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT "'s "
		    "stream overflowed; later items were dropped\n", id);
	}
	if (json_is_integer(json_object_get(r.result, "next")))
		*from = json_integer_value(json_object_get(r.result, "next"));
	done = json_is_true(json_object_get(r.result, "done"));
	ctl_reply_clear(&r);
	if (done)
		return -1;
	if (json_array_size(items) == 0)
		ctl_stream_pace(started);
	return 0;
}

static int
ctl_follow_args(struct ctl *ctx, int argc, char **argv, json_int_t *id,
    json_int_t *from)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'F' }, CTL_OPTS_COMMON
	};
	long long	n;
	int		ch;

	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if (ch != 'F')
			return ctl_bad_option(ctx, ch, argv);
		else if (ctl_parse_int(optarg, 0, FP_ID_LIMIT, &n) == -1)
			return ctl_usage(ctx, "bad --from '%s'", optarg);
		else
			*from = n;
	}
	if (argc - optind != 1)
		return ctl_usage(ctx, "give one task id");
	if (ctl_parse_id(argv[optind], id) == -1)
		return ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
	return -1;
}

int
ctl_follow(struct ctl *ctx, int argc, char **argv)
{
	json_int_t	id = 0, from = 0;
	int		rc, overflow = 0;

	if ((rc = ctl_follow_args(ctx, argc, argv, &id, &from)) != -1)
		return rc;
	while ((rc = ctl_follow_once(ctx, id, &from, &overflow)) == 0)
		;
	if (rc != -1)
		return rc;
	return ctl_stream_status(ctx, id);
}

/* ---- logs ---- */

struct ctl_logs {
	json_int_t	 id;
	const char	*stream;	/* "stdout" or "stderr" */
	int		 follow;
	json_int_t	 offset;
};

/*
 * One task.output call; writes the data and advances the offset.  Returns
 * -1 when there is nothing more to read, 0 to call again, else a status.
 */
static int
ctl_logs_once(struct ctl *ctx, struct ctl_logs *l)
{
	struct ctl_reply	 r;
	json_t			*data;
	double			 started = ctl_now();
	size_t			 len;
	int			 rc, eof;

	rc = ctl_call_ok(ctx, FP_TASK_OUTPUT, json_pack("{s:I,s:s,s:I,s:f}",
	    "id", l->id, "stream", l->stream, "offset", l->offset, "timeout",
	    l->follow ? CTL_POLL_MAX : 0.0), &r);
	if (rc != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	data = json_object_get(r.result, "data");
	len = json_string_length(data);
	if (ctx->json)
		ctl_print_json(r.result, 0);
	else
		ctl_write_string(stdout, data);
	fflush(stdout);
	if (json_is_integer(json_object_get(r.result, "next")))
		l->offset = json_integer_value(json_object_get(r.result,
		    "next"));
	eof = json_is_true(json_object_get(r.result, "eof"));
	ctl_reply_clear(&r);
	if (eof || (!l->follow && len == 0))
		return -1;
	if (len == 0)
		ctl_stream_pace(started);
	return 0;
}

static int
ctl_logs_args(struct ctl *ctx, int argc, char **argv, struct ctl_logs *l)
{
	static const struct option lo[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "stderr", no_argument, NULL, 'e' },
		CTL_OPTS_COMMON
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, ":hf", lo, NULL)) != -1) {
		if (ch == 'j')
			ctx->json = 1;
		else if (ch == 'f')
			l->follow = 1;
		else if (ch == 'e')
			l->stream = "stderr";
		else
			return ctl_bad_option(ctx, ch, argv);
	}
	if (argc - optind != 1)
		return ctl_usage(ctx, "give one task id");
	if (ctl_parse_id(argv[optind], &l->id) == -1)
		return ctl_usage(ctx, "not a task id: '%s'", argv[optind]);
	return -1;
}

int
ctl_logs(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_logs	l;
	int		rc;

	memset(&l, 0, sizeof l);
	l.stream = "stdout";
	if ((rc = ctl_logs_args(ctx, argc, argv, &l)) != -1)
		return rc;
	while ((rc = ctl_logs_once(ctx, &l)) == 0)
		;
	return rc == -1 ? CTL_EXIT_OK : rc;
}
