/*
 * task.c: the in-memory side of tasks and their state machine.
 *
 * Only unfinished tasks live in memory (task_table); a finished task exists
 * in the store alone, so memory does not grow with history.  Every
 * transition is written to the store first; what others may learn of it
 * (watchers, replies) waits for the commit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "futured.h"
#include "store.h"

#define TASK_BACKOFF_MAX	3600.0
#define TASK_STORE_RETRY	1.0	/* seconds between tries of a full disk */

static struct idmap	*task_table;

static void	exec_stop(struct task *);
static void	sleep_stop(struct task *);

/*
 * What each kind does.  stop() ends the kind's work at once when a task is
 * cancelled or the daemon stops; the caller records the outcome.  An exec
 * task keeps its queue slot until exec.c has reaped the process; the other
 * kinds give it back when they finish.
 */
static const struct task_kind_ops {
	const char	*name;
	int		(*start)(struct task *);
	void		(*stop)(struct task *);
	int		 keeps_slot;
	int		 sched_class;
} task_kinds[] = {
	[TASK_EXEC] = { FP_KIND_EXEC, exec_start, exec_stop, 1, SCHED_PROC },
	[TASK_SLEEP] = { FP_KIND_SLEEP, sleep_start, sleep_stop, 0, SCHED_FREE },
	[TASK_HTTP] = { FP_KIND_HTTP, fetch_start, fetch_stop, 0, SCHED_NET },
};

const char *
task_kind_name(enum task_kind k)
{
	return task_kinds[k].name;
}

int
task_kind_parse(const char *name, enum task_kind *k)
{
	size_t	i;

	for (i = 0; i < sizeof task_kinds / sizeof task_kinds[0]; i++) {
		if (strcmp(task_kinds[i].name, name) == 0) {
			*k = (enum task_kind)i;
			return 0;
		}
	}
	return -1;
}

int
task_sched_class(const struct task *t)
{
	return task_kinds[t->kind].sched_class;
}

static void
exec_stop(struct task *t)
{
	exec_kill(t, 1);
}

static void
sleep_stop(struct task *t)
{
	timerq_del(&t->timer);
}

struct task *
task_create(void)
{
	struct task	*t = xcalloc(1, sizeof *t);

	t->refs = 1;
	t->heap_index = TASK_NOT_QUEUED;
	TIMERQ_ENTRY_INIT(&t->timer);
	t->timeout = -1;
	t->retry_backoff = 1;
	return t;
}

void
task_ref(struct task *t, const char *from)
{
	t->refs++;
	log_debug("%s: task %lld ref %d (%s)", __func__, (long long)t->id,
	    t->refs, from);
}

static void
task_unwatch_deps(struct task *t)
{
	size_t	i;

	for (i = 0; t->dep_watches != NULL && i < json_array_size(t->after);
	    i++) {
		watch_remove(t->dep_watches[i]);
		t->dep_watches[i] = NULL;
	}
}

void
task_unref(struct task *t, const char *from)
{
	log_debug("%s: task %lld ref %d (%s)", __func__, (long long)t->id,
	    t->refs - 1, from);
	if (--t->refs > 0)
		return;
	task_unwatch_deps(t);
	free(t->dep_watches);
	timerq_del(&t->timer);
	free(t->key);
	json_decref(t->spec);
	json_decref(t->sleep_result);
	json_decref(t->labels);
	json_decref(t->after);
	json_decref(t->result);
	json_decref(t->exception);
	json_decref(t->attempts);
	free(t);
}

static void
task_count_running_cb(int64_t id, void *value, void *arg)
{
	if (((struct task *)value)->state == FP_RUNNING)
		(*(size_t *)arg)++;
}

size_t
task_count_running(void)
{
	size_t	n = 0;

	if (task_table != NULL)
		idmap_foreach(task_table, task_count_running_cb, &n);
	return n;
}

struct task *
task_find(int64_t id)
{
	if (task_table == NULL)
		return NULL;
	return idmap_get(task_table, id);
}

void
task_table_add(struct task *t)
{
	if (task_table == NULL)
		task_table = idmap_create();
	idmap_put(task_table, t->id, t);
}

static void	task_finished_cb(void *, int);

static void
task_store_again(void *arg)
{
	struct task	*t = arg;

	store_task_update(t);
	store_defer(task_finished_cb, t);
}

