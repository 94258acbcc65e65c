/*
 * store.c: what the store does whatever the database (store.h): the
 * turn's transaction and its group commit, the work that waits for the
 * commit, write-behind, ids, and daemon.info's counts.
 *
 * Group commit: the first write of a loop turn opens a transaction and
 * activates commit_ev; libevent runs it after the events already active in
 * this turn, so one commit (one fsync) covers everything the turn changed.
 * Work that must not be seen before it is durable (replies, watchers)
 * waits in the deferred list and runs after it: in order, a few
 * milliseconds of it a loop turn (a commit that settles a thousand tasks
 * does not hold up the loop), the rest in the next turns.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "store/store-backend.h"

static const struct store_backend_ops *const store_backends[] = {
	&store_sqlite_ops,
	&store_pg_ops,
};

struct store_deferred {
	store_done_cb	*cb;
	void		*arg;
};

/*
 * The turn's lists (rows to write, work that waits for the commit) keep
 * their memory for the next turn up to this many entries: a first
 * allocation of 64 is past malloc's small sizes, and glibc consolidates
 * its free small chunks at every such allocation (5% of a submit).
 */
#define STORE_SPARE_MAX	4096

/* A task changed this turn, written once at the next sync. */
struct store_dirty {
	int64_t		 id;
	void		*obj;
	int		 is_new;	/* not in the database yet */
};

static const struct store_backend_ops	*store_ops;
static struct store_backend		*store_be;
static const struct store_task_ops	*store_tops;
static struct event			*store_commit_ev;
static int				 store_in_txn;
static int				 store_txn_failed;	/* roll back */
static struct store_deferred		*store_deferred;
static size_t				 store_ndeferred, store_deferred_cap;
static struct store_deferred		*store_spare;	/* a turn's, to reuse */
static size_t				 store_spare_cap;
static struct store_dirty		*store_dirty;
static size_t				 store_ndirty, store_dirty_cap;
static struct idmap			*store_dirty_ids;	/* id -> index+1 */
static int64_t				 store_last_id;
/*
 * daemon.info's counts: counted at open, then kept by every write; what
 * the current transaction changes waits in the deltas until it commits.
 */
struct store_counts {
	int64_t	state[FP_STATE_COUNT];
	int64_t	unretrieved;
};
static struct store_counts	store_counted, store_delta;
static int			store_recount;	/* a backend could not tell */
static int			store_last_status;
static int			store_inflight;	/* commits not answered */
static char			*store_node_name;
static double			 store_lease_secs = 10;
static store_event_cb		*store_event_handler;

/* A turn sent to commit, with the work that waits for it. */
struct store_turn {
	struct store_deferred	*list;
	size_t			 n, cap;
	size_t			 done;		/* run so far */
	int			 status;	/* how it ended */
	double			 sent;		/* its commit (monotonic) */
	struct store_turn	*next;
};
static struct metric		*store_commit_metric;
/* Ended turns whose work has not all run, oldest first. */
static struct store_turn	*store_ended, **store_ended_tail = &store_ended;
static struct event		*store_ended_ev;
static int			 store_running_ended;

static void	store_commit_cb(evutil_socket_t, short, void *);
static void	store_ended_cb(evutil_socket_t, short, void *);
static void	store_ended_run(int);
static int	store_sync(void);

static void
store_counted_cb(void *arg, int status)
{
	*(int *)arg = status;
}

/*
 * Counts every task again, for a backend that answers at once; a shared
 * database (live_counts) is counted by each daemon.info instead, as other
 * nodes change it.
 */
static int
store_count_all(void)
{
	int	status = STORE_FAILED;

	memset(&store_delta, 0, sizeof store_delta);
	store_recount = 0;
	if (store_ops->live_counts)
		return 0;
	store_ops->count(store_be, store_counted.state,
	    &store_counted.unretrieved, store_counted_cb, &status);
	return status == STORE_OK ? 0 : -1;
}

/* n tasks (+1 or -1) enter state, unretrieved ones when failed. */
static void
store_count(int state, int n, int retrieved)
{
	if (state < 0 || state >= FP_STATE_COUNT)
		return;
	store_delta.state[state] += n;
	if (state == FP_FAILED && !retrieved)
		store_delta.unretrieved += n;
}

static void
store_count_commit(void)
{
	int	i;

	for (i = 0; i < FP_STATE_COUNT; i++)
		store_counted.state[i] += store_delta.state[i];
	store_counted.unretrieved += store_delta.unretrieved;
	memset(&store_delta, 0, sizeof store_delta);
}

