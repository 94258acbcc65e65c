/*
 * store-sqlite.c: the sqlite backend of the store (store-backend.h), and
 * the only file that speaks SQL.  One database file in WAL mode; every
 * answer is given before the call returns.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "base/base.h"
#include "store/store.h"
#include "store/store-backend.h"

/* The columns of tasks in the order migration 7 creates them. */
#define STORE_V7_COLUMNS "id, kind, state, queue, priority, key, spec, " \
	"labels, after, timeout, not_before, retry_backoff, attempt, " \
	"max_retries, created_at, started_at, finished_at, result, " \
	"exception, retrieved, stream_overflow, attempts, start_after, " \
	"attempt_state, parent, child_policy, limits"

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

	/* 4: what recovery needs of a running attempt (an exec task's
	 * process group, so that the next futured ends it first: #11). */
	"ALTER TABLE tasks ADD COLUMN attempt_state TEXT;",

	/* 5: task trees (#16): a child's parent, and what becomes of a
	 * task's children when its own work ends (enum fp_child_policy). */
	"ALTER TABLE tasks ADD COLUMN parent INTEGER;"
	"ALTER TABLE tasks ADD COLUMN child_policy INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX tasks_by_parent ON tasks(parent, id)"
	"  WHERE parent IS NOT NULL;",

	/* 6: schedules (#17): a definition and a state, both JSON, and a
	 * version that every write compares and raises. */
	"CREATE TABLE schedules ("
	"  name TEXT PRIMARY KEY,"
	"  def TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  version INTEGER NOT NULL);"
	/* a task's concurrency keys and rate limit (#17) */
	"ALTER TABLE tasks ADD COLUMN limits TEXT;"
	"CREATE TABLE rate_limits ("
	"  name TEXT PRIMARY KEY,"
	"  starts REAL NOT NULL,"
	"  per REAL NOT NULL,"
	"  burst REAL NOT NULL);",

	/*
	 * 7: fewer pages a submit writes (#18).  AUTOINCREMENT rewrote
	 * sqlite_sequence on every insert: the ids' high-water mark is now a
	 * row of meta, raised a block of ids at a time (store_id_mark).  A
	 * UNIQUE column indexes every row, NULL keys too: the key's
	 * uniqueness is now a partial index that tasks without a key do not
	 * touch.  sqlite can drop neither from a table, so it is rebuilt.
	 */
	"CREATE TABLE meta ("
	"  name TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta (name, value) SELECT 'id_mark', max(coalesce("
	"  (SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0),"
	"  coalesce((SELECT max(id) FROM tasks), 0));"
	"CREATE TABLE tasks_v7 ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  queue TEXT NOT NULL,"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  key TEXT,"
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
	"  retrieved INTEGER NOT NULL DEFAULT 0,"
	"  stream_overflow INTEGER NOT NULL DEFAULT 0,"
	"  attempts TEXT,"
	"  start_after REAL,"
	"  attempt_state TEXT,"
	"  parent INTEGER,"
	"  child_policy INTEGER NOT NULL DEFAULT 0,"
	"  limits TEXT);"
	"INSERT INTO tasks_v7 SELECT " STORE_V7_COLUMNS " FROM tasks;"
	"DROP TABLE tasks;"
	"ALTER TABLE tasks_v7 RENAME TO tasks;"
	"DELETE FROM sqlite_sequence WHERE name = 'tasks';"
	"CREATE UNIQUE INDEX tasks_by_key ON tasks(key) WHERE key IS NOT NULL;"
	"CREATE INDEX tasks_by_state ON tasks(state, id);"
	"CREATE INDEX tasks_by_queue ON tasks(queue, id);"
	"CREATE INDEX tasks_unretrieved ON tasks(id)"
	"  WHERE state = 3 AND retrieved = 0;"
	"CREATE INDEX tasks_by_finish ON tasks(finished_at)"
	"  WHERE finished_at IS NOT NULL;"
	"CREATE INDEX tasks_by_parent ON tasks(parent, id)"
	"  WHERE parent IS NOT NULL;",
};
#define STORE_NMIGRATIONS \
	((int)(sizeof store_migrations / sizeof store_migrations[0]))

#define STORE_COLUMNS "id, kind, state, queue, priority, key, spec, labels, " \
	"after, timeout, not_before, retry_backoff, attempt, max_retries, " \
	"created_at, started_at, finished_at, result, exception, retrieved, " \
	"attempts, start_after, attempt_state, parent, child_policy, limits"