/* After the final state committed: tell the watchers, free the slot. */
static void
task_finished_cb(void *arg, int status)
{
	struct task	*t = arg;

	if (status != STORE_COMMITTED) {
		/* Its submission failed in the same turn: nothing to retry. */
		if (idmap_get(task_table, t->id) != t) {
			task_unref(t, "table");
			return;
		}
		/* The disk refused it: write the final state again later. */
		log_warnx("task %lld: final state not stored; retrying in %gs",
		    (long long)t->id, TASK_STORE_RETRY);
		loop_after(TASK_STORE_RETRY, task_store_again, t);
		return;
	}
	if (idmap_get(task_table, t->id) == t)
		idmap_remove(task_table, t->id);
	watch_fire(t->id, WATCH_DONE, t->state);
	sched_kick();
	task_unref(t, __func__);
}

/* Keeps the outcome of the attempt that just ended (running tasks only). */
static void
task_attempt_record(struct task *t, enum fp_state outcome, json_t *exception)
{
	char	 started[FP_TIME_LEN], finished[FP_TIME_LEN];
	json_t	*a;

	if (t->state != FP_RUNNING)
		return;
	if (t->attempts == NULL)
		t->attempts = xjson(json_array());
	a = xjson(json_pack("{s:i,s:s,s:s,s:s}", "attempt", t->attempt,
	    "outcome", fp_state_name(outcome),
	    "started_at", fp_time_format(t->started_at, started),
	    "finished_at", fp_time_format(loop_now(), finished)));
	if (exception != NULL) {
		/* The output is in the final outcome; attempts keep the why. */
		json_object_set_new(a, "exception", xjson(json_deep_copy(
		    exception)));
		json_object_del(json_object_get(a, "exception"), "stdout");
		json_object_del(json_object_get(a, "exception"), "stderr");
	}
	json_array_append_new(t->attempts, a);
}

/* Kinds without a process hold their queue slot until they end; exec.c
 * releases an exec task's slot when its process is gone. */
static void
task_release_slot(struct task *t)
{
	if (t->state == FP_RUNNING && !task_kinds[t->kind].keeps_slot)
		t->queue->running--;
}

void
task_finish(struct task *t, enum fp_state st, json_t *result, json_t *exception)
{
	if (fp_state_done(t->state)) {
		json_decref(result);
		json_decref(exception);
		return;
	}
	task_attempt_record(t, st, exception);
	task_release_slot(t);
	log_debug("%s: task %lld %s -> %s", __func__, (long long)t->id,
	    fp_state_name(t->state), fp_state_name(st));
	sched_remove(t);
	task_unwatch_deps(t);
	timerq_del(&t->timer);
	t->state = st;
	t->finished_at = loop_now();
	json_decref(t->result);
	json_decref(t->exception);
	t->result = result;
	t->exception = exception;
	store_task_update(t);
	store_defer(task_finished_cb, t);
}

/* Exponential backoff from retry_backoff, capped, with +-25% jitter. */
static double
task_backoff(const struct task *t)
{
	double	d = t->retry_backoff * pow(2, t->attempt - 1);

	if (d > TASK_BACKOFF_MAX)
		d = TASK_BACKOFF_MAX;
	return d * (0.75 + 0.5 * ((double)random() / RAND_MAX));
}

void
task_fail(struct task *t, json_t *exception)
{
	if (fp_state_done(t->state)) {
		json_decref(exception);
		return;
	}
	if (t->attempt > t->max_retries || t->attempt == 0) {
		task_finish(t, FP_FAILED, NULL, exception);
		return;
	}
	task_attempt_record(t, FP_FAILED, exception);
	log_info("task %lld: attempt %d failed, retrying", (long long)t->id,
	    t->attempt);
	task_release_slot(t);
	json_decref(t->exception);
	t->exception = exception;
	t->state = FP_PENDING;
	t->start_after = loop_now() + task_backoff(t);
	store_task_update(t);
	sched_submit(t);
}

/* Starts t now: the scheduler picked it. */
void
task_start(struct task *t)
{
	t->attempt++;
	t->state = FP_RUNNING;
	t->started_at = loop_now();
	t->start_after = 0;
	t->queue->running++;
	store_task_update(t);
	task_kinds[t->kind].start(t);	/* a failure is recorded there */
}

int
task_cancel(struct task *t)
{
	if (fp_state_done(t->state))
		return 0;
	if (t->state == FP_RUNNING)
		task_kinds[t->kind].stop(t);
	task_finish(t, FP_CANCELLED, NULL, NULL);
	return 1;
}

