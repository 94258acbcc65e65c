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
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

	/* 3: labels as rows, so that task.list can filter by one through an
	 * index (newest first) instead of parsing every task's labels. */
	"CREATE TABLE task_labels ("
	"  name TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  task_id INTEGER NOT NULL,"
	"  PRIMARY KEY (name, value, task_id)) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO task_labels (name, value, task_id)"
	"  SELECT j.key, j.value, t.id FROM tasks t, json_each(t.labels) j"
	"  WHERE json_valid(t.labels) AND j.type = 'text';",

	/* 4: the process group of a running exec attempt, so that the next
	 * futured ends it before retrying (issue #11). */
	"ALTER TABLE tasks ADD COLUMN run_pgid INTEGER;"
	"ALTER TABLE tasks ADD COLUMN run_start INTEGER;"
	"ALTER TABLE tasks ADD COLUMN run_boot TEXT;",
};
#define STORE_NMIGRATIONS \
	((int)(sizeof store_migrations / sizeof store_migrations[0]))

#define STORE_COLUMNS "id, kind, state, queue, priority, key, spec, labels, " \
	"after, timeout, not_before, retry_backoff, attempt, max_retries, " \
	"created_at, started_at, finished_at, result, exception, retrieved, " \
	"attempts, start_after, run_pgid, run_start, run_boot"
enum store_col {
	COL_ID, COL_KIND, COL_STATE, COL_QUEUE, COL_PRIORITY, COL_KEY,
	COL_SPEC, COL_LABELS, COL_AFTER, COL_TIMEOUT, COL_NOT_BEFORE,
	COL_BACKOFF, COL_ATTEMPT, COL_MAX_RETRIES, COL_CREATED, COL_STARTED,
	COL_FINISHED, COL_RESULT, COL_EXCEPTION, COL_RETRIEVED, COL_ATTEMPTS,
	COL_START_AFTER, COL_RUN_PGID, COL_RUN_START, COL_RUN_BOOT,
};

