/*
 * test_sqlite_vfs.c: the VFS that writes a commit's WAL frames at once
 * (store-sqlite-vfs.c), on a real file: what one connection commits
 * through it, another connection on sqlite's own VFS reads at once; a
 * transaction larger than the buffer, a page written twice in one
 * transaction, a transaction that reads back what it wrote, a rollback,
 * and checkpoints all leave a database that passes integrity_check and
 * holds exactly the committed rows after it is closed and reopened; a
 * write that fails (the file size limit) fails the commit and loses
 * nothing committed before.  A new WAL is written ahead to its size at
 * its first commit, and again after a checkpoint that empties it; opening
 * the database writes nothing (another process may be writing it): the
 * files as a crash would leave them (copied while the writer is open)
 * hold every commit, before and after the WAL restarts from its start and
 * after it was emptied;
 * where the size cannot be had, the WAL stays as short as it was and the
 * commit goes through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "base/base.h"
#include "store/store-backend.h"

static char	dir[64], path[128];

static int
setup(void **state)
{
	strcpy(dir, "/tmp/futured-vfs.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static sqlite3 *
db_open(const char *vfs)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	return db;
}

static int
db_run(sqlite3 *db, const char *sql)
{
	int	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		print_message("%s: %s\n", sql, sqlite3_errmsg(db));
	return rc;
}

static sqlite3_int64
db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	sqlite3_int64	 v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
assert_intact(sqlite3 *db)
{
	sqlite3_stmt	*st;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* n rows of the tag, each with a random blob of size bytes, at once */
static int
db_blobs(sqlite3 *db, const char *tag, int n, int size)
{
	char	sql[256];

	snprintf(sql, sizeof sql, "INSERT INTO t (v, b) SELECT '%s', "
	    "randomblob(%d) FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
	    "SELECT x + 1 FROM n WHERE x < %d) SELECT x FROM n)", tag, size, n);
	return db_run(db, sql);
}

static sqlite3 *
writer(void)
{
	const char	*vfs = store_sqlite_vfs();
	sqlite3		*db;

	assert_non_null(vfs);
	db = db_open(vfs);
	assert_int_equal(db_run(db, "PRAGMA journal_mode = WAL"), SQLITE_OK);
	assert_int_equal(db_run(db, "PRAGMA synchronous = FULL"), SQLITE_OK);
	assert_int_equal(db_run(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER "
	    "PRIMARY KEY, v TEXT NOT NULL, b BLOB)"), SQLITE_OK);
	assert_int_equal(db_run(db, "CREATE INDEX IF NOT EXISTS t_v ON t(v)"),
	    SQLITE_OK);
	return db;
}

static void
test_commits_seen_by_another_connection(void **state)
{
	sqlite3	*w = writer(), *r = db_open(NULL);
	char	 sql[128];
	int	 i;

	for (i = 1; i <= 300; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t (v) VALUES ('row %d')",
		    i);
		assert_int_equal(db_run(w, sql), SQLITE_OK);
		assert_int_equal(db_int(r, "SELECT count(*) FROM t"), i);
	}
	/* one transaction of 4 MiB: more than the buffer holds */
	assert_int_equal(db_blobs(w, "big", 64, 65536), SQLITE_OK);
	assert_int_equal(db_int(r, "SELECT count(*) FROM t WHERE v = 'big'"),
	    64);
	assert_int_equal(db_int(r, "SELECT sum(length(b)) FROM t"), 64 * 65536);
	assert_intact(r);
	sqlite3_close(r);
	sqlite3_close(w);
}

static void
test_rewrites_reads_and_rollback(void **state)
{
	sqlite3	*w = writer(), *r;
	int	 i;

	assert_int_equal(db_run(w, "BEGIN"), SQLITE_OK);
	for (i = 0; i < 50; i++) {
		/* the same pages again and again in one transaction */
		assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('x')"),
		    SQLITE_OK);
		assert_int_equal(db_run(w, "UPDATE t SET v = v || 'y'"),
		    SQLITE_OK);
	}
	/* a large change spills pages to the WAL before the commit */
	assert_int_equal(db_run(w, "PRAGMA cache_size = 10"), SQLITE_OK);
	assert_int_equal(db_blobs(w, "spill", 500, 4000), SQLITE_OK);
	assert_int_equal(db_int(w, "SELECT count(*) FROM t WHERE v = 'spill'"),
	    500);
	assert_int_equal(db_run(w, "COMMIT"), SQLITE_OK);
	assert_int_equal(db_run(w, "BEGIN"), SQLITE_OK);
	assert_int_equal(db_run(w, "DELETE FROM t WHERE v = 'spill'"),
	    SQLITE_OK);
	assert_int_equal(db_run(w, "ROLLBACK"), SQLITE_OK);
	assert_int_equal(db_run(w, "PRAGMA wal_checkpoint(TRUNCATE)"),
	    SQLITE_OK);
	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('after')"),
	    SQLITE_OK);
	sqlite3_close(w);

	r = db_open(NULL);
	assert_intact(r);
	assert_int_equal(db_int(r, "SELECT count(*) FROM t"), 551);
	assert_int_equal(db_int(r, "SELECT count(*) FROM t WHERE v = 'spill'"),
	    500);
	assert_int_equal(db_int(r, "SELECT count(*) FROM t WHERE length(v) = "
	    "51"), 1);
	sqlite3_close(r);
}

