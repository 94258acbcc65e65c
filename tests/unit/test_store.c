/*
 * test_store.c: the store's conformance suite (issue #12), what every
 * backend must do, through store.h alone: rows in and out, transitions,
 * group commit and deferred work, write-behind, ids, recovery, keys,
 * listing and filters, counts, streams, purges, queues, a failed turn.
 * Run here on sqlite (a real temporary file); the backend's own matters
 * (migrations, old columns) are in test_store_sqlite.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "store-check.h"

static int
setup(void **state)
{
	log_init(LOG_LEVEL_ERROR);
	sc_url();
	return 0;
}

static int
teardown(void **state)
{
	return sc_cleanup();
}

static void
test_insert_get(void **state)
{
	struct obj	*t;
	json_t		*o;

	sc_fresh();
	t = obj_new("sleep", NULL);
	assert_int_equal(t->r.t.id, 1);
	o = sc_task(1);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "pending");
	assert_string_equal(json_string_value(json_object_get(o, "kind")),
	    "sleep");
	assert_true(json_is_null(json_object_get(o, "key")));
	assert_string_equal(json_string_value(json_object_get(o,
	    "created_at")), "2023-11-14T22:13:20.500Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o,
	    "labels"), "team")), "a");
	json_decref(o);
	assert_null(sc_task(2));
	assert_int_equal(sc_state(2), -1);
	obj_unref(t);
}

/* Several ids at once, outside a turn and inside one: and writes go on. */
static void
test_states_of_many(void **state)
{
	struct sc_status	 a = { 0, 0 };
	struct obj		*t[3];
	int64_t			 ids[4];
	int			 st[4], i;

	sc_fresh();
	for (i = 0; i < 3; i++)
		t[i] = obj_new("sleep", NULL);
	assert_int_equal(sc_flush(), 0);
	ids[0] = t[2]->r.t.id;
	ids[1] = 987654;
	ids[2] = t[0]->r.t.id;
	ids[3] = t[1]->r.t.id;
	store_task_states(ids, 4, st, sc_status_cb, &a);
	sc_wait(&a.done);
	assert_int_equal(a.status, STORE_OK);
	assert_int_equal(st[0], FP_PENDING);
	assert_int_equal(st[1], -1);
	assert_int_equal(st[2], FP_PENDING);
	assert_int_equal(st[3], FP_PENDING);
	/* the lookups left no transaction behind: a turn commits */
	t[1]->r.t.state = FP_RUNNING;
	obj_update(t[1]);
	assert_int_equal(sc_flush(), 0);
	t[0]->r.t.state = FP_SUCCEEDED;
	t[0]->r.t.finished_at = 1700000002;
	obj_update(t[0]);
	assert_int_equal(sc_flush(), 0);
	a.done = 0;
	store_task_states(ids, 4, st, sc_status_cb, &a);
	sc_wait(&a.done);
	assert_int_equal(st[2], FP_SUCCEEDED);
	assert_int_equal(st[3], FP_RUNNING);
	for (i = 0; i < 3; i++)
		obj_unref(t[i]);
}

static void
test_transitions_survive_reopen(void **state)
{
	struct obj	*t;
	json_t		*o;

	sc_fresh();
	t = obj_new("exec", NULL);
	t->r.t.state = FP_RUNNING;
	t->r.t.attempt = 1;
	t->r.t.started_at = 1700000001;
	t->state = json_pack("{s:i}", "pgid", 42);
	obj_update(t);
	t->r.t.state = FP_FAILED;
	t->r.t.finished_at = 1700000002;
	t->exception = fp_exception_create("ProcessError", "exit %d", 3);
	obj_update(t);
	assert_int_equal(sc_flush(), 0);
	sc_reopen();
	assert_int_equal(sc_state(t->r.t.id), FP_FAILED);
	o = sc_task(t->r.t.id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o,
	    "exception"), "type")), "ProcessError");
	assert_true(json_is_false(json_object_get(o, "retrieved")));
	assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 1);
	json_decref(o);
	store_task_retrieved(t->r.t.id);
	assert_int_equal(sc_flush(), 0);
	o = sc_task(t->r.t.id);
	assert_true(json_is_true(json_object_get(o, "retrieved")));
	json_decref(o);
	obj_unref(t);
}

