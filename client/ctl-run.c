/*
 * ctl-run.c: run, a task as if it ran here: its stdout and stderr as they
 * come (task.output, both streams in one long-poll), then its exit status.
 * Ctrl-C cancels the task and goes on to show how it ended; a second
 * Ctrl-C leaves it running and says how to reach it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static volatile sig_atomic_t	ctl_run_sigints;	/* Ctrl-Cs so far */
static volatile sig_atomic_t	ctl_run_unheard;	/* not acted on yet */

static void
ctl_run_on_sigint(int sig)
{
	(void)sig;
	ctl_run_sigints++;
	ctl_run_unheard = 1;
}

struct ctl_run {
	struct ctl	*ctx;
	json_int_t	 id;
	json_int_t	 offset[2];	/* of stdout, stderr written so far */
	int		 cancelled;	/* the first Ctrl-C was acted on */
	double		 since;
};

/* Catches SIGINT without restarting calls, so a long-poll ends early. */
static void
ctl_run_catch(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_run_on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	ctl_http_interrupt_on(&ctl_run_unheard);
}

/* Acts on a Ctrl-C: -1 to go on, else the exit status. */
static int
ctl_run_interrupt(struct ctl_run *run)
{
	struct ctl_reply	r;
	int			rc;

	if (!ctl_run_unheard)
		return -1;
	ctl_run_unheard = 0;
	ctl_progress_clear();
	if (run->cancelled) {
		fprintf(stderr, "futurectl: stopped waiting for task %"
		    JSON_INTEGER_FORMAT " (its cancel was asked for; futurectl "
		    "get %" JSON_INTEGER_FORMAT " shows it)\n", run->id, run->id);
		return CTL_EXIT_INTERRUPTED;
	}
	if (ctl_run_sigints >= 2) {
		fprintf(stderr, "futurectl: left task %" JSON_INTEGER_FORMAT
		    " running (futurectl cancel %" JSON_INTEGER_FORMAT
		    " stops it)\n", run->id, run->id);
		return CTL_EXIT_INTERRUPTED;
	}
	run->cancelled = 1;
	fprintf(stderr, "futurectl: cancelling task %" JSON_INTEGER_FORMAT
	    " (Ctrl-C again to leave it running)\n", run->id);
	rc = ctl_call(run->ctx, FP_TASK_CANCEL, json_pack("{s:I}", "id",
	    run->id), &r);
	if (rc == CTL_REPLY_ERROR)
		ctl_reply_error(run->ctx, &r);
	ctl_reply_clear(&r);
	if (rc == CTL_EXIT_INTERRUPTED)
		return ctl_run_interrupt(run);
	return -1;	/* and see it end */
}

/* Writes what came of one stream; its length. */
static size_t
ctl_run_write(struct ctl_run *run, json_t *page, int w)
{
	json_t	*data = json_object_get(page, "data");
	size_t	 n = json_string_length(data);

	if (n == 0)
		return 0;
	ctl_progress_clear();
	ctl_write_string(w == 0 ? stdout : stderr, data);
	fflush(w == 0 ? stdout : stderr);
	run->offset[w] = json_integer_value(json_object_get(page, "next"));
	return n;
}

/*
 * Streams both outputs until the task ended and all of them was written:
 * 0, or an exit status.
 */
static int
ctl_run_stream(struct ctl_run *run)
{
	struct ctl_reply	 r;
	json_t			*p;
	size_t			 got, total = 0;
	int			 rc, eof;
	char			 took[32];

	for (;;) {
		if ((rc = ctl_run_interrupt(run)) != -1)
			return rc;
		p = json_pack("{s:I,s:s,s:{s:I,s:I},s:f}", "id", run->id,
		    "stream", "both", "offsets", "stdout", run->offset[0],
		    "stderr", run->offset[1], "timeout", ctl_progress_wanted() ?
		    CTL_PROGRESS_EVERY : CTL_POLL_MAX);
		rc = ctl_call(run->ctx, FP_TASK_OUTPUT, p, &r);
		if (rc == CTL_EXIT_INTERRUPTED)
			continue;
		if (rc == CTL_REPLY_ERROR)
			rc = ctl_reply_error(run->ctx, &r);
		if (rc != 0) {
			ctl_reply_clear(&r);
			return rc;
		}
		got = ctl_run_write(run, json_object_get(r.result, "stdout"), 0);
		got += ctl_run_write(run, json_object_get(r.result, "stderr"), 1);
		total += got;
		eof = json_is_true(json_object_get(r.result, "eof"));
		ctl_reply_clear(&r);
		if (eof)
			return 0;
		/* a line of progress would mix with the task's own lines */
		if (total == 0)
			ctl_progress("task %" JSON_INTEGER_FORMAT ", waited %s",
			    run->id, ctl_fmt_duration(ctl_now() - run->since,
			    took, sizeof took));
	}
}