enum store_stmt {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_INSERT, ST_UPDATE, ST_GET,
	ST_STATE, ST_BY_KEY, ST_RETRIEVED, ST_COUNTS, ST_UNRETRIEVED, ST_LOAD,
	ST_QUEUE_SAVE, ST_QUEUE_LOAD, ST_ITEM_ADD, ST_ITEMS, ST_ITEM_NEXT,
	ST_OVERFLOW_SET, ST_OVERFLOW_GET, ST_PURGE_SELECT, ST_PURGE_ITEMS,
	ST_PURGE_TASK, ST_LABEL_ADD, ST_LABEL_DEL, ST_LAST_ID, ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* ?1-?9 and ?22-?24 are bound alike for both (store_bind_progress). */
	[ST_INSERT] = "INSERT INTO tasks (state, attempt, started_at, "
	    "finished_at, result, exception, start_after, attempts, id, kind, "
	    "queue, priority, key, spec, labels, after, timeout, not_before, "
	    "retry_backoff, max_retries, created_at, run_pgid, run_start, "
	    "run_boot) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	    "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
	[ST_UPDATE] = "UPDATE tasks SET state = ?1, attempt = ?2, "
	    "started_at = ?3, finished_at = ?4, result = ?5, exception = ?6, "
	    "start_after = ?7, attempts = ?8, run_pgid = ?22, run_start = ?23, "
	    "run_boot = ?24 WHERE id = ?9",
	[ST_GET] = "SELECT " STORE_COLUMNS " FROM tasks WHERE id = ?",
	[ST_STATE] = "SELECT state FROM tasks WHERE id = ?",
	[ST_BY_KEY] = "SELECT id, spec FROM tasks WHERE key = ?",
	[ST_RETRIEVED] = "UPDATE tasks SET retrieved = 1 WHERE id = ? "
	    "AND retrieved = 0 AND state = 3",
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
	[ST_PURGE_SELECT] = "SELECT id, kind, state, retrieved, exception, "
	    "labels "
	    "FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ? "
	    "ORDER BY finished_at LIMIT ?",
	[ST_PURGE_ITEMS] = "DELETE FROM stream_items WHERE task_id = ?",
	[ST_PURGE_TASK] = "DELETE FROM tasks WHERE id = ?",
	[ST_LABEL_DEL] = "DELETE FROM task_labels WHERE name = ? AND "
	    "value = ? AND task_id = ?",
	[ST_LABEL_ADD] = "INSERT OR IGNORE INTO task_labels (name, value, "
	    "task_id) VALUES (?, ?, ?)",
	/* AUTOINCREMENT's high-water mark: ids are never reused. */
	[ST_LAST_ID] = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence "
	    "WHERE name = 'tasks'), 0), coalesce((SELECT max(id) FROM tasks), "
	    "0))",
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
/*
 * Write-behind: the tasks changed since the last sync, each written once
 * however many transitions it went through (a task submitted, started and
 * finished in one turn is one INSERT).  Every other store call syncs first,
 * so reads see the turn's writes.  The list holds a reference to each.
 */
static struct task		**store_dirty;
static size_t			 store_ndirty, store_dirty_cap;
static int64_t			 store_last_id;
static int			 store_txn_failed;	/* roll back at flush */
/*
 * daemon.info's counts: tasks per state and failed ones never retrieved,
 * counted at open (a scan), then kept by every write.  What the current
 * transaction changes waits in the deltas until it commits.
 */
struct store_counts {
	int64_t	state[FP_STATE_COUNT];
	int64_t	unretrieved;
};
static struct store_counts	 store_counted, store_delta;

static void	store_commit_cb(evutil_socket_t, short, void *);
static int	store_sync(void);
static int	store_count_all(void);
static void	store_count_commit(void);

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

/*
 * The database holds env values, headers and outputs: it and its -wal and
 * -shm files are 0600 whatever the umask, and so are files an older
 * futured left more open.  sqlite creates -wal and -shm with the mode of
 * the database file, so it is created first.
 */
static int
store_private(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char	*p;
	size_t	 i;
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("store: cannot open %s", path);
		return -1;
	}
	close(fd);
	for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		xasprintf(&p, "%s%s", path, suffix[i]);
		if (chmod(p, 0600) == -1 && errno != ENOENT)
			log_warn("store: chmod 0600 %s", p);
		free(p);
	}
	return 0;
}

int
store_open(const char *path, int sync_full, struct event_base *base)
{
	if (store_private(path) == -1)
		return -1;
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
	if (sqlite3_step(store_stmts[ST_LAST_ID]) == SQLITE_ROW)
		store_last_id = sqlite3_column_int64(store_stmts[ST_LAST_ID], 0);
	sqlite3_reset(store_stmts[ST_LAST_ID]);
	if (store_count_all() == -1) {
		store_log("count tasks");
		goto fail;
	}
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
	if (store_in_txn || store_ndeferred > 0 || store_ndirty > 0)
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
	free(store_dirty);
	store_dirty = NULL;
	store_ndirty = store_dirty_cap = 0;
	store_txn_failed = 0;
}

/*
 * A write of this turn failed: nothing else may join the transaction
 * (sqlite may already have rolled it back, and what followed would commit
 * on its own), and the flush at the end of the turn rolls back.
 */
static void
store_doom(void)
{
	store_txn_failed = 1;
	if (store_commit_ev != NULL)
		event_active(store_commit_ev, 0, 0);
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
		if (store_in_txn)
			store_doom();
		return -1;
	}
	return 0;
}

