/*
 * test_store.c: the sqlite store on a real temporary file: transitions,
 * group commit and deferred work, restart recovery, migrations, listing,
 * keys and streams.  (#2, #3)
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
#include <sqlite3.h>
#include <event2/event.h>

#include "futured.h"
#include "store.h"

static char	dir[] = "/tmp/futured-test-store.XXXXXX";
static char	path[256];

static int
setup(void **state)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/futured.db", dir);
	log_init(LOG_LEVEL_ERROR);
	loop_base = event_base_new();
	sched_queue("default");
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[512];

	store_close();
	event_base_free(loop_base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* Each test starts from an empty database file. */
static void
fresh(void)
{
	char	f[300];

	store_close();
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
	assert_int_equal(store_open(path, 1, loop_base), 0);
}

static void
reopen(void)
{
	store_close();
	assert_int_equal(store_open(path, 1, loop_base), 0);
}

/* A task.list page as the client would parse it. */
static json_t *
list_page(const struct fp_list *l)
{
	struct fp_text	 o = { 0 };
	json_error_t	 err;
	json_t		*page;

	assert_int_equal(store_task_list(l, &o), 0);
	page = json_loadb(o.buf, o.len, 0, &err);
	if (page == NULL)
		fail_msg("page is not JSON (%s): %s", err.text, o.buf);
	fp_text_clear(&o);
	return page;
}

static struct task *
new_task(const char *kind, const char *key)
{
	struct task	*t = task_create();

	t->kind = strcmp(kind, "exec") == 0 ? TASK_EXEC : TASK_SLEEP;
	t->state = FP_PENDING;
	t->queue = sched_queue("default");
	t->key = key != NULL ? strdup(key) : NULL;
	t->spec = json_pack("{s:s,s:f}", "kind", kind, "seconds", 1.0);
	t->labels = json_pack("{s:s}", "team", "a");
	t->created_at = 1700000000.5;
	assert_int_equal(store_task_insert(t), 0);
	return t;
}

static void
test_insert_get(void **state)
{
	struct task	*t;
	json_t		*o;

	fresh();
	t = new_task("sleep", NULL);
	assert_int_equal(t->id, 1);
	o = store_task_get(1);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "pending");
	assert_string_equal(json_string_value(json_object_get(o, "kind")),
	    "sleep");
	assert_true(json_is_null(json_object_get(o, "key")));
	assert_string_equal(json_string_value(json_object_get(o,
	    "created_at")), "2023-11-14T22:13:20.500Z");
	json_decref(o);
	assert_null(store_task_get(2));
	task_unref(t, __func__);
}

/* Stores written before d2f0806 hold indented JSON; answers are compact. */
static void
test_indented_columns(void **state)
{
	struct fp_text	 o = { 0 };
	struct task	*t;
	sqlite3		*db;
	json_t		*v;

	fresh();
	t = new_task("sleep", NULL);
	t->state = FP_SUCCEEDED;
	t->result = json_pack("{s:[i,s]}", "r", 1, "a\nb");
	assert_int_equal(store_task_update(t), 0);
	assert_int_equal(store_flush(), 0);
	store_close();
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE tasks SET spec = "
	    "'{\n    \"kind\": \"sleep\",\n    \"seconds\": 1\n}', "
	    "result = '{\n    \"r\": [\n        1,\n        \"a\\nb\"\n    ]\n}'",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen();
	assert_int_equal(store_task_write(t->id, &o), 0);
	assert_null(strchr(o.buf, '\n'));
	assert_non_null(strstr(o.buf, "\"spec\":{\"kind\":\"sleep\","
	    "\"seconds\":1}"));
	assert_non_null(strstr(o.buf, "\"result\":{\"r\":[1,\"a\\nb\"]}"));
	v = json_loads(o.buf, 0, NULL);
	assert_non_null(v);
	json_decref(v);
	fp_text_clear(&o);
	task_unref(t, __func__);
}

