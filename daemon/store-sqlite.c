/*
 * store-sqlite.c: the sqlite implementation of store.h, and the only file
 * that speaks SQL.
 *
 * Group commit: the first write of a loop turn opens a transaction and
 * activates commit_ev; libevent runs it after the events already active in
 * this turn, so one fsync covers everything the turn changed.  Work that
 * must not be seen before it is durable (replies, watchers) waits in the
 * deferred list and runs after the COMMIT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <event2/event.h>

#include "futured.h"
#include "store.h"

/* Schema migrations: migrations[i] takes user_version i to i + 1. */
static const char *const store_migrations[] = {
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL,"
	"  state INTEGER NOT NULL,"	/* enum fp_state: values are stable */
	"  queue TEXT NOT NULL,"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  key TEXT UNIQUE,"
	"  spec TEXT NOT NULL,"
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  after TEXT,"
	"  timeout REAL,"
	"  not_before REAL,"
	"  retry_backoff REAL NOT NULL DEFAULT 1,"
	"  attempt INTEGER NOT NULL DEFAULT 0,"
	"  max_retries INTEGER NOT NULL DEFAULT 0,"
	"  created_at REAL NOT NULL,"
	"  started_at REAL,"
	"  finished_at REAL,"
	"  result TEXT,"
	"  exception TEXT,"
	"  retrieved INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tasks_by_state ON tasks(state, id);"
	"CREATE INDEX tasks_by_queue ON tasks(queue, id);"
	"CREATE INDEX tasks_unretrieved ON tasks(id)"
	"  WHERE state = 3 AND retrieved = 0;"
	"CREATE TABLE queues ("
	"  name TEXT PRIMARY KEY,"
	"  concurrency INTEGER NOT NULL DEFAULT 0,"
	"  paused INTEGER NOT NULL DEFAULT 0);",

	/* 2: what exec tasks yield on fd 3 (async generators). */
	"CREATE TABLE stream_items ("
	"  task_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  value TEXT,"
	"  error TEXT,"
	"  PRIMARY KEY (task_id, seq)) WITHOUT ROWID;"
	"ALTER TABLE tasks ADD COLUMN stream_overflow INTEGER NOT NULL "
	"  DEFAULT 0;"
	/* each attempt's outcome, for retried tasks */
	"ALTER TABLE tasks ADD COLUMN attempts TEXT;"
	/* when a pending task may start: not_before, or a retry's backoff */
	"ALTER TABLE tasks ADD COLUMN start_after REAL;"
	"CREATE INDEX tasks_by_finish ON tasks(finished_at)"
	"  WHERE finished_at IS NOT NULL;",
};
#define STORE_NMIGRATIONS \
	((int)(sizeof store_migrations / sizeof store_migrations[0]))

#define STORE_COLUMNS "id, kind, state, queue, priority, key, spec, labels, " \
	"after, timeout, not_before, retry_backoff, attempt, max_retries, " \
	"created_at, started_at, finished_at, result, exception, retrieved, " \
	"attempts, start_after"
enum store_col {
	COL_ID, COL_KIND, COL_STATE, COL_QUEUE, COL_PRIORITY, COL_KEY,
	COL_SPEC, COL_LABELS, COL_AFTER, COL_TIMEOUT, COL_NOT_BEFORE,
	COL_BACKOFF, COL_ATTEMPT, COL_MAX_RETRIES, COL_CREATED, COL_STARTED,
	COL_FINISHED, COL_RESULT, COL_EXCEPTION, COL_RETRIEVED, COL_ATTEMPTS,
	COL_START_AFTER,
};