/* The backend of url's scheme, or NULL. */
static const struct store_backend_ops *
store_backend_of(const char *url)
{
	const char	*colon = strchr(url, ':');
	size_t		 i, n = colon != NULL ? (size_t)(colon - url) : 0;

	for (i = 0; n > 0 && colon[1] != '\0' &&
	    i < sizeof store_backends / sizeof store_backends[0]; i++)
		if (strlen(store_backends[i]->scheme) == n &&
		    strncmp(store_backends[i]->scheme, url, n) == 0)
			return store_backends[i];
	return NULL;
}

int
store_url_check(const char *url)
{
	return store_backend_of(url) != NULL ? 0 : -1;
}

int
store_open(const char *url, const char *schema, int sync_full,
    const struct store_task_ops *tops)
{
	if (store_commit_metric == NULL)
		store_commit_metric = metric_new(METRIC_HISTOGRAM,
		    "futured_store_commit_seconds", "From a turn's commit sent "
		    "to its answer (fsync included)", NULL,
		    metric_buckets_seconds, METRIC_BUCKETS_SECONDS);
	if ((store_ops = store_backend_of(url)) == NULL) {
		log_warnx("store: %s: not a store URL (sqlite:PATH or "
		    "postgresql://...)", url);
		return -1;
	}
	store_tops = tops;
	if (store_ops->open(url, schema, sync_full, &store_be) == -1)
		goto fail;
	if ((store_ops->last_id != NULL &&
	    store_ops->last_id(store_be, &store_last_id) == -1) ||
	    store_count_all() == -1)
		goto fail;
	store_dirty_ids = idmap_create();
	store_commit_ev = event_new(loop_base, -1, 0, store_commit_cb, NULL);
	store_ended_ev = evtimer_new(loop_base, store_ended_cb, NULL);
	if (store_commit_ev == NULL || store_ended_ev == NULL)
		goto fail;
	return 0;
fail:
	store_close();
	return -1;
}

void
store_close(void)
{
	if (store_be == NULL) {
		store_ops = NULL;
		return;
	}
	if (store_in_txn || store_ndeferred > 0 || store_ndirty > 0)
		store_flush();
	store_drain();
	if (store_commit_ev != NULL)
		event_free(store_commit_ev);
	store_commit_ev = NULL;
	if (store_ended_ev != NULL)
		event_free(store_ended_ev);
	store_ended_ev = NULL;
	store_ops->close(store_be);
	store_be = NULL;
	store_ops = NULL;
	free(store_deferred);
	store_deferred = NULL;
	free(store_spare);
	store_spare = NULL;
	store_spare_cap = 0;
	store_ndeferred = store_deferred_cap = 0;
	free(store_dirty);
	store_dirty = NULL;
	store_ndirty = store_dirty_cap = 0;
	if (store_dirty_ids != NULL)
		idmap_free(store_dirty_ids);
	store_dirty_ids = NULL;
	store_txn_failed = store_inflight = 0;
}

const char *
store_backend_name(void)
{
	return store_ops != NULL ? store_ops->scheme : "none";
}

int
store_schema_version(void)
{
	return store_ops->schema_version(store_be);
}

static void
store_wake(void)
{
	if (store_commit_ev != NULL)
		event_active(store_commit_ev, 0, 0);
}

/*
 * A write of this turn failed: nothing else may join the transaction (the
 * database may have rolled it back already, and what followed would
 * commit on its own); the flush at the end of the turn rolls back.
 */
static void
store_doom(void)
{
	store_txn_failed = 1;
	store_wake();
}

/* Joins the current turn's transaction, opening it on first use. */
static int
store_txn(void)
{
	if (store_txn_failed)
		return -1;
	if (store_in_txn)
		return 0;
	if (store_ops->begin(store_be) == -1) {
		store_doom();
		return -1;
	}
	store_in_txn = 1;
	store_wake();
	return 0;
}

/* One write of the turn: its failure dooms the turn. */
static void
store_wrote(int rv)
{
	if (rv == -1)
		store_doom();
}

