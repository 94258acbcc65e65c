/*
 * test_store_pg.c: what only the PostgreSQL backend must do (the store's
 * conformance suite is test_store.c): answers come in a later turn (the
 * loop never waits), the schema is created once when several futured
 * start at once, a schema from a newer futured is refused, a second
 * futured with a running node's name is refused, and a lost connection
 * fails what waited on it, then comes back.  Runs when FUTURED_TEST_PG names a
 * database (tests/pg/store_unit.sh).
 */
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <event2/event.h>

#include "store-check.h"

static PGconn	*side;	/* a connection of the test's own */

static int
setup(void **state)
{
	log_init(LOG_LEVEL_ERROR + 10);	/* the refusals below are expected */
	if (getenv("FUTURED_TEST_PG") == NULL)
		fail_msg("FUTURED_TEST_PG must name a database "
		    "(tests/pg/store_unit.sh sets it)");
	side = PQconnectdb(getenv("FUTURED_TEST_PG"));
	if (PQstatus(side) != CONNECTION_OK)
		fail_msg("cannot connect: %s", PQerrorMessage(side));
	return 0;
}

static int
teardown(void **state)
{
	PQfinish(side);
	return sc_cleanup();
}

static void
side_exec(const char *sql)
{
	PGresult	*r = PQexec(side, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

static long long
side_int(const char *sql)
{
	PGresult	*r = PQexec(side, sql);
	long long	 v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* A read is answered in a later turn, after the call returned. */
static void
test_answers_come_later(void **state)
{
	struct sc_status	 a = { 0, 0 };
	struct fp_text		 o = { 0 };
	struct obj		*t;

	sc_fresh();
	t = obj_new("sleep", NULL);
	assert_int_equal(sc_flush(), 0);
	store_task_write(t->r.t.id, &o, sc_status_cb, &a);
	assert_int_equal(a.done, 0);
	sc_wait(&a.done);
	assert_int_equal(a.status, STORE_OK);
	assert_non_null(strstr(o.buf, "\"state\":\"pending\""));
	fp_text_clear(&o);
	/* and a commit too: the deferred work runs once it is answered */
	t->r.t.state = FP_RUNNING;
	obj_update(t);
	memset(&a, 0, sizeof a);
	store_defer(sc_status_cb, &a);
	store_flush();
	assert_int_equal(a.done, 0);
	sc_wait(&a.done);
	assert_int_equal(a.status, STORE_COMMITTED);
	assert_int_equal(sc_state(t->r.t.id), FP_RUNNING);
	obj_unref(t);
}

/* The tables live in the schema asked for, at the version of this futured. */
static void
test_schema(void **state)
{
	sc_fresh();
	assert_int_equal(side_int("SELECT count(*) FROM information_schema."
	    "tables WHERE table_schema = 'futured_test' AND table_name IN "
	    "('tasks', 'queues', 'stream_items', 'task_labels', 'meta')"), 5);
	assert_int_equal(side_int("SELECT version FROM futured_test.meta"),
	    store_schema_version());
	assert_string_equal(store_backend_name(), "postgresql");
	/* a schema name that is not a plain identifier is refused */
	store_close();
	assert_int_equal(store_open(sc_url(), "bad\"name", 1, &obj_ops), -1);
	assert_int_equal(store_open(sc_url(), "", 1, &obj_ops), -1);
}

/* A database a newer futured migrated is left alone. */
static void
test_newer_schema_refused(void **state)
{
	sc_fresh();
	store_close();
	side_exec("UPDATE futured_test.meta SET version = 999");
	assert_int_equal(store_open(sc_url(), sc_schema(), 1, &obj_ops), -1);
	assert_int_equal(side_int("SELECT version FROM futured_test.meta"), 999);
	side_exec("DROP SCHEMA futured_test CASCADE");
}

/*
 * Several futured starting at once on an empty database: the schema is
 * created once (the others wait for the migration's lock), and each gets
 * the schema's node lock in turn (one futured at a time holds it).
 */
static void
test_concurrent_start(void **state)
{
	pid_t	pids[4];
	int	i, st, ok = 0;

	sc_fresh();
	store_close();
	side_exec("DROP SCHEMA futured_test CASCADE");
	for (i = 0; i < 4; i++) {
		if ((pids[i] = fork()) == 0) {
			loop_base = event_base_new();
			if (store_open(sc_url(), sc_schema(), 1, &obj_ops) == -1)
				_exit(1);
			usleep(100000);
			store_close();
			_exit(0);
		}
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	assert_int_equal(ok, 4);
	assert_int_equal(side_int("SELECT count(*) FROM futured_test.meta"), 1);
}

/* A second futured with the name of a node that runs is refused. */
static void
test_second_node_refused(void **state)
{
	sc_fresh();
	store_close();
	side_exec("SELECT pg_advisory_lock(hashtext('futured node "
	    "futured_test futured'))");
	assert_int_equal(store_open(sc_url(), sc_schema(), 1, &obj_ops), -1);
	side_exec("SELECT pg_advisory_unlock_all()");
	assert_int_equal(store_open(sc_url(), sc_schema(), 1, &obj_ops), 0);
}

/*
 * The server ends futured's session: what waited hears STORE_FAILED, the
 * turn that was writing fails, and within seconds the store connects
 * again; what was committed before is there.
 */
static void
test_connection_lost(void **state)
{
	struct sc_status	 a = { 0, 0 };
	struct obj		*t, *u;
	int			 i, st;

	sc_fresh();
	t = obj_new("sleep", NULL);
	assert_int_equal(sc_flush(), 0);
	side_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = 'futured'");
	u = obj_new("sleep", NULL);
	assert_int_equal(sc_flush(), -1);
	/* back within a few seconds (a retry a second) */
	for (i = 0; i < 100; i++) {
		memset(&a, 0, sizeof a);
		store_task_states(&t->r.t.id, 1, &st, sc_status_cb, &a);
		sc_wait(&a.done);
		if (a.status == STORE_OK)
			break;
		usleep(100000);
		sc_turn();
	}
	assert_int_equal(a.status, STORE_OK);
	assert_int_equal(sc_state(t->r.t.id), FP_PENDING);
	assert_int_equal(sc_state(u->r.t.id), -1);
	t->r.t.state = FP_RUNNING;
	obj_update(t);
	assert_int_equal(sc_flush(), 0);
	assert_int_equal(sc_state(t->r.t.id), FP_RUNNING);
	obj_unref(t);
	obj_unref(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_come_later),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_concurrent_start),
		cmocka_unit_test(test_second_node_refused),
		cmocka_unit_test(test_connection_lost),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
