/*
 * sched.c: when a pending task may start, and which one starts next.
 *
 * A pending task first waits for its dependencies (watches) and its
 * start_after time (timerq.c), then enters its queue.  Each queue keeps
 * one heap per kind, ordered by priority, then submission order, and a
 * kind says when another of its attempts may start (exec tasks need one
 * of the --jobs process slots, http tasks one of the --http-max transfers,
 * sleeps nothing), so no kind waits behind another kind's full limit.
 * Starting shares the loop turn's work budget (loop_work_over): a
 * thousand tasks that become ready at once start over a few turns.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

struct sched_queue {
	struct queue	 q;
	struct task	**heap[KIND_COUNT];
	size_t		 len[KIND_COUNT];
	size_t		 cap[KIND_COUNT];
};

static struct sched_queue	**sched_queues;
static size_t			  sched_nqueues;
static size_t			  sched_npending;
static struct event		 *sched_kick_ev;	/* starts the rest */
static int			  sched_kicking;	/* sched_kick runs */
static int			  sched_kick_again;	/* asked meanwhile */

static void
sched_queue_loaded(void *arg, const char *name, int concurrency, int paused)
{
	struct queue	*q = sched_queue(name);

	q->concurrency = concurrency;
	q->paused = paused;
	q->loaded = 1;
}

static void
sched_queues_loaded(void *arg, int status)
{
	*(int *)arg = status;
}

static int	sched_load_status;

/* Loads the saved queues; sched_init_status says how, once answered. */
void
sched_init(void)
{
	sched_queue(SCHED_DEFAULT_QUEUE);
	sched_load_status = STORE_FAILED;
	store_queue_load(sched_queue_loaded, sched_queues_loaded,
	    &sched_load_status);
}

/* Queues whose settings another node deleted have none here either. */
static void
sched_reloaded(void *arg, int status)
{
	struct queue	*q;
	size_t		 i;

	for (i = sched_nqueues; status == STORE_OK && i-- > 0; ) {
		q = &sched_queues[i]->q;
		if (!q->loaded) {
			q->concurrency = 0;
			q->paused = 0;
			sched_queue_tidy(q);
		}
	}
	sched_kick();
}

/* Another node changed a queue: its settings again from the store. */
void
sched_reload(void)
{
	size_t	i;

	for (i = 0; i < sched_nqueues; i++)
		sched_queues[i]->q.loaded = 0;
	store_queue_load(sched_queue_loaded, sched_reloaded, NULL);
}

/*
 * The settings did not commit (a full disk): memory goes back to the
 * store's, once for the turn however many changed.  Tasks an unpause
 * started meanwhile go on.  (On PostgreSQL a reload that cannot read is
 * made again when the connection is back: cluster.c.)
 */
static void
sched_saved_cb(void *arg, int status)
{
	static unsigned long	reloaded_turn;

	if (status == STORE_COMMITTED || !loop_first_in_turn(&reloaded_turn))
		return;
	log_warnx("queue settings not stored; the stored ones apply again");
	sched_reload();
}

void
sched_queue_save(struct queue *q)
{
	store_queue_save(q->name, q->concurrency, q->paused);
	store_defer(sched_saved_cb, NULL);
}

int
sched_init_status(void)
{
	return sched_load_status == STORE_OK ? 0 : -1;
}

/* Ready tasks waiting in q for a slot. */
size_t
sched_queue_waiting(struct queue *q)
{
	struct sched_queue	*sq = (struct sched_queue *)q;

	size_t	n = 0;
	int	k;

	for (k = 0; k < KIND_COUNT; k++)
		n += sq->len[k];
	return n;
}

struct queue *
sched_queue_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sched_nqueues; i++)
		if (strcmp(sched_queues[i]->q.name, name) == 0)
			return &sched_queues[i]->q;
	return NULL;
}

size_t
sched_queue_count(void)
{
	return sched_nqueues;
}

struct queue *
sched_queue_at(size_t i)
{
	return i < sched_nqueues ? &sched_queues[i]->q : NULL;
}

static void
sched_queue_free(struct sched_queue *sq)
{
	int	k;

	for (k = 0; k < KIND_COUNT; k++)
		free(sq->heap[k]);
	free(sq->q.name);
	free(sq);
}

void
sched_free(void)
{
	size_t	i;

	for (i = 0; i < sched_nqueues; i++)
		sched_queue_free(sched_queues[i]);
	free(sched_queues);
	sched_queues = NULL;
	sched_nqueues = 0;
	if (sched_kick_ev != NULL)
		event_free(sched_kick_ev);
	sched_kick_ev = NULL;
}

struct queue *
sched_queue(const char *name)
{
	struct sched_queue	*sq;
	struct queue		*q;

	if ((q = sched_queue_find(name)) != NULL)
		return q;
	sq = xcalloc(1, sizeof *sq);
	sq->q.name = xstrdup(name);
	sched_queues = xreallocarray(sched_queues, sched_nqueues + 1,
	    sizeof *sched_queues);
	sched_queues[sched_nqueues++] = sq;
	return &sq->q;
}

