/*
 * cluster.c: this node among the others that share one database
 * (store_shared: PostgreSQL).  Nothing here runs with sqlite.
 *
 * A submitted task is stored unclaimed; a node with room claims the tasks
 * that may start (store_claim: its queue's limit counted across nodes)
 * and, once the claim has committed, schedules them like its own.  Each
 * node renews a lease; one whose lease ran out has its waiting tasks
 * given back and its running ones adopted by whoever notices, with the
 * crash semantics of a restart (task_resume).  A node that cannot renew
 * its lease for most of it exits before anyone may adopt its work, so no
 * attempt ever runs on two nodes.  What another node did comes as store
 * events (LISTEN/NOTIFY): finished tasks wake the waiters here, new work
 * starts a claim, a cancel reaches the task; a look each tick (a third of
 * the lease) stands behind the notifications.  The output of the attempts
 * running here is written for the others every CLUSTER_OUTPUT_EVERY.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

/* Tasks claimed per kind in one round trip. */
#define CLUSTER_BATCH		256
/* Without a renewed lease for this part of it, the node stops. */
#define CLUSTER_FENCE		0.8

/* What one claim (or adoption) brought, started once it has committed. */
struct cluster_batch {
	struct task	**tasks;
	size_t		  n, cap;
	int		  limit;	/* a full batch: claim again */
	int		  adopted;
};

static struct event	*cluster_claim_ev;
static struct event	*cluster_tick_ev;
static struct event	*cluster_delay_ev;
static int		 cluster_claiming;	/* rounds in flight */
static int		 cluster_again;		/* kicked meanwhile */
static double		 cluster_renewed;	/* loop_mono of the last renewal */
static double		 cluster_renew_sent;	/* of the renewal that is out */
static int		 cluster_renewing;	/* one is out */
static double		 cluster_next_start;	/* what the delay timer waits for */
static unsigned		 cluster_rounds;
/* the limits node lately, or holding tasks it claimed as that (1 at
 * start: a restart may find the role gone and such tasks recovered) */
static int		 cluster_had_limits = 1;
static struct event	*cluster_output_ev;
static int64_t		*cluster_output_ids;	/* tasks with output to share */
static size_t		 cluster_output_n, cluster_output_cap;

/* What one sharing of output wrote: rewound when its commit failed. */
struct cluster_shared {
	int64_t	id;
	int	attempt;
	int64_t	before[2];
};
struct cluster_sharing {
	struct cluster_shared	*v;
	size_t			 n;
};

static void	cluster_adopt(void);

static void
cluster_batch_add(struct cluster_batch *b, struct task *t)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->tasks = xreallocarray(b->tasks, b->cap, sizeof *b->tasks);
	}
	b->tasks[b->n++] = t;
}

/*
 * A claimed row: loaded, or, when this node submitted it in the turn the
 * claim joined (its insert not yet answered), the task already here, kept
 * rather than dropped once the insert commits (task_inserted_cb).
 */
static void
cluster_row_cb(void *arg, int status, const struct store_row *r)
{
	struct task	*t;

	if (status != STORE_OK)
		return;
	if ((t = task_load(r)) == NULL && (t = task_find(r->t.id)) != NULL &&
	    t->state == FP_PENDING)
		t->claimed = 1;
	if (t != NULL) {
		task_ref(t, "claim");
		cluster_batch_add(arg, t);
	}
}

static void
cluster_batch_free(struct cluster_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		task_unref(b->tasks[i], "claim");
	free(b->tasks);
	free(b);
}

/* The claim (or adoption) committed: the tasks are this node's. */
static void
cluster_committed_cb(void *arg, int status)
{
	struct cluster_batch	*b = arg;
	struct task		*t;
	size_t			 i;

	for (i = 0; i < b->n; i++) {
		t = b->tasks[i];
		if (status != STORE_COMMITTED)
			task_drop(t);
		/* a claim sent as the limits node, answered as another */
		else if (b->adopted || t->limits == NULL ||
		    store_limits_node() || task_release(t, 1) == -1)
			task_resume(t);
	}
	if (b->adopted && b->n > 0 && status == STORE_COMMITTED) {
		log_info("adopted %zu running tasks of a node that died", b->n);
		cluster_had_limits = 1;	/* their retries: the limits node's */
	}
	if (status == STORE_COMMITTED && b->limit > 0 &&
	    b->n >= (size_t)b->limit) {
		if (b->adopted)
			cluster_adopt();	/* there may be more */
		else
			cluster_kick();
	}
	sched_kick();
	cluster_batch_free(b);
}

