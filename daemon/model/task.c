/*
 * task.c: the in-memory side of tasks and their state machine.
 *
 * Only unfinished tasks live in memory (task_table); a finished task exists
 * in the store alone, so memory does not grow with history.  Every
 * transition is written to the store first; what others may learn of it
 * (watchers, replies) waits for the commit.  What differs between kinds
 * is in their kind-*.c; this file treats every task alike.
 */
#include <sys/random.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

#define TASK_BACKOFF_MAX	3600.0
#define TASK_STORE_RETRY	1.0	/* seconds between tries of a full disk */

static struct idmap	*task_table;

/* Why: model.h, above struct task (RSS per sleeping task). */
_Static_assert(sizeof(struct task) <= 312, "struct task outgrew 320 bytes");

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

struct task_out *
task_out(struct task *t)
{
	if (t->out == NULL)
		t->out = xcalloc(1, sizeof *t->out);
	return t->out;
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
	if (t->queue != NULL)
		sched_queue_release(t->queue);
	if (t->kind != NULL && t->kind->free != NULL)
		t->kind->free(t);
	free(t->key);
	json_decref(t->spec);
	json_decref(t->labels);
	json_decref(t->after);
	json_decref(t->result);
	json_decref(t->exception);
	json_decref(t->attempts);
	json_decref(t->attempt_state);
	json_decref(t->limits);
	free(t->credential);
	free(t->out);
	free(t);
}