static int	deferred_order[4];
static int	deferred_n;
static int	deferred_status = 99;

static void
deferred_cb(void *arg, int status)
{
	deferred_order[deferred_n++] = (int)(intptr_t)arg;
	deferred_status = status;
}

/* Group commit: work deferred in a turn runs after the one commit. */
static void
test_group_commit_defer(void **state)
{
	struct obj	*a, *b;
	int		 i;

	sc_fresh();
	deferred_n = 0;
	a = obj_new("sleep", NULL);
	store_defer(deferred_cb, (void *)1);
	b = obj_new("sleep", NULL);
	store_defer(deferred_cb, (void *)2);
	assert_int_equal(deferred_n, 0);	/* not before the commit */
	for (i = 0; i < 1000 && deferred_n < 2; i++)
		sc_turn();
	assert_int_equal(deferred_n, 2);
	assert_int_equal(deferred_order[0], 1);
	assert_int_equal(deferred_order[1], 2);
	assert_int_equal(deferred_status, STORE_COMMITTED);
	/* With nothing written, deferred work still runs at the turn's end. */
	store_defer(deferred_cb, (void *)3);
	for (i = 0; i < 1000 && deferred_n < 3; i++)
		sc_turn();
	assert_int_equal(deferred_n, 3);
	obj_unref(a);
	obj_unref(b);
}

struct loaded {
	json_t	*ids;
	json_t	*states;
	int	 done;
};

static void
load_row_cb(void *arg, int status, const struct store_row *r)
{
	struct loaded	*l = arg;
	json_t		*s = store_value_json(&r->attempt_state);

	json_array_append_new(l->ids, json_integer(r->t.id));
	json_array_append_new(l->states, s != NULL ? s : json_null());
}

static void
load_done_cb(void *arg, int status)
{
	struct loaded	*l = arg;

	assert_int_equal(status, STORE_OK);
	l->done = 1;
}

/* Recovery: only pending and running tasks come back, oldest first. */
static void
test_load_unfinished(void **state)
{
	struct loaded	 l = { json_array(), json_array(), 0 };
	struct obj	*t[4];
	int		 i;

	sc_fresh();
	for (i = 0; i < 4; i++)
		t[i] = obj_new(i == 2 ? "exec" : "sleep", NULL);
	/* several nodes: a node recovers the tasks it claimed */
	assert_int_equal(sc_flush(), 0);
	sc_claim_all();
	t[1]->r.t.state = FP_SUCCEEDED;
	obj_update(t[1]);
	t[2]->r.t.state = FP_RUNNING;
	t[2]->state = json_pack("{s:i}", "pgid", 7);
	obj_update(t[2]);
	assert_int_equal(sc_flush(), 0);
	sc_reopen();
	store_task_load(load_row_cb, load_done_cb, &l);
	sc_wait(&l.done);
	assert_int_equal(json_array_size(l.ids), 3);
	assert_int_equal(json_integer_value(json_array_get(l.ids, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(l.ids, 1)), 3);
	assert_int_equal(json_integer_value(json_array_get(l.ids, 2)), 4);
	/* the running attempt's state comes back for recovery */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    l.states, 1), "pgid")), 7);
	assert_true(json_is_null(json_array_get(l.states, 0)));
	json_decref(l.ids);
	json_decref(l.states);
	for (i = 0; i < 4; i++)
		obj_unref(t[i]);
}

struct keyed {
	int	 done;
	int	 status;
	int64_t	 id;
	json_t	*spec;
};

static void
key_cb(void *arg, int status, int64_t id, json_t *spec)
{
	struct keyed	*k = arg;

	k->done = 1;
	k->status = status;
	k->id = id;
	k->spec = json_incref(spec);
}

