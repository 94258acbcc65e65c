/* store-check.c: see store-check.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "store-check.h"

static char	sc_dir[] = "/tmp/futured-test-store.XXXXXX";
static char	sc_path[256], sc_store_url[300];

static void
obj_row(void *o, struct store_row *r)
{
	struct obj	*b = o;

	*r = b->r;
	r->t.key = b->key;
	r->t.spec.json = b->spec;
	r->t.labels.json = b->labels;
	r->t.result.json = b->result;
	r->t.exception.json = b->exception;
	r->attempt_state.json = b->state;
}

static void
obj_ref(void *o)
{
	((struct obj *)o)->refs++;
}

void
obj_unref(struct obj *b)
{
	if (--b->refs > 0)
		return;
	free(b->key);
	json_decref(b->spec);
	json_decref(b->labels);
	json_decref(b->result);
	json_decref(b->exception);
	json_decref(b->state);
	free(b);
}

static void
obj_unref_cb(void *o)
{
	obj_unref(o);
}

const struct store_task_ops obj_ops = { obj_row, obj_ref, obj_unref_cb, NULL };

/* FUTURED_TEST_PG: a libpq URI; the tests then run on PostgreSQL. */
static const char *
sc_pg(void)
{
	const char	*pg = getenv("FUTURED_TEST_PG");

	return pg != NULL && pg[0] != '\0' ? pg : NULL;
}

const char *
sc_schema(void)
{
	return "futured_test";
}

/* Drops the test's schema: the next open creates it anew. */
static void
sc_pg_drop(void)
{
	PGconn		*conn = PQconnectdb(sc_pg());
	PGresult	*r;

	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", sc_pg(),
		    PQerrorMessage(conn));
	r = PQexec(conn, "DROP SCHEMA IF EXISTS futured_test CASCADE");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("drop schema: %s", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(conn);
}

const char *
sc_url(void)
{
	if (sc_pg() != NULL)
		return sc_pg();
	if (sc_path[0] == '\0') {
		if (mkdtemp(sc_dir) == NULL)
			fail_msg("mkdtemp");
		snprintf(sc_path, sizeof sc_path, "%s/futured.db", sc_dir);
		snprintf(sc_store_url, sizeof sc_store_url, "sqlite:%s",
		    sc_path);
	}
	return sc_store_url;
}

void
sc_fresh(void)
{
	char	f[300];

	sc_url();
	store_close();
	if (sc_pg() != NULL) {
		sc_pg_drop();
		snprintf(sc_store_url, sizeof sc_store_url, "%s", sc_pg());
	}
	unlink(sc_path);
	snprintf(f, sizeof f, "%s-wal", sc_path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", sc_path);
	unlink(f);
	if (loop_base == NULL)
		loop_base = event_base_new();
	assert_int_equal(store_open(sc_store_url, sc_schema(), 1, &obj_ops), 0);
}

void
sc_reopen(void)
{
	store_close();
	assert_int_equal(store_open(sc_store_url, sc_schema(), 1, &obj_ops), 0);
}

struct obj *
obj_new(const char *kind, const char *key)
{
	struct obj	*b = calloc(1, sizeof *b);
	int64_t		 id;

	b->refs = 1;
	b->r.t.kind = strcmp(kind, "exec") == 0 ? "exec" : "sleep";
	b->r.t.state = FP_PENDING;
	b->r.t.queue = "default";
	b->r.t.created_at = 1700000000.5;
	b->r.t.timeout = -1;
	b->r.retry_backoff = 1;
	b->key = key != NULL ? strdup(key) : NULL;
	b->spec = json_pack("{s:s,s:f}", "kind", kind, "seconds", 1.0);
	b->labels = json_pack("{s:s}", "team", "a");
	id = store_task_insert(b);
	assert_true(id > 0);
	b->r.t.id = id;
	return b;
}

void
obj_update(struct obj *b)
{
	store_task_update(b->r.t.id, b);
}

void
sc_turn(void)
{
	struct timeval	tv = { 0, 10000 };

	/* what is active now, or what comes within 10 ms (a database) */
	event_base_loopexit(loop_base, &tv);
	event_base_loop(loop_base, EVLOOP_ONCE);
}

void
sc_wait(int *done)
{
	int	i;

	for (i = 0; i < 3000 && !*done; i++)
		sc_turn();
	assert_true(*done);
}

void
sc_status_cb(void *arg, int status)
{
	struct sc_status	*a = arg;

	a->status = status;
	a->done = 1;
}

json_t *
sc_task(int64_t id)
{
	struct sc_status	 a = { 0, 0 };
	struct fp_text		 o = { 0 };
	json_t			*v = NULL;

	store_task_write(id, &o, sc_status_cb, &a);
	sc_wait(&a.done);
	if (a.status == STORE_OK) {
		v = json_loadb(o.buf, o.len, 0, NULL);
		assert_non_null(v);
	}
	fp_text_clear(&o);
	return v;
}

int
sc_state(int64_t id)
{
	struct sc_status	a = { 0, 0 };
	int			st = -2;

	store_task_states(&id, 1, &st, sc_status_cb, &a);
	sc_wait(&a.done);
	assert_int_equal(a.status, STORE_OK);
	return st;
}

json_t *
sc_list(const struct fp_list *l)
{
	struct sc_status	 a = { 0, 0 };
	struct fp_text		 o = { 0 };
	json_error_t		 err;
	json_t			*page;

	store_task_list(l, &o, sc_status_cb, &a);
	sc_wait(&a.done);
	assert_int_equal(a.status, STORE_OK);
	page = json_loadb(o.buf, o.len, 0, &err);
	if (page == NULL)
		fail_msg("page is not JSON (%s): %s", err.text, o.buf);
	fp_text_clear(&o);
	return page;
}

int
sc_flush(void)
{
	struct sc_status	a = { 0, 0 };

	store_defer(sc_status_cb, &a);
	store_flush();
	sc_wait(&a.done);
	return a.status == STORE_COMMITTED ? 0 : -1;
}

int
sc_cleanup(void)
{
	char	cmd[512];

	store_close();
	if (loop_base != NULL)
		event_base_free(loop_base);
	loop_base = NULL;
	if (sc_path[0] == '\0')
		return 0;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc_dir);
	return system(cmd);
}

static void
sc_claimed_row(void *arg, int status, const struct store_row *r)
{
	assert_int_equal(status, STORE_OK);
}

void
sc_claim_all(void)
{
	struct sc_status	a = { 0, 0 };
	int			k;

	if (!store_shared())
		return;
	for (k = 0; k < 4; k++) {
		memset(&a, 0, sizeof a);
		store_claim(k % 2 == 0 ? "sleep" : "exec", 1000, 2e9, k >= 2,
		    sc_claimed_row, sc_status_cb, &a);
		sc_wait(&a.done);
		assert_int_equal(a.status, STORE_OK);
	}
	assert_int_equal(sc_flush(), 0);
}
