/*
 * test_store_sqlite.c: what only the sqlite backend must do (the store's
 * conformance suite is test_store.c): schema migrations from version 1,
 * a file from a newer futured refused, JSON columns an older futured wrote
 * indented answered compact, label rows kept in step, a bad store URL.
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

#include "store-check.h"

#define SCHEMA_VERSION	7	/* migrations in store-sqlite.c */

static int
setup(void **state)
{
	log_init(LOG_LEVEL_ERROR + 10);	/* the refusals below are expected */
	sc_url();
	return 0;
}

static int
teardown(void **state)
{
	return sc_cleanup();
}

static const char *
db_path(void)
{
	return sc_url() + strlen("sqlite:");
}

/* Runs sql on the database file through a connection of its own. */
static void
db_exec(const char *sql)
{
	sqlite3	*db;
	char	*err = NULL;

	assert_int_equal(sqlite3_open(db_path(), &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

static int
db_int(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 n = -1;

	assert_int_equal(sqlite3_open(db_path(), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* An empty file, the store closed. */
static void
empty(void)
{
	sc_fresh();
	store_close();
	unlink(db_path());
}

/* Stores written before d2f0806 hold indented JSON; answers are compact. */
static void
test_indented_columns(void **state)
{
	struct obj	*t;
	json_t		*o;

	sc_fresh();
	t = obj_new("sleep", NULL);
	t->r.t.state = FP_SUCCEEDED;
	t->result = json_pack("{s:[i,s]}", "r", 1, "a\nb");
	obj_update(t);
	assert_int_equal(sc_flush(), 0);
	store_close();
	db_exec("UPDATE tasks SET spec = "
	    "'{\n    \"kind\": \"sleep\",\n    \"seconds\": 1\n}', "
	    "result = '{\n    \"r\": [\n        1,\n        \"a\\nb\"\n    ]\n}'");
	sc_reopen();
	o = sc_task(t->r.t.id);
	assert_non_null(o);
	assert_true(json_equal(json_object_get(o, "result"), t->result));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "spec"), "seconds")), 1);
	json_decref(o);
	obj_unref(t);
}

/* One task_labels row per label; purges take them. */
static void
test_label_rows(void **state)
{
	struct obj	*t;
	struct fp_list	 l;
	json_t		*page;

	sc_fresh();
	t = obj_new("sleep", NULL);
	json_object_set_new(t->labels, "size", json_string("l"));
	t->r.t.state = FP_SUCCEEDED;
	t->r.t.finished_at = 1700000001;
	obj_update(t);
	obj_unref(t);
	assert_int_equal(sc_flush(), 0);
	assert_int_equal(db_int("SELECT count(*) FROM task_labels"), 2);
	memset(&l, 0, sizeof l);
	l.limit = 10;
	l.label = json_pack("{s:s}", "size", "l");
	page = sc_list(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 1);
	json_decref(page);
	json_decref(l.label);
}

/* A version-1 file is migrated forward and keeps its tasks. */
static void
test_migration_from_v1(void **state)
{
	struct obj	*t;
	struct fp_list	 l;
	json_t		*page;

	empty();
	db_exec("CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT,"
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
	    /* AUTOINCREMENT remembers the id of a purged newest task */
	    "INSERT INTO tasks (id, kind, state, queue, spec, created_at)"
	    " VALUES (7, 'sleep', 3, 'default', '{}', 1);"
	    "DELETE FROM tasks WHERE id = 7;"
	    "PRAGMA user_version = 1;");
	assert_int_equal(store_open(sc_url(), NULL, 1, &obj_ops), 0);
	assert_int_equal(store_schema_version(), SCHEMA_VERSION);
	assert_int_equal(sc_state(1), FP_SUCCEEDED);
	/* migration 7 kept the high-water mark: 7 is never given again */
	t = obj_new("sleep", NULL);
	assert_true(t->r.t.id > 7);
	obj_unref(t);
	assert_int_equal(db_int("SELECT count(*) FROM sqlite_master WHERE "
	    "sql LIKE '%AUTOINCREMENT%'"), 0);
	/* migration 3 filled task_labels from the old rows */
	memset(&l, 0, sizeof l);
	l.limit = 10;
	l.label = json_pack("{s:s}", "tier", "old");
	page = sc_list(&l);
	assert_int_equal(json_array_size(json_object_get(page, "tasks")), 1);
	json_decref(page);
	json_decref(l.label);
}

/* The ids' high-water mark is written a block ahead, even when its row
 * went missing. */
static void
test_id_mark(void **state)
{
	struct obj	*t;
	int64_t		 id;

	sc_fresh();
	store_close();
	db_exec("DELETE FROM meta");
	assert_int_equal(store_open(sc_url(), NULL, 1, &obj_ops), 0);
	t = obj_new("sleep", NULL);
	id = t->r.t.id;
	obj_unref(t);
	assert_int_equal(sc_flush(), 0);
	assert_int_equal(db_int("SELECT value FROM meta WHERE name = "
	    "'id_mark'"), id + 1024);
}

/* A file from a newer futured is refused rather than damaged. */
static void
test_newer_schema_refused(void **state)
{
	empty();
	db_exec("PRAGMA user_version = 99");
	assert_int_equal(store_open(sc_url(), NULL, 1, &obj_ops), -1);
	assert_int_equal(db_int("PRAGMA user_version"), 99);
}

/* A URL of no known backend is refused, naming what is known. */
static void
test_bad_url(void **state)
{
	store_close();
	assert_int_equal(store_open("nosuch:/x", NULL, 1, &obj_ops), -1);
	assert_int_equal(store_open("/just/a/path", NULL, 1, &obj_ops), -1);
	assert_string_equal(store_backend_name(), "none");
	sc_fresh();
	assert_string_equal(store_backend_name(), "sqlite");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_indented_columns),
		cmocka_unit_test(test_label_rows),
		cmocka_unit_test(test_migration_from_v1),
		cmocka_unit_test(test_id_mark),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_bad_url),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