/* RLIMIT_FSIZE makes the WAL's writes fail, as a full disk would. */
static void
test_failed_write_fails_the_commit(void **state)
{
	sqlite3		*w = writer(), *r;
	struct rlimit	 old, lim;
	int		 rc;

	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('kept')"),
	    SQLITE_OK);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = db_blobs(w, "lost", 1, 1048576);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_not_equal(rc, SQLITE_OK);
	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('again')"),
	    SQLITE_OK);
	sqlite3_close(w);

	r = db_open(NULL);
	assert_intact(r);
	assert_int_equal(db_int(r, "SELECT count(*) FROM t WHERE v = 'lost'"),
	    0);
	assert_int_equal(db_int(r, "SELECT count(*) FROM t WHERE v IN "
	    "('kept', 'again')"), 2);
	sqlite3_close(r);
}

static off_t
file_size(const char *suffix)
{
	char		p[160];
	struct stat	st;

	snprintf(p, sizeof p, "%s%s", path, suffix);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* The database and its WAL as they are now, in dir/crash/ (a crash image). */
static sqlite3 *
crash_image(void)
{
	char	 cmd[512], p[160];
	sqlite3	*db;

	snprintf(cmd, sizeof cmd, "rm -rf '%s/crash' && mkdir '%s/crash' && "
	    "cp '%s' '%s-wal' '%s/crash/'", dir, dir, path, path, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof p, "%s/crash/t.db", dir);
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	return db;
}

static void
test_wal_written_ahead(void **state)
{
	sqlite3	*w = writer(), *c, *o;
	char	 sql[128];
	int	 i;

	/* another connection through the VFS, opened as a restart would */
	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('first')"),
	    SQLITE_OK);
	sqlite3_close(w);
	w = db_open(NULL);	/* holds the database: the WAL stays */
	assert_int_equal(db_int(w, "SELECT count(*) FROM t"), 1);
	assert_int_equal(db_run(w, "PRAGMA wal_checkpoint(TRUNCATE)"),
	    SQLITE_OK);
	assert_int_equal(file_size("-wal"), 0);
	o = db_open(store_sqlite_vfs());
	assert_int_equal(db_int(o, "SELECT count(*) FROM t"), 1);
	assert_int_equal(file_size("-wal"), 0);
	sqlite3_close(o);
	sqlite3_close(w);
	/* the first commit writes the WAL ahead */
	w = writer();
	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('second')"),
	    SQLITE_OK);
	assert_int_equal(file_size("-wal"), STORE_WAL_AHEAD);
	c = crash_image();
	assert_intact(c);
	assert_int_equal(db_int(c, "SELECT count(*) FROM t"), 2);
	sqlite3_close(c);

	/* past a checkpoint: the WAL starts again over its own blocks */
	for (i = 0; i < 1500; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t (v, b) VALUES ('row "
		    "%d', randomblob(3000))", i);
		assert_int_equal(db_run(w, sql), SQLITE_OK);
	}
	assert_true(db_int(w, "SELECT count(*) FROM t") == 1502);
	assert_int_equal(file_size("-wal"), STORE_WAL_AHEAD);
	c = crash_image();
	assert_intact(c);
	assert_int_equal(db_int(c, "SELECT count(*) FROM t"), 1502);
	assert_int_equal(db_int(c, "SELECT count(*) FROM t WHERE v = "
	    "'row 1499'"), 1);
	sqlite3_close(c);

	/* a checkpoint that empties the WAL (after a migration) */
	assert_int_equal(db_run(w, "PRAGMA wal_checkpoint(TRUNCATE)"),
	    SQLITE_OK);
	assert_int_equal(file_size("-wal"), STORE_WAL_AHEAD);
	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('last')"),
	    SQLITE_OK);
	c = crash_image();
	assert_intact(c);
	assert_int_equal(db_int(c, "SELECT count(*) FROM t"), 1503);
	sqlite3_close(c);
	sqlite3_close(w);
}

static void
test_no_room_ahead(void **state)
{
	sqlite3		*w;
	struct rlimit	 old, lim;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	w = writer();
	assert_int_equal(db_run(w, "INSERT INTO t (v) VALUES ('small')"),
	    SQLITE_OK);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_true(file_size("-wal") > 0);
	assert_true(file_size("-wal") < 64 * 1024);
	sqlite3_close(w);
	w = db_open(NULL);
	assert_intact(w);
	assert_int_equal(db_int(w, "SELECT count(*) FROM t"), 1);
	sqlite3_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_commits_seen_by_another_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rewrites_reads_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_write_fails_the_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_written_ahead, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_room_ahead, setup,
		    teardown),
	};

	log_init(LOG_LEVEL_ERROR + 10);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