enum store_col {
	COL_ID, COL_KIND, COL_STATE, COL_QUEUE, COL_PRIORITY, COL_KEY,
	COL_SPEC, COL_LABELS, COL_AFTER, COL_TIMEOUT, COL_NOT_BEFORE,
	COL_BACKOFF, COL_ATTEMPT, COL_MAX_RETRIES, COL_CREATED, COL_STARTED,
	COL_FINISHED, COL_RESULT, COL_EXCEPTION, COL_RETRIEVED, COL_ATTEMPTS,
	COL_START_AFTER, COL_ATTEMPT_STATE, COL_PARENT, COL_CHILD_POLICY,
	COL_LIMITS,
};
/* The JSON columns of a row read back: trees only for old indented text. */
#define STORE_ROW_TREES	8

enum store_stmt {
	ST_BEGIN, ST_READ, ST_COMMIT, ST_ROLLBACK, ST_INSERT, ST_UPDATE, ST_GET,
	ST_STATE, ST_BY_KEY, ST_RETRIEVED, ST_COUNTS, ST_UNRETRIEVED, ST_LOAD,
	ST_QUEUE_SAVE, ST_QUEUE_UNSET, ST_QUEUE_LOAD, ST_ITEM_ADD, ST_ITEMS, ST_ITEM_NEXT,
	ST_OVERFLOW_SET, ST_OVERFLOW_GET, ST_PURGE_SELECT, ST_PURGE_ITEMS,
	ST_PURGE_TASK, ST_LABEL_ADD, ST_LABEL_DEL, ST_LAST_ID, ST_CHILDREN,
	ST_SCHED_INSERT, ST_SCHED_UPDATE, ST_SCHED_DELETE, ST_SCHED_LOAD,
	ST_RATE_SAVE, ST_RATE_UNSET, ST_RATE_LOAD, ST_ID_MARK,
	ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* ?1-?10 are bound alike for both (store_bind_progress). */
	[ST_INSERT] = "INSERT INTO tasks (state, attempt, started_at, "
	    "finished_at, result, exception, start_after, attempts, id, "
	    "attempt_state, kind, queue, priority, key, spec, labels, after, "
	    "timeout, not_before, retry_backoff, max_retries, created_at, "
	    "retrieved, parent, child_policy, limits) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	    "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
	[ST_UPDATE] = "UPDATE tasks SET state = ?1, attempt = ?2, "
	    "started_at = ?3, finished_at = ?4, result = ?5, exception = ?6, "
	    "start_after = ?7, attempts = ?8, attempt_state = ?10 WHERE id = ?9",
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
	[ST_CHILDREN] = "SELECT " STORE_COLUMNS " FROM tasks "
	    "WHERE parent = ? ORDER BY id",
	[ST_QUEUE_SAVE] = "INSERT INTO queues (name, concurrency, paused) "
	    "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
	    "concurrency = excluded.concurrency, paused = excluded.paused",
	[ST_QUEUE_UNSET] = "DELETE FROM queues WHERE name = ?",
	[ST_QUEUE_LOAD] = "SELECT name, concurrency, paused FROM queues",
	[ST_RATE_SAVE] = "INSERT INTO rate_limits (name, starts, per, burst) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
	    "starts = ?2, per = ?3, burst = ?4",
	[ST_RATE_UNSET] = "DELETE FROM rate_limits WHERE name = ?1",
	[ST_RATE_LOAD] = "SELECT name, starts, per, burst FROM rate_limits",
	[ST_SCHED_INSERT] = "INSERT INTO schedules (name, def, state, version) "
	    "VALUES (?1, ?2, ?3, 1) ON CONFLICT (name) DO NOTHING",
	[ST_SCHED_UPDATE] = "UPDATE schedules SET def = coalesce(?2, def), "
	    "state = ?3, version = version + 1 WHERE name = ?1 AND "
	    "version = ?4",
	[ST_SCHED_DELETE] = "DELETE FROM schedules WHERE name = ?1 AND "
	    "version = ?2",
	[ST_SCHED_LOAD] = "SELECT name, def, state, version FROM schedules "
	    "ORDER BY name",
	[ST_ITEM_ADD] = "INSERT INTO stream_items (task_id, seq, value, error) "
	    "VALUES (?, ?, ?, ?)",
	[ST_ITEMS] = "SELECT seq, value, error FROM stream_items "
	    "WHERE task_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
	[ST_ITEM_NEXT] = "SELECT max(seq) FROM stream_items WHERE task_id = ?",
	[ST_OVERFLOW_SET] = "UPDATE tasks SET stream_overflow = 1 WHERE id = ?",
	[ST_OVERFLOW_GET] = "SELECT stream_overflow FROM tasks WHERE id = ?",
	[ST_PURGE_SELECT] = "SELECT " STORE_COLUMNS " "
	    "FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ? "
	    "ORDER BY finished_at LIMIT ?",
	[ST_PURGE_ITEMS] = "DELETE FROM stream_items WHERE task_id = ?",
	[ST_PURGE_TASK] = "DELETE FROM tasks WHERE id = ?",
	[ST_LABEL_DEL] = "DELETE FROM task_labels WHERE name = ? AND "
	    "value = ? AND task_id = ?",
	[ST_LABEL_ADD] = "INSERT OR IGNORE INTO task_labels (name, value, "
	    "task_id) VALUES (?, ?, ?)",
	/* The ids' high-water mark: ids are never reused. */
	[ST_LAST_ID] = "SELECT max(coalesce((SELECT value FROM meta "
	    "WHERE name = 'id_mark'), 0), coalesce((SELECT max(id) FROM tasks), "
	    "0))",
	/* an upsert: the mark holds even if the row went missing */
	[ST_ID_MARK] = "INSERT INTO meta (name, value) VALUES ('id_mark', ?1) "
	    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
};