void
store_defer(store_done_cb *cb, void *arg)
{
	if (store_deferred == NULL && store_spare != NULL) {
		store_deferred = store_spare;
		store_deferred_cap = store_spare_cap;
		store_spare = NULL;
	}
	if (store_ndeferred == store_deferred_cap) {
		store_deferred_cap = store_deferred_cap ? store_deferred_cap * 2 :
		    64;
		store_deferred = xreallocarray(store_deferred,
		    store_deferred_cap, sizeof *store_deferred);
	}
	store_deferred[store_ndeferred].cb = cb;
	store_deferred[store_ndeferred].arg = arg;
	store_ndeferred++;
	store_wake();
}

int
store_pending(void)
{
	return store_in_txn || store_ndirty > 0 || store_txn_failed ||
	    store_inflight > 0;
}

/*
 * Takes the work deferred so far: it waits for this turn's commit, and
 * what is deferred from now on waits for the next one (a backend that
 * commits later has the next turn write meanwhile).
 */
static struct store_turn *
store_turn_take(void)
{
	struct store_turn	*turn = xcalloc(1, sizeof *turn);

	if (store_ndeferred == 0)
		return turn;	/* the empty list stays for the next */
	turn->list = store_deferred;
	turn->n = store_ndeferred;
	turn->cap = store_deferred_cap;
	store_deferred = NULL;
	store_ndeferred = store_deferred_cap = 0;
	return turn;
}

/*
 * Runs the ended turns' work, oldest first, for this loop turn's share
 * (`all`: all of it); what is left runs in the next loop turn.  Callbacks
 * may defer more work: that waits for the next commit.
 */
static void
store_ended_run(int all)
{
	struct store_turn	*turn;

	if (store_running_ended)
		return;		/* a callback ended a turn: it queued */
	store_running_ended = 1;
	while ((turn = store_ended) != NULL) {
		if (!all && loop_work_over(LOOP_WORK_DONE)) {
			/* out of this turn's budget: the rest in the next */
			loop_timer_add(store_ended_ev, 0);
			break;
		}
		if (turn->done < turn->n) {
			turn->done++;
			turn->list[turn->done - 1].cb(
			    turn->list[turn->done - 1].arg, turn->status);
			continue;
		}
		if ((store_ended = turn->next) == NULL)
			store_ended_tail = &store_ended;
		if (store_spare == NULL && turn->cap <= STORE_SPARE_MAX) {
			store_spare = turn->list;
			store_spare_cap = turn->cap;
		} else
			free(turn->list);
		free(turn);
	}
	store_running_ended = 0;
}

static void
store_ended_cb(evutil_socket_t fd, short events, void *arg)
{
	store_ended_run(0);
}

/*
 * How a turn ended: counts now, and everyone who waited for it, after
 * the work of the turns that ended before.  (In-memory counts are kept
 * only with a backend that commits at once, so the deltas are this
 * turn's.)
 */
static void
store_turn_done(void *arg, int status)
{
	struct store_turn	*turn = arg;

	store_last_status = status;
	if (status == STORE_COMMITTED && !store_recount)
		store_count_commit();
	else
		store_count_all();
	turn->status = status;
	*store_ended_tail = turn;
	store_ended_tail = &turn->next;
	store_ended_run(0);
}

static void
store_commit_done(void *arg, int status)
{
	struct store_turn	*turn = arg;

	metric_observe(store_commit_metric, NULL, loop_mono() - turn->sent);
	store_inflight--;
	store_turn_done(arg, status);
}

/*
 * Ends the turn: commits what it wrote, or rolls it back when a write
 * failed, then runs the deferred work.  (A backend that commits later
 * answers later; 0 here then only says the commit was sent.)
 */
int
store_flush(void)
{
	struct store_turn	*turn;

	store_sync();
	if (store_txn_failed) {
		if (store_in_txn)
			store_ops->rollback(store_be);
		store_in_txn = store_txn_failed = 0;
		store_turn_done(store_turn_take(), STORE_FAILED);
	} else if (store_in_txn || store_inflight > 0) {
		/*
		 * With nothing written but an earlier commit unanswered, an
		 * empty one follows it: what waits here runs after that one.
		 */
		store_in_txn = 0;
		store_inflight++;
		turn = store_turn_take();
		turn->sent = loop_mono();
		store_ops->commit(store_be, store_commit_done, turn);
	} else
		store_turn_done(store_turn_take(), STORE_COMMITTED);
	return store_last_status == STORE_COMMITTED ? 0 : -1;
}

/* Every commit answered, and all the work that waited for them run. */
void
store_drain(void)
{
	if (store_be != NULL && store_ops->drain != NULL)
		store_ops->drain(store_be);
	store_ended_run(1);
}