/*
 * What a claim or an adoption brought during the stop (answered while the
 * store drains): not started here; the node's lease, given up as it
 * leaves, hands them to the others.
 */
static void
cluster_batch_drop(struct cluster_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		task_drop(b->tasks[i]);
	cluster_batch_free(b);
}

static void
cluster_claimed_cb(void *arg, int status)
{
	struct cluster_batch	*b = arg;

	if (loop_shutting_down())
		cluster_batch_drop(b);
	else	/* the rows came in the turn's transaction: wait for its commit */
		store_defer(cluster_committed_cb, b);
	if (--cluster_claiming == 0 && cluster_again) {
		cluster_again = 0;
		cluster_kick();
	}
}

static void
cluster_delay_cb(evutil_socket_t fd, short events, void *arg)
{
	cluster_next_start = 0;
	cluster_kick();
}

/* Wakes for the next delayed task that nobody holds. */
static void
cluster_next_cb(void *arg, int status)
{
	double	*at = arg;

	if (status == STORE_OK && *at > 0 && (cluster_next_start == 0 ||
	    *at < cluster_next_start)) {
		cluster_next_start = *at;
		loop_timer_add(cluster_delay_ev, *at - loop_now());
	}
	free(at);
}

/* Is any queue limited (as far as this node knows)? */
static int
cluster_limited(void)
{
	size_t	i;

	for (i = 0; i < sched_queue_count(); i++)
		if (sched_queue_at(i)->concurrency > 0)
			return 1;
	return 0;
}

static void
cluster_claim_kind(int k, int room, int limited)
{
	struct cluster_batch	*b = xcalloc(1, sizeof *b);

	b->limit = room < CLUSTER_BATCH ? room : CLUSTER_BATCH;
	cluster_claiming++;
	store_claim(kinds[k]->name, b->limit, loop_now(), limited,
	    cluster_row_cb, cluster_claimed_cb, b);
}

/*
 * Claims what this node has room for, kind by kind: from the queues
 * without a limit, and from the limited ones (if any) with what is left.
 */
/*
 * Claims room tasks of kind k from each side there is: queues with a
 * limit or not, and (the limits node) tasks with limits or not.  Room
 * is shared, so no side starves another; room for fewer than the sides
 * goes to each side in turn.
 */
static void
cluster_claim_sides(int k, int room, int limited)
{
	int	sides[4], n = 0, i;

	sides[n++] = 0;
	if (limited)
		sides[n++] = STORE_CLAIM_LIMITED;
	if (store_limits_node()) {
		sides[n++] = STORE_CLAIM_KEYED;
		if (limited)
			sides[n++] = STORE_CLAIM_KEYED | STORE_CLAIM_LIMITED;
	}
	if (room < n) {
		cluster_claim_kind(k, room, sides[cluster_rounds % n]);
		return;
	}
	for (i = 0; i < n; i++)
		cluster_claim_kind(k, room / n + (i < room % n), sides[i]);
}

static void
cluster_claim_cb(evutil_socket_t fd, short events, void *arg)
{
	double	*at;
	int	 k, room, limited = cluster_limited();

	if (loop_shutting_down())
		return;
	if (cluster_claiming > 0) {
		cluster_again = 1;
		return;
	}
	for (k = 0; k < KIND_COUNT; k++) {
		/* parked tasks (limits.c) wait here too: no more of them */
		room = kinds[k]->room() - (int)sched_waiting_kind(k) -
		    (int)limits_waiting_kind(k);
		if (room <= 0)
			continue;
		cluster_claim_sides(k, room, limited);
	}
	cluster_rounds++;
	at = xcalloc(1, sizeof *at);
	store_next_start(loop_now(), at, cluster_next_cb, at);
}

void
cluster_kick(void)
{
	if (cluster_claim_ev != NULL)
		event_active(cluster_claim_ev, 0, 0);
}

/*
 * This node no longer holds the limits role: the tasks with limits it
 * claimed and has not started go back (task_release), so that the limits
 * node runs them, counting their keys and tokens, instead of this node
 * beside it.
 */
static void
cluster_release_add(int64_t id, void *v, void *arg)
{
	struct task	*t = v;

	if (t->state == FP_PENDING && t->limits != NULL && !t->waiting) {
		task_ref(t, "release");
		cluster_batch_add(arg, t);
	}
}