static void
test_keys(void **state)
{
	struct keyed	 k = { 0, 0, 0, NULL };
	struct obj	*t;

	sc_fresh();
	t = obj_new("sleep", "k-1");
	store_task_by_key("k-1", key_cb, &k);
	sc_wait(&k.done);
	assert_int_equal(k.status, STORE_OK);
	assert_int_equal(k.id, t->r.t.id);
	assert_true(json_equal(k.spec, t->spec));
	json_decref(k.spec);
	memset(&k, 0, sizeof k);
	store_task_by_key("k-2", key_cb, &k);
	sc_wait(&k.done);
	assert_int_equal(k.status, STORE_NONE);
	obj_unref(t);
}

/* Pages follow the cursor with no task twice and none missing. */
static void
test_list_pagination_and_filters(void **state)
{
	struct fp_list	 l;
	json_t		*page, *next, *tasks;
	struct obj	*t;
	int		 i, seen = 0;
	int64_t		 last = INT64_MAX, id;
	size_t		 k;

	sc_fresh();
	for (i = 0; i < 25; i++) {
		t = obj_new("sleep", NULL);
		if (i % 5 == 0) {
			t->r.t.state = FP_FAILED;
			obj_update(t);
		}
		obj_unref(t);
	}
	memset(&l, 0, sizeof l);
	l.limit = 10;
	for (;;) {
		page = sc_list(&l);
		tasks = json_object_get(page, "tasks");
		for (k = 0; k < json_array_size(tasks); k++) {
			id = json_integer_value(json_object_get(json_array_get(
			    tasks, k), "id"));
			assert_true(id < last);
			last = id;
			seen++;
		}
		next = json_object_get(page, "next");
		if (json_is_null(next)) {
			json_decref(page);
			break;
		}
		l.cursor = strtoll(json_string_value(next) + 1, NULL, 10);
		json_decref(page);
	}
	assert_int_equal(seen, 25);
	memset(&l, 0, sizeof l);
	l.limit = 100;
	l.unretrieved = 1;
	page = sc_list(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 5);
	json_decref(page);
	l.unretrieved = 0;
	l.has_state = 1;
	l.state = FP_FAILED;
	page = sc_list(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 5);
	json_decref(page);
	l.has_state = 0;
	l.label = json_pack("{s:s}", "team", "b");
	page = sc_list(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 0);
	json_decref(page);
	json_decref(l.label);
}

/* Lists with one or two label filters; the ids found, newest first. */
static size_t
list_ids(const char *k1, const char *v1, const char *k2, const char *v2,
    int64_t cursor, int limit, int64_t *ids)
{
	struct fp_list	 l;
	json_t		*page, *tasks;
	size_t		 i, n;

	memset(&l, 0, sizeof l);
	l.limit = limit;
	l.cursor = cursor;
	l.label = k2 != NULL ? json_pack("{s:s,s:s}", k1, v1, k2, v2) :
	    json_pack("{s:s}", k1, v1);
	page = sc_list(&l);
	tasks = json_object_get(page, "tasks");
	n = json_array_size(tasks);
	for (i = 0; ids != NULL && i < n; i++)
		ids[i] = json_integer_value(json_object_get(json_array_get(
		    tasks, i), "id"));
	json_decref(page);
	json_decref(l.label);
	return n;
}

/* Label filters: newest first, paged, combined. */
static void
test_list_by_label(void **state)
{
	struct obj	*t;
	int64_t		 ids[20];
	int		 i;

	sc_fresh();
	for (i = 0; i < 20; i++) {
		t = obj_new("sleep", NULL);
		json_object_set_new(t->labels, "team", json_string(i % 2 ?
		    "b" : "a"));
		json_object_set_new(t->labels, "size", json_string(i % 4 < 2 ?
		    "s" : "l"));
		obj_unref(t);
	}
	assert_int_equal(list_ids("team", "b", NULL, NULL, 0, 4, ids), 4);
	assert_int_equal(ids[0], 20);
	assert_int_equal(ids[3], 14);
	assert_int_equal(list_ids("team", "b", NULL, NULL, 14, 100, ids), 6);
	assert_int_equal(ids[0], 12);
	assert_int_equal(ids[5], 2);
	/* team b and size l: ids 4, 8, 12, 16, 20 */
	assert_int_equal(list_ids("team", "b", "size", "l", 0, 100, ids), 5);
	assert_int_equal(ids[0], 20);
	assert_int_equal(ids[4], 4);
	assert_int_equal(list_ids("size", "l", "team", "b", 12, 100, ids), 2);
	assert_int_equal(ids[0], 8);
	assert_int_equal(list_ids("team", "c", NULL, NULL, 0, 100, ids), 0);
}