static void
store_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	store_flush();
}

/* ---- write-behind ---- */

/* Writes one dirty task's row. */
static int
store_write_dirty(struct store_dirty *d)
{
	struct store_row	row;
	int			old = -1;

	memset(&row, 0, sizeof row);
	store_tops->row(d->obj, &row);
	row.t.id = d->id;
	if (d->is_new) {
		if (store_ops->insert(store_be, &row) == -1)
			return -1;
		store_count(row.t.state, 1, row.t.retrieved);
		return 0;
	}
	if (store_ops->update(store_be, &row, &old) == -1)
		return -1;
	if (old == -1)
		store_recount = 1;
	else if (old != (int)row.t.state) {
		/* a final state is final: only an unfinished row moves */
		store_count(old, -1, 0);
		store_count(row.t.state, 1, row.t.retrieved);
	}
	return 0;
}

/* Writes the dirty tasks; a failure dooms the turn. */
static int
store_sync(void)
{
	struct store_dirty	*list = store_dirty;
	size_t			 i, n = store_ndirty, cap = store_dirty_cap;
	int			 rv = 0;

	if (n == 0)
		return 0;
	if (store_txn() == -1)
		rv = -1;
	/* taken whole: an unref may free a task, which marks nothing */
	store_dirty = NULL;
	store_ndirty = store_dirty_cap = 0;
	for (i = 0; i < n; i++) {
		idmap_remove(store_dirty_ids, list[i].id);
		if (rv == 0 && store_write_dirty(&list[i]) == -1)
			rv = -1;
		store_tops->unref(list[i].obj);
	}
	if (store_dirty == NULL && cap <= STORE_SPARE_MAX) {
		store_dirty = list;	/* the next turn's, kept */
		store_dirty_cap = cap;
	} else
		free(list);
	if (rv == -1)
		store_doom();
	return rv;
}

static void
store_mark(int64_t id, void *obj, int is_new)
{
	struct store_dirty	*d;

	if (idmap_get(store_dirty_ids, id) != NULL)
		return;
	if (store_ndirty == store_dirty_cap) {
		store_dirty_cap = store_dirty_cap ? store_dirty_cap * 2 : 64;
		store_dirty = xreallocarray(store_dirty, store_dirty_cap,
		    sizeof *store_dirty);
	}
	d = &store_dirty[store_ndirty++];
	d->id = id;
	d->obj = obj;
	d->is_new = is_new;
	idmap_put(store_dirty_ids, id, obj);
	store_tops->ref(obj);
	loop_work_rows(store_running_ended ? LOOP_WORK_DONE : LOOP_WORK_NEW,
	    1);
	store_wake();
}

int64_t
store_task_insert(void *obj)
{
	int64_t	id;

	if (store_txn_failed)
		return -1;
	if (store_ops->next_id != NULL) {
		if ((id = store_ops->next_id(store_be)) == -1)
			return -1;
	} else	/* from the high-water mark: never handed out twice */
		id = ++store_last_id;
	store_mark(id, obj, 1);
	return id;
}

void
store_task_update(int64_t id, void *obj)
{
	store_mark(id, obj, 0);
}

void
store_task_retrieved(int64_t id)
{
	int	changed = 0;

	store_sync();
	if (store_txn() == -1)
		return;
	store_wrote(store_ops->retrieved(store_be, id, &changed));
	if (changed)
		store_delta.unretrieved--;
}

void
store_stream_add(int64_t id, int64_t seq, json_t *value, json_t *error)
{
	store_sync();
	if (store_txn() == 0)
		store_wrote(store_ops->item_add(store_be, id, seq, value,
		    error));
}

void
store_stream_overflow(int64_t id)
{
	store_sync();
	if (store_txn() == 0)
		store_wrote(store_ops->overflow_set(store_be, id));
}

void
store_queue_save(const char *name, int concurrency, int paused)
{
	store_sync();
	if (store_txn() == 0)
		store_wrote(store_ops->queue_save(store_be, name, concurrency,
		    paused));
}

/* ---- reads: each sees the writes before it ---- */

void
store_task_write(int64_t id, struct fp_text *o, store_done_cb *cb, void *arg)
{
	store_sync();
	store_ops->write(store_be, id, o, cb, arg);
}

void
store_task_get(int64_t id, store_row_cb *cb, void *arg)
{
	store_sync();
	store_ops->get(store_be, id, cb, arg);
}