static void
test_transitions_survive_reopen(void **state)
{
	struct task	*t;
	enum fp_state	 st;
	json_t		*o;

	fresh();
	t = new_task("exec", NULL);
	t->state = FP_RUNNING;
	t->attempt = 1;
	t->started_at = 1700000001;
	assert_int_equal(store_task_update(t), 0);
	t->state = FP_FAILED;
	t->finished_at = 1700000002;
	t->exception = fp_exception_create("ProcessError", "exit %d", 3);
	assert_int_equal(store_task_update(t), 0);
	assert_int_equal(store_flush(), 0);
	reopen();
	assert_int_equal(store_task_state(t->id, &st), 0);
	assert_int_equal(st, FP_FAILED);
	o = store_task_get(t->id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o,
	    "exception"), "type")), "ProcessError");
	assert_true(json_is_false(json_object_get(o, "retrieved")));
	assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 1);
	json_decref(o);
	assert_int_equal(store_task_retrieved(t->id), 0);
	o = store_task_get(t->id);
	assert_true(json_is_true(json_object_get(o, "retrieved")));
	json_decref(o);
	task_unref(t, __func__);
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

/* Group commit: work deferred in a turn runs after the one COMMIT. */
static void
test_group_commit_defer(void **state)
{
	struct task	*a, *b;

	fresh();
	deferred_n = 0;
	a = new_task("sleep", NULL);
	store_defer(deferred_cb, (void *)1);
	b = new_task("sleep", NULL);
	store_defer(deferred_cb, (void *)2);
	assert_int_equal(deferred_n, 0);	/* not before the commit */
	event_base_loop(loop_base, EVLOOP_NONBLOCK);
	assert_int_equal(deferred_n, 2);
	assert_int_equal(deferred_order[0], 1);
	assert_int_equal(deferred_order[1], 2);
	assert_int_equal(deferred_status, STORE_COMMITTED);
	/* With nothing written, deferred work still runs at the turn's end. */
	store_defer(deferred_cb, (void *)3);
	event_base_loop(loop_base, EVLOOP_NONBLOCK);
	assert_int_equal(deferred_n, 3);
	task_unref(a, __func__);
	task_unref(b, __func__);
}

static void
load_cb(struct task *t, void *arg)
{
	json_t	*ids = arg;

	json_array_append_new(ids, json_integer(t->id));
	task_unref(t, __func__);
}

