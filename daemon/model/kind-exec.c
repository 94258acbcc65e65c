/*
 * kind-exec.c: the exec kind, a child process (run/exec.c), at most
 * --jobs at once.  Its attempt's process group is stored while it runs,
 * so that a futured started after a crash ends it before the retry; what
 * it writes on fd 3 becomes stream items.
 */
#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

static void
kx_done(void *arg, json_t *result, json_t *exception)
{
	struct task	*t = arg;

	t->kstate = NULL;
	task_attempt_done(t, result, exception);
	task_unref(t, __func__);
}

static void
kx_started(void *arg, json_t *state)
{
	task_attempt_state(arg, state);
}

static void
kx_yield(void *arg, const char *line, size_t len)
{
	stream_line(arg, line, len);
}

static void
kx_yield_dropped(void *arg)
{
	stream_line_too_long(arg);
}

static void
kx_output(void *arg)
{
	struct task	*t = arg;

	watch_fire(t->id, WATCH_OUTPUT, t->state);
	cluster_output(t);
}

static const struct run_ops kx_ops = {
	kx_done, kx_started, kx_yield, kx_yield_dropped, kx_output,
};

static void
kx_spawn(struct task *t)
{
	struct run_attempt	a = { .id = t->id, .spec = t->spec,
				    .timeout = t->timeout };

	if (cfg.listen_url != NULL)	/* it may reach futured over TCP */
		a.credential = task_credential(t);

	task_ref(t, __func__);
	t->kstate = exec_start(&a, &kx_ops, t);
}

/* A retry continues its stream where the last attempt left it. */
static void
kx_next_cb(void *arg, int status, int64_t next)
{
	struct task	*t = arg;

	stream_begin(t, status == STORE_OK ? next : 0);
	if (t->state == FP_RUNNING)
		kx_spawn(t);
	else
		task_attempt_done(t, NULL, NULL);	/* cancelled meanwhile */
	task_unref(t, __func__);
}

static void
kx_start(struct task *t)
{
	if (t->attempt == 1) {
		stream_begin(t, 0);
		kx_spawn(t);
		return;
	}
	task_ref(t, __func__);
	store_stream_next(t->id, kx_next_cb, t);
}

static void
kx_stop(struct task *t, int graceful)
{
	exec_stop(t->kstate, graceful);
}

static int
kx_recover(struct task *t)
{
	if (t->attempt_state != NULL)
		exec_recover(t->attempt_state);
	return 0;
}

static int
kx_room(void)
{
	return cfg.jobs - (int)exec_running();
}

static int
kx_output_now(struct task *t, int which, const char **buf, size_t *len)
{
	return exec_output(t->kstate, which, buf, len);
}

static json_t *
kx_stored_output(json_t *outcome, int which)
{
	return json_object_get(outcome, which == 1 ? "stdout" : "stderr");
}

const struct kind kind_exec = {
	.name = FP_KIND_EXEC,
	.start = kx_start,
	.stop = kx_stop,
	.recover = kx_recover,
	.room = kx_room,
	.output = kx_output_now,
	.stored_output = kx_stored_output,
};