void
store_task_states(const int64_t *ids, size_t n, int *states,
    store_done_cb *cb, void *arg)
{
	store_sync();
	store_ops->states(store_be, ids, n, states, cb, arg);
}

void
store_task_by_key(const char *key, store_key_cb *cb, void *arg)
{
	store_sync();
	store_ops->by_key(store_be, key, cb, arg);
}

void
store_task_list(const struct fp_list *l, struct fp_text *o, store_done_cb *cb,
    void *arg)
{
	store_sync();
	store_ops->list(store_be, l, o, cb, arg);
}

void
store_stream_read(int64_t id, int64_t from, int limit, store_items_cb *cb,
    void *arg)
{
	store_sync();
	store_ops->items(store_be, id, from, limit, cb, arg);
}

void
store_stream_next(int64_t id, store_next_cb *cb, void *arg)
{
	store_sync();
	store_ops->next_seq(store_be, id, cb, arg);
}

void
store_task_load(store_row_cb *row, store_done_cb *done, void *arg)
{
	store_sync();
	store_ops->load(store_be, row, done, arg);
}

void
store_task_children(int64_t id, store_row_cb *row, store_done_cb *done,
    void *arg)
{
	store_sync();
	store_ops->children(store_be, id, row, done, arg);
}

void
store_queue_load(store_queue_cb *queue, store_done_cb *done, void *arg)
{
	store_sync();
	store_ops->queues(store_be, queue, done, arg);
}

void
store_task_view(struct fp_task *t)
{
	if (store_tops != NULL && store_tops->view != NULL)
		store_tops->view(t);
}

void
store_schedule_put(const char *name, json_t *def, json_t *state,
    int64_t version, store_done_cb *done, void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->schedule_put(store_be, name, def, state, version, done,
	    arg);
}

void
store_schedule_delete(const char *name, int64_t version, store_done_cb *done,
    void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->schedule_delete(store_be, name, version, done, arg);
}

void
store_rate_save(const char *name, double starts, double per, double burst)
{
	store_sync();
	if (store_txn() == 0)
		store_wrote(store_ops->rate_save(store_be, name, starts, per,
		    burst));
}

void
store_rate_load(store_rate_cb *cb, store_done_cb *done, void *arg)
{
	store_sync();
	store_ops->rates(store_be, cb, done, arg);
}

void
store_schedule_load(store_schedule_cb *cb, store_done_cb *done, void *arg)
{
	store_sync();
	store_ops->schedules(store_be, cb, done, arg);
}

struct store_purge {
	store_row_cb	*unretrieved;	/* NULL: a delete asked for */
	store_row_cb	*deleted;
	void		(*done)(void *, int);
	void		*arg;
};

static void
store_purge_row_cb(void *arg, int status, const struct store_row *row)
{
	struct store_purge	*p = arg;

	store_count(row->t.state, -1, row->t.retrieved);
	if (p->unretrieved != NULL && row->t.state == FP_FAILED &&
	    !row->t.retrieved)
		p->unretrieved(p->arg, STORE_OK, row);
	if (p->deleted != NULL)
		p->deleted(p->arg, STORE_OK, row);
}

static void
store_purge_done_cb(void *arg, int n)
{
	struct store_purge	*p = arg;

	if (n == -1)
		store_doom();
	p->done(p->arg, n);
	free(p);
}