/* A task found running at start whose daemon died under it. */
static void
task_recover_running(struct task *t)
{
	if (t->kind == TASK_SLEEP) {
		sleep_resume(t);
		return;
	}
	/* never retried while its earlier attempt may still run */
	if (t->kind == TASK_EXEC)
		exec_recover(t);
	task_fail(t, xjson(fp_exception_create("DaemonRestarted",
	    "futured stopped while the task was running (attempt %d)",
	    t->attempt)));
}

static void
task_recover_cb(struct task *t, void *arg)
{
	int	*n = arg;

	task_table_add(t);
	task_compact(t);
	(*n)++;
	if (t->state == FP_RUNNING)
		task_recover_running(t);
	else
		sched_submit(t);
}

int
task_recover(void)
{
	int	n = 0;

	if (store_task_load(task_recover_cb, &n) == -1)
		return -1;
	if (n > 0)
		log_info("recovered %d unfinished tasks", n);
	sched_kick();
	return 0;
}

static void
task_shutdown_cb(int64_t id, void *value, void *arg)
{
	struct task	*t = value;

	/* A sleep has no side effects: it resumes at the next start. */
	if (t->state != FP_RUNNING || t->kind == TASK_SLEEP)
		return;
	task_kinds[t->kind].stop(t);
	task_fail(t, xjson(fp_exception_create("DaemonRestarted",
	    "futured was stopped while the task was running")));
}

void
task_shutdown(void)
{
	if (task_table != NULL)
		idmap_foreach(task_table, task_shutdown_cb, NULL);
}

static void
task_free_cb(int64_t id, void *value, void *arg)
{
	struct task	*t = value;

	sched_remove(t);
	task_unref(t, __func__);
}

void
task_free_all(void)
{
	if (task_table == NULL)
		return;
	idmap_foreach(task_table, task_free_cb, NULL);
	idmap_free(task_table);
	task_table = NULL;
}

void
task_write(struct task *t, struct fp_text *o)
{
	struct fp_task	ft;

	memset(&ft, 0, sizeof ft);
	ft.id = t->id;
	ft.kind = task_kind_name(t->kind);
	ft.state = t->state;
	ft.queue = t->queue->name;
	ft.priority = t->priority;
	ft.key = t->key;
	ft.spec.json = t->spec;
	ft.labels.json = t->labels;
	ft.after.json = t->after;
	ft.attempt = t->attempt;
	ft.max_retries = t->max_retries;
	ft.created_at = t->created_at;
	ft.started_at = t->started_at;
	ft.finished_at = t->finished_at;
	ft.result.json = t->result;
	ft.exception.json = t->exception;
	ft.not_before = t->not_before;
	ft.timeout = t->timeout;
	fp_task_write(o, &ft);
}

/*
 * A submission whose insert did not commit was never acknowledged: it
 * leaves memory without a trace, its work stopped if it had started.  One
 * that did commit no longer needs what only its row needed.
 */
static void
task_inserted_cb(void *arg, int status)
{
	struct task	*t = arg;

	if (status == STORE_COMMITTED)
		task_compact(t);
	else if (idmap_get(task_table, t->id) == t) {
		log_warnx("task %lld: not stored; dropped", (long long)t->id);
		if (t->state == FP_RUNNING)
			task_kinds[t->kind].stop(t);
		sched_remove(t);
		task_unwatch_deps(t);
		timerq_del(&t->timer);
		if (t->state == FP_RUNNING && !task_kinds[t->kind].keeps_slot)
			t->queue->running--;
		idmap_remove(task_table, t->id);
		/*
		 * A task that also finished in that turn has task_finished_cb
		 * still to come (deferred after this one): it drops the
		 * table's reference.
		 */
		if (!fp_state_done(t->state))
			task_unref(t, "table");
		t->state = FP_CANCELLED;
	}
	task_unref(t, __func__);
}

void
task_table_add_new(struct task *t)
{
	task_table_add(t);
	task_ref(t, __func__);
	store_defer(task_inserted_cb, t);
}

void
task_compact(struct task *t)
{
	if (t->kind == TASK_SLEEP && t->spec != NULL) {
		t->seconds = json_number_value(json_object_get(t->spec,
		    "seconds"));
		t->sleep_result = json_incref(json_object_get(t->spec,
		    "result"));
		json_decref(t->spec);
		t->spec = NULL;
	}
	if (t->labels != NULL && json_object_size(t->labels) == 0) {
		json_decref(t->labels);
		t->labels = NULL;
	}
}