/* The number of such tasks here, given back now or not yet. */
static size_t
cluster_release_limited(void)
{
	struct cluster_batch	 b = { 0 };
	size_t			 i, given = 0;

	task_foreach(cluster_release_add, &b);
	for (i = 0; i < b.n; i++) {
		if (task_release(b.tasks[i], 0) == 0)
			given++;
		task_unref(b.tasks[i], "release");
	}
	if (given > 0)
		log_info("no longer the limits node: %zu waiting tasks with "
		    "limits given back", given);
	free(b.tasks);
	return b.n;
}

static void
cluster_renew_cb(void *arg, int status)
{
	double	sent = cluster_renew_sent;

	cluster_renewing = 0;
	if (status == STORE_NONE)
		fatalx("this node's lease ran out and another node took its "
		    "work: exiting, so that no task runs twice");
	if (status == STORE_OK) {
		/* the lease runs from when it was asked for, at the latest */
		cluster_renewed = sent;
		spawn_fence(cluster_renewed + CLUSTER_FENCE * store_lease());
	} else if (loop_mono() - cluster_renewed > CLUSTER_FENCE * store_lease())
		fatalx("the lease could not be renewed for %.1f s: exiting "
		    "before another node may take this one's work",
		    loop_mono() - cluster_renewed);
	/* and at each renewal after, while any such task is here */
	if (store_limits_node())
		cluster_had_limits = 1;
	else if (cluster_had_limits && !loop_shutting_down())
		cluster_had_limits = cluster_release_limited() > 0;
}

static void
cluster_adopted_cb(void *arg, int status)
{
	if (loop_shutting_down())
		cluster_batch_drop(arg);
	else
		store_defer(cluster_committed_cb, arg);
}

static void
cluster_ignore_cb(void *arg, int status)
{
}

/* Behind the notifications: a finished task that a waiter here missed. */
struct cluster_recheck {
	int64_t	*ids;
	int	*states;
	size_t	 n, cap;
};

static void
cluster_recheck_add(int64_t id, void *arg)
{
	struct cluster_recheck	*rc = arg;

	if (task_find(id) != NULL)
		return;		/* here: its watchers hear it from here */
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 16;
		rc->ids = xreallocarray(rc->ids, rc->cap, sizeof *rc->ids);
	}
	rc->ids[rc->n++] = id;
}

static void
cluster_rechecked_cb(void *arg, int status)
{
	struct cluster_recheck	*rc = arg;
	size_t			 i;

	for (i = 0; status == STORE_OK && i < rc->n; i++)
		if (rc->states[i] >= 0 &&
		    fp_state_done((enum fp_state)rc->states[i]))
			watch_fire(rc->ids[i], WATCH_DONE,
			    (enum fp_state)rc->states[i]);
	free(rc->ids);
	free(rc->states);
	free(rc);
}

/* Long-polls on output or items of tasks elsewhere look again. */
static void
cluster_rewake(enum watch_event ev)
{
	struct cluster_recheck	 rc = { 0 };
	size_t			 i;

	watch_ids(ev, cluster_recheck_add, &rc);
	for (i = 0; i < rc.n; i++)
		watch_fire(rc.ids[i], ev, FP_RUNNING);
	free(rc.ids);
}

static void
cluster_recheck(void)
{
	struct cluster_recheck	*rc = xcalloc(1, sizeof *rc);

	watch_ids(WATCH_DONE, cluster_recheck_add, rc);
	if (rc->n == 0) {
		free(rc);
		return;
	}
	rc->states = xcalloc(rc->n, sizeof *rc->states);
	store_task_states(rc->ids, rc->n, rc->states, cluster_rechecked_cb, rc);
}

/* The work of dead nodes, CLUSTER_BATCH running tasks a round. */
static void
cluster_adopt(void)
{
	struct cluster_batch	*b = xcalloc(1, sizeof *b);

	b->adopted = 1;
	b->limit = CLUSTER_BATCH;
	store_adopt(b->limit, cluster_row_cb, cluster_adopted_cb, b);
}