enum store_stmt {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_INSERT, ST_UPDATE, ST_GET,
	ST_STATE, ST_BY_KEY, ST_RETRIEVED, ST_COUNTS, ST_UNRETRIEVED, ST_LOAD,
	ST_QUEUE_SAVE, ST_QUEUE_LOAD, ST_ITEM_ADD, ST_ITEMS, ST_ITEM_NEXT,
	ST_OVERFLOW_SET, ST_OVERFLOW_GET, ST_PURGE_SELECT, ST_PURGE_ITEMS,
	ST_PURGE_TASK, ST_SPEC, ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT] = "INSERT INTO tasks (kind, state, queue, priority, key, "
	    "spec, labels, after, timeout, not_before, retry_backoff, attempt, "
	    "max_retries, created_at, start_after) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_UPDATE] = "UPDATE tasks SET state = ?, attempt = ?, started_at = ?, "
	    "finished_at = ?, result = ?, exception = ?, start_after = ?, "
	    "attempts = ? WHERE id = ?",
	[ST_GET] = "SELECT " STORE_COLUMNS " FROM tasks WHERE id = ?",
	[ST_STATE] = "SELECT state FROM tasks WHERE id = ?",
	[ST_BY_KEY] = "SELECT id, spec FROM tasks WHERE key = ?",
	[ST_RETRIEVED] = "UPDATE tasks SET retrieved = 1 WHERE id = ? "
	    "AND retrieved = 0",
	[ST_COUNTS] = "SELECT state, count(*) FROM tasks GROUP BY state",
	[ST_UNRETRIEVED] = "SELECT count(*) FROM tasks "
	    "WHERE state = 3 AND retrieved = 0",
	[ST_LOAD] = "SELECT " STORE_COLUMNS " FROM tasks "
	    "WHERE state IN (0, 1) ORDER BY id",
	[ST_QUEUE_SAVE] = "INSERT INTO queues (name, concurrency, paused) "
	    "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
	    "concurrency = excluded.concurrency, paused = excluded.paused",
	[ST_QUEUE_LOAD] = "SELECT name, concurrency, paused FROM queues",
	[ST_ITEM_ADD] = "INSERT INTO stream_items (task_id, seq, value, error) "
	    "VALUES (?, ?, ?, ?)",
	[ST_ITEMS] = "SELECT seq, value, error FROM stream_items "
	    "WHERE task_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
	[ST_ITEM_NEXT] = "SELECT max(seq) FROM stream_items WHERE task_id = ?",
	[ST_OVERFLOW_SET] = "UPDATE tasks SET stream_overflow = 1 WHERE id = ?",
	[ST_OVERFLOW_GET] = "SELECT stream_overflow FROM tasks WHERE id = ?",
	[ST_PURGE_SELECT] = "SELECT id, kind, state, retrieved, exception "
	    "FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ? "
	    "ORDER BY finished_at LIMIT ?",
	[ST_PURGE_ITEMS] = "DELETE FROM stream_items WHERE task_id = ?",
	[ST_PURGE_TASK] = "DELETE FROM tasks WHERE id = ?",
	[ST_SPEC] = "SELECT spec FROM tasks WHERE id = ?",
};

struct store_deferred {
	void	(*cb)(void *, int);
	void	*arg;
};

static sqlite3			*store_db;
static sqlite3_stmt		*store_stmts[ST_COUNT];
static struct event		*store_commit_ev;
static int			 store_in_txn;
static struct store_deferred	*store_deferred;
static size_t			 store_ndeferred, store_deferred_cap;

static void	store_commit_cb(evutil_socket_t, short, void *);

static void
store_log(const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(store_db));
}