/*
 * Ids up to the mark may have been given: the mark is raised a block
 * ahead, in the transaction of the insert that passes it, so that one
 * insert in STORE_ID_BLOCK writes its page.
 */
#define STORE_ID_BLOCK	1024

struct store_backend {
	int	in_txn;
	int64_t	id_mark;	/* raised to this in this run; 0: not yet,
				 * or its raise was rolled back */
};

static sqlite3			*store_db;
static sqlite3_stmt		*store_stmts[ST_COUNT];
static struct store_backend	 store_sqlite;

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

static int
store_schema_version_get(void)
{
	return store_pragma_int("PRAGMA user_version");
}

/* Applies the migrations the file lacks, each in its own transaction. */
static int
store_migrate(void)
{
	char	sql[64];
	int	v = store_schema_version_get(), migrated = 0;

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
		migrated = 1;
	}
	/* the tasks start with an empty WAL, not one full of rebuilt tables */
	if (migrated)
		return store_exec("PRAGMA wal_checkpoint(TRUNCATE)");
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

static void	sq_close(struct store_backend *);

static int
sq_open(const char *url, const char *schema, int sync_full,
    struct store_backend **b)
{
	const char	*path = url + strlen("sqlite:");
	const char	*walbuf = getenv("FUTURED_SQLITE_WALBUF");
	const char	*vfs = NULL;