/* Recovery: only pending and running tasks come back, oldest first. */
static void
test_load_unfinished(void **state)
{
	struct task	*t[4];
	json_t		*ids = json_array();
	int		 i;

	fresh();
	for (i = 0; i < 4; i++)
		t[i] = new_task(i == 2 ? "exec" : "sleep", NULL);
	t[1]->state = FP_SUCCEEDED;
	store_task_update(t[1]);
	t[2]->state = FP_RUNNING;
	store_task_update(t[2]);
	store_flush();
	reopen();
	assert_int_equal(store_task_load(load_cb, ids), 0);
	assert_int_equal(json_array_size(ids), 3);
	assert_int_equal(json_integer_value(json_array_get(ids, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(ids, 1)), 3);
	assert_int_equal(json_integer_value(json_array_get(ids, 2)), 4);
	json_decref(ids);
	for (i = 0; i < 4; i++)
		task_unref(t[i], __func__);
}

static void
test_keys(void **state)
{
	struct task	*t;
	json_t		*spec = NULL;
	int64_t		 id = 0;

	fresh();
	t = new_task("sleep", "k-1");
	assert_int_equal(store_task_by_key("k-1", &id, &spec), 0);
	assert_int_equal(id, t->id);
	assert_true(json_equal(spec, t->spec));
	json_decref(spec);
	assert_int_equal(store_task_by_key("k-2", &id, &spec), -1);
	task_unref(t, __func__);
}

/* Pages follow the cursor with no task twice and none missing. */
static void
test_list_pagination_and_filters(void **state)
{
	struct fp_list	 l;
	json_t		*page, *next;
	struct task	*t;
	int		 i, seen = 0;
	int64_t		 last = INT64_MAX, id;
	size_t		 k;

	fresh();
	for (i = 0; i < 25; i++) {
		t = new_task("sleep", NULL);
		if (i % 5 == 0) {
			t->state = FP_FAILED;
			store_task_update(t);
		}
		task_unref(t, __func__);
	}
	memset(&l, 0, sizeof l);
	l.limit = 10;
	for (;;) {
		page = list_page(&l);
		for (k = 0; k < json_array_size(json_object_get(page, "tasks"));
		    k++) {
			id = json_integer_value(json_object_get(json_array_get(
			    json_object_get(page, "tasks"), k), "id"));
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
	page = list_page(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 5);
	json_decref(page);
	l.unretrieved = 0;
	l.label = json_pack("{s:s}", "team", "b");
	page = list_page(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 0);
	json_decref(page);
	json_decref(l.label);
}

static void
purge_cb(int64_t id, const char *kind, json_t *exc, void *arg)
{
}

/* counts[] and unretrieved as store_task_counts gives them, in a string. */
static const char *
counts_str(void)
{
	static char	buf[128];
	int64_t		c[FP_STATE_COUNT], u;

	assert_int_equal(store_task_counts(c, &u), 0);
	snprintf(buf, sizeof buf, "p%lld r%lld s%lld f%lld c%lld u%lld",
	    (long long)c[FP_PENDING], (long long)c[FP_RUNNING],
	    (long long)c[FP_SUCCEEDED], (long long)c[FP_FAILED],
	    (long long)c[FP_CANCELLED], (long long)u);
	return buf;
}

/*
 * daemon.info's counts are kept in memory across inserts, transitions,
 * retrieval and purges, and agree with a fresh count of the file.
 */
static void
test_counts(void **state)
{
	struct task	*t[4];
	int		 i;

	fresh();
	for (i = 0; i < 4; i++)
		t[i] = new_task("sleep", NULL);
	assert_string_equal(counts_str(), "p4 r0 s0 f0 c0 u0");
	t[0]->state = FP_RUNNING;
	store_task_update(t[0]);
	t[1]->state = FP_FAILED;
	t[1]->finished_at = 1700000001;
	store_task_update(t[1]);
	t[2]->state = FP_RUNNING;
	store_task_update(t[2]);
	t[2]->state = FP_SUCCEEDED;	/* two moves in one turn */
	t[2]->finished_at = 1700000002;
	store_task_update(t[2]);
	assert_int_equal(store_flush(), 0);
	assert_string_equal(counts_str(), "p1 r1 s1 f1 c0 u1");
	store_task_update(t[1]);	/* a final state written again */
	assert_int_equal(store_task_retrieved(t[1]->id), 0);
	assert_int_equal(store_task_retrieved(t[1]->id), 0);
	assert_int_equal(store_task_retrieved(t[2]->id), 0);
	assert_int_equal(store_flush(), 0);
	assert_string_equal(counts_str(), "p1 r1 s1 f1 c0 u0");
	t[3]->state = FP_FAILED;
	t[3]->finished_at = 1700000003;
	store_task_update(t[3]);
	assert_int_equal(store_task_purge(1700000002.5, 10, purge_cb, NULL),
	    2);
	assert_int_equal(store_flush(), 0);
	assert_string_equal(counts_str(), "p0 r1 s0 f1 c0 u1");
	reopen();
	assert_string_equal(counts_str(), "p0 r1 s0 f1 c0 u1");
	for (i = 0; i < 4; i++)
		task_unref(t[i], __func__);
}

static void
test_streams(void **state)
{
	struct task	*t;
	json_t		*items, *v;

	fresh();
	t = new_task("exec", NULL);
	assert_int_equal(store_stream_next(t->id), 0);
	v = json_integer(7);
	assert_int_equal(store_stream_add(t->id, 0, v, NULL), 0);
	json_decref(v);
	v = json_pack("{s:s}", "type", "YieldDecodeError");
	assert_int_equal(store_stream_add(t->id, 1, NULL, v), 0);
	json_decref(v);
	assert_int_equal(store_stream_next(t->id), 2);
	items = store_stream_read(t->id, 0, 10);
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items,
	    0), "value")), 7);
	assert_non_null(json_object_get(json_array_get(items, 1), "error"));
	json_decref(items);
	items = store_stream_read(t->id, 1, 10);
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	assert_int_equal(store_stream_overflow(t->id, 0), 0);
	store_stream_overflow(t->id, 1);
	assert_int_equal(store_stream_overflow(t->id, 0), 1);
	task_unref(t, __func__);
}