static int
store_exec(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(store_db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store: %s", err != NULL ? err : "exec failed");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
store_pragma_int(const char *sql)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if (sqlite3_prepare_v2(store_db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
store_schema_version(void)
{
	return store_pragma_int("PRAGMA user_version");
}

/* Applies the migrations the file lacks, each in its own transaction. */
static int
store_migrate(void)
{
	char	sql[64];
	int	v = store_schema_version();

	if (v < 0)
		return -1;
	if (v > STORE_NMIGRATIONS) {
		log_warnx("store: database schema %d is newer than this futured "
		    "(%d): refusing to touch it", v, STORE_NMIGRATIONS);
		return -1;
	}
	for (; v < STORE_NMIGRATIONS; v++) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (store_exec("BEGIN IMMEDIATE") == -1)
			return -1;
		if (store_exec(store_migrations[v]) == -1 ||
		    store_exec(sql) == -1) {
			store_exec("ROLLBACK");
			return -1;
		}
		if (store_exec("COMMIT") == -1)
			return -1;
		log_info("store: migrated schema to version %d", v + 1);
	}
	return 0;
}

static int
store_prepare(void)
{
	int	i;

	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(store_db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &store_stmts[i], NULL) !=
		    SQLITE_OK) {
			store_log(store_sql[i]);
			return -1;
		}
	}
	return 0;
}

int
store_open(const char *path, int sync_full, struct event_base *base)
{
	if (sqlite3_open_v2(path, &store_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("store: cannot open %s: %s", path,
		    store_db != NULL ? sqlite3_errmsg(store_db) : "no memory");
		goto fail;
	}
	sqlite3_busy_timeout(store_db, 5000);
	sqlite3_extended_result_codes(store_db, 1);
	if (store_exec("PRAGMA journal_mode = WAL") == -1 ||
	    store_exec(sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL") == -1 ||
	    store_exec("PRAGMA foreign_keys = ON") == -1)
		goto fail;
	if (store_migrate() == -1 || store_prepare() == -1)
		goto fail;
	store_commit_ev = event_new(base, -1, 0, store_commit_cb, NULL);
	if (store_commit_ev == NULL)
		goto fail;
	return 0;
fail:
	store_close();
	return -1;
}

void
store_close(void)
{
	int	i;

	if (store_db == NULL)
		return;
	if (store_in_txn || store_ndeferred > 0)
		store_flush();
	for (i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(store_stmts[i]);
		store_stmts[i] = NULL;
	}
	if (store_commit_ev != NULL)
		event_free(store_commit_ev);
	store_commit_ev = NULL;
	sqlite3_close(store_db);
	store_db = NULL;
	free(store_deferred);
	store_deferred = NULL;
	store_ndeferred = store_deferred_cap = 0;
}

/* Runs a statement that returns no rows; resets it. */
static int
store_step_done(sqlite3_stmt *st, const char *what)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		store_log(what);
		return -1;
	}
	return 0;
}

/* Joins the current turn's transaction, opening it on first use. */
static int
store_txn(void)
{
	if (store_in_txn)
		return 0;
	if (store_step_done(store_stmts[ST_BEGIN], "begin") == -1)
		return -1;
	store_in_txn = 1;
	event_active(store_commit_ev, 0, 0);
	return 0;
}

void
store_defer(void (*cb)(void *, int), void *arg)
{
	if (store_ndeferred == store_deferred_cap) {
		store_deferred_cap = store_deferred_cap ? store_deferred_cap * 2 :
		    64;
		store_deferred = xreallocarray(store_deferred,
		    store_deferred_cap, sizeof *store_deferred);
	}
	store_deferred[store_ndeferred].cb = cb;
	store_deferred[store_ndeferred].arg = arg;
	store_ndeferred++;
	if (store_commit_ev != NULL)
		event_active(store_commit_ev, 0, 0);
}

int
store_flush(void)
{
	struct store_deferred	*list;
	size_t			 i, n;
	int			 status = STORE_COMMITTED;

	if (store_in_txn) {
		store_in_txn = 0;
		if (store_step_done(store_stmts[ST_COMMIT], "commit") == -1) {
			status = STORE_FAILED;
			if (!sqlite3_get_autocommit(store_db))
				store_step_done(store_stmts[ST_ROLLBACK],
				    "rollback");
		}
	}
	/* Callbacks may defer more work: that waits for the next commit. */
	list = store_deferred;
	n = store_ndeferred;
	store_deferred = NULL;
	store_ndeferred = store_deferred_cap = 0;
	for (i = 0; i < n; i++)
		list[i].cb(list[i].arg, status);
	free(list);
	return status == STORE_COMMITTED ? 0 : -1;
}

static void
store_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	store_flush();
}

/* Binds a JSON value as text, or NULL. */
static void
store_bind_json(sqlite3_stmt *st, int col, json_t *v)
{
	char	*s;

	if (v == NULL) {
		sqlite3_bind_null(st, col);
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		fatalx("store: cannot encode JSON");
	sqlite3_bind_text(st, col, s, -1, free);
}

static void
store_bind_time(sqlite3_stmt *st, int col, double t)
{
	if (t > 0)
		sqlite3_bind_double(st, col, t);
	else
		sqlite3_bind_null(st, col);
}

int
store_task_insert(struct task *t)
{
	sqlite3_stmt	*st = store_stmts[ST_INSERT];

	if (store_txn() == -1)
		return -1;
	sqlite3_bind_text(st, 1, task_kind_name(t->kind), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, t->state);
	sqlite3_bind_text(st, 3, t->queue->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, t->priority);
	if (t->key != NULL)
		sqlite3_bind_text(st, 5, t->key, -1, SQLITE_STATIC);
	store_bind_json(st, 6, t->spec);
	store_bind_json(st, 7, t->labels);
	store_bind_json(st, 8, t->after);
	if (t->timeout > 0)
		sqlite3_bind_double(st, 9, t->timeout);
	store_bind_time(st, 10, t->not_before);
	sqlite3_bind_double(st, 11, t->retry_backoff);
	sqlite3_bind_int(st, 12, t->attempt);
	sqlite3_bind_int(st, 13, t->max_retries);
	sqlite3_bind_double(st, 14, t->created_at);
	store_bind_time(st, 15, t->start_after);
	if (store_step_done(st, "insert task") == -1)
		return -1;
	t->id = sqlite3_last_insert_rowid(store_db);
	return 0;
}

int
store_task_update(struct task *t)
{
	sqlite3_stmt	*st = store_stmts[ST_UPDATE];

	if (store_txn() == -1)
		return -1;
	sqlite3_bind_int(st, 1, t->state);
	sqlite3_bind_int(st, 2, t->attempt);
	store_bind_time(st, 3, t->started_at);
	store_bind_time(st, 4, t->finished_at);
	store_bind_json(st, 5, t->result);
	store_bind_json(st, 6, t->exception);
	store_bind_time(st, 7, t->start_after);
	store_bind_json(st, 8, t->attempts);
	sqlite3_bind_int64(st, 9, t->id);
	return store_step_done(st, "update task");
}

/* A JSON column, parsed; NULL when SQL NULL. */
static json_t *
store_col_json(sqlite3_stmt *st, int col)
{
	const char	*s = (const char *)sqlite3_column_text(st, col);
	json_error_t	 err;
	json_t		*v;

	if (s == NULL)
		return NULL;
	v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (v == NULL)
		log_warnx("store: bad JSON in column %d: %s", col, err.text);
	return v;
}

static double
store_col_double(sqlite3_stmt *st, int col, double dflt)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return dflt;
	return sqlite3_column_double(st, col);
}

