/*
 * sqlitefloor.c: sqlite's own floor for submit-batch.  Inserts COUNT rows
 * into a table shaped like futured's tasks table (the columns and indexes
 * of its schema 7), TXN rows per transaction, one prepared statement,
 * WAL, synchronous=FULL: what the store could do with zero overhead
 * around it.
 *
 * usage: sqlitefloor -f FILE [-n COUNT] [-t TXN] [-S normal|full]
 * prints: rows= elapsed= rate= commit_p50_ms= ...
 */
#include <unistd.h>
#include <sqlite3.h>

#include "bench.h"

static const char schema[] =
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
	"  state INTEGER NOT NULL, queue TEXT NOT NULL,"
	"  priority INTEGER NOT NULL DEFAULT 0, key TEXT,"
	"  spec TEXT NOT NULL, labels TEXT NOT NULL DEFAULT '{}', after TEXT,"
	"  timeout REAL, not_before REAL, retry_backoff REAL NOT NULL DEFAULT 1,"
	"  attempt INTEGER NOT NULL DEFAULT 0,"
	"  max_retries INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,"
	"  started_at REAL, finished_at REAL, result TEXT, exception TEXT,"
	"  retrieved INTEGER NOT NULL DEFAULT 0,"
	"  stream_overflow INTEGER NOT NULL DEFAULT 0, attempts TEXT);"
	"CREATE UNIQUE INDEX tasks_by_key ON tasks(key) WHERE key IS NOT NULL;"
	"CREATE INDEX tasks_by_state ON tasks(state, id);"
	"CREATE INDEX tasks_by_queue ON tasks(queue, id);"
	"CREATE INDEX tasks_unretrieved ON tasks(id)"
	"  WHERE state = 3 AND retrieved = 0;"
	"CREATE INDEX tasks_by_finish ON tasks(finished_at)"
	"  WHERE finished_at IS NOT NULL;";

static sqlite3	*db;

static void
exec_sql(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		bench_die("%s: %s", sql, err ? err : "?");
}

int
main(int argc, char **argv)
{
	static const char spec[] = "{\"kind\":\"sleep\",\"seconds\":0}";
	struct bench_samples	 lat = { 0 };
	sqlite3_stmt		*ins;
	const char		*file = NULL, *sync = "FULL";
	char			 path[4096], pragma[64];
	long			 n = 10000, txn = 1000, i;
	double			 t0, t = 0, el;
	int			 ch;

	while ((ch = getopt(argc, argv, "f:n:t:S:")) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'n': n = atol(optarg); break;
		case 't': txn = atol(optarg); break;
		case 'S': sync = optarg; break;
		default: file = NULL; break;
		}
	}
	if (file == NULL || n < 1 || txn < 1) {
		fprintf(stderr, "usage: sqlitefloor -f FILE [-n COUNT] "
		    "[-t TXN] [-S normal|full]\n");
		return 2;
	}
	unlink(file);
	snprintf(path, sizeof path, "%s-wal", file);
	unlink(path);
	if (sqlite3_open(file, &db) != SQLITE_OK)
		bench_die("%s: %s", file, sqlite3_errmsg(db));
	exec_sql("PRAGMA journal_mode = WAL");
	snprintf(pragma, sizeof pragma, "PRAGMA synchronous = %s", sync);
	exec_sql(pragma);
	exec_sql(schema);
	if (sqlite3_prepare_v2(db, "INSERT INTO tasks (kind, state, queue, "
	    "priority, key, spec, labels, after, timeout, not_before, "
	    "retry_backoff, attempt, max_retries, created_at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL) !=
	    SQLITE_OK)
		bench_die("prepare: %s", sqlite3_errmsg(db));
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (i % txn == 0) {
			t = bench_now();
			exec_sql("BEGIN IMMEDIATE");
		}
		sqlite3_bind_text(ins, 1, "sleep", -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 2, 1);
		sqlite3_bind_text(ins, 3, "default", -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 4, 0);
		sqlite3_bind_null(ins, 5);
		sqlite3_bind_text(ins, 6, spec, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 7, "{}", -1, SQLITE_STATIC);
		sqlite3_bind_double(ins, 11, 1);
		sqlite3_bind_int(ins, 12, 1);
		sqlite3_bind_int(ins, 13, 0);
		sqlite3_bind_double(ins, 14, bench_wall());
		if (sqlite3_step(ins) != SQLITE_DONE)
			bench_die("insert: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		if (i % txn == txn - 1 || i == n - 1) {
			exec_sql("COMMIT");
			bench_sample_add(&lat, bench_now() - t);
		}
	}
	el = bench_now() - t0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	unlink(file);
	unlink(path);
	snprintf(path, sizeof path, "%s-shm", file);
	unlink(path);
	printf("rows=%ld elapsed=%.6f rate=%.1f", n, el, (double)n / el);
	bench_print_pcts("commit", &lat);
	printf("\n");
	return 0;
}