/* counts[] and unretrieved as store_task_counts gives them, in a string. */
static const char *
counts_str(void)
{
	static char	buf[128];
	int64_t		c[FP_STATE_COUNT], u;
	struct sc_status a = { 0, 0 };

	store_task_counts(c, &u, sc_status_cb, &a);
	sc_wait(&a.done);
	assert_int_equal(a.status, STORE_OK);
	snprintf(buf, sizeof buf, "p%lld r%lld s%lld f%lld c%lld u%lld",
	    (long long)c[FP_PENDING], (long long)c[FP_RUNNING],
	    (long long)c[FP_SUCCEEDED], (long long)c[FP_FAILED],
	    (long long)c[FP_CANCELLED], (long long)u);
	return buf;
}

struct purged {
	int	done;
	int	n;
	int	unretrieved;
};

static void
purge_unretrieved_cb(void *arg, int status, const struct store_row *r)
{
	((struct purged *)arg)->unretrieved++;
}

static void
purge_done_cb(void *arg, int n)
{
	struct purged	*p = arg;

	p->n = n;
	p->done = 1;
}

static int
purge(double before, int limit, int *unretrieved)
{
	struct purged	p = { 0, 0, 0 };

	store_task_purge(before, limit, purge_unretrieved_cb, purge_done_cb,
	    &p);
	sc_wait(&p.done);
	if (unretrieved != NULL)
		*unretrieved = p.unretrieved;
	return p.n;
}

/*
 * daemon.info's counts are kept in memory across inserts, transitions,
 * retrieval and purges, and agree with a fresh count after a reopen.
 */
static void
test_counts(void **state)
{
	struct obj	*t[4];
	int		 i, unretrieved;

	sc_fresh();
	for (i = 0; i < 4; i++)
		t[i] = obj_new("sleep", NULL);
	assert_string_equal(counts_str(), "p4 r0 s0 f0 c0 u0");
	t[0]->r.t.state = FP_RUNNING;
	obj_update(t[0]);
	t[1]->r.t.state = FP_FAILED;
	t[1]->r.t.finished_at = 1700000001;
	obj_update(t[1]);
	t[2]->r.t.state = FP_RUNNING;
	obj_update(t[2]);
	t[2]->r.t.state = FP_SUCCEEDED;	/* two moves in one turn */
	t[2]->r.t.finished_at = 1700000002;
	obj_update(t[2]);
	assert_int_equal(sc_flush(), 0);
	assert_string_equal(counts_str(), "p1 r1 s1 f1 c0 u1");
	obj_update(t[1]);	/* a final state written again */
	store_task_retrieved(t[1]->r.t.id);
	store_task_retrieved(t[1]->r.t.id);
	store_task_retrieved(t[2]->r.t.id);
	assert_int_equal(sc_flush(), 0);
	assert_string_equal(counts_str(), "p1 r1 s1 f1 c0 u0");
	t[3]->r.t.state = FP_FAILED;
	t[3]->r.t.finished_at = 1700000003;
	obj_update(t[3]);
	assert_int_equal(purge(1700000002.5, 10, &unretrieved), 2);
	assert_int_equal(unretrieved, 0);	/* t[1]'s was retrieved */
	assert_int_equal(sc_flush(), 0);
	assert_string_equal(counts_str(), "p0 r1 s0 f1 c0 u1");
	sc_reopen();
	assert_string_equal(counts_str(), "p0 r1 s0 f1 c0 u1");
	assert_int_equal(purge(1700000004, 10, &unretrieved), 1);
	assert_int_equal(unretrieved, 1);	/* t[3]'s never was */
	for (i = 0; i < 4; i++)
		obj_unref(t[i]);
}