/* The client's view of the current row. */
static json_t *
store_row_json(sqlite3_stmt *st)
{
	struct fp_task	 t;
	json_t		*o;

	memset(&t, 0, sizeof t);
	t.id = sqlite3_column_int64(st, COL_ID);
	t.kind = (const char *)sqlite3_column_text(st, COL_KIND);
	t.state = (enum fp_state)sqlite3_column_int(st, COL_STATE);
	t.queue = (const char *)sqlite3_column_text(st, COL_QUEUE);
	t.priority = sqlite3_column_int(st, COL_PRIORITY);
	t.key = (const char *)sqlite3_column_text(st, COL_KEY);
	t.spec = store_col_json(st, COL_SPEC);
	t.labels = store_col_json(st, COL_LABELS);
	t.after = store_col_json(st, COL_AFTER);
	t.timeout = store_col_double(st, COL_TIMEOUT, -1);
	t.not_before = store_col_double(st, COL_NOT_BEFORE, 0);
	t.attempt = sqlite3_column_int(st, COL_ATTEMPT);
	t.max_retries = sqlite3_column_int(st, COL_MAX_RETRIES);
	t.created_at = store_col_double(st, COL_CREATED, 0);
	t.started_at = store_col_double(st, COL_STARTED, 0);
	t.finished_at = store_col_double(st, COL_FINISHED, 0);
	t.result = store_col_json(st, COL_RESULT);
	t.exception = store_col_json(st, COL_EXCEPTION);
	t.retrieved = sqlite3_column_int(st, COL_RETRIEVED);
	t.attempts = store_col_json(st, COL_ATTEMPTS);
	o = xjson(fp_task_to_json(&t));
	json_decref(t.attempts);
	json_decref(t.spec);
	json_decref(t.labels);
	json_decref(t.after);
	json_decref(t.result);
	json_decref(t.exception);
	return o;
}

json_t *
store_task_get(int64_t id)
{
	sqlite3_stmt	*st = store_stmts[ST_GET];
	json_t		*o = NULL;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = store_row_json(st);
	sqlite3_reset(st);
	return o;
}

int
store_task_state(int64_t id, enum fp_state *state)
{
	sqlite3_stmt	*st = store_stmts[ST_STATE];
	int		 rv = -1;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*state = (enum fp_state)sqlite3_column_int(st, 0);
		rv = 0;
	}
	sqlite3_reset(st);
	return rv;
}

int
store_task_by_key(const char *key, int64_t *id, json_t **spec)
{
	sqlite3_stmt	*st = store_stmts[ST_BY_KEY];
	int		 rv = -1;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*spec = store_col_json(st, 1);
		rv = 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rv;
}

