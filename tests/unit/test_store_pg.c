/*
 * test_store_pg.c: what only the PostgreSQL backend must do (the store's
 * conformance suite is test_store.c): answers come in a later turn (the
 * loop never waits), the schema is created once when several futured
 * start at once, a schema from a newer futured is refused, a second
 * futured with a running node's name is refused, and a lost connection
 * fails what waited on it, then comes back; the output a running attempt
 * shares is read back whole, fenced, and leaves with the attempt; a
 * claimed task not started is given back.  Runs when FUTURED_TEST_PG names a
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

/* What store_output_read answered. */
struct output_read {
	int	 done, status, state;
	char	 data[64];
	size_t	 len;
};

static void
output_read_cb(void *arg, int status, int state, const char *data, size_t len)
{
	struct output_read	*o = arg;

	o->done = 1;
	o->status = status;
	o->state = state;
	o->len = len < sizeof o->data ? len : sizeof o->data;
	memcpy(o->data, data, o->len);
}

static struct output_read
output_read(int64_t id, int which, int64_t from)
{
	struct output_read	o;

	memset(&o, 0, sizeof o);
	store_output_read(id, which, from, output_read_cb, &o);
	sc_wait(&o.done);
	return o;
}

#define assert_output(o, s) do {					\
	assert_int_equal((o).status, STORE_OK);				\
	assert_int_equal((o).len, sizeof (s) - 1);			\
	assert_memory_equal((o).data, (s), sizeof (s) - 1);		\
} while (0)

static void
set_owner(int64_t id, const char *node)
{
	char	sql[256];

	snprintf(sql, sizeof sql, "UPDATE futured_test.tasks SET owner = '%s' "
	    "WHERE id = %lld", node, (long long)id);
	side_exec(sql);
}

/*
 * Chunks of a running attempt's output come back joined, from any offset,
 * overlaps taken once and nothing past a gap; another attempt's, another
 * node's and a stopped attempt's writes are not taken; the attempt's end
 * removes them in its own transaction.
 */
static void
test_output_shared(void **state)
{
	struct output_read	 o;
	struct obj		*t;
	char			 sql[256];

	sc_fresh();
	t = obj_new("exec", NULL);
	t->r.t.state = FP_RUNNING;
	t->r.t.attempt = 1;
	obj_update(t);
	assert_int_equal(sc_flush(), 0);
	set_owner(t->r.t.id, store_node());
	o = output_read(t->r.t.id, 1, 0);
	assert_output(o, "");
	assert_int_equal(o.state, FP_RUNNING);

	store_output_add(t->r.t.id, 1, 1, 0, "h\0\xc3\xa9llo ", 8);
	store_output_add(t->r.t.id, 1, 1, 8, "world", 5);
	store_output_add(t->r.t.id, 1, 2, 0, "err", 3);
	assert_int_equal(sc_flush(), 0);
	assert_output(output_read(t->r.t.id, 1, 0), "h\0\xc3\xa9llo world");
	assert_output(output_read(t->r.t.id, 1, 9), "orld");
	assert_output(output_read(t->r.t.id, 1, 13), "");
	assert_output(output_read(t->r.t.id, 2, 0), "err");
	/* a chunk shared again from further back overlaps; a gap stops */
	store_output_add(t->r.t.id, 1, 1, 11, "ld!!", 4);
	store_output_add(t->r.t.id, 1, 1, 20, "late", 4);
	/* fenced: an attempt that is not the task's is not written */
	store_output_add(t->r.t.id, 2, 1, 15, "XX", 2);
	assert_int_equal(sc_flush(), 0);
	assert_output(output_read(t->r.t.id, 1, 0), "h\0\xc3\xa9llo world!!");
	assert_output(output_read(t->r.t.id, 1, 20), "late");
	/* another node's chunks are not this one's to write */
	set_owner(t->r.t.id, "elsewhere");
	store_output_add(t->r.t.id, 1, 1, 15, "YY", 2);
	assert_int_equal(sc_flush(), 0);
	assert_output(output_read(t->r.t.id, 1, 0), "h\0\xc3\xa9llo world!!");
	set_owner(t->r.t.id, store_node());

	/* the attempt ends: its chunks go with the same commit */
	t->r.t.state = FP_SUCCEEDED;
	obj_update(t);
	assert_int_equal(sc_flush(), 0);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM futured_test."
	    "task_output WHERE task_id = %lld", (long long)t->r.t.id);
	assert_int_equal(side_int(sql), 0);
	o = output_read(t->r.t.id, 1, 0);
	assert_output(o, "");
	assert_int_equal(o.state, FP_SUCCEEDED);
	o = output_read(t->r.t.id + 1000000, 1, 0);
	assert_int_equal(o.status, STORE_NONE);
	obj_unref(t);
}

static int
release(int64_t id)
{
	struct sc_status	a = { 0, 0 };

	store_release(id, sc_status_cb, &a);
	sc_wait(&a.done);
	return a.status;
}

/*
 * A task this node claimed and has not started goes back (nobody's, its
 * held bits those of a task nobody holds: 8 with limits, 1 delayed); a
 * running one, another node's and one asked to cancel are not.
 */
static void
test_release(void **state)
{
	struct obj	*t, *d, *r;
	char		 sql[256];

	sc_fresh();
	t = obj_new("sleep", NULL);
	d = obj_new("sleep", NULL);
	r = obj_new("sleep", NULL);
	d->r.start_after = 4102444800.0;	/* 2100 */
	obj_update(d);
	assert_int_equal(sc_flush(), 0);
	set_owner(t->r.t.id, store_node());
	set_owner(d->r.t.id, store_node());
	set_owner(r->r.t.id, store_node());
	snprintf(sql, sizeof sql, "UPDATE futured_test.tasks SET limits = "
	    "'{\"concurrency\":{\"k\":1}}' WHERE id = %lld",
	    (long long)t->r.t.id);
	side_exec(sql);
	side_exec("UPDATE futured_test.tasks SET held = 0");
	r->r.t.state = FP_RUNNING;
	obj_update(r);
	assert_int_equal(sc_flush(), 0);

	assert_int_equal(release(t->r.t.id), STORE_OK);
	assert_int_equal(release(d->r.t.id), STORE_OK);
	assert_int_equal(release(r->r.t.id), STORE_NONE);
	assert_int_equal(sc_flush(), 0);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM futured_test.tasks "
	    "WHERE id = %lld AND owner IS NULL AND held = 8",
	    (long long)t->r.t.id);
	assert_int_equal(side_int(sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM futured_test.tasks "
	    "WHERE id = %lld AND owner IS NULL AND held = 1",
	    (long long)d->r.t.id);
	assert_int_equal(side_int(sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM futured_test.tasks "
	    "WHERE id = %lld AND owner IS NOT NULL", (long long)r->r.t.id);
	assert_int_equal(side_int(sql), 1);
	/* given back already, or another node's: not this node's to give */
	assert_int_equal(release(t->r.t.id), STORE_NONE);
	set_owner(t->r.t.id, "elsewhere");
	assert_int_equal(release(t->r.t.id), STORE_NONE);
	/* a cancel asked of this node: it stays, to hear it */
	set_owner(t->r.t.id, store_node());
	snprintf(sql, sizeof sql, "UPDATE futured_test.tasks SET "
	    "cancel_requested = 1 WHERE id = %lld", (long long)t->r.t.id);
	side_exec(sql);
	assert_int_equal(release(t->r.t.id), STORE_NONE);
	assert_int_equal(sc_flush(), 0);
	obj_unref(t);
	obj_unref(d);
	obj_unref(r);
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
		cmocka_unit_test(test_output_shared),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