/* Each third of the lease: renew it, adopt the dead's work, look around. */
static void
cluster_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	double	now = loop_mono();

	loop_timer_add(cluster_tick_ev, store_lease() / 3);
	if (now - cluster_renewed > CLUSTER_FENCE * store_lease())
		fatalx("the lease was not renewed for %.1f s: exiting before "
		    "another node may take this one's work",
		    now - cluster_renewed);
	if (!cluster_renewing) {	/* else the last one is still out */
		cluster_renewing = 1;
		cluster_renew_sent = now;
		store_lease_renew(cluster_renew_cb, NULL);
	}
	if (loop_shutting_down())
		return;
	cluster_adopt();
	store_cancels(cluster_ignore_cb, NULL);
	tree_recheck();
	sched_reload();		/* queue settings another node changed */
	cluster_recheck();
	cluster_rewake(WATCH_OUTPUT);
	cluster_rewake(WATCH_ITEMS);
	cluster_kick();
}

void
cluster_output(struct task *t)
{
	if (cluster_output_ev == NULL || task_out(t)->output_listed)
		return;
	t->out->output_listed = 1;
	if (cluster_output_n == cluster_output_cap) {
		cluster_output_cap = cluster_output_cap ? 2 * cluster_output_cap :
		    16;
		cluster_output_ids = xreallocarray(cluster_output_ids,
		    cluster_output_cap, sizeof *cluster_output_ids);
	}
	cluster_output_ids[cluster_output_n++] = t->id;
	if (cluster_output_n == 1)
		loop_timer_add(cluster_output_ev, CLUSTER_OUTPUT_EVERY);
}

/* Writes what t's attempt output since the last time; 1 when it did. */
static int
cluster_output_share(struct task *t, struct cluster_shared *sh)
{
	struct task_out	*o = task_out(t);
	const char	*buf;
	size_t		 len;
	int		 w, wrote = 0;

	if (o->output_attempt != t->attempt) {
		o->output_attempt = t->attempt;
		o->output_shared[0] = o->output_shared[1] = 0;
	}
	sh->id = t->id;
	sh->attempt = t->attempt;
	for (w = 0; w < 2; w++) {
		sh->before[w] = o->output_shared[w];
		if (task_output(t, w + 1, &buf, &len) == -1 ||
		    (int64_t)len <= o->output_shared[w])
			continue;
		store_output_add(t->id, t->attempt, w + 1, o->output_shared[w],
		    buf + o->output_shared[w], len - (size_t)o->output_shared[w]);
		o->output_shared[w] = (int64_t)len;
		wrote = 1;
	}
	return wrote;
}

/* A commit failed: what it carried is shared again. */
static void
cluster_shared_cb(void *arg, int status)
{
	struct cluster_sharing	*sg = arg;
	struct task		*t;
	struct task_out		*o;
	size_t			 i;
	int			 w;

	for (i = 0; status != STORE_COMMITTED && i < sg->n; i++) {
		if ((t = task_find(sg->v[i].id)) == NULL ||
		    t->attempt != sg->v[i].attempt || t->state != FP_RUNNING)
			continue;
		o = task_out(t);
		for (w = 0; w < 2; w++)
			if (sg->v[i].before[w] < o->output_shared[w])
				o->output_shared[w] = sg->v[i].before[w];
		cluster_output(t);
	}
	free(sg->v);
	free(sg);
}

static void
cluster_output_cb(evutil_socket_t fd, short events, void *arg)
{
	struct cluster_sharing	*sg = xcalloc(1, sizeof *sg);
	struct task		*t;
	size_t			 i;

	sg->v = xreallocarray(NULL, cluster_output_n, sizeof *sg->v);
	for (i = 0; i < cluster_output_n; i++) {
		if ((t = task_find(cluster_output_ids[i])) == NULL)
			continue;
		task_out(t)->output_listed = 0;
		if (t->state == FP_RUNNING &&
		    cluster_output_share(t, &sg->v[sg->n]))
			sg->n++;
	}
	cluster_output_n = 0;
	if (sg->n > 0)
		store_defer(cluster_shared_cb, sg);
	else
		cluster_shared_cb(sg, STORE_COMMITTED);
}