int
store_task_retrieved(int64_t id)
{
	sqlite3_stmt	*st = store_stmts[ST_RETRIEVED];

	if (store_txn() == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(st, "mark retrieved");
}

int
store_task_counts(int64_t counts[FP_STATE_COUNT], int64_t *unretrieved)
{
	sqlite3_stmt	*st = store_stmts[ST_COUNTS];
	int		 s;

	memset(counts, 0, sizeof(int64_t) * FP_STATE_COUNT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		s = sqlite3_column_int(st, 0);
		if (s >= 0 && s < FP_STATE_COUNT)
			counts[s] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = store_stmts[ST_UNRETRIEVED];
	*unretrieved = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*unretrieved = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static void
store_sql_cat(char *sql, size_t len, const char *s)
{
	size_t	n = strlen(sql);

	snprintf(sql + n, len - n, "%s", s);
}

/* The WHERE clause of a task.list query; binds in the same order. */
static void
store_list_sql(const struct fp_list *l, char *sql, size_t len)
{
	const char	*k;
	json_t		*v;

	snprintf(sql, len, "SELECT " STORE_COLUMNS " FROM tasks WHERE 1");
	if (l->cursor > 0)
		store_sql_cat(sql, len, " AND id < ?");
	if (l->has_state)
		store_sql_cat(sql, len, " AND state = ?");
	if (l->queue != NULL)
		store_sql_cat(sql, len, " AND queue = ?");
	if (l->unretrieved)
		store_sql_cat(sql, len, " AND state = 3 AND retrieved = 0");
	json_object_foreach(l->label, k, v)
		store_sql_cat(sql, len, " AND EXISTS (SELECT 1 FROM json_each(tasks.labels)"
		    " WHERE key = ? AND value = ?)");
	store_sql_cat(sql, len, " ORDER BY id DESC LIMIT ?");
}

static void
store_list_bind(sqlite3_stmt *st, const struct fp_list *l)
{
	const char	*k;
	json_t		*v;
	int		 i = 1;

	if (l->cursor > 0)
		sqlite3_bind_int64(st, i++, l->cursor);
	if (l->has_state)
		sqlite3_bind_int(st, i++, l->state);
	if (l->queue != NULL)
		sqlite3_bind_text(st, i++, l->queue, -1, SQLITE_STATIC);
	json_object_foreach(l->label, k, v) {
		sqlite3_bind_text(st, i++, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, i++, json_string_value(v), -1,
		    SQLITE_STATIC);
	}
	sqlite3_bind_int(st, i, l->limit + 1);
}

json_t *
store_task_list(const struct fp_list *l)
{
	char		 sql[8192];
	sqlite3_stmt	*st;
	json_t		*tasks, *next = json_null();
	int64_t		 last = 0;

	store_list_sql(l, sql, sizeof sql);
	if (sqlite3_prepare_v2(store_db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_log("list");
		return NULL;
	}
	store_list_bind(st, l);
	tasks = xjson(json_array());
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((int)json_array_size(tasks) == l->limit) {
			next = xjson(fp_cursor_create(last));
			break;
		}
		last = sqlite3_column_int64(st, COL_ID);
		json_array_append_new(tasks, store_row_json(st));
	}
	sqlite3_finalize(st);
	return xjson(json_pack("{s:o,s:o}", "tasks", tasks, "next", next));
}

/* An in-memory task from the current row (recovery at start). */
static struct task *
store_row_task(sqlite3_stmt *st)
{
	struct task	*t = task_create();
	const char	*key = (const char *)sqlite3_column_text(st, COL_KEY);
	const char	*kind = (const char *)sqlite3_column_text(st, COL_KIND);

	t->id = sqlite3_column_int64(st, COL_ID);
	if (task_kind_parse(kind, &t->kind) == -1) {
		log_warnx("store: task %lld has unknown kind '%s'",
		    (long long)t->id, kind);
		t->kind = TASK_SLEEP;
	}
	t->state = (enum fp_state)sqlite3_column_int(st, COL_STATE);
	t->queue = sched_queue((const char *)sqlite3_column_text(st,
	    COL_QUEUE));
	t->priority = sqlite3_column_int(st, COL_PRIORITY);
	t->key = key != NULL ? xstrdup(key) : NULL;
	t->spec = store_col_json(st, COL_SPEC);
	t->labels = store_col_json(st, COL_LABELS);
	t->after = store_col_json(st, COL_AFTER);
	t->timeout = store_col_double(st, COL_TIMEOUT, -1);
	t->not_before = store_col_double(st, COL_NOT_BEFORE, 0);
	t->start_after = store_col_double(st, COL_START_AFTER, 0);
	t->retry_backoff = store_col_double(st, COL_BACKOFF, 1);
	t->attempt = sqlite3_column_int(st, COL_ATTEMPT);
	t->max_retries = sqlite3_column_int(st, COL_MAX_RETRIES);
	t->created_at = store_col_double(st, COL_CREATED, 0);
	t->started_at = store_col_double(st, COL_STARTED, 0);
	t->exception = store_col_json(st, COL_EXCEPTION);
	t->attempts = store_col_json(st, COL_ATTEMPTS);
	if (t->spec == NULL)
		t->spec = xjson(json_object());
	if (t->labels == NULL)
		t->labels = xjson(json_object());
	return t;
}

int
store_task_load(void (*cb)(struct task *, void *), void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_LOAD];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(store_row_task(st), arg);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log("load tasks");
		return -1;
	}
	return 0;
}

int
store_queue_save(const struct queue *q)
{
	sqlite3_stmt	*st = store_stmts[ST_QUEUE_SAVE];

	if (store_txn() == -1)
		return -1;
	sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, q->concurrency);
	sqlite3_bind_int(st, 3, q->paused);
	return store_step_done(st, "save queue");
}