/*
 * Lists with one or two label filters and an optional cursor; stores the
 * ids found (newest first) in ids and returns how many there were.
 */
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
	page = list_page(&l);
	assert_non_null(page);
	tasks = json_object_get(page, "tasks");
	n = json_array_size(tasks);
	for (i = 0; ids != NULL && i < n; i++)
		ids[i] = json_integer_value(json_object_get(json_array_get(
		    tasks, i), "id"));
	json_decref(page);
	json_decref(l.label);
	return n;
}

/* Rows of task_labels, counted through a second connection. */
static int
label_rows(void)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	    "SELECT count(*) FROM task_labels", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Label filters go through task_labels: newest first, paged, combined. */
static void
test_list_by_label(void **state)
{
	struct task	*t;
	int64_t		 ids[20];
	int		 i;

	fresh();
	for (i = 0; i < 20; i++) {
		t = new_task("sleep", NULL);
		json_object_set_new(t->labels, "team", json_string(i % 2 ?
		    "b" : "a"));
		json_object_set_new(t->labels, "size", json_string(i % 4 < 2 ?
		    "s" : "l"));
		task_unref(t, __func__);
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
	assert_int_equal(store_flush(), 0);
	assert_int_equal(label_rows(), 40);
}

/* Purged tasks take their label rows with them. */
static void
test_purge_drops_labels(void **state)
{
	struct task	*t;
	int		 i;

	fresh();
	for (i = 0; i < 3; i++) {
		t = new_task("sleep", NULL);
		t->state = FP_SUCCEEDED;
		t->finished_at = 1700000001 + i;
		store_task_update(t);
		task_unref(t, __func__);
	}
	assert_int_equal(store_task_purge(1700000002.5, 10, purge_cb, NULL),
	    2);
	assert_int_equal(store_flush(), 0);
	assert_int_equal(label_rows(), 1);
	assert_int_equal(list_ids("team", "a", NULL, NULL, 0, 10, NULL), 1);
}

/*
 * Changes of one turn are written once, with the last state: a task
 * inserted and finished before the commit is one finished row.  Ids are
 * never handed out twice, even after the newest tasks were purged.
 */
static void
test_write_behind_and_ids(void **state)
{
	struct task	*t;
	json_t		*o;
	int64_t		 id;

	fresh();
	t = new_task("sleep", NULL);
	t->state = FP_RUNNING;
	store_task_update(t);
	t->state = FP_SUCCEEDED;
	t->result = json_integer(5);
	t->finished_at = 1700000003;
	store_task_update(t);
	id = t->id;
	task_unref(t, __func__);
	assert_int_equal(store_flush(), 0);
	o = store_task_get(id);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "succeeded");
	assert_int_equal(json_integer_value(json_object_get(o, "result")), 5);
	json_decref(o);
	assert_int_equal(store_task_purge(1700000004, 10, purge_cb, NULL), 1);
	assert_int_equal(store_flush(), 0);
	reopen();
	t = new_task("sleep", NULL);
	assert_int_equal(t->id, id + 1);
	task_unref(t, __func__);
}

static void
status_cb(void *arg, int status)
{
	*(int *)arg = status;
}

/*
 * A write that fails at the commit (here a key that is already taken)
 * dooms the whole turn: nothing of it is stored, whoever waited hears
 * STORE_FAILED, the counts are those of the file, the ids it handed out
 * are not handed out again, and the next turn works.
 */