	if (store_private(path) == -1)
		return -1;
	/*
	 * Only a commit that syncs writes the buffered frames before it
	 * returns; --sync normal keeps sqlite's own writes.
	 * FUTURED_SQLITE_WALBUF=0 (benchmarks: the baseline) does too.
	 */
	if (sync_full && (walbuf == NULL || strcmp(walbuf, "0") != 0))
		vfs = store_sqlite_vfs();
	if (sqlite3_open_v2(path, &store_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
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
	memset(&store_sqlite, 0, sizeof store_sqlite);
	*b = &store_sqlite;
	return 0;
fail:
	sq_close(NULL);
	return -1;
}

static void
sq_close(struct store_backend *b)
{
	int	i;

	for (i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(store_stmts[i]);
		store_stmts[i] = NULL;
	}
	sqlite3_close(store_db);
	store_db = NULL;
}

static int
sq_schema_version(struct store_backend *b)
{
	return store_schema_version_get();
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

static int
sq_last_id(struct store_backend *b, int64_t *id)
{
	sqlite3_stmt	*st = store_stmts[ST_LAST_ID];

	*id = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	return sqlite3_reset(st) == SQLITE_OK ? 0 : -1;
}

static void
sq_count(struct store_backend *b, int64_t states[FP_STATE_COUNT],
    int64_t *unretrieved, store_done_cb *done, void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_COUNTS];
	int		 s;

	memset(states, 0, FP_STATE_COUNT * sizeof *states);
	*unretrieved = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		s = sqlite3_column_int(st, 0);
		if (s >= 0 && s < FP_STATE_COUNT)
			states[s] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = store_stmts[ST_UNRETRIEVED];
	if (sqlite3_step(st) == SQLITE_ROW)
		*unretrieved = sqlite3_column_int64(st, 0);
	if (sqlite3_reset(st) != SQLITE_OK) {
		store_log("count tasks");
		done(arg, STORE_FAILED);
		return;
	}
	done(arg, STORE_OK);
}

static int
sq_begin(struct store_backend *b)
{
	/* a read that could not end its transaction must not block writes */
	if (!sqlite3_get_autocommit(store_db))
		store_step_done(store_stmts[ST_ROLLBACK], "end a stray read");
	if (store_step_done(store_stmts[ST_BEGIN], "begin") == -1)
		return -1;
	b->in_txn = 1;
	return 0;
}

static void
sq_rollback(struct store_backend *b)
{
	b->in_txn = 0;
	b->id_mark = 0;		/* a raise may have been rolled back */
	/* sqlite may have rolled back on its own (a full disk) */
	if (!sqlite3_get_autocommit(store_db))
		store_step_done(store_stmts[ST_ROLLBACK], "rollback");
}

static void
sq_commit(struct store_backend *b, store_done_cb *done, void *arg)
{
	if (store_step_done(store_stmts[ST_COMMIT], "commit") == -1) {
		sq_rollback(b);
		done(arg, STORE_FAILED);
		return;
	}
	b->in_txn = 0;
	done(arg, STORE_COMMITTED);
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
		fatalx("store: out of memory");
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

/* A JSON column from a row: its tree, or its text. */
static void
store_bind_value(sqlite3_stmt *st, int col, const struct fp_value *v)
{
	if (v->text != NULL)
		sqlite3_bind_text(st, col, v->text, -1, SQLITE_STATIC);
	else
		store_bind_json(st, col, v->json);
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

/* ?1-?10 of ST_INSERT and ST_UPDATE: what changes as a task runs. */
static void
store_bind_progress(sqlite3_stmt *st, const struct store_row *r)
{
	sqlite3_bind_int(st, 1, r->t.state);
	sqlite3_bind_int(st, 2, r->t.attempt);
	store_bind_time(st, 3, r->t.started_at);
	store_bind_time(st, 4, r->t.finished_at);
	store_bind_value(st, 5, &r->t.result);
	store_bind_value(st, 6, &r->t.exception);
	store_bind_time(st, 7, r->start_after);
	store_bind_value(st, 8, &r->t.attempts);
	sqlite3_bind_int64(st, 9, r->t.id);
	store_bind_value(st, 10, &r->attempt_state);
}

/* The labels as a tree (a row may hold them as text). */
static json_t *
store_labels(const struct store_row *r)
{
	if (r->t.labels.text != NULL)
		return json_loads(r->t.labels.text, JSON_ALLOW_NUL, NULL);
	return json_incref(r->t.labels.json);
}

/* Raises the ids' high-water mark past id, in the insert's transaction. */
static int
store_id_mark(struct store_backend *b, int64_t id)
{
	sqlite3_stmt	*st = store_stmts[ST_ID_MARK];

	if (id <= b->id_mark)
		return 0;
	sqlite3_bind_int64(st, 1, id + STORE_ID_BLOCK);
	if (store_step_done(st, "raise the id mark") == -1)
		return -1;
	b->id_mark = id + STORE_ID_BLOCK;
	return 0;
}

static int
sq_insert(struct store_backend *b, const struct store_row *r)
{
	sqlite3_stmt	*st = store_stmts[ST_INSERT];
	json_t		*labels;
	int		 rv;

	if (store_id_mark(b, r->t.id) == -1)
		return -1;

	store_bind_progress(st, r);
	sqlite3_bind_text(st, 11, r->t.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->t.queue, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 13, r->t.priority);
	if (r->t.key != NULL)
		sqlite3_bind_text(st, 14, r->t.key, -1, SQLITE_STATIC);
	store_bind_value(st, 15, &r->t.spec);
	store_bind_value(st, 16, &r->t.labels);
	store_bind_value(st, 17, &r->t.after);
	if (r->t.timeout > 0)
		sqlite3_bind_double(st, 18, r->t.timeout);
	store_bind_time(st, 19, r->t.not_before);
	sqlite3_bind_double(st, 20, r->retry_backoff);
	sqlite3_bind_int(st, 21, r->t.max_retries);
	sqlite3_bind_double(st, 22, r->t.created_at);
	sqlite3_bind_int(st, 23, r->t.retrieved);
	if (r->t.parent > 0)
		sqlite3_bind_int64(st, 24, r->t.parent);
	sqlite3_bind_int(st, 25, r->t.child_policy);
	store_bind_value(st, 26, &r->t.limits);
	if (store_step_done(st, "insert task") == -1)
		return -1;
	labels = store_labels(r);
	rv = store_label_rows(store_stmts[ST_LABEL_ADD], r->t.id, labels,
	    "add label");
	json_decref(labels);
	return rv;
}

static int
sq_update(struct store_backend *b, const struct store_row *r, int *old)
{
	*old = store_id_int(ST_STATE, r->t.id, -1);
	store_bind_progress(store_stmts[ST_UPDATE], r);
	return store_step_done(store_stmts[ST_UPDATE], "update task");
}

static int
sq_retrieved(struct store_backend *b, int64_t id, int *changed)
{
	sqlite3_stmt	*st = store_stmts[ST_RETRIEVED];

	sqlite3_bind_int64(st, 1, id);
	if (store_step_done(st, "mark retrieved") == -1)
		return -1;
	*changed = sqlite3_changes(store_db) == 1;
	return 0;
}

static int
sq_item_add(struct store_backend *b, int64_t id, int64_t seq, json_t *value,
    json_t *error)
{
	sqlite3_stmt	*st = store_stmts[ST_ITEM_ADD];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, seq);
	store_bind_json(st, 3, value);
	store_bind_json(st, 4, error);
	return store_step_done(st, "add stream item");
}

static int
sq_overflow_set(struct store_backend *b, int64_t id)
{
	sqlite3_stmt	*st = store_stmts[ST_OVERFLOW_SET];

	sqlite3_bind_int64(st, 1, id);
	return store_step_done(st, "stream overflow");
}

static int
sq_queue_save(struct store_backend *b, const char *name, int concurrency,
    int paused)
{
	sqlite3_stmt	*st = store_stmts[ST_QUEUE_SAVE];

	if (concurrency == 0 && !paused) {	/* no settings: no row */
		st = store_stmts[ST_QUEUE_UNSET];
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		return store_step_done(st, "unset queue");
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, concurrency);
	sqlite3_bind_int(st, 3, paused);
	return store_step_done(st, "save queue");
}

/* version 0 inserts; else the row must still be at version. */
static void
sq_schedule_put(struct store_backend *b, const char *name, json_t *def,
    json_t *state, int64_t version, store_done_cb *done, void *arg)
{
	sqlite3_stmt	*st = store_stmts[version == 0 ? ST_SCHED_INSERT :
			    ST_SCHED_UPDATE];

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	store_bind_json(st, 2, def);
	store_bind_json(st, 3, state);
	if (version != 0)
		sqlite3_bind_int64(st, 4, version);
	if (store_step_done(st, "write schedule") == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	done(arg, sqlite3_changes(store_db) == 1 ? STORE_OK : STORE_NONE);
}

static void
sq_schedule_delete(struct store_backend *b, const char *name,
    int64_t version, store_done_cb *done, void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_SCHED_DELETE];

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	if (store_step_done(st, "delete schedule") == -1) {
		done(arg, STORE_FAILED);
		return;
	}
	done(arg, sqlite3_changes(store_db) == 1 ? STORE_OK : STORE_NONE);
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

/* The current row of st; trees[] holds what was parsed (to free). */
static void
store_row_read(sqlite3_stmt *st, struct store_row *r,
    json_t *trees[STORE_ROW_TREES])
{
	struct fp_task	*t = &r->t;

	memset(r, 0, sizeof *r);
	t->id = sqlite3_column_int64(st, COL_ID);
	t->kind = (const char *)sqlite3_column_text(st, COL_KIND);
	t->state = (enum fp_state)sqlite3_column_int(st, COL_STATE);
	t->queue = (const char *)sqlite3_column_text(st, COL_QUEUE);
	t->priority = sqlite3_column_int(st, COL_PRIORITY);
	t->key = (const char *)sqlite3_column_text(st, COL_KEY);
	t->spec = store_col_value(st, COL_SPEC, &trees[0]);
	t->labels = store_col_value(st, COL_LABELS, &trees[1]);
	t->after = store_col_value(st, COL_AFTER, &trees[2]);
	t->timeout = store_col_double(st, COL_TIMEOUT, -1);
	t->not_before = store_col_double(st, COL_NOT_BEFORE, 0);
	t->attempt = sqlite3_column_int(st, COL_ATTEMPT);
	t->max_retries = sqlite3_column_int(st, COL_MAX_RETRIES);
	t->created_at = store_col_double(st, COL_CREATED, 0);
	t->started_at = store_col_double(st, COL_STARTED, 0);
	t->finished_at = store_col_double(st, COL_FINISHED, 0);
	t->result = store_col_value(st, COL_RESULT, &trees[3]);
	t->exception = store_col_value(st, COL_EXCEPTION, &trees[4]);
	t->retrieved = sqlite3_column_int(st, COL_RETRIEVED);
	t->attempts = store_col_value(st, COL_ATTEMPTS, &trees[5]);
	if (t->spec.text == NULL && t->spec.json == NULL)
		t->spec.text = "null";
	r->retry_backoff = store_col_double(st, COL_BACKOFF, 1);
	r->start_after = store_col_double(st, COL_START_AFTER, 0);
	r->attempt_state = store_col_value(st, COL_ATTEMPT_STATE, &trees[6]);
	t->parent = sqlite3_column_int64(st, COL_PARENT);
	t->waiting = sqlite3_column_type(st, COL_ATTEMPT_STATE) == SQLITE_TEXT &&
	    strstr((const char *)sqlite3_column_text(st, COL_ATTEMPT_STATE),
	    "\"" FP_CHILDREN_MARK "\"") != NULL;
	t->child_policy = sqlite3_column_int(st, COL_CHILD_POLICY);
	t->limits = store_col_value(st, COL_LIMITS, &trees[7]);
}

static void
store_trees_free(json_t *trees[STORE_ROW_TREES])
{
	int	i;

	for (i = 0; i < STORE_ROW_TREES; i++)
		json_decref(trees[i]);
}

/* Runs statement k for id; cb(arg, st) sees its first row, if any. */
static int
store_by_id(enum store_stmt k, int64_t id,
    void (*cb)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt	*st = store_stmts[k];
	int		 rc;

	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(st, arg);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log("read task");
		return STORE_FAILED;
	}
	return rc == SQLITE_ROW ? STORE_OK : STORE_NONE;
}

static void
store_write_row(sqlite3_stmt *st, void *arg)
{
	json_t			*trees[STORE_ROW_TREES];
	struct store_row	 r;

	store_row_read(st, &r, trees);
	store_task_view(&r.t);
	fp_task_write(arg, &r.t);
	store_trees_free(trees);
}

static void
sq_write(struct store_backend *b, int64_t id, struct fp_text *o,
    store_done_cb *done, void *arg)
{
	done(arg, store_by_id(ST_GET, id, store_write_row, o));
}

struct store_get {
	store_row_cb	*cb;
	void		*arg;
};

static void
store_get_row(sqlite3_stmt *st, void *arg)
{
	struct store_get	*g = arg;
	json_t			*trees[STORE_ROW_TREES];
	struct store_row	 r;

	store_row_read(st, &r, trees);
	g->cb(g->arg, STORE_OK, &r);
	store_trees_free(trees);
}

static void
sq_get(struct store_backend *b, int64_t id, store_row_cb *cb, void *arg)
{
	struct store_get	g = { cb, arg };
	int			status;

	if ((status = store_by_id(ST_GET, id, store_get_row, &g)) != STORE_OK)
		cb(arg, status, NULL);
}

static void
sq_states(struct store_backend *b, const int64_t *ids, size_t n, int *states,
    store_done_cb *done, void *arg)
{
	size_t	i;
	int	own;

	/*
	 * Outside the turn's transaction each lookup would take and drop
	 * the WAL's read lock (three fcntl(2)s and a look at the WAL's
	 * index): a wait on 10,000 ids spent 15 ms so.
	 */
	own = n > 1 && sqlite3_get_autocommit(store_db) &&
	    store_step_done(store_stmts[ST_READ], "begin reading") == 0;
	for (i = 0; i < n; i++)
		states[i] = store_id_int(ST_STATE, ids[i], -1);
	/* (a failed lookup may have ended it already: an I/O error) */
	if (own && !sqlite3_get_autocommit(store_db) &&
	    store_step_done(store_stmts[ST_COMMIT], "end reading") == -1)
		store_step_done(store_stmts[ST_ROLLBACK], "end reading");
	done(arg, STORE_OK);
}

static void
sq_by_key(struct store_backend *b, const char *key, store_key_cb *cb,
    void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_BY_KEY];
	json_t		*spec;
	int64_t		 id;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		spec = store_col_json(st, 1);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		cb(arg, STORE_OK, id, spec);
		json_decref(spec);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	cb(arg, STORE_NONE, 0, NULL);
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
	if (l->kind != NULL)
		store_sql_cat(sql, len, " AND kind = ?");
	if (l->parent > 0)
		store_sql_cat(sql, len, " AND parent = ?");
	else if (l->parent < 0)
		store_sql_cat(sql, len, " AND parent IS NULL");
	if (l->unretrieved)
		store_sql_cat(sql, len, " AND state = 3 AND retrieved = 0");
	json_object_foreach(l->label, k, v) {
		if (!first)
			store_sql_cat(sql, len, " AND EXISTS (SELECT 1 FROM "
			    "task_labels l WHERE l.name = ? AND l.value = ? "
			    "AND l.task_id = id)");
		first = 0;
	}
	if (l->text != NULL)
		store_sql_cat(sql, len, " AND (instr(spec, ?) > 0 OR "
		    "instr(labels, ?) > 0 OR key = ? OR CAST(id AS TEXT) = ?)");
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
	int		 i = 1, n;

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
	if (l->kind != NULL)
		sqlite3_bind_text(st, i++, l->kind, -1, SQLITE_STATIC);
	if (l->parent > 0)
		sqlite3_bind_int64(st, i++, l->parent);
	json_object_foreach(l->label, k, v)
		if (k != first)
			store_list_bind_label(st, &i, k, v);
	for (n = 0; l->text != NULL && n < 4; n++)
		sqlite3_bind_text(st, i++, l->text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i, l->limit + 1);
}

static void
sq_list(struct store_backend *b, const struct fp_list *l, struct fp_text *o,
    store_done_cb *done, void *arg)
{
	char		 sql[8192];
	sqlite3_stmt	*st;
	json_t		*next;
	int64_t		 last = 0;
	int		 n = 0, rc;

	store_list_sql(l, sql, sizeof sql);
	if (sqlite3_prepare_v2(store_db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_log("list");
		done(arg, STORE_FAILED);
		return;
	}
	store_list_bind(st, l);
	fp_text_cstr(o, "{\"tasks\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < l->limit) {
		if (n++ > 0)
			fp_text_add(o, ",", 1);
		last = sqlite3_column_int64(st, COL_ID);
		store_write_row(st, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log("list");
		done(arg, STORE_FAILED);
		return;
	}
	/* a next page when this one is full and one more row exists */
	next = rc == SQLITE_ROW ? xjson(fp_cursor_create(last)) : NULL;
	fp_text_cstr(o, "],\"next\":");
	fp_text_json(o, next);
	fp_text_add(o, "}", 1);
	json_decref(next);
	done(arg, STORE_OK);
}

static void
sq_items(struct store_backend *b, int64_t id, int64_t from, int limit,
    store_items_cb *cb, void *arg)
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
	cb(arg, STORE_OK, items, store_id_int(ST_OVERFLOW_GET, id, 0));
	json_decref(items);
}

static void
sq_next_seq(struct store_backend *b, int64_t id, store_next_cb *cb, void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_ITEM_NEXT];
	int64_t		 next = 0;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	cb(arg, STORE_OK, next);
}

/* Calls row for each row st gives, then done; what: for the log. */
static void
sq_rows(sqlite3_stmt *st, const char *what, store_row_cb *row,
    store_done_cb *done, void *arg)
{
	json_t			*trees[STORE_ROW_TREES];
	struct store_row	 r;
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_row_read(st, &r, trees);
		row(arg, STORE_OK, &r);
		store_trees_free(trees);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		store_log(what);
	done(arg, rc == SQLITE_DONE ? STORE_OK : STORE_FAILED);
}

static void
sq_load(struct store_backend *b, store_row_cb *row, store_done_cb *done,
    void *arg)
{
	sq_rows(store_stmts[ST_LOAD], "load tasks", row, done, arg);
}

static void
sq_children(struct store_backend *b, int64_t id, store_row_cb *row,
    store_done_cb *done, void *arg)
{
	sqlite3_bind_int64(store_stmts[ST_CHILDREN], 1, id);
	sq_rows(store_stmts[ST_CHILDREN], "read children", row, done, arg);
}

static void
sq_queues(struct store_backend *b, store_queue_cb *queue, store_done_cb *done,
    void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_QUEUE_LOAD];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		queue(arg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1), sqlite3_column_int(st, 2));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		store_log("load queues");
	done(arg, rc == SQLITE_DONE ? STORE_OK : STORE_FAILED);
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

/* A delete's query when it filters more than retention does. */
static void
store_select_sql(const struct store_select *sel, char *sql, size_t len)
{
	const char	*k;
	json_t		*v;

	snprintf(sql, len, "SELECT " STORE_COLUMNS " FROM tasks WHERE "
	    "finished_at IS NOT NULL");
	if (sel->before > 0)
		store_sql_cat(sql, len, " AND finished_at < ?");
	if (sel->filter != NULL && sel->filter->has_state)
		store_sql_cat(sql, len, " AND state = ?");
	if (sel->filter != NULL && sel->filter->queue != NULL)
		store_sql_cat(sql, len, " AND queue = ?");
	if (sel->filter != NULL)
		json_object_foreach(sel->filter->label, k, v)
			store_sql_cat(sql, len, " AND EXISTS (SELECT 1 FROM "
			    "task_labels l WHERE l.name = ? AND l.value = ? "
			    "AND l.task_id = id)");
	if (sel->ids != NULL)
		store_sql_cat(sql, len, " AND id IN (SELECT value FROM "
		    "json_each(?))");
	store_sql_cat(sql, len, " ORDER BY finished_at LIMIT ?");
}

/* Binds store_select_sql's parameters; *ids is the ids' JSON (free). */
static void
store_select_bind(sqlite3_stmt *st, const struct store_select *sel,
    int limit, char **ids)
{
	const char	*k;
	json_t		*v, *a;
	size_t		 n;
	int		 i = 1;

	if (sel->before > 0)
		sqlite3_bind_double(st, i++, sel->before);
	if (sel->filter != NULL && sel->filter->has_state)
		sqlite3_bind_int(st, i++, sel->filter->state);
	if (sel->filter != NULL && sel->filter->queue != NULL)
		sqlite3_bind_text(st, i++, sel->filter->queue, -1,
		    SQLITE_STATIC);
	if (sel->filter != NULL)
		json_object_foreach(sel->filter->label, k, v)
			store_list_bind_label(st, &i, k, v);
	*ids = NULL;
	if (sel->ids != NULL) {
		a = xjson(json_array());
		for (n = 0; n < sel->n_ids; n++)
			json_array_append_new(a, json_integer(sel->ids[n]));
		if ((*ids = fp_json_text(a)) == NULL)
			fatalx("store: out of memory");
		json_decref(a);
		sqlite3_bind_text(st, i++, *ids, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(st, i, limit);
}

/* The statement that selects a delete's rows: prepared, or made for it. */
static sqlite3_stmt *
store_select_stmt(const struct store_select *sel, int limit, char **ids)
{
	sqlite3_stmt	*st;
	char		 sql[8192];

	*ids = NULL;
	if (sel->filter == NULL && sel->ids == NULL) {
		st = store_stmts[ST_PURGE_SELECT];
		sqlite3_bind_double(st, 1, sel->before);
		sqlite3_bind_int(st, 2, limit);
		return st;
	}
	store_select_sql(sel, sql, sizeof sql);
	if (sqlite3_prepare_v2(store_db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_log("delete");
		return NULL;
	}
	store_select_bind(st, sel, limit, ids);
	return st;
}

static void
sq_purge(struct store_backend *b, const struct store_select *sel, int limit,
    store_row_cb *deleted, void (*done)(void *, int), void *arg)
{
	sqlite3_stmt		*st;
	struct store_row	 r;
	json_t			*trees[STORE_ROW_TREES];
	int64_t			*ids;
	json_t			**labels;
	char			*idtext;
	int			 n = 0, i, rv;

	if ((st = store_select_stmt(sel, limit, &idtext)) == NULL) {
		done(arg, -1);
		return;
	}
	ids = xcalloc((size_t)limit, sizeof *ids);
	labels = xcalloc((size_t)limit, sizeof *labels);
	while (n < limit && sqlite3_step(st) == SQLITE_ROW) {
		store_row_read(st, &r, trees);
		ids[n] = r.t.id;
		labels[n++] = store_labels(&r);
		deleted(arg, STORE_OK, &r);
		store_trees_free(trees);
	}
	if (st == store_stmts[ST_PURGE_SELECT])
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	free(idtext);
	rv = n;
	for (i = 0; i < n; i++) {
		if (rv != -1 && store_purge_one(ids[i], labels[i]) == -1)
			rv = -1;
		json_decref(labels[i]);
	}
	free(labels);
	free(ids);
	done(arg, rv);
}

static int
sq_rate_save(struct store_backend *b, const char *name, double starts,
    double per, double burst)
{
	sqlite3_stmt	*st = store_stmts[starts > 0 ? ST_RATE_SAVE :
			    ST_RATE_UNSET];

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (starts > 0) {
		sqlite3_bind_double(st, 2, starts);
		sqlite3_bind_double(st, 3, per);
		sqlite3_bind_double(st, 4, burst);
	}
	return store_step_done(st, "save rate limit");
}

static void
sq_rates(struct store_backend *b, store_rate_cb *cb, store_done_cb *done,
    void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_RATE_LOAD];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_double(st, 1), sqlite3_column_double(st, 2),
		    sqlite3_column_double(st, 3));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		store_log("load rate limits");
	done(arg, rc == SQLITE_DONE ? STORE_OK : STORE_FAILED);
}

static void
sq_schedules(struct store_backend *b, store_schedule_cb *cb,
    store_done_cb *done, void *arg)
{
	sqlite3_stmt	*st = store_stmts[ST_SCHED_LOAD];
	json_t		*def, *state;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		def = store_col_json(st, 1);
		state = store_col_json(st, 2);
		if (def != NULL && state != NULL)
			cb(arg, (const char *)sqlite3_column_text(st, 0), def,
			    state, sqlite3_column_int64(st, 3));
		json_decref(def);
		json_decref(state);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		store_log("load schedules");
	done(arg, rc == SQLITE_DONE ? STORE_OK : STORE_FAILED);
}

const struct store_backend_ops store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.last_id = sq_last_id,
	.count = sq_count,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.insert = sq_insert,
	.update = sq_update,
	.retrieved = sq_retrieved,
	.item_add = sq_item_add,
	.overflow_set = sq_overflow_set,
	.queue_save = sq_queue_save,
	.write = sq_write,
	.get = sq_get,
	.states = sq_states,
	.by_key = sq_by_key,
	.list = sq_list,
	.items = sq_items,
	.next_seq = sq_next_seq,
	.load = sq_load,
	.children = sq_children,
	.queues = sq_queues,
	.purge = sq_purge,
	.schedule_put = sq_schedule_put,
	.schedule_delete = sq_schedule_delete,
	.schedules = sq_schedules,
	.rate_save = sq_rate_save,
	.rates = sq_rates,
};
