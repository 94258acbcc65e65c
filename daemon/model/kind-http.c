/*
 * kind-http.c: the http kind, a transfer of libcurl's on the loop
 * (run/fetch.c), at most --http-max at once.  One that was running when
 * futured stopped is retried or fails (DaemonRestarted).
 */
#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

static void
kh_done(void *arg, json_t *result, json_t *exception)
{
	struct task	*t = arg;

	t->kstate = NULL;
	task_attempt_done(t, result, exception);
	task_unref(t, __func__);
}

static const struct run_ops kh_ops = { .done = kh_done };

static void
kh_start(struct task *t)
{
	struct run_attempt	a = { .id = t->id, .spec = t->spec,
				    .timeout = t->timeout };

	task_ref(t, __func__);
	t->kstate = fetch_start(&a, &kh_ops, t);
}

static void
kh_stop(struct task *t, int graceful)
{
	fetch_stop(t->kstate);
}

static int
kh_recover(struct task *t)
{
	return 0;	/* a transfer does not outlive its daemon */
}

static int
kh_room(void)
{
	return cfg.http_max - (int)fetch_running();
}

const struct kind kind_http = {
	.name = FP_KIND_HTTP,
	.start = kh_start,
	.stop = kh_stop,
	.recover = kh_recover,
	.room = kh_room,
};