/* What another node did. */
/* Another node asked this one to end t: a cancel, or a future's outcome. */
static void
cluster_asked(struct task *t, json_t *asked)
{
	const char	*state = json_string_value(json_object_get(asked, "state"));
	json_t		*e = json_object_get(asked, "exception");
	json_t		*attempt = json_object_get(asked, "attempt");

	/*
	 * A future's outcome was asked for the attempt it then had: once
	 * that attempt is over (a retry), the request stays in the row but
	 * is stale.  A cancel and a close always hold.
	 */
	if (attempt != NULL && (json_integer_value(attempt) != t->attempt ||
	    json_is_true(json_object_get(asked, "running")) !=
	    (t->state == FP_RUNNING && !t->waiting)))
		return;
	if (state == NULL || strcmp(state, fp_state_name(FP_CANCELLED)) == 0)
		task_cancel(t, json_string_value(json_object_get(e, "message")));
	else if (strcmp(state, "closed") == 0)
		tree_close(t);
	else if (!t->kind->external)
		log_warnx("task %lld: asked to complete it, but it is no future",
		    (long long)t->id);
	else if (strcmp(state, fp_state_name(FP_FAILED)) == 0 && e != NULL)
		task_resolve(t, NULL, json_incref(e));
	else
		task_resolve(t, json_incref(json_object_get(asked, "result") ?
		    json_object_get(asked, "result") : json_null()), NULL);
}

static void
cluster_event(enum store_event ev, int64_t id, int state, json_t *asked)
{
	struct task	*t;

	switch (ev) {
	case STORE_EV_WORK:
		cluster_kick();
		break;
	case STORE_EV_DONE:
		/* a dependency of a task waiting here, a long-poll, a stream */
		if (task_find(id) == NULL) {
			watch_fire(id, WATCH_DONE, (enum fp_state)state);
			watch_fire(id, WATCH_ITEMS, (enum fp_state)state);
			watch_fire(id, WATCH_OUTPUT, (enum fp_state)state);
		}
		cluster_kick();		/* a dependent may be ready */
		tree_recheck();		/* a parent here may be done waiting */
		break;
	case STORE_EV_ITEMS:
		if (task_find(id) == NULL)
			watch_fire(id, WATCH_ITEMS, FP_RUNNING);
		break;
	case STORE_EV_OUTPUT:
		if (task_find(id) == NULL)
			watch_fire(id, WATCH_OUTPUT, FP_RUNNING);
		break;
	case STORE_EV_CANCEL:
		if ((t = task_find(id)) == NULL)
			break;
		if (asked == NULL)	/* a notification: what is asked? */
			store_cancels(cluster_ignore_cb, NULL);
		else
			cluster_asked(t, asked);
		break;
	case STORE_EV_CHILD:
		if ((t = task_find(id)) != NULL)
			tree_heard(t);
		break;
	case STORE_EV_QUEUES:
		sched_reload();
		limits_reload();
		cluster_kick();
		break;
	case STORE_EV_RECONNECTED:
		/* settings changed while the connection was down did not
		 * commit, and their reload could not read: read them now */
		sched_reload();
		limits_reload();
		event_active(cluster_tick_ev, 0, 0);
		break;
	case STORE_EV_LEFT:
		event_active(cluster_tick_ev, 0, 0);	/* adopts its work */
		break;
	}
}

void
cluster_init(void)
{
	if (!store_shared())
		return;
	store_events(cluster_event);
	/* joined at open: the lease runs from before that */
	cluster_renewed = loop_mono() - 1;
	spawn_fence(cluster_renewed + CLUSTER_FENCE * store_lease());
	cluster_claim_ev = event_new(loop_base, -1, 0, cluster_claim_cb, NULL);
	cluster_tick_ev = evtimer_new(loop_base, cluster_tick_cb, NULL);
	cluster_delay_ev = evtimer_new(loop_base, cluster_delay_cb, NULL);
	cluster_output_ev = evtimer_new(loop_base, cluster_output_cb, NULL);
	if (cluster_claim_ev == NULL || cluster_tick_ev == NULL ||
	    cluster_delay_ev == NULL || cluster_output_ev == NULL)
		fatalx("cluster: no memory for events");
	event_active(cluster_tick_ev, 0, 0);
}

void
cluster_free(void)
{
	store_events(NULL);
	if (cluster_claim_ev != NULL)
		event_free(cluster_claim_ev);
	if (cluster_tick_ev != NULL)
		event_free(cluster_tick_ev);
	if (cluster_delay_ev != NULL)
		event_free(cluster_delay_ev);
	if (cluster_output_ev != NULL)
		event_free(cluster_output_ev);
	cluster_claim_ev = cluster_tick_ev = cluster_delay_ev = NULL;
	cluster_output_ev = NULL;
	free(cluster_output_ids);
	cluster_output_ids = NULL;
	cluster_output_n = cluster_output_cap = 0;
}