struct items {
	int	 done;
	json_t	*items;
	int	 overflow;
	int64_t	 next;
};

static void
items_cb(void *arg, int status, json_t *items, int overflow)
{
	struct items	*it = arg;

	assert_int_equal(status, STORE_OK);
	it->items = json_incref(items);
	it->overflow = overflow;
	it->done = 1;
}

static void
next_cb(void *arg, int status, int64_t next)
{
	struct items	*it = arg;

	it->next = next;
	it->done = 1;
}

static json_t *
read_items(int64_t id, int64_t from, int *overflow)
{
	struct items	it = { 0, NULL, 0, 0 };

	store_stream_read(id, from, 10, items_cb, &it);
	sc_wait(&it.done);
	*overflow = it.overflow;
	return it.items;
}

static int64_t
next_seq(int64_t id)
{
	struct items	it = { 0, NULL, 0, 0 };

	store_stream_next(id, next_cb, &it);
	sc_wait(&it.done);
	return it.next;
}

static void
test_streams(void **state)
{
	struct obj	*t;
	json_t		*items, *v;
	int		 overflow;

	sc_fresh();
	t = obj_new("exec", NULL);
	assert_int_equal(next_seq(t->r.t.id), 0);
	v = json_integer(7);
	store_stream_add(t->r.t.id, 0, v, NULL);
	json_decref(v);
	v = json_pack("{s:s}", "type", "YieldDecodeError");
	store_stream_add(t->r.t.id, 1, NULL, v);
	json_decref(v);
	assert_int_equal(next_seq(t->r.t.id), 2);
	items = read_items(t->r.t.id, 0, &overflow);
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items,
	    0), "value")), 7);
	assert_non_null(json_object_get(json_array_get(items, 1), "error"));
	assert_int_equal(overflow, 0);
	json_decref(items);
	items = read_items(t->r.t.id, 1, &overflow);
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	store_stream_overflow(t->r.t.id);
	items = read_items(t->r.t.id, 5, &overflow);
	assert_int_equal(json_array_size(items), 0);
	assert_int_equal(overflow, 1);
	json_decref(items);
	obj_unref(t);
}

/* Purged tasks take their labels and items with them. */
static void
test_purge(void **state)
{
	struct obj	*t;
	json_t		*v, *items;
	int		 i, overflow;
	int64_t		 first = 0;

	sc_fresh();
	for (i = 0; i < 3; i++) {
		t = obj_new("sleep", NULL);
		if (i == 0)
			first = t->r.t.id;
		t->r.t.state = FP_SUCCEEDED;
		t->r.t.finished_at = 1700000001 + i;
		obj_update(t);
		v = json_integer(i);
		store_stream_add(t->r.t.id, 0, v, NULL);
		json_decref(v);
		obj_unref(t);
	}
	assert_int_equal(purge(1700000002.5, 10, NULL), 2);
	assert_int_equal(sc_flush(), 0);
	assert_null(sc_task(first));
	items = read_items(first, 0, &overflow);
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	assert_int_equal(list_ids("team", "a", NULL, NULL, 0, 10, NULL), 1);
	/* a batch of one at a time */
	assert_int_equal(purge(1700000010, 1, NULL), 1);
	assert_int_equal(purge(1700000010, 1, NULL), 0);
}

/*
 * Changes of one turn are written once, with the last state: a task
 * inserted and finished before the commit is one finished row.  Ids are
 * never handed out twice, even after the newest tasks were purged.
 */