/* Joins the current turn's transaction, opening it on first use. */
static int
store_txn(void)
{
	if (store_txn_failed)
		return -1;	/* sqlite may have rolled back already */
	if (store_in_txn)
		return 0;
	if (store_step_done(store_stmts[ST_BEGIN], "begin") == -1) {
		store_doom();
		return -1;
	}
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
store_pending(void)
{
	return store_in_txn || store_ndirty > 0 || store_txn_failed;
}

int
store_flush(void)
{
	struct store_deferred	*list;
	size_t			 i, n;
	int			 status = STORE_COMMITTED;

	store_sync();
	if (store_txn_failed ||
	    (store_in_txn && store_step_done(store_stmts[ST_COMMIT],
	    "commit") == -1)) {
		status = STORE_FAILED;
		if (!sqlite3_get_autocommit(store_db))
			store_step_done(store_stmts[ST_ROLLBACK], "rollback");
		store_count_all();
	} else
		store_count_commit();
	store_in_txn = store_txn_failed = 0;
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
	struct fp_text	 o = { 0 };
	size_t		 len;
	char		*s;

	if (v == NULL) {
		sqlite3_bind_null(st, col);
		return;
	}
	fp_text_json(&o, v);
	if ((s = fp_text_take(&o, &len)) == NULL)
		fatalx("store: cannot encode JSON");
	/* too big (SQLITE_TOOBIG) fails the step, and so the write */
	sqlite3_bind_text64(st, col, s, len, free, SQLITE_UTF8);
}

static void
store_bind_time(sqlite3_stmt *st, int col, double t)
{
	if (t > 0)
		sqlite3_bind_double(st, col, t);
	else
		sqlite3_bind_null(st, col);
}

/* Counts every task in the file again: at open, after a rollback. */
static int
store_count_all(void)
{
	sqlite3_stmt	*st = store_stmts[ST_COUNTS];
	int		 s;

	memset(&store_counted, 0, sizeof store_counted);
	memset(&store_delta, 0, sizeof store_delta);
	while (sqlite3_step(st) == SQLITE_ROW) {
		s = sqlite3_column_int(st, 0);
		if (s >= 0 && s < FP_STATE_COUNT)
			store_counted.state[s] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = store_stmts[ST_UNRETRIEVED];
	if (sqlite3_step(st) == SQLITE_ROW)
		store_counted.unretrieved = sqlite3_column_int64(st, 0);
	return sqlite3_reset(st) == SQLITE_OK ? 0 : -1;
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

/* The committed counts take in the turn's deltas. */
static void
store_count_commit(void)
{
	int	i;

	for (i = 0; i < FP_STATE_COUNT; i++)
		store_counted.state[i] += store_delta.state[i];
	store_counted.unretrieved += store_delta.unretrieved;
	memset(&store_delta, 0, sizeof store_delta);
}

/* The one integer that statement k gives for task id, or dflt. */
static int
store_id_int(enum store_stmt k, int64_t id, int dflt)
{
	sqlite3_stmt	*st = store_stmts[k];
	int		 v = dflt;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return v;
}

/* One row of task_labels per label, added or deleted by st. */
static int
store_label_rows(sqlite3_stmt *st, int64_t id, json_t *labels,
    const char *what)
{
	const char	*name;
	json_t		*v;

	json_object_foreach(labels, name, v) {
		if (!json_is_string(v))
			continue;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, json_string_value(v), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, id);
		if (store_step_done(st, what) == -1)
			return -1;
	}
	return 0;
}

/* ?1-?9, ?22-?24 of ST_INSERT and ST_UPDATE: what changes as it runs. */
static void
store_bind_progress(sqlite3_stmt *st, const struct task *t)
{
	sqlite3_bind_int(st, 1, t->state);
	sqlite3_bind_int(st, 2, t->attempt);
	store_bind_time(st, 3, t->started_at);
	store_bind_time(st, 4, t->finished_at);
	store_bind_json(st, 5, t->result);
	store_bind_json(st, 6, t->exception);
	store_bind_time(st, 7, t->start_after);
	store_bind_json(st, 8, t->attempts);
	sqlite3_bind_int64(st, 9, t->id);
	if (t->run.pgid > 0) {
		sqlite3_bind_int64(st, 22, t->run.pgid);
		sqlite3_bind_int64(st, 23, (sqlite3_int64)t->run.start_time);
		sqlite3_bind_text(st, 24, t->run.boot_id, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 22);
		sqlite3_bind_null(st, 23);
		sqlite3_bind_null(st, 24);
	}
}

static int
store_insert_row(struct task *t)
{
	sqlite3_stmt	*st = store_stmts[ST_INSERT];

	store_bind_progress(st, t);
	sqlite3_bind_text(st, 10, task_kind_name(t->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, t->queue->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 12, t->priority);
	if (t->key != NULL)
		sqlite3_bind_text(st, 13, t->key, -1, SQLITE_STATIC);
	store_bind_json(st, 14, t->spec);
	store_bind_json(st, 15, t->labels);
	store_bind_json(st, 16, t->after);
	if (t->timeout > 0)
		sqlite3_bind_double(st, 17, t->timeout);
	store_bind_time(st, 18, t->not_before);
	sqlite3_bind_double(st, 19, t->retry_backoff);
	sqlite3_bind_int(st, 20, t->max_retries);
	sqlite3_bind_double(st, 21, t->created_at);
	if (store_step_done(st, "insert task") == -1)
		return -1;
	return store_label_rows(store_stmts[ST_LABEL_ADD], t->id, t->labels,
	    "add label");
}

static int
store_write_task(struct task *t)
{
	int	old;

	if (store_txn() == -1)
		return -1;
	if (t->stored) {
		old = store_id_int(ST_STATE, t->id, -1);
		store_bind_progress(store_stmts[ST_UPDATE], t);
		if (store_step_done(store_stmts[ST_UPDATE], "update task") == -1)
			return -1;
		/* a final state is final: only an unfinished row moves */
		if (old != -1 && old != (int)t->state) {
			store_count(old, -1, 0);
			store_count(t->state, 1, 0);
		}
		return 0;
	}
	if (store_insert_row(t) == -1)
		return -1;
	store_count(t->state, 1, 0);
	t->stored = 1;
	return 0;
}

/* Writes the dirty tasks; a failure dooms the turn's transaction. */
static int
store_sync(void)
{
	struct task	*t;
	size_t		 i;
	int		 rv = 0;

	for (i = 0; i < store_ndirty; i++) {
		t = store_dirty[i];
		t->dirty = 0;
		if (rv == 0 && store_write_task(t) == -1)
			rv = -1;
		task_unref(t, __func__);
	}
	store_ndirty = 0;
	if (rv == -1)
		store_doom();
	return rv;
}

static void
store_mark_dirty(struct task *t)
{
	if (t->dirty)
		return;
	if (store_ndirty == store_dirty_cap) {
		store_dirty_cap = store_dirty_cap ? store_dirty_cap * 2 : 64;
		store_dirty = xreallocarray(store_dirty, store_dirty_cap,
		    sizeof *store_dirty);
	}
	t->dirty = 1;
	task_ref(t, __func__);
	store_dirty[store_ndirty++] = t;
	if (store_commit_ev != NULL)
		event_active(store_commit_ev, 0, 0);
}

int
store_task_insert(struct task *t)
{
	if (store_txn_failed)
		return -1;
	t->id = ++store_last_id;
	t->stored = 0;
	store_mark_dirty(t);
	return 0;
}

int
store_task_update(struct task *t)
{
	store_mark_dirty(t);
	return 0;
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

/*
 * A JSON column as stored, for fp_task_write: compact text, copied as it
 * is.  Stores written before commit d2f0806 hold indented JSON (store_bind_json
 * passed JSON_ALLOW_NUL, which json_dumps reads as an indent); compact JSON
 * never holds a raw newline, so such a column is parsed, and *tree is to be
 * freed.
 */
static struct fp_value
store_col_value(sqlite3_stmt *st, int col, json_t **tree)
{
	struct fp_value	v = { NULL, (const char *)sqlite3_column_text(st, col) };

	*tree = NULL;
	if (v.text != NULL && strchr(v.text, '\n') != NULL) {
		*tree = v.json = store_col_json(st, col);
		v.text = NULL;
	}
	return v;
}

/* The client's view of the current row, appended to o. */
static void
store_row_write(sqlite3_stmt *st, struct fp_text *o)
{
	struct fp_task	 t;
	json_t		*trees[6];
	size_t		 i;

	memset(&t, 0, sizeof t);
	t.id = sqlite3_column_int64(st, COL_ID);
	t.kind = (const char *)sqlite3_column_text(st, COL_KIND);
	t.state = (enum fp_state)sqlite3_column_int(st, COL_STATE);
	t.queue = (const char *)sqlite3_column_text(st, COL_QUEUE);
	t.priority = sqlite3_column_int(st, COL_PRIORITY);
	t.key = (const char *)sqlite3_column_text(st, COL_KEY);
	t.spec = store_col_value(st, COL_SPEC, &trees[0]);
	t.labels = store_col_value(st, COL_LABELS, &trees[1]);
	t.after = store_col_value(st, COL_AFTER, &trees[2]);
	t.timeout = store_col_double(st, COL_TIMEOUT, -1);
	t.not_before = store_col_double(st, COL_NOT_BEFORE, 0);
	t.attempt = sqlite3_column_int(st, COL_ATTEMPT);
	t.max_retries = sqlite3_column_int(st, COL_MAX_RETRIES);
	t.created_at = store_col_double(st, COL_CREATED, 0);
	t.started_at = store_col_double(st, COL_STARTED, 0);
	t.finished_at = store_col_double(st, COL_FINISHED, 0);
	t.result = store_col_value(st, COL_RESULT, &trees[3]);
	t.exception = store_col_value(st, COL_EXCEPTION, &trees[4]);
	t.retrieved = sqlite3_column_int(st, COL_RETRIEVED);
	t.attempts = store_col_value(st, COL_ATTEMPTS, &trees[5]);
	if (t.spec.text == NULL && t.spec.json == NULL)
		t.spec.text = "null";
	fp_task_write(o, &t);
	for (i = 0; i < sizeof trees / sizeof trees[0]; i++)
		json_decref(trees[i]);
}

int
store_task_write(int64_t id, struct fp_text *o)
{
	sqlite3_stmt	*st = store_stmts[ST_GET];
	int		 rv = -1;

	store_sync();
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		store_row_write(st, o);
		rv = 0;
	}
	sqlite3_reset(st);
	return rv;
}

json_t *
store_task_get(int64_t id)
{
	struct fp_text	 o = { 0 };
	json_t		*v = NULL;
	size_t		 len;
	char		*s;

	if (store_task_write(id, &o) == -1) {
		fp_text_clear(&o);
		return NULL;
	}
	if ((s = fp_text_take(&o, &len)) == NULL)
		fatalx("store: out of memory");
	/* only a row changed behind futured's back can fail here */
	if ((v = json_loadb(s, len, JSON_ALLOW_NUL, NULL)) == NULL)
		log_warnx("store: task %lld: a column is not JSON",
		    (long long)id);
	free(s);
	return v;
}

int
store_task_state(int64_t id, enum fp_state *state)
{
	int	v;

	store_sync();
	if ((v = store_id_int(ST_STATE, id, -1)) == -1)
		return -1;
	*state = (enum fp_state)v;
	return 0;
}

int
store_task_by_key(const char *key, int64_t *id, json_t **spec)
{
	sqlite3_stmt	*st = store_stmts[ST_BY_KEY];
	int		 rv = -1;

	store_sync();
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

	store_sync();
	if (store_txn() == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (store_step_done(st, "mark retrieved") == -1)
		return -1;
	if (sqlite3_changes(store_db) == 1)
		store_delta.unretrieved--;
	return 0;
}

int
store_task_counts(int64_t counts[FP_STATE_COUNT], int64_t *unretrieved)
{
	int	i;

	store_sync();
	for (i = 0; i < FP_STATE_COUNT; i++)
		counts[i] = store_counted.state[i] + store_delta.state[i];
	*unretrieved = store_counted.unretrieved + store_delta.unretrieved;
	return 0;
}

static void
store_sql_cat(char *sql, size_t len, const char *s)
{
	size_t	n = strlen(sql);

	snprintf(sql + n, len - n, "%s", s);
}

/*
 * The task.list query; store_list_bind binds in the same order.  With a
 * label filter the first label drives the query: its task_labels rows come
 * newest first from the primary key, so a page costs its own rows however
 * rare or common the label is.
 */
static void
store_list_sql(const struct fp_list *l, char *sql, size_t len)
{
	const char	*k;
	json_t		*v;
	int		 first = 1;

	if (json_object_size(l->label) > 0)
		snprintf(sql, len, "SELECT " STORE_COLUMNS " FROM task_labels "
		    "JOIN tasks ON id = task_id WHERE name = ? AND value = ?");
	else
		snprintf(sql, len, "SELECT " STORE_COLUMNS " FROM tasks "
		    "WHERE 1");
	if (l->cursor > 0)
		store_sql_cat(sql, len, " AND id < ?");
	if (l->has_state)
		store_sql_cat(sql, len, " AND state = ?");
	if (l->queue != NULL)
		store_sql_cat(sql, len, " AND queue = ?");
	if (l->unretrieved)
		store_sql_cat(sql, len, " AND state = 3 AND retrieved = 0");
	json_object_foreach(l->label, k, v) {
		if (!first)
			store_sql_cat(sql, len, " AND EXISTS (SELECT 1 FROM "
			    "task_labels l WHERE l.name = ? AND l.value = ? "
			    "AND l.task_id = id)");
		first = 0;
	}
	store_sql_cat(sql, len, json_object_size(l->label) > 0 ?
	    " ORDER BY task_id DESC LIMIT ?" : " ORDER BY id DESC LIMIT ?");
}

/* Binds one label's name and value at *i. */
static void
store_list_bind_label(sqlite3_stmt *st, int *i, const char *k, json_t *v)
{
	sqlite3_bind_text(st, (*i)++, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, (*i)++, json_string_value(v), -1, SQLITE_STATIC);
}

static void
store_list_bind(sqlite3_stmt *st, const struct fp_list *l)
{
	const char	*k, *first = NULL;
	json_t		*v;
	int		 i = 1;

	json_object_foreach(l->label, k, v) {
		store_list_bind_label(st, &i, k, v);
		first = k;
		break;
	}
	if (l->cursor > 0)
		sqlite3_bind_int64(st, i++, l->cursor);
	if (l->has_state)
		sqlite3_bind_int(st, i++, l->state);
	if (l->queue != NULL)
		sqlite3_bind_text(st, i++, l->queue, -1, SQLITE_STATIC);
	json_object_foreach(l->label, k, v)
		if (k != first)
			store_list_bind_label(st, &i, k, v);
	sqlite3_bind_int(st, i, l->limit + 1);
}

int
store_task_list(const struct fp_list *l, struct fp_text *o)
{
	char		 sql[8192];
	sqlite3_stmt	*st;
	json_t		*next;
	int64_t		 last = 0;
	int		 n = 0, rc;

	store_sync();
	store_list_sql(l, sql, sizeof sql);
	if (sqlite3_prepare_v2(store_db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_log("list");
		return -1;
	}
	store_list_bind(st, l);
	fp_text_cstr(o, "{\"tasks\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < l->limit) {
		if (n++ > 0)
			fp_text_add(o, ",", 1);
		last = sqlite3_column_int64(st, COL_ID);
		store_row_write(st, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log("list");
		return -1;
	}
	/* a next page when this one is full and one more row exists */
	next = rc == SQLITE_ROW ? xjson(fp_cursor_create(last)) : NULL;
	fp_text_cstr(o, "],\"next\":");
	fp_text_json(o, next);
	fp_text_add(o, "}", 1);
	json_decref(next);
	return 0;
}

/* An in-memory task from the current row (recovery at start). */
static struct task *
store_row_task(sqlite3_stmt *st)
{
	struct task	*t = task_create();
	const char	*key = (const char *)sqlite3_column_text(st, COL_KEY);
	const char	*kind = (const char *)sqlite3_column_text(st, COL_KIND);

	t->id = sqlite3_column_int64(st, COL_ID);
	t->stored = 1;
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
	t->run.pgid = (pid_t)sqlite3_column_int64(st, COL_RUN_PGID);
	t->run.start_time = (uint64_t)sqlite3_column_int64(st, COL_RUN_START);
	if (sqlite3_column_text(st, COL_RUN_BOOT) != NULL)
		snprintf(t->run.boot_id, sizeof t->run.boot_id, "%s",
		    (const char *)sqlite3_column_text(st, COL_RUN_BOOT));
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

	store_sync();
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

	store_sync();
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

	store_sync();
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

	store_sync();
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

	store_sync();
	if (set) {
		if (store_txn() == -1)
			return -1;
		st = store_stmts[ST_OVERFLOW_SET];
		sqlite3_bind_int64(st, 1, id);
		return store_step_done(st, "stream overflow");
	}
	return store_id_int(ST_OVERFLOW_GET, id, 0);
}

/* Deletes the rows of one purged task and of its labels and items. */
static int
store_purge_one(int64_t id, json_t *labels)
{
	sqlite3_bind_int64(store_stmts[ST_PURGE_ITEMS], 1, id);
	sqlite3_bind_int64(store_stmts[ST_PURGE_TASK], 1, id);
	if (store_label_rows(store_stmts[ST_LABEL_DEL], id, labels,
	    "purge labels") == -1 ||
	    store_step_done(store_stmts[ST_PURGE_ITEMS], "purge items") == -1)
		return -1;
	return store_step_done(store_stmts[ST_PURGE_TASK], "purge task");
}

int
store_task_purge(double before, int limit, void (*cb)(int64_t, const char *,
    json_t *, void *), void *arg)
{
	sqlite3_stmt	*sel = store_stmts[ST_PURGE_SELECT];
	int64_t		*ids;
	json_t		**labels, *exc;
	int		 n = 0, i, rv;

	store_sync();
	if (store_txn() == -1)
		return -1;
	ids = xcalloc((size_t)limit, sizeof *ids);
	labels = xcalloc((size_t)limit, sizeof *labels);
	sqlite3_bind_double(sel, 1, before);
	sqlite3_bind_int(sel, 2, limit);
	while (n < limit && sqlite3_step(sel) == SQLITE_ROW) {
		labels[n] = store_col_json(sel, 5);
		ids[n++] = sqlite3_column_int64(sel, 0);
		store_count(sqlite3_column_int(sel, 2), -1,
		    sqlite3_column_int(sel, 3));
		if (sqlite3_column_int(sel, 2) != FP_FAILED ||
		    sqlite3_column_int(sel, 3) != 0)
			continue;
		exc = store_col_json(sel, 4);
		cb(ids[n - 1], (const char *)sqlite3_column_text(sel, 1), exc,
		    arg);
		json_decref(exc);
	}
	sqlite3_reset(sel);
	rv = n;
	for (i = 0; i < n; i++) {
		if (rv != -1 && store_purge_one(ids[i], labels[i]) == -1)
			rv = -1;
		json_decref(labels[i]);
	}
	free(labels);
	free(ids);
	return rv;
}