const char *
task_credential(struct task *t)
{
	unsigned char	raw[16];
	char		hex[2 * sizeof raw + 1];
	size_t		i;

	if (t->credential != NULL)
		return t->credential;
	if (getrandom(raw, sizeof raw, 0) != sizeof raw)
		fatal("getrandom");
	for (i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	xasprintf(&t->credential, "task-%lld-%s", (long long)t->id, hex);
	return t->credential;
}

int64_t
task_credential_check(const char *token, size_t len)
{
	struct task	*t;
	long long	 id;
	char		 end;

	if (len < 6 || strncmp(token, "task-", 5) != 0 ||
	    sscanf(token + 5, "%lld%c", &id, &end) != 2 || end != '-' ||
	    (t = task_find(id)) == NULL || t->credential == NULL ||
	    t->state != FP_RUNNING || t->waiting)
		return 0;
	return secret_equal(t->credential, token, len) ? t->id : 0;
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

static void
task_table_add(struct task *t)
{
	if (task_table == NULL)
		task_table = idmap_create();
	idmap_put(task_table, t->id, t);
}

/* ---- what the store writes of a task (write-behind) ---- */

static void
task_row(void *obj, struct store_row *r)
{
	struct task	*t = obj;

	r->t.id = t->id;
	r->t.kind = t->kind->name;
	r->t.state = t->state;
	r->t.queue = t->queue->name;
	r->t.priority = t->priority;
	r->t.key = t->key;
	r->t.spec.json = t->spec;
	r->t.labels.json = t->labels;
	r->t.after.json = t->after;
	r->t.attempt = t->attempt;
	r->t.max_retries = t->max_retries;
	r->t.created_at = t->created_at;
	r->t.started_at = t->started_at;
	r->t.finished_at = t->finished_at;
	r->t.result.json = t->result;
	r->t.exception.json = t->exception;
	r->t.attempts.json = t->attempts;
	r->t.not_before = t->not_before;
	r->t.timeout = t->timeout;
	r->start_after = t->start_after;
	r->retry_backoff = t->retry_backoff;
	r->attempt_state.json = t->attempt_state;
	r->t.parent = t->parent;
	r->t.child_policy = t->child_policy;
	r->t.limits.json = t->limits;
}

static void
task_store_ref(void *obj)
{
	task_ref(obj, "store");
}

static void
task_store_unref(void *obj)
{
	task_unref(obj, "store");
}

/* A stored task's view: the limit it waits for, which only memory knows. */
static void
task_view(struct fp_task *ft)
{
	struct task	*t = task_find(ft->id);

	if (t != NULL)
		ft->waiting_for = t->waiting_for;
}

const struct store_task_ops task_store_ops = {
	task_row, task_store_ref, task_store_unref, task_view,
};

void
task_stored(struct task *t)
{
	store_task_update(t->id, t);
}

void
task_foreach(void (*cb)(int64_t, void *, void *), void *arg)
{
	if (task_table != NULL)
		idmap_foreach(task_table, cb, arg);
}

/* ---- states ---- */

struct task_states {
	const int64_t	*ids;
	size_t		 n;
	int		*states;
	store_done_cb	*cb;
	void		*arg;
};

static void
task_states_cb(void *arg, int status)
{
	struct task_states	*ts = arg;
	struct task		*t;
	size_t			 i;

	for (i = 0; i < ts->n; i++)
		if ((t = task_find(ts->ids[i])) != NULL &&
		    !fp_state_done(t->state))
			ts->states[i] = t->state;
	ts->cb(ts->arg, status);
	free(ts);
}

/*
 * A task in memory with a final state is finished but not yet stored (a
 * commit failed, a disk full): it counts as done only once the store says
 * so, and its watchers hear then.  So the store is asked for every id, and
 * what memory knows of unfinished tasks wins.
 */
void
task_states(const int64_t *ids, size_t n, int *states, store_done_cb *cb,
    void *arg)
{
	struct task_states	*ts = xcalloc(1, sizeof *ts);

	ts->ids = ids;
	ts->n = n;
	ts->states = states;
	ts->cb = cb;
	ts->arg = arg;
	store_task_states(ids, n, states, task_states_cb, ts);
}

/* ---- transitions ---- */

static void	task_finished_cb(void *, int);

static void
task_store_again(void *arg)
{
	struct task	*t = arg;

	task_stored(t);
	store_defer(task_finished_cb, t);
}

/* After the final state committed: tell the watchers. */
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
	cluster_kick();
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
	/* built by hand: json_pack's format parsing was most of its cost */
	a = xjson(json_object());
	json_object_set_new_nocheck(a, "attempt", xjson(json_integer(
	    t->attempt)));
	json_object_set_new_nocheck(a, "outcome", xjson(json_string_nocheck(
	    fp_state_name(outcome))));
	json_object_set_new_nocheck(a, "started_at", xjson(
	    json_string_nocheck(fp_time_format(t->started_at, started))));
	json_object_set_new_nocheck(a, "finished_at", xjson(
	    json_string_nocheck(fp_time_format(loop_now(), finished))));
	if (exception != NULL) {
		/* The output is in the final outcome; attempts keep the why. */
		json_object_set_new(a, "exception", xjson(json_deep_copy(
		    exception)));
		json_object_del(json_object_get(a, "exception"), "stdout");
		json_object_del(json_object_get(a, "exception"), "stderr");
	}
	json_array_append_new(t->attempts, a);
}

/* How long the running attempt has run; -1 when none runs. */
static double
task_run_time(const struct task *t)
{
	return t->state == FP_RUNNING ? loop_now() - t->started_at : -1;
}

void
task_settle(struct task *t, enum fp_state st, json_t *result, json_t *exception)
{
	double	run = t->waiting ? -1 : task_run_time(t);

	if (fp_state_done(t->state)) {
		json_decref(result);
		json_decref(exception);
		return;
	}
	if (!t->waiting)	/* else recorded when its own part ended */
		task_attempt_record(t, st, exception);
	/* a group that timed out has no runner to give back its keys */
	limits_release(t);
	log_debug("%s: task %lld %s -> %s", __func__, (long long)t->id,
	    fp_state_name(t->state), fp_state_name(st));
	sched_remove(t);
	task_unwatch_deps(t);
	timerq_del(&t->timer);
	t->state = st;
	t->finished_at = loop_now();
	json_decref(t->result);
	json_decref(t->exception);
	json_decref(t->attempt_state);
	t->attempt_state = NULL;
	t->result = result;
	t->exception = exception;
	task_stored(t);
	events_task(t, st == FP_SUCCEEDED ? "task.succeeded" : st == FP_FAILED ?
	    "task.failed" : "task.cancelled", -1, run);
	store_defer(task_finished_cb, t);
	tree_settled(t);
}

/*
 * t's own part is over with this outcome, and it waits for its children
 * (tree.c): still running, its attempt recorded and its slot given back;
 * attempt_state says so, for a restart.
 */
static void
task_wait_children(struct task *t, enum fp_state st, json_t *result,
    json_t *exception)
{
	task_attempt_record(t, st, exception);
	sched_remove(t);
	task_unwatch_deps(t);
	/* a running group's timeout bounds its members too; else t's timer
	 * is its kind's, or its delay's */
	if (!t->kind->group || t->state != FP_RUNNING)
		timerq_del(&t->timer);
	json_decref(t->result);
	json_decref(t->exception);
	t->result = result;
	t->exception = exception;
	t->waiting = 1;
	t->waiting_state = st;
	json_decref(t->attempt_state);
	t->attempt_state = tree_mark(st, t->group_failing);
	task_stored(t);
	tree_check(t);
}

void
task_finish(struct task *t, enum fp_state st, json_t *result, json_t *exception)
{
	if (fp_state_done(t->state) || (t->waiting && st != FP_CANCELLED)) {
		json_decref(result);
		json_decref(exception);
		return;
	}
	if (st != FP_CANCELLED && !t->waiting && tree_waits(t))
		task_wait_children(t, st, result, exception);
	else
		task_settle(t, st, result, exception);
}

void
task_group_end(struct task *g)
{
	if (fp_state_done(g->state) || g->waiting)
		return;
	sched_slot_give(g);
	task_finish(g, g->group_failing ? FP_FAILED : FP_SUCCEEDED, NULL, NULL);
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
	double	run = task_run_time(t);

	task_attempt_record(t, FP_FAILED, exception);
	log_info("task %lld: attempt %d failed, retrying", (long long)t->id,
	    t->attempt);
	json_decref(t->exception);
	t->exception = exception;
	json_decref(t->attempt_state);
	t->attempt_state = NULL;
	t->state = FP_PENDING;
	t->start_after = loop_now() + task_backoff(t);
	task_stored(t);
	events_task(t, "task.retrying", -1, run);
	sched_submit(t);
}

void
task_start(struct task *t)
{
	/* ready: submitted, or its delay or retry's backoff over */
	double	ready = t->start_after > t->created_at ? t->start_after :
	    t->created_at;

	if (t->waiting)		/* its own part ended before it started */
		return;
	t->attempt++;
	t->state = FP_RUNNING;
	t->started_at = loop_now();
	t->start_after = 0;
	sched_slot_take(t);
	task_stored(t);
	events_task(t, "task.started", t->started_at - ready, -1);
	t->kind->start(t);	/* its end comes through task_attempt_done */
}

void
task_attempt_done(struct task *t, json_t *result, json_t *exception)
{
	sched_slot_give(t);
	if ((result == NULL && exception == NULL) || t->state != FP_RUNNING) {
		/* stopped, or moved on (cancelled, shut down, retried) */
		json_decref(result);
		json_decref(exception);
	} else if (exception != NULL) {
		json_decref(result);
		task_fail(t, exception);
	} else
		task_finish(t, FP_SUCCEEDED, result, NULL);
	sched_kick();
}

void
task_attempt_state(struct task *t, json_t *state)
{
	if (t->state != FP_RUNNING) {
		json_decref(state);
		return;
	}
	json_decref(t->attempt_state);
	t->attempt_state = state;
	task_stored(t);
}

int
task_cancel(struct task *t, const char *message)
{
	int	running = t->state == FP_RUNNING && !t->waiting;

	if (fp_state_done(t->state))
		return 0;
	task_finish(t, FP_CANCELLED, NULL, fp_cancelled_exception(message));
	if (running)
		t->kind->stop(t, 1);
	return 1;
}

int
task_resolve(struct task *t, json_t *result, json_t *exception)
{
	if (fp_state_done(t->state) || t->waiting) {
		json_decref(result);
		json_decref(exception);
		return 0;
	}
	if (t->state == FP_RUNNING) {
		timerq_del(&t->timer);	/* the kind's timeout */
		task_attempt_done(t, result, exception);
	} else if (exception != NULL) {
		json_decref(result);
		task_finish(t, FP_FAILED, NULL, exception);
	} else
		task_finish(t, FP_SUCCEEDED, result, NULL);
	return 1;
}

int
task_output(struct task *t, int which, const char **buf, size_t *len)
{
	if (t->state != FP_RUNNING || t->waiting || t->kind->output == NULL)
		return -1;
	return t->kind->output(t, which, buf, len);
}

void
task_write(struct task *t, struct fp_text *o)
{
	struct fp_task	ft;

	memset(&ft, 0, sizeof ft);
	ft.id = t->id;
	ft.kind = t->kind->name;
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
	ft.parent = t->parent;
	ft.child_policy = t->child_policy;
	ft.waiting = t->waiting;
	ft.limits.json = t->limits;
	ft.waiting_for = t->waiting_for;
	fp_task_write(o, &ft);
}

void
task_compact(struct task *t)
{
	if (t->kind->compact != NULL)
		t->kind->compact(t);
	if (t->labels != NULL && json_object_size(t->labels) == 0) {
		json_decref(t->labels);
		t->labels = NULL;
	}
}

/* ---- submission ---- */

/*
 * A submission whose insert did not commit was never acknowledged: it
 * leaves memory without a trace, its work stopped if it had started.  One
 * that did commit no longer needs what only its row needed.
 */
static void
task_inserted_cb(void *arg, int status)
{
	struct task	*t = arg;
	int		 running = t->state == FP_RUNNING;

	if (status == STORE_COMMITTED && store_shared() &&
	    t->state == FP_PENDING && !t->claimed) {
		/* the node that claims it runs it (cluster.c): maybe this one */
		task_drop(t);
		cluster_kick();
	} else if (status == STORE_COMMITTED)
		task_compact(t);
	else if (idmap_get(task_table, t->id) == t) {
		log_warnx("task %lld: not stored; dropped", (long long)t->id);
		tree_unlink(t);
		sched_remove(t);
		task_unwatch_deps(t);
		timerq_del(&t->timer);
		idmap_remove(task_table, t->id);
		/*
		 * A task that also finished in that turn has task_finished_cb
		 * still to come (deferred after this one): it drops the
		 * table's reference.
		 */
		if (!fp_state_done(t->state))
			task_unref(t, "table");
		t->state = FP_CANCELLED;
		if (running)
			t->kind->stop(t, 0);
	}
	task_unref(t, __func__);
}

int
task_submit(struct task *t)
{
	int64_t	id;

	if ((id = store_task_insert(t)) == -1)
		return -1;
	t->id = id;
	task_table_add(t);
	tree_link(t);
	events_task(t, "task.created", -1, -1);
	task_ref(t, __func__);
	store_defer(task_inserted_cb, t);
	if (!store_shared())
		sched_submit(t);
	return 0;
}

/* ---- recovery ---- */

/* A task from its row (recovery at start); NULL for an unknown kind. */
static struct task *
task_from_row(const struct store_row *r)
{
	const struct kind	*k = kind_find(r->t.kind);
	struct task		*t;

	if (k == NULL) {
		/* a newer futured's, maybe: left in the store untouched */
		log_warnx("task %lld has unknown kind '%s': not loaded",
		    (long long)r->t.id, r->t.kind);
		return NULL;
	}
	t = task_create();
	t->id = r->t.id;
	t->kind = k;
	t->state = r->t.state;
	t->queue = sched_queue(r->t.queue);
	sched_queue_hold(t->queue);
	t->priority = r->t.priority;
	t->key = r->t.key != NULL ? xstrdup(r->t.key) : NULL;
	t->spec = store_value_json(&r->t.spec);
	t->labels = store_value_json(&r->t.labels);
	t->after = store_value_json(&r->t.after);
	t->timeout = r->t.timeout;
	t->not_before = r->t.not_before;
	t->start_after = r->start_after;
	t->retry_backoff = r->retry_backoff;
	t->attempt = r->t.attempt;
	t->max_retries = r->t.max_retries;
	t->created_at = r->t.created_at;
	t->started_at = r->t.started_at;
	t->exception = store_value_json(&r->t.exception);
	t->attempts = store_value_json(&r->t.attempts);
	t->attempt_state = store_value_json(&r->attempt_state);
	t->result = store_value_json(&r->t.result);
	t->parent = r->t.parent;
	t->child_policy = r->t.child_policy;
	t->limits = store_value_json(&r->t.limits);
	t->children_remote = r->has_children != 0;
	if (t->spec == NULL)
		t->spec = xjson(json_object());
	if (t->labels == NULL)
		t->labels = xjson(json_object());
	return t;
}

/* A task found running at start whose daemon died under it. */
static void
task_recover_running(struct task *t)
{
	if (tree_marked(t->attempt_state, &t->waiting_state,
	    &t->group_failing)) {
		t->waiting = 1;		/* for its children: tree_check */
		if (t->kind->group)
			t->kind->recover(t);	/* its timeout */
		/* at start-up, once its children are loaded too */
		if (store_shared())
			tree_check(t);
		return;
	}
	/* never retried while its earlier attempt may still run */
	sched_slot_take(t);
	if (t->kind->recover(t))
		return;
	sched_slot_give(t);
	task_fail(t, xjson(fp_exception_create("DaemonRestarted",
	    "futured stopped while the task was running (attempt %d)",
	    t->attempt)));
}

struct task_recovery {
	int64_t	*ids;		/* loaded, to resume */
	size_t	 n, cap;
	int	 status;
};

/* A stored task into memory, unless it is there already. */
struct task *
task_load(const struct store_row *r)
{
	struct task	*t;

	if (task_find(r->t.id) != NULL || (t = task_from_row(r)) == NULL)
		return NULL;
	task_table_add(t);
	tree_link(t);
	task_compact(t);
	return t;
}

/*
 * A loaded task goes on: a running one is recovered, a pending one waits.
 * One that ended meanwhile (cancelled between its claim's rows and the
 * claim's commit) stays ended: its end is on its way to the store.
 */
void
task_resume(struct task *t)
{
	if (fp_state_done(t->state))
		return;
	if (t->state == FP_RUNNING)
		task_recover_running(t);
	else if (tree_marked(t->attempt_state, &t->waiting_state,
	    &t->group_failing)) {
		t->waiting = 1;	/* a group closed before any node held it */
		tree_check(t);
	} else
		sched_submit(t);
}

/*
 * A loaded task that is not this node's after all (its claim failed).  One
 * that ended meanwhile leaves memory when its end commits
 * (task_finished_cb holds the table's reference).
 */
void
task_drop(struct task *t)
{
	if (idmap_get(task_table, t->id) != t || fp_state_done(t->state))
		return;
	tree_unlink(t);
	idmap_remove(task_table, t->id);
	task_unref(t, "table");
}

/* ---- a claimed task given back (several nodes) ---- */

/*
 * Is pending t at rest: in its queue or a limit's line, or waiting for its
 * delay or its dependencies, rather than between two of them (its
 * dependencies' states being read)?
 */
static int
task_at_rest(const struct task *t)
{
	size_t	i;

	if (sched_waits(t) || t->timer.index != TIMERQ_IDLE)
		return 1;
	for (i = 0; t->dep_watches != NULL && i < json_array_size(t->after);
	    i++)
		if (t->dep_watches[i] != NULL)
			return 1;
	return 0;
}

/* The store kept it here after all: back in memory, waiting as before. */
static void
task_release_undo(struct task *t)
{
	if (task_find(t->id) == NULL && !fp_state_done(t->state)) {
		task_table_add(t);	/* with the reference it had */
		tree_link(t);
		task_resume(t);
		return;
	}
	task_unref(t, "table");
}

static void
task_released_cb(void *arg, int status)
{
	struct task	*t = arg;

	if (status != STORE_COMMITTED)
		task_release_undo(t);
	else
		task_unref(t, "table");
}

static void
task_release_cb(void *arg, int status)
{
	struct task	*t = arg;

	if (status == STORE_OK)
		store_defer(task_released_cb, t);
	else	/* not this node's waiting task, a cancel asked: kept */
		task_release_undo(t);
}

int
task_release(struct task *t, int fresh)
{
	if (t->state != FP_PENDING || t->waiting || task_find(t->id) != t ||
	    (!fresh && !task_at_rest(t)))
		return -1;
	sched_remove(t);
	timerq_del(&t->timer);
	task_unwatch_deps(t);
	tree_unlink(t);
	idmap_remove(task_table, t->id);
	store_release(t->id, task_release_cb, t);
	return 0;
}

/*
 * Loaded first, resumed once all are: a parent that ends while it resumes
 * must count the children that come after it in the store.
 */
static void
task_recover_cb(void *arg, int status, const struct store_row *r)
{
	struct task_recovery	*rec = arg;
	struct task		*t = task_load(r);

	if (t == NULL)
		return;
	if (rec->n == rec->cap)
		rec->ids = xreallocarray(rec->ids, rec->cap = rec->cap * 2 +
		    256, sizeof *rec->ids);
	rec->ids[rec->n++] = t->id;
}

static void
task_recheck_cb(int64_t id, void *value, void *arg)
{
	tree_check(value);
}

static void
task_recovered_cb(void *arg, int status)
{
	struct task_recovery	*rec = arg;
	struct task		*t;
	size_t			 i;

	rec->status = status;
	for (i = 0; i < rec->n; i++)
		if ((t = task_find(rec->ids[i])) != NULL)
			task_resume(t);
	if (rec->n > 0)
		log_info("recovered %zu unfinished tasks", rec->n);
	free(rec->ids);
	rec->ids = NULL;
	rec->n = rec->cap = 0;
	task_foreach(task_recheck_cb, NULL);	/* children all loaded */
	sched_kick();
}

static struct task_recovery	task_recovery;

/* Loads the unfinished tasks; task_recover_status says how, once done. */
void
task_recover(void)
{
	task_recovery.n = 0;
	task_recovery.status = STORE_FAILED;
	store_task_load(task_recover_cb, task_recovered_cb, &task_recovery);
}

int
task_recover_status(void)
{
	return task_recovery.status == STORE_OK ? 0 : -1;
}

/* ---- shutdown ---- */

static void
task_shutdown_cb(int64_t id, void *value, void *arg)
{
	struct task	*t = value;

	if (t->state != FP_RUNNING || t->kind->resumes || t->waiting)
		return;
	task_fail(t, xjson(fp_exception_create("DaemonRestarted",
	    "futured was stopped while the task was running")));
	t->kind->stop(t, 1);
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