static void
test_write_behind_and_ids(void **state)
{
	struct obj	*t;
	json_t		*o;
	int64_t		 id;

	sc_fresh();
	t = obj_new("sleep", NULL);
	t->r.t.state = FP_RUNNING;
	obj_update(t);
	t->r.t.state = FP_SUCCEEDED;
	t->result = json_integer(5);
	t->r.t.finished_at = 1700000003;
	obj_update(t);
	id = t->r.t.id;
	obj_unref(t);		/* the store still holds it */
	assert_int_equal(sc_flush(), 0);
	o = sc_task(id);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "succeeded");
	assert_int_equal(json_integer_value(json_object_get(o, "result")), 5);
	json_decref(o);
	assert_int_equal(purge(1700000004, 10, NULL), 1);
	assert_int_equal(sc_flush(), 0);
	sc_reopen();
	t = obj_new("sleep", NULL);
	/* never the purged id again (the backends keep a mark a block of
	 * ids ahead, so the next id may skip) */
	assert_true(t->r.t.id > id);
	obj_unref(t);
}

/*
 * A write that fails at the commit (here a key that is already taken)
 * dooms the whole turn: nothing of it is stored, whoever waited hears
 * STORE_FAILED, the counts are those stored, the ids it handed out are
 * not handed out again, and the next turn works.
 */
static void
test_failed_turn(void **state)
{
	struct obj	*t[4];
	json_t		*o;
	int		 i;
	int64_t		 last;

	sc_fresh();
	t[0] = obj_new("sleep", "k");
	assert_int_equal(sc_flush(), 0);
	t[1] = obj_new("sleep", "k");
	t[2] = obj_new("sleep", NULL);
	assert_int_equal(sc_flush(), -1);
	assert_null(sc_task(t[2]->r.t.id));
	assert_string_equal(counts_str(), "p1 r0 s0 f0 c0 u0");
	last = t[2]->r.t.id;
	t[3] = obj_new("sleep", NULL);
	assert_int_equal(t[3]->r.t.id, last + 1);
	assert_int_equal(sc_flush(), 0);
	o = sc_task(t[3]->r.t.id);
	assert_non_null(o);
	json_decref(o);
	assert_string_equal(counts_str(), "p2 r0 s0 f0 c0 u0");
	sc_reopen();
	assert_string_equal(counts_str(), "p2 r0 s0 f0 c0 u0");
	for (i = 0; i < 4; i++)
		obj_unref(t[i]);
}

struct queues {
	int	done;
	int	concurrency;
	int	paused;
};

static void
queue_cb(void *arg, const char *name, int concurrency, int paused)
{
	struct queues	*q = arg;

	if (strcmp(name, "slow") == 0) {
		q->concurrency = concurrency;
		q->paused = paused;
	}
}

static void
queues_done_cb(void *arg, int status)
{
	((struct queues *)arg)->done = 1;
}

static void
test_queue_settings_persist(void **state)
{
	struct queues	q = { 0, 0, 0 };

	sc_fresh();
	store_queue_save("slow", 3, 1);
	assert_int_equal(sc_flush(), 0);
	store_queue_save("slow", 4, 1);		/* saved again: updated */
	assert_int_equal(sc_flush(), 0);
	sc_reopen();
	store_queue_load(queue_cb, queues_done_cb, &q);
	sc_wait(&q.done);
	assert_int_equal(q.concurrency, 4);
	assert_int_equal(q.paused, 1);
}

/* What store_schedule_load read: the row named "s", and how many. */
struct sched_rows {
	int	 done, n;
	int64_t	 version;
	json_t	*def, *state;
};

static void
sched_row_cb(void *arg, const char *name, json_t *def, json_t *state,
    int64_t version)
{
	struct sched_rows	*r = arg;

	r->n++;
	if (strcmp(name, "s") != 0)
		return;
	r->version = version;
	json_decref(r->def);
	json_decref(r->state);
	r->def = json_incref(def);
	r->state = json_incref(state);
}

static void
sched_rows_done_cb(void *arg, int status)
{
	assert_int_equal(status, STORE_OK);
	((struct sched_rows *)arg)->done = 1;
}

static int
sched_put(const char *name, json_t *def, json_t *state, int64_t version)
{
	struct sc_status	st = { 0, -1 };

	store_schedule_put(name, def, state, version, sc_status_cb, &st);
	sc_wait(&st.done);
	assert_int_equal(sc_flush(), 0);
	return st.status;
}