static void
test_failed_turn(void **state)
{
	struct task	*t[4];
	json_t		*o;
	int		 status = 1, i;
	int64_t		 last;

	fresh();
	t[0] = new_task("sleep", "k");
	assert_int_equal(store_flush(), 0);
	t[1] = new_task("sleep", "k");
	t[2] = new_task("sleep", NULL);
	store_defer(status_cb, &status);
	assert_int_equal(store_flush(), -1);
	assert_int_equal(status, STORE_FAILED);
	assert_null(store_task_get(t[2]->id));
	assert_string_equal(counts_str(), "p1 r0 s0 f0 c0 u0");
	last = t[2]->id;
	t[3] = new_task("sleep", NULL);
	assert_int_equal(t[3]->id, last + 1);
	assert_int_equal(store_flush(), 0);
	o = store_task_get(t[3]->id);
	assert_non_null(o);
	json_decref(o);
	assert_string_equal(counts_str(), "p2 r0 s0 f0 c0 u0");
	reopen();
	assert_string_equal(counts_str(), "p2 r0 s0 f0 c0 u0");
	for (i = 0; i < 4; i++)
		task_unref(t[i], __func__);
}

/* A version-1 file is migrated forward and keeps its tasks. */
static void
test_migration_from_v1(void **state)
{
	sqlite3		*db;
	enum fp_state	 st;
	char		*err = NULL;

	store_close();
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " kind TEXT NOT NULL, state INTEGER NOT NULL, queue TEXT NOT NULL,"
	    " priority INTEGER NOT NULL DEFAULT 0, key TEXT UNIQUE,"
	    " spec TEXT NOT NULL, labels TEXT NOT NULL DEFAULT '{}', after TEXT,"
	    " timeout REAL, not_before REAL, retry_backoff REAL NOT NULL DEFAULT 1,"
	    " attempt INTEGER NOT NULL DEFAULT 0,"
	    " max_retries INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,"
	    " started_at REAL, finished_at REAL, result TEXT, exception TEXT,"
	    " retrieved INTEGER NOT NULL DEFAULT 0);"
	    "CREATE TABLE queues (name TEXT PRIMARY KEY,"
	    " concurrency INTEGER NOT NULL DEFAULT 0,"
	    " paused INTEGER NOT NULL DEFAULT 0);"
	    "INSERT INTO tasks (kind, state, queue, spec, created_at, result,"
	    " labels) VALUES ('sleep', 2, 'default', '{\"kind\":\"sleep\"}',"
	    " 1, '42', '{\"tier\":\"old\"}');"
	    "PRAGMA user_version = 1;", NULL, NULL, &err), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, 1, loop_base), 0);
	assert_int_equal(store_schema_version(), STORE_SCHEMA_VERSION);
	assert_int_equal(store_task_state(1, &st), 0);
	assert_int_equal(st, FP_SUCCEEDED);
	assert_int_equal(store_stream_overflow(1, 0), 0);
	/* migration 3 filled task_labels from the old rows */
	assert_int_equal(list_ids("tier", "old", NULL, NULL, 0, 10, NULL), 1);
}

/* A file from a newer futured is refused rather than damaged. */
static void
test_newer_schema_refused(void **state)
{
	sqlite3	*db;

	store_close();
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, 1, loop_base), -1);
}

static void
test_queue_settings_persist(void **state)
{
	struct queue	q = { .name = "slow", .concurrency = 3, .paused = 1 };

	fresh();
	assert_int_equal(store_queue_save(&q), 0);
	store_flush();
	reopen();
	assert_int_equal(sched_init(), 0);
	assert_int_equal(sched_queue("slow")->concurrency, 3);
	assert_int_equal(sched_queue("slow")->paused, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_get),
		cmocka_unit_test(test_indented_columns),
		cmocka_unit_test(test_transitions_survive_reopen),
		cmocka_unit_test(test_group_commit_defer),
		cmocka_unit_test(test_load_unfinished),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_list_pagination_and_filters),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_migration_from_v1),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_queue_settings_persist),
		cmocka_unit_test(test_list_by_label),
		cmocka_unit_test(test_purge_drops_labels),
		cmocka_unit_test(test_write_behind_and_ids),
		cmocka_unit_test(test_failed_turn),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, setup, teardown);
	store_close();
	sched_free();
	return rc;
}