static void
store_select_delete(const struct store_select *sel, int limit,
    store_row_cb *unretrieved, store_row_cb *deleted,
    void (*done)(void *, int), void *arg)
{
	struct store_purge	*p;

	store_sync();
	if (store_txn() == -1) {
		done(arg, -1);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->unretrieved = unretrieved;
	p->deleted = deleted;
	p->done = done;
	p->arg = arg;
	store_ops->purge(store_be, sel, limit, store_purge_row_cb,
	    store_purge_done_cb, p);
}

void
store_task_purge(double before, int limit, store_row_cb *unretrieved,
    void (*done)(void *, int), void *arg)
{
	struct store_select	sel = { .before = before };

	store_select_delete(&sel, limit, unretrieved, NULL, done, arg);
}

void
store_task_delete(const struct store_select *sel, int limit,
    store_row_cb *deleted, void (*done)(void *, int), void *arg)
{
	store_select_delete(sel, limit, NULL, deleted, done, arg);
}

void
store_task_counts(int64_t counts[FP_STATE_COUNT], int64_t *unretrieved,
    store_done_cb *cb, void *arg)
{
	int	i;

	store_sync();
	if (store_ops->live_counts) {
		store_ops->count(store_be, counts, unretrieved, cb, arg);
		return;
	}
	for (i = 0; i < FP_STATE_COUNT; i++)
		counts[i] = store_counted.state[i] + store_delta.state[i];
	*unretrieved = store_counted.unretrieved + store_delta.unretrieved;
	cb(arg, STORE_OK);
}

json_t *
store_value_json(const struct fp_value *v)
{
	json_error_t	err;
	json_t		*j;

	if (v->text == NULL)
		return json_incref(v->json);
	if ((j = json_loads(v->text, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &err)) == NULL)
		log_warnx("store: a stored column is not JSON: %s", err.text);
	return j;
}

/* ---- several nodes ---- */

void
store_node_config(const char *name, double lease)
{
	free(store_node_name);
	store_node_name = name != NULL ? xstrdup(name) : NULL;
	store_lease_secs = lease;
}

const char *
store_node(void)
{
	return store_node_name != NULL ? store_node_name : "futured";
}

double
store_lease(void)
{
	return store_lease_secs;
}

int
store_shared(void)
{
	return store_ops != NULL && store_ops->claim != NULL;
}

void
store_events(store_event_cb *cb)
{
	store_event_handler = cb;
}

void
store_event(enum store_event ev, int64_t id, int state, json_t *asked)
{
	if (store_event_handler != NULL)
		store_event_handler(ev, id, state, asked);
}

void
store_claim(const char *kind, int limit, double now, int limited,
    store_row_cb *row, store_done_cb *done, void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->claim(store_be, kind, limit, now, limited, row, done, arg);
}

int
store_limits_node(void)
{
	return store_ops->limits_node == NULL ||
	    store_ops->limits_node(store_be);
}

void
store_next_start(double now, double *at, store_done_cb *done, void *arg)
{
	store_sync();
	store_ops->next_start(store_be, now, at, done, arg);
}

void
store_lease_renew(store_done_cb *done, void *arg)
{
	store_ops->renew(store_be, done, arg);
}

void
store_adopt(int limit, store_row_cb *row, store_done_cb *done, void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->adopt(store_be, limit, row, done, arg);
}

void
store_nodes(store_nodes_cb *cb, void *arg)
{
	store_ops->nodes(store_be, cb, arg);
}

void
store_finish_free(int64_t id, int state, json_t *result, json_t *exception,
    double at, store_done_cb *done, void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->finish_free(store_be, id, state, result, exception, at,
	    done, arg);
}

void
store_finish_ask(int64_t id, json_t *asked, store_done_cb *done, void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->finish_ask(store_be, id, asked, done, arg);
}

void
store_child_ended(int64_t id)
{
	if (store_ops->child_ended != NULL && store_txn() == 0)
		store_ops->child_ended(store_be, id);
}

void
store_release(int64_t id, store_done_cb *done, void *arg)
{
	store_sync();
	if (store_ops->release == NULL || store_txn() == -1) {
		done(arg, store_ops->release == NULL ? STORE_NONE :
		    STORE_FAILED);
		return;
	}
	store_ops->release(store_be, id, done, arg);
}

void
store_close_free(int64_t id, json_t *mark, json_t *result, json_t *exception,
    store_done_cb *done, void *arg)
{
	store_sync();
	if (store_txn() == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	store_ops->close_free(store_be, id, mark, result, exception, done,
	    arg);
}

void
store_cancels(store_done_cb *done, void *arg)
{
	store_ops->cancels(store_be, done, arg);
}

void
store_output_add(int64_t id, int attempt, int which, int64_t off,
    const char *data, size_t len)
{
	store_sync();
	if (store_txn() == 0)
		store_wrote(store_ops->output_add(store_be, id, attempt, which,
		    off, data, len));
}

void
store_output_read(int64_t id, int which, int64_t from, store_output_cb *cb,
    void *arg)
{
	store_sync();
	store_ops->output_read(store_be, id, which, from, cb, arg);
}

void
store_queue_stats(double now, store_queue_stats_cb *cb, store_done_cb *done,
    void *arg)
{
	store_sync();
	store_ops->queue_stats(store_be, now, cb, done, arg);
}

void
store_queue_busy(const char *name, store_busy_cb *cb, void *arg)
{
	store_sync();
	if (store_ops->queue_busy == NULL)
		cb(arg, STORE_OK, 0);
	else
		store_ops->queue_busy(store_be, name, cb, arg);
}