/* The task's outcome, acting on Ctrl-C while waiting for it. */
static int
ctl_run_outcome(struct ctl_run *run, struct ctl_reply *r)
{
	int	rc;

	for (;;) {
		rc = ctl_future_poll(run->ctx, FP_TASK_RESULT, run->id, -1, r);
		if (rc != CTL_EXIT_INTERRUPTED)
			return rc;
		if ((rc = ctl_run_interrupt(run)) != -1)
			return rc;
	}
}

/* The status a ProcessError stands for, as a shell would report it. */
static int
ctl_process_status(json_t *exc)
{
	json_int_t	code = json_integer_value(json_object_get(exc,
			    "exit_code"));
	json_int_t	sig = json_integer_value(json_object_get(exc,
			    "signal"));

	if (code > 0 && code < 256)
		return (int)code;
	if (sig > 0 && sig < 128)
		return 128 + (int)sig;
	return CTL_EXIT_FAILED;
}

/*
 * A failed process ends as it would have here: its status (its output,
 * streamed or not, was written).  Any other failure is told.
 */
static int
ctl_run_failed(struct ctl_run *run, const struct ctl_reply *r, int streamed)
{
	json_t		*exc = json_object_get(r->data, "exception");
	const char	*type = json_string_value(json_object_get(exc, "type"));

	if (type == NULL || strcmp(type, "ProcessError") != 0)
		return ctl_future_failed(run->ctx, r);
	if (run->ctx->json)
		ctl_print_json(exc, 0);
	else if (!streamed) {
		ctl_write_string(stdout, json_object_get(exc, "stdout"));
		fflush(stdout);
		ctl_write_string(stderr, json_object_get(exc, "stderr"));
	}
	return ctl_process_status(exc);
}

/* The result when its output was streamed: only what was not shown. */
static int
ctl_run_print_streamed(json_t *res)
{
	if (json_is_true(json_object_get(res, "stdout_truncated")))
		fprintf(stderr, "futurectl: the task's stdout was truncated\n");
	if (json_is_true(json_object_get(res, "stderr_truncated")))
		fprintf(stderr, "futurectl: the task's stderr was truncated\n");
	return CTL_EXIT_OK;
}

/* Output is streamed for a process whose stdout is text, not with --json. */
static int
ctl_run_streams(struct ctl *ctx, json_t *spec)
{
	const char	*capture = json_string_value(json_object_get(spec,
			    "capture"));

	return !ctx->json && strcmp(json_string_value(json_object_get(spec,
	    "kind")), FP_KIND_EXEC) == 0 && (capture == NULL ||
	    strcmp(capture, "json") != 0);
}

/* Runs the submitted task's course; the exit status. */
static int
ctl_run_follow(struct ctl_run *run, int streams)
{
	struct ctl_reply	r;
	int			rc;

	memset(&r, 0, sizeof r);
	ctl_run_catch();
	if (streams && (rc = ctl_run_stream(run)) != 0)
		return rc;
	rc = ctl_run_outcome(run, &r);
	if (rc == 0 && streams && json_object_get(r.result, "stdout") != NULL)
		rc = ctl_run_print_streamed(r.result);
	else if (rc == 0)
		rc = ctl_future_print_result(run->ctx, r.result);
	else if (rc == CTL_REPLY_ERROR && r.code == FP_ERR_TASK_FAILED)
		rc = ctl_run_failed(run, &r, streams);
	else if (rc == CTL_REPLY_ERROR)
		rc = ctl_reply_error(run->ctx, &r);
	ctl_reply_clear(&r);
	return rc;
}

int
ctl_run(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_run		 run;
	struct ctl_reply	 r;
	json_t			*p;
	int			 rc, detach = 0, streams;

	if ((rc = ctl_spec_parse(ctx, argc, argv, NULL, &detach, &p)) != -1)
		return rc;
	streams = ctl_run_streams(ctx, p);
	if ((rc = ctl_call_ok(ctx, FP_TASK_SUBMIT, p, &r)) != 0) {
		ctl_reply_clear(&r);
		return rc;
	}
	memset(&run, 0, sizeof run);
	run.ctx = ctx;
	run.id = json_integer_value(json_object_get(r.result, "id"));
	run.since = ctl_now();
	ctl_reply_clear(&r);
	if (detach) {
		printf("%" JSON_INTEGER_FORMAT "\n", run.id);
		return CTL_EXIT_OK;
	}
	return ctl_run_follow(&run, streams);
}