static void
sched_load(struct sched_rows *r)
{
	json_decref(r->def);
	json_decref(r->state);
	memset(r, 0, sizeof *r);
	store_schedule_load(sched_row_cb, sched_rows_done_cb, r);
	sc_wait(&r->done);
}

/*
 * Schedules' rows (#17): an insert of a taken name and a write over a
 * version that moved on both answer STORE_NONE and change nothing, so
 * that of two nodes only one takes a firing.
 */
static void
test_schedule_rows(void **state)
{
	json_t			*def = json_pack("{s:i}", "every", 60);
	json_t			*st1 = json_pack("{s:i}", "next_at", 1);
	json_t			*st2 = json_pack("{s:i}", "next_at", 2);
	struct sched_rows	 r = { 0 };
	struct sc_status	 del = { 0, -1 };

	sc_fresh();
	assert_int_equal(sched_put("s", def, st1, 0), STORE_OK);
	assert_int_equal(sched_put("s", def, st2, 0), STORE_NONE);
	assert_int_equal(sched_put("t", def, st1, 0), STORE_OK);
	sched_load(&r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.version, 1);
	assert_true(json_equal(r.state, st1));
	/* a compare-and-set: version 1 moves to 2, once */
	assert_int_equal(sched_put("s", NULL, st2, 1), STORE_OK);
	assert_int_equal(sched_put("s", NULL, st1, 1), STORE_NONE);
	sc_reopen();
	sched_load(&r);
	assert_int_equal(r.version, 2);
	assert_true(json_equal(r.state, st2));
	assert_true(json_equal(r.def, def));	/* NULL kept it */
	/* a delete compares too */
	store_schedule_delete("s", 1, sc_status_cb, &del);
	sc_wait(&del.done);
	assert_int_equal(del.status, STORE_NONE);
	del.done = 0;
	store_schedule_delete("s", 2, sc_status_cb, &del);
	sc_wait(&del.done);
	assert_int_equal(del.status, STORE_OK);
	assert_int_equal(sc_flush(), 0);
	sched_load(&r);
	assert_int_equal(r.n, 1);
	assert_null(r.def);
	json_decref(def);
	json_decref(st1);
	json_decref(st2);
}

struct rates {
	int	done, n;
	double	starts, per, burst;
};

static void
rate_cb(void *arg, const char *name, double starts, double per, double burst)
{
	struct rates	*r = arg;

	r->n++;
	if (strcmp(name, "api") == 0) {
		r->starts = starts;
		r->per = per;
		r->burst = burst;
	}
}

static void
rates_done_cb(void *arg, int status)
{
	assert_int_equal(status, STORE_OK);
	((struct rates *)arg)->done = 1;
}

/* Rate limits persist, are updated in place, and starts 0 deletes. */
static void
test_rate_limits_persist(void **state)
{
	struct rates	r = { 0 };

	sc_fresh();
	store_rate_save("api", 10, 1, 1);
	store_rate_save("api", 20, 2.5, 4);
	store_rate_save("gone", 1, 1, 1);
	assert_int_equal(sc_flush(), 0);
	store_rate_save("gone", 0, 0, 0);
	assert_int_equal(sc_flush(), 0);
	sc_reopen();
	store_rate_load(rate_cb, rates_done_cb, &r);
	sc_wait(&r.done);
	assert_int_equal(r.n, 1);
	assert_true(r.starts == 20 && r.per == 2.5 && r.burst == 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_get),
		cmocka_unit_test(test_states_of_many),
		cmocka_unit_test(test_schedule_rows),
		cmocka_unit_test(test_rate_limits_persist),
		cmocka_unit_test(test_transitions_survive_reopen),
		cmocka_unit_test(test_group_commit_defer),
		cmocka_unit_test(test_load_unfinished),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_list_pagination_and_filters),
		cmocka_unit_test(test_list_by_label),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_purge),
		cmocka_unit_test(test_write_behind_and_ids),
		cmocka_unit_test(test_failed_turn),
		cmocka_unit_test(test_queue_settings_persist),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