int
store_queue_load(void (*cb)(const char *, int, int, void *), void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_QUEUE_LOAD];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1), sqlite3_column_int(st, 2), arg);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log("load queues");
		return -1;
	}
	return 0;
}

int
store_stream_add(int64_t id, int64_t seq, json_t *value, json_t *error)
{
	sqlite3_stmt	*st = store_stmts[ST_ITEM_ADD];

	if (store_txn() == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, seq);
	store_bind_json(st, 3, value);
	store_bind_json(st, 4, error);
	return store_step_done(st, "add stream item");
}

json_t *
store_stream_read(int64_t id, int64_t from, int limit)
{
	sqlite3_stmt	*st = store_stmts[ST_ITEMS];
	json_t		*items = xjson(json_array()), *item, *v;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int(st, 3, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		item = xjson(json_pack("{s:I}", "seq",
		    (json_int_t)sqlite3_column_int64(st, 0)));
		if ((v = store_col_json(st, 2)) != NULL)
			json_object_set_new(item, "error", v);
		else
			json_object_set_new(item, "value", (v = store_col_json(st,
			    1)) != NULL ? v : json_null());
		json_array_append_new(items, item);
	}
	sqlite3_reset(st);
	return items;
}

int64_t
store_stream_next(int64_t id)
{
	sqlite3_stmt	*st = store_stmts[ST_ITEM_NEXT];
	int64_t		 next = 0;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	return next;
}

int
store_stream_overflow(int64_t id, int set)
{
	sqlite3_stmt	*st;
	int		 v = 0;

	if (set) {
		if (store_txn() == -1)
			return -1;
		st = store_stmts[ST_OVERFLOW_SET];
		sqlite3_bind_int64(st, 1, id);
		return store_step_done(st, "stream overflow");
	}
	st = store_stmts[ST_OVERFLOW_GET];
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return v;
}

int
store_task_purge(double before, int limit, void (*cb)(int64_t, const char *,
    json_t *, void *), void *arg)
{
	sqlite3_stmt	*sel = store_stmts[ST_PURGE_SELECT];
	int64_t		*ids;
	int		 n = 0, i;
	json_t		*exc;

	if (store_txn() == -1)
		return -1;
	ids = xcalloc((size_t)limit, sizeof *ids);
	sqlite3_bind_double(sel, 1, before);
	sqlite3_bind_int(sel, 2, limit);
	while (n < limit && sqlite3_step(sel) == SQLITE_ROW) {
		ids[n++] = sqlite3_column_int64(sel, 0);
		if (sqlite3_column_int(sel, 2) != FP_FAILED ||
		    sqlite3_column_int(sel, 3) != 0)
			continue;
		exc = store_col_json(sel, 4);
		cb(ids[n - 1], (const char *)sqlite3_column_text(sel, 1), exc,
		    arg);
		json_decref(exc);
	}
	sqlite3_reset(sel);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(store_stmts[ST_PURGE_ITEMS], 1, ids[i]);
		sqlite3_bind_int64(store_stmts[ST_PURGE_TASK], 1, ids[i]);
		if (store_step_done(store_stmts[ST_PURGE_ITEMS], "purge items")
		    == -1 || store_step_done(store_stmts[ST_PURGE_TASK],
		    "purge task") == -1) {
			free(ids);
			return -1;
		}
	}
	free(ids);
	return n;
}

json_t *
store_task_spec(int64_t id)
{
	sqlite3_stmt	*st = store_stmts[ST_SPEC];
	json_t		*spec = NULL;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		spec = store_col_json(st, 0);
	sqlite3_reset(st);
	return spec;
}