void
sched_queue_hold(struct queue *q)
{
	q->tasks++;
}

void
sched_queue_release(struct queue *q)
{
	q->tasks--;
	sched_queue_tidy(q);
}

void
sched_queue_tidy(struct queue *q)
{
	size_t	i;

	if (q->tasks > 0 || q->concurrency != 0 || q->paused ||
	    strcmp(q->name, SCHED_DEFAULT_QUEUE) == 0)
		return;
	for (i = 0; i < sched_nqueues; i++)
		if (&sched_queues[i]->q == q)
			break;
	if (i == sched_nqueues)
		return;
	sched_queue_free(sched_queues[i]);
	sched_queues[i] = sched_queues[--sched_nqueues];
}

static int
sched_heap_of(const struct task *t)
{
	return kind_index(t->kind);
}

/* Does a run before b? Higher priority first, then older first. */
static int
sched_before(const struct task *a, const struct task *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->id < b->id;
}

static void
sched_heap_set(struct task **h, size_t i, struct task *t)
{
	h[i] = t;
	t->heap_index = i;
}

static void
sched_sift_up(struct task **h, size_t i)
{
	struct task	*t = h[i];

	while (i > 0 && sched_before(t, h[(i - 1) / 2])) {
		sched_heap_set(h, i, h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	sched_heap_set(h, i, t);
}

static void
sched_sift_down(struct task **h, size_t len, size_t i)
{
	struct task	*t = h[i];
	size_t		 c;

	while ((c = 2 * i + 1) < len) {
		if (c + 1 < len && sched_before(h[c + 1], h[c]))
			c++;
		if (!sched_before(h[c], t))
			break;
		sched_heap_set(h, i, h[c]);
		i = c;
	}
	sched_heap_set(h, i, t);
}

static void
sched_push(struct task *t)
{
	struct sched_queue	*sq = (struct sched_queue *)t->queue;
	int			 k = sched_heap_of(t);

	if (sq->len[k] == sq->cap[k]) {
		sq->cap[k] = sq->cap[k] ? sq->cap[k] * 2 : 16;
		sq->heap[k] = xreallocarray(sq->heap[k], sq->cap[k],
		    sizeof *sq->heap[k]);
	}
	sched_heap_set(sq->heap[k], sq->len[k], t);
	sched_sift_up(sq->heap[k], sq->len[k]++);
	sched_npending++;
}

void
sched_remove(struct task *t)
{
	struct sched_queue	*sq = (struct sched_queue *)t->queue;
	size_t			 i = t->heap_index, n;
	int			 k = sched_heap_of(t);

	limits_unpark(t);
	if (i == TASK_NOT_QUEUED)
		return;
	t->heap_index = TASK_NOT_QUEUED;
	sched_npending--;
	n = --sq->len[k];
	if (i == n)
		return;
	sched_heap_set(sq->heap[k], i, sq->heap[k][n]);
	sched_sift_down(sq->heap[k], n, i);
	sched_sift_up(sq->heap[k], sq->heap[k][i]->heap_index);
}

int
sched_waits(const struct task *t)
{
	return t->heap_index != TASK_NOT_QUEUED || t->parked != NULL;
}

void
sched_ready(struct task *t)
{
	sched_push(t);
	sched_kick();
}

static void
sched_delay_cb(void *arg)
{
	sched_ready(arg);
}

/* Enters the queue now, or when start_after comes. */
static void
sched_after_delay(struct task *t)
{
	/* A retry's backoff always takes a turn, even when it is 0. */
	if (t->start_after <= 0) {
		sched_ready(t);
		return;
	}
	timerq_add(&t->timer, t->start_after, sched_delay_cb, t);
}

static void
sched_dep_cb(int64_t dep, enum fp_state st, void *arg)
{
	struct task	*t = arg;
	size_t		 i;

	for (i = 0; i < json_array_size(t->after); i++)
		if (json_integer_value(json_array_get(t->after, i)) == dep)
			t->dep_watches[i] = NULL;	/* consumed */
	if (st != FP_SUCCEEDED) {
		task_finish(t, FP_FAILED, NULL, xjson(fp_exception_create(
		    "DependencyFailed", "dependency %lld was %s",
		    (long long)dep, fp_state_name(st))));
		return;
	}
	if (--t->deps_left == 0)
		sched_after_delay(t);
}

/* The dependencies' states, asked for by sched_submit. */
struct sched_deps {
	struct task	*task;
	int64_t		*ids;
	int		*states;
	size_t		 n;
};

/* Watches the unfinished dependencies; fails t when one did not succeed. */
static void
sched_deps_cb(void *arg, int status)
{
	struct sched_deps	*d = arg;
	struct task		*t = d->task;
	size_t			 i;
	int			 st;

	t->deps_left = 0;
	for (i = 0; t->state == FP_PENDING && !t->waiting && i < d->n; i++) {
		/* unreadable, or purged: treated as lost */
		st = status == STORE_OK && d->states[i] >= 0 ? d->states[i] :
		    FP_CANCELLED;
		if (st == FP_SUCCEEDED)
			continue;
		if (fp_state_done((enum fp_state)st)) {
			task_finish(t, FP_FAILED, NULL, xjson(fp_exception_create(
			    "DependencyFailed", "dependency %lld was %s",
			    (long long)d->ids[i], fp_state_name(st))));
			break;
		}
		if (t->dep_watches == NULL)
			t->dep_watches = xcalloc(d->n, sizeof *t->dep_watches);
		t->dep_watches[i] = watch_add(d->ids[i], WATCH_DONE, sched_dep_cb,
		    t);
		t->deps_left++;
	}
	if (t->state == FP_PENDING && !t->waiting && t->deps_left == 0)
		sched_after_delay(t);
	free(d->ids);
	free(d->states);
	free(d);
	task_unref(t, __func__);
}

void
sched_submit(struct task *t)
{
	struct sched_deps	*d;
	size_t			 i, n = json_array_size(t->after);

	if (n == 0) {
		sched_after_delay(t);
		return;
	}
	d = xcalloc(1, sizeof *d);
	d->task = t;
	d->n = n;
	d->ids = xcalloc(n, sizeof *d->ids);
	d->states = xcalloc(n, sizeof *d->states);
	for (i = 0; i < n; i++)
		d->ids[i] = json_integer_value(json_array_get(t->after, i));
	task_ref(t, __func__);
	task_states(d->ids, n, d->states, sched_deps_cb, d);
}

/* Can q start another task of heap k now? */
static int
sched_can_start(struct sched_queue *sq, int k)
{
	if (sq->len[k] == 0 || sq->q.paused)
		return 0;
	if (sq->q.concurrency > 0 && sq->q.running >= sq->q.concurrency)
		return 0;
	return kinds[k]->room() > 0;
}

size_t
sched_waiting_kind(int k)
{
	size_t	i, n = 0;

	for (i = 0; i < sched_nqueues; i++)
		n += sched_queues[i]->len[k];
	return n;
}

/* The queue whose head of heap k should start next, or NULL. */
static struct sched_queue *
sched_pick(int k)
{
	struct sched_queue	*best = NULL, *sq;
	size_t			 i;

	for (i = 0; i < sched_nqueues; i++) {
		sq = sched_queues[i];
		if (!sched_can_start(sq, k))
			continue;
		if (best == NULL || sched_before(sq->heap[k][0],
		    best->heap[k][0]))
			best = sq;
	}
	return best;
}

static void
sched_kick_cb(evutil_socket_t fd, short events, void *arg)
{
	sched_kick();
}

/* Out of this turn's budget: the rest start in the next turn. */
static void
sched_kick_defer(void)
{
	if (sched_kick_ev == NULL &&
	    (sched_kick_ev = evtimer_new(loop_base, sched_kick_cb, NULL)) ==
	    NULL)
		fatalx("sched: no memory for an event");
	loop_timer_add(sched_kick_ev, 0);
}

/*
 * Starts what may start, while this turn's work budget lasts (one at
 * least).  A start may end a task at once (a sleep of 0) and free a
 * slot: the kick asked for then is this one going round again, not a
 * recursion as deep as the queue is long.
 */
void
sched_kick(void)
{
	struct sched_queue	*sq;
	struct task		*t;
	int			 k, started = 0;

	if (sched_kicking) {
		sched_kick_again = 1;	/* a start ended a task: go round */
		return;
	}
	/* deferred: the rest start when sched_kick_ev fires */
	if (loop_shutting_down() || (sched_kick_ev != NULL &&
	    evtimer_pending(sched_kick_ev, NULL)))
		return;
	sched_kicking = 1;
	do {
		sched_kick_again = 0;
		for (k = 0; k < KIND_COUNT; k++) {
			while ((sq = sched_pick(k)) != NULL) {
				if (started++ > 0 &&
				    loop_work_over(LOOP_WORK_NEW)) {
					sched_kick_defer();
					goto out;
				}
				t = sq->heap[k][0];
				sched_remove(t);
				if (limits_admit(t))	/* else parked */
					task_start(t);
			}
		}
	} while (sched_kick_again);
out:
	sched_kicking = 0;
}

void
sched_slot_take(struct task *t)
{
	limits_take(t);
	if (t->kind->slotless)	/* it waits, taking nobody's turn */
		return;
	t->slot = 1;
	t->queue->running++;
}

void
sched_slot_give(struct task *t)
{
	limits_release(t);
	if (!t->slot)
		return;
	t->slot = 0;
	t->queue->running--;
}

size_t
sched_pending(void)
{
	return sched_npending;
}

void
sched_apply_config(void)
{
	struct config_queue	*cq;
	struct queue		*q;
	size_t			 i;

	for (i = 0; i < cfg.nqueues; i++) {
		cq = &cfg.queues[i];
		q = sched_queue(cq->name);
		if (cq->has_concurrency)
			q->concurrency = cq->concurrency;
		if (cq->has_paused)
			q->paused = cq->paused;
		sched_queue_save(q);
		sched_queue_tidy(q);
	}
	sched_kick();
}
