/*
 * store-pg.c: the PostgreSQL backend of the store (store-backend.h).
 *
 * One connection in libpq's pipeline mode, non-blocking, on the loop:
 * every statement is sent at once and its result is handled when it comes
 * back, in the order sent, so the loop never waits on the database.  A
 * turn's writes form one implicit transaction: the Sync that ends them
 * commits them all when none failed and rolls them all back otherwise,
 * and its answer is the turn's commit (one round trip, one WAL flush).
 * A read sent while a turn writes joins it (a flush request brings its
 * rows back at once, and it sees the writes before it); a read sent alone
 * gets a Sync of its own.
 *
 * Tables live in one schema (--store-schema), created and migrated under
 * an advisory lock, so that several futured may start at once.  Until
 * nodes claim work from one another (issue #13's next step), one futured
 * holds a session lock on the schema and a second one is refused.
 */
#include <sys/queue.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "base/base.h"
#include "store/store.h"
#include "store/store-backend.h"

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const pg_migrations[] = {
	"CREATE TABLE tasks ("
	"  id bigint PRIMARY KEY,"
	"  kind text NOT NULL,"
	"  state smallint NOT NULL,"	/* enum fp_state: values are stable */
	"  queue text NOT NULL,"
	"  priority integer NOT NULL DEFAULT 0,"
	"  key text UNIQUE,"
	"  spec text NOT NULL,"
	"  labels text NOT NULL DEFAULT '{}',"
	"  after text,"
	"  timeout double precision,"
	"  not_before double precision,"
	"  retry_backoff double precision NOT NULL DEFAULT 1,"
	"  attempt integer NOT NULL DEFAULT 0,"
	"  max_retries integer NOT NULL DEFAULT 0,"
	"  created_at double precision NOT NULL,"
	"  started_at double precision,"
	"  finished_at double precision,"
	"  result text,"
	"  exception text,"
	"  retrieved smallint NOT NULL DEFAULT 0,"
	"  attempts text,"
	"  start_after double precision,"
	"  attempt_state text,"
	"  stream_overflow smallint NOT NULL DEFAULT 0);"
	/* unfinished tasks only: finished ones leave the index at once */
	"CREATE INDEX tasks_unfinished ON tasks (id) WHERE state IN (0, 1);"
	"CREATE INDEX tasks_by_state ON tasks (state, id);"
	"CREATE INDEX tasks_by_queue ON tasks (queue, id);"
	"CREATE INDEX tasks_unretrieved ON tasks (id)"
	"  WHERE state = 3 AND retrieved = 0;"
	"CREATE INDEX tasks_by_finish ON tasks (finished_at)"
	"  WHERE finished_at IS NOT NULL;"
	"CREATE TABLE queues ("
	"  name text PRIMARY KEY,"
	"  concurrency integer NOT NULL DEFAULT 0,"
	"  paused smallint NOT NULL DEFAULT 0);"
	"CREATE TABLE stream_items ("
	"  task_id bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  value text,"
	"  error text,"
	"  PRIMARY KEY (task_id, seq));"
	"CREATE TABLE task_labels ("
	"  name text NOT NULL,"
	"  value text NOT NULL,"
	"  task_id bigint NOT NULL,"
	"  PRIMARY KEY (name, value, task_id));"
	"CREATE INDEX task_labels_by_task ON task_labels (task_id);"
	/* the highest id handed out: ids are never reused, even purged */
	"CREATE SEQUENCE task_ids;",
};
#define PG_NMIGRATIONS	((int)(sizeof pg_migrations / sizeof pg_migrations[0]))

#define PG_COLUMNS "id, kind, state, queue, priority, key, spec, labels, " \
	"after, timeout, not_before, retry_backoff, attempt, max_retries, " \
	"created_at, started_at, finished_at, result, exception, retrieved, " \
	"attempts, start_after, attempt_state"
enum pg_col {
	COL_ID, COL_KIND, COL_STATE, COL_QUEUE, COL_PRIORITY, COL_KEY,
	COL_SPEC, COL_LABELS, COL_AFTER, COL_TIMEOUT, COL_NOT_BEFORE,
	COL_BACKOFF, COL_ATTEMPT, COL_MAX_RETRIES, COL_CREATED, COL_STARTED,
	COL_FINISHED, COL_RESULT, COL_EXCEPTION, COL_RETRIEVED, COL_ATTEMPTS,
	COL_START_AFTER, COL_ATTEMPT_STATE,
};

enum pg_stmt {
	PS_INSERT, PS_UPDATE, PS_GET, PS_BY_KEY, PS_STATES, PS_RETRIEVED,
	PS_COUNTS, PS_LOAD, PS_QUEUE_SAVE, PS_QUEUE_LOAD, PS_ITEM_ADD,
	PS_ITEMS, PS_ITEM_NEXT, PS_OVERFLOW_SET, PS_PURGE, PS_LABEL_ADD,
	PS_LAST_ID, PS_ID_MARK, PS_COUNT
};

static const char *const pg_sql[PS_COUNT] = {
	/* $1-$10 are given alike for both (pg_params_progress). */
	[PS_INSERT] = "INSERT INTO tasks (state, attempt, started_at, "
	    "finished_at, result, exception, start_after, attempts, id, "
	    "attempt_state, kind, queue, priority, key, spec, labels, after, "
	    "timeout, not_before, retry_backoff, max_retries, created_at, "
	    "retrieved) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
	    "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
	[PS_UPDATE] = "UPDATE tasks SET state = $1, attempt = $2, "
	    "started_at = $3, finished_at = $4, result = $5, exception = $6, "
	    "start_after = $7, attempts = $8, attempt_state = $10 "
	    "WHERE id = $9",
	[PS_GET] = "SELECT " PG_COLUMNS " FROM tasks WHERE id = $1",
	[PS_BY_KEY] = "SELECT id, spec FROM tasks WHERE key = $1",
	[PS_STATES] = "SELECT id, state FROM tasks WHERE id = ANY ($1::bigint[])",
	[PS_RETRIEVED] = "UPDATE tasks SET retrieved = 1 WHERE id = $1 "
	    "AND retrieved = 0 AND state = 3",
	[PS_COUNTS] = "SELECT state, count(*), count(*) FILTER "
	    "(WHERE state = 3 AND retrieved = 0) FROM tasks GROUP BY state",
	[PS_LOAD] = "SELECT " PG_COLUMNS " FROM tasks "
	    "WHERE state IN (0, 1) ORDER BY id",
	[PS_QUEUE_SAVE] = "INSERT INTO queues (name, concurrency, paused) "
	    "VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET "
	    "concurrency = excluded.concurrency, paused = excluded.paused",
	[PS_QUEUE_LOAD] = "SELECT name, concurrency, paused FROM queues",
	[PS_ITEM_ADD] = "INSERT INTO stream_items (task_id, seq, value, error) "
	    "VALUES ($1, $2, $3, $4)",
	/* one row per item, or one row of NULLs: the overflow flag comes
	 * along either way; no row: no such task */
	[PS_ITEMS] = "SELECT t.stream_overflow, s.seq, s.value, s.error "
	    "FROM tasks t LEFT JOIN LATERAL (SELECT seq, value, error "
	    "FROM stream_items WHERE task_id = t.id AND seq >= $2 "
	    "ORDER BY seq LIMIT $3) s ON true WHERE t.id = $1 ORDER BY s.seq",
	[PS_ITEM_NEXT] = "SELECT max(seq) FROM stream_items WHERE task_id = $1",
	[PS_OVERFLOW_SET] = "UPDATE tasks SET stream_overflow = 1 "
	    "WHERE id = $1",
	/* a batch of old finished tasks, with their items and labels */
	[PS_PURGE] = "WITH d AS (DELETE FROM tasks WHERE id IN (SELECT id "
	    "FROM tasks WHERE finished_at IS NOT NULL AND finished_at < $1 "
	    "ORDER BY finished_at LIMIT $2) RETURNING " PG_COLUMNS "), "
	    "i AS (DELETE FROM stream_items s USING d WHERE s.task_id = d.id), "
	    "l AS (DELETE FROM task_labels l USING d WHERE l.task_id = d.id) "
	    "SELECT * FROM d ORDER BY finished_at",
	[PS_LABEL_ADD] = "INSERT INTO task_labels (name, value, task_id) "
	    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	[PS_LAST_ID] = "SELECT greatest((SELECT coalesce(max(id), 0) FROM "
	    "tasks), (SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
	    "FROM task_ids))",
	/* the turn's highest id, kept past purges (setval is not undone) */
	[PS_ID_MARK] = "SELECT setval('task_ids', $1) FROM task_ids "
	    "WHERE NOT is_called OR last_value < $1",
};

/* A statement or a Sync sent and not yet answered, in the order sent. */
struct pg_wait {
	TAILQ_ENTRY(pg_wait)	 entry;
	void			(*cb)(void *, PGresult *);	/* or NULL */
	store_done_cb		*sync_cb;	/* a Sync's, or NULL */
	void			*arg;
	int			 is_sync;
	int			 answered;
	int			 quiet;		/* its error is expected */
};
TAILQ_HEAD(pg_waits, pg_wait);

struct store_backend {
	PGconn		*conn;
	char		*conninfo;	/* the URL */
	char		*schema;	/* letters, digits, _: safe in SQL */
	int		 sync_full;
	struct event	*read_ev;
	struct event	*write_ev;
	struct event	*retry_ev;
	struct pg_waits	 waits;
	int		 in_txn;	/* a turn's writes are being sent */
	int		 seg_failed;	/* a statement since the last Sync failed */
	int		 processing;
	int64_t		 txn_max_id;	/* the highest id the turn inserted */
	int		 version;
};

static struct store_backend	pg;

static void	pg_process(void);
static void	pg_broken(const char *);
static int	pg_connect(void);

/* ---- parameters: every value is sent as text ---- */

#define PG_MAXPARAMS	24
struct pg_params {
	int		 n;
	const char	*v[PG_MAXPARAMS];
	char		*own[PG_MAXPARAMS];
	char		 num[PG_MAXPARAMS][32];
};

static void
pp_str(struct pg_params *p, const char *s)
{
	p->own[p->n] = NULL;
	p->v[p->n++] = s;
}

static void
pp_int(struct pg_params *p, long long v)
{
	snprintf(p->num[p->n], sizeof p->num[0], "%lld", v);
	pp_str(p, p->num[p->n]);
}

/* A time or a duration; NULL when none (0 or less). */
static void
pp_time(struct pg_params *p, double t)
{
	if (t <= 0) {
		pp_str(p, NULL);
		return;
	}
	snprintf(p->num[p->n], sizeof p->num[0], "%.17g", t);
	pp_str(p, p->num[p->n]);
}

static void
pp_json(struct pg_params *p, json_t *v)
{
	struct fp_text	o = { 0 };
	size_t		len;

	if (v == NULL) {
		pp_str(p, NULL);
		return;
	}
	fp_text_json(&o, v);
	if ((p->own[p->n] = fp_text_take(&o, &len)) == NULL)
		fatalx("store: out of memory");
	p->v[p->n] = p->own[p->n];
	p->n++;
}

/* A JSON column of a row: its text as is, else its tree. */
static void
pp_value(struct pg_params *p, const struct fp_value *v)
{
	if (v->text != NULL)
		pp_str(p, v->text);
	else
		pp_json(p, v->json);
}

static void
pp_free(struct pg_params *p)
{
	int	i;

	for (i = 0; i < p->n; i++)
		free(p->own[i]);
	p->n = 0;
}

/* ---- the pipeline ---- */

static void
pg_wait_add(void (*cb)(void *, PGresult *), store_done_cb *sync_cb,
    void *arg, int is_sync)
{
	struct pg_wait	*w = xcalloc(1, sizeof *w);

	w->cb = cb;
	w->sync_cb = sync_cb;
	w->arg = arg;
	w->is_sync = is_sync;
	TAILQ_INSERT_TAIL(&pg.waits, w, entry);
}

/* Sends what libpq holds; waits for the socket to take the rest. */
static void
pg_flush(void)
{
	int	rv;

	if (pg.conn == NULL)
		return;
	if ((rv = PQflush(pg.conn)) == -1)
		pg_broken("flush");
	else if (rv == 1)
		event_add(pg.write_ev, NULL);
}

/* Sends statement k; cb(arg, result) once it is answered. */
static int
pg_send(enum pg_stmt k, struct pg_params *p, void (*cb)(void *, PGresult *),
    void *arg)
{
	char	name[16];
	int	rv;

	if (pg.conn == NULL) {
		pp_free(p);
		return -1;
	}
	snprintf(name, sizeof name, "f%d", (int)k);
	rv = PQsendQueryPrepared(pg.conn, name, p->n, p->v, NULL, NULL, 0);
	pp_free(p);
	if (rv == 0) {
		pg_broken(pg_sql[k]);
		return -1;
	}
	pg_wait_add(cb, NULL, arg, 0);
	return 0;
}

/* Ends a segment: its statements commit together, or none does. */
static void
pg_sync(store_done_cb *cb, void *arg)
{
	if (pg.conn == NULL || PQpipelineSync(pg.conn) == 0) {
		if (pg.conn != NULL)
			pg_broken("sync");
		if (cb != NULL)
			cb(arg, STORE_FAILED);
		return;
	}
	pg_wait_add(NULL, cb, arg, 1);
	pg_flush();
}

/* A read was sent: have its rows come back now. */
static void
pg_read_sent(void)
{
	if (pg.in_txn) {
		if (PQsendFlushRequest(pg.conn) == 0)
			pg_broken("flush request");
		pg_flush();
	} else
		pg_sync(NULL, NULL);
}

/* Sends read k; cb(arg, NULL) at once when it cannot be sent. */
static void
pg_read(enum pg_stmt k, struct pg_params *p, void (*cb)(void *, PGresult *),
    void *arg)
{
	if (pg_send(k, p, cb, arg) == -1) {
		cb(arg, NULL);
		return;
	}
	pg_read_sent();
}

static int
pg_ok(PGresult *r)
{
	return r != NULL && (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK);
}

/* One result for the oldest wait. */
static void
pg_result(struct pg_wait *w, PGresult *r)
{
	ExecStatusType	st = PQresultStatus(r);

	if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) {
		if (st == PGRES_FATAL_ERROR && !w->quiet)
			log_warnx("store: %s", PQresultErrorMessage(r));
		pg.seg_failed = 1;
	}
	w->answered = 1;
	if (w->cb != NULL)
		w->cb(w->arg, r);
}

static void
pg_wait_done(struct pg_wait *w)
{
	TAILQ_REMOVE(&pg.waits, w, entry);
	free(w);
}

/* Hands every result that has come to whoever waits for it. */
static void
pg_process(void)
{
	struct pg_wait	*w;
	PGresult	*r;
	int		 failed;

	if (pg.processing)
		return;
	pg.processing = 1;
	while (pg.conn != NULL && (w = TAILQ_FIRST(&pg.waits)) != NULL &&
	    !PQisBusy(pg.conn)) {
		if ((r = PQgetResult(pg.conn)) == NULL) {
			/* the end of a statement's results */
			if (!w->answered || w->is_sync)
				break;
			pg_wait_done(w);
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			failed = pg.seg_failed;
			pg.seg_failed = 0;
			TAILQ_REMOVE(&pg.waits, w, entry);
			if (w->sync_cb != NULL)
				w->sync_cb(w->arg, failed ? STORE_FAILED :
				    STORE_COMMITTED);
			free(w);
		} else
			pg_result(w, r);
		PQclear(r);
	}
	pg.processing = 0;
}

/* Everyone waiting hears the failure. */
static void
pg_fail_all(void)
{
	struct pg_wait	*w;

	while ((w = TAILQ_FIRST(&pg.waits)) != NULL) {
		TAILQ_REMOVE(&pg.waits, w, entry);
		if (w->is_sync && w->sync_cb != NULL)
			w->sync_cb(w->arg, STORE_FAILED);
		else if (!w->is_sync && !w->answered && w->cb != NULL)
			w->cb(w->arg, NULL);
		free(w);
	}
}

/*
 * The connection is gone: whoever waits hears STORE_FAILED, writes fail
 * until a new connection is made, tried every second.
 */
static void
pg_broken(const char *what)
{
	struct timeval	tv = { 1, 0 };

	if (pg.conn == NULL)
		return;
	log_warnx("store: postgresql: %s: %s", what, PQerrorMessage(pg.conn));
	event_del(pg.read_ev);
	event_del(pg.write_ev);
	PQfinish(pg.conn);
	pg.conn = NULL;
	pg.in_txn = pg.seg_failed = 0;
	pg_fail_all();
	evtimer_add(pg.retry_ev, &tv);
}

static void
pg_io_cb(evutil_socket_t fd, short events, void *arg)
{
	if (pg.conn == NULL)
		return;
	if (events & EV_WRITE) {
		pg_flush();
		return;
	}
	if (PQconsumeInput(pg.conn) == 0) {
		pg_broken("read");
		return;
	}
	pg_process();
}

static void
pg_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timeval	tv = { 1, 0 };

	if (pg.conn != NULL)
		return;
	if (pg_connect() == 0)
		log_info("store: postgresql: connected again");
	else
		evtimer_add(pg.retry_ev, &tv);
}

/* ---- connecting ---- */

/* A statement run on its own, before the pipeline (start-up). */
static int
pg_exec(const char *sql)
{
	PGresult	*r = PQexec(pg.conn, sql);
	int		 ok = pg_ok(r);

	if (!ok)
		log_warnx("store: postgresql: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* The one value sql gives, as an integer; -1 when none. */
static long long
pg_exec_int(const char *sql)
{
	PGresult	*r = PQexec(pg.conn, sql);
	long long	 v = -1;

	if (pg_ok(r) && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (!pg_ok(r))
		log_warnx("store: postgresql: %s", PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

static void
pg_notice(void *arg, const char *message)
{
	log_debug("store: postgresql: %s", message);
}

/* Creates the schema's tables or brings them up to date. */
static int
pg_migrate(void)
{
	char	sql[512];
	int	v;

	snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock("
	    "hashtext('futured migrate %s')); CREATE SCHEMA IF NOT EXISTS "
	    "%s; SET LOCAL search_path TO %s; CREATE TABLE IF NOT EXISTS meta "
	    "(version integer NOT NULL); INSERT INTO meta SELECT 0 WHERE NOT "
	    "EXISTS (SELECT 1 FROM meta)", pg.schema, pg.schema, pg.schema);
	if (pg_exec(sql) == -1)
		goto fail;
	if ((v = (int)pg_exec_int("SELECT version FROM meta")) < 0)
		goto fail;
	if (v > PG_NMIGRATIONS) {
		log_warnx("store: database schema %d is newer than this futured "
		    "(%d): refusing to touch it", v, PG_NMIGRATIONS);
		goto fail;
	}
	for (; v < PG_NMIGRATIONS; v++) {
		snprintf(sql, sizeof sql, "UPDATE meta SET version = %d", v + 1);
		if (pg_exec(pg_migrations[v]) == -1 || pg_exec(sql) == -1)
			goto fail;
		log_info("store: migrated schema to version %d", v + 1);
	}
	pg.version = v;
	return pg_exec("COMMIT");
fail:
	pg_exec("ROLLBACK");
	return -1;
}

static int
pg_prepare(void)
{
	PGresult	*r;
	char		 name[16];
	int		 i, ok;

	for (i = 0; i < PS_COUNT; i++) {
		snprintf(name, sizeof name, "f%d", i);
		r = PQprepare(pg.conn, name, pg_sql[i], 0, NULL);
		if (!(ok = pg_ok(r)))
			log_warnx("store: postgresql: %s: %s", pg_sql[i],
			    PQresultErrorMessage(r));
		PQclear(r);
		if (!ok)
			return -1;
	}
	return 0;
}

/*
 * Connects, migrates, takes the schema's node lock, prepares the
 * statements and turns the connection into a non-blocking pipeline.
 */
static int
pg_connect(void)
{
	const char *const keys[] = { "dbname", "fallback_application_name",
	    "client_encoding", NULL };
	const char *const vals[] = { pg.conninfo, "futured", "UTF8", NULL };
	char	sql[512];

	pg.conn = PQconnectdbParams(keys, vals, 1);
	if (pg.conn == NULL || PQstatus(pg.conn) != CONNECTION_OK) {
		log_warnx("store: cannot connect to %s: %s", pg.conninfo,
		    pg.conn != NULL ? PQerrorMessage(pg.conn) : "no memory");
		goto fail;
	}
	PQsetNoticeProcessor(pg.conn, pg_notice, NULL);
	if (pg_migrate() == -1)
		goto fail;
	/* waits a little: the session of a futured that just stopped or
	 * died may hold it until its server process notices */
	snprintf(sql, sizeof sql, "SET lock_timeout TO '5s'; SELECT "
	    "pg_advisory_lock(hashtext('futured node %s')); SET lock_timeout "
	    "TO 0", pg.schema);
	if (pg_exec(sql) == -1) {
		log_warnx("store: another futured uses schema %s of this "
		    "database (one node a schema until nodes share work)",
		    pg.schema);
		goto fail;
	}
	snprintf(sql, sizeof sql, "SET search_path TO %s; SET "
	    "synchronous_commit TO %s", pg.schema, pg.sync_full ? "on" : "off");
	if (pg_exec(sql) == -1 || pg_prepare() == -1)
		goto fail;
	if (PQenterPipelineMode(pg.conn) == 0 ||
	    PQsetnonblocking(pg.conn, 1) == -1) {
		log_warnx("store: postgresql: no pipeline: %s",
		    PQerrorMessage(pg.conn));
		goto fail;
	}
	event_assign(pg.read_ev, loop_base, PQsocket(pg.conn),
	    EV_READ | EV_PERSIST, pg_io_cb, NULL);
	event_assign(pg.write_ev, loop_base, PQsocket(pg.conn), EV_WRITE,
	    pg_io_cb, NULL);
	event_add(pg.read_ev, NULL);
	return 0;
fail:
	PQfinish(pg.conn);
	pg.conn = NULL;
	return -1;
}

static void	pg_close(struct store_backend *);

/* A schema name: letters, digits and _, as PostgreSQL folds it. */
static int
pg_schema_ok(const char *s)
{
	size_t	i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 63 ||
	    (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int
pg_open(const char *url, const char *schema, int sync_full,
    struct store_backend **b)
{
	if (schema == NULL)
		schema = "futured";
	if (!pg_schema_ok(schema)) {
		log_warnx("store: schema %s: want lower-case letters, digits "
		    "and _", schema);
		return -1;
	}
	memset(&pg, 0, sizeof pg);
	TAILQ_INIT(&pg.waits);
	pg.conninfo = xstrdup(url);
	pg.schema = xstrdup(schema);
	pg.sync_full = sync_full;
	pg.read_ev = xcalloc(1, event_get_struct_event_size());
	pg.write_ev = xcalloc(1, event_get_struct_event_size());
	pg.retry_ev = evtimer_new(loop_base, pg_retry_cb, NULL);
	if (pg.retry_ev == NULL || pg_connect() == -1) {
		pg_close(&pg);
		return -1;
	}
	*b = &pg;
	return 0;
}

static void
pg_close(struct store_backend *b)
{
	if (pg.conn != NULL) {
		event_del(pg.read_ev);
		event_del(pg.write_ev);
		PQfinish(pg.conn);
		pg.conn = NULL;
	}
	pg_fail_all();
	if (pg.retry_ev != NULL)
		event_free(pg.retry_ev);
	free(pg.read_ev);
	free(pg.write_ev);
	free(pg.conninfo);
	free(pg.schema);
	memset(&pg, 0, sizeof pg);
}

/* Blocks until every wait is answered, or the connection is lost. */
static void
pg_drain(struct store_backend *b)
{
	struct pollfd	pfd;
	int		rv, flushing;

	while (pg.conn != NULL && !TAILQ_EMPTY(&pg.waits)) {
		if ((flushing = PQflush(pg.conn)) == -1) {
			pg_broken("flush");
			break;
		}
		pfd.fd = PQsocket(pg.conn);
		pfd.events = POLLIN | (flushing ? POLLOUT : 0);
		if ((rv = poll(&pfd, 1, 60000)) == -1 && errno == EINTR)
			continue;
		if (rv <= 0) {
			pg_broken("no answer within 60 s");
			break;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    PQconsumeInput(pg.conn) == 0) {
			pg_broken("read");
			break;
		}
		pg_process();
	}
}

static int
pg_schema_version(struct store_backend *b)
{
	return pg.version;
}

/* ---- the turn's transaction ---- */

static int
pg_begin(struct store_backend *b)
{
	if (pg.conn == NULL)
		return -1;
	pg.in_txn = 1;
	pg.txn_max_id = 0;
	return 0;
}

static void
pg_commit(struct store_backend *b, store_done_cb *done, void *arg)
{
	struct pg_params	p = { 0 };

	if (pg.txn_max_id > 0) {
		pp_int(&p, pg.txn_max_id);
		pg_send(PS_ID_MARK, &p, NULL, NULL);
	}
	pg.in_txn = 0;
	pg_sync(done, arg);
}

/* Makes the turn's segment fail, so that its Sync rolls it back. */
static void
pg_rollback(struct store_backend *b)
{
	struct pg_wait	*w;

	pg.in_txn = 0;
	if (pg.conn == NULL)
		return;
	if (PQsendQueryParams(pg.conn, "SELECT 1 / 0", 0, NULL, NULL, NULL,
	    NULL, 0) == 0) {
		pg_broken("rollback");
		return;
	}
	pg_wait_add(NULL, NULL, NULL, 0);
	w = TAILQ_LAST(&pg.waits, pg_waits);
	w->quiet = 1;
	pg_sync(NULL, NULL);
}

/* ---- writes ---- */

/* $1-$10 of PS_INSERT and PS_UPDATE: what changes as a task runs. */
static void
pg_params_progress(struct pg_params *p, const struct store_row *r)
{
	pp_int(p, r->t.state);
	pp_int(p, r->t.attempt);
	pp_time(p, r->t.started_at);
	pp_time(p, r->t.finished_at);
	pp_value(p, &r->t.result);
	pp_value(p, &r->t.exception);
	pp_time(p, r->start_after);
	pp_value(p, &r->t.attempts);
	pp_int(p, r->t.id);
	pp_value(p, &r->attempt_state);
}

/* One task_labels row per string label. */
static int
pg_labels_add(int64_t id, const struct store_row *r)
{
	struct pg_params	 p = { 0 };
	const char		*name;
	json_t			*labels, *v;
	int			 rv = 0;

	if (r->t.labels.text != NULL)
		labels = json_loads(r->t.labels.text, JSON_ALLOW_NUL, NULL);
	else
		labels = json_incref(r->t.labels.json);
	json_object_foreach(labels, name, v) {
		if (!json_is_string(v) || rv == -1)
			continue;
		pp_str(&p, name);
		pp_str(&p, json_string_value(v));
		pp_int(&p, id);
		rv = pg_send(PS_LABEL_ADD, &p, NULL, NULL);
	}
	json_decref(labels);
	return rv;
}

static int
pg_insert(struct store_backend *b, const struct store_row *r)
{
	struct pg_params	p = { 0 };

	pg_params_progress(&p, r);
	pp_str(&p, r->t.kind);
	pp_str(&p, r->t.queue);
	pp_int(&p, r->t.priority);
	pp_str(&p, r->t.key);
	pp_value(&p, &r->t.spec);
	pp_value(&p, &r->t.labels);
	pp_value(&p, &r->t.after);
	pp_time(&p, r->t.timeout);
	pp_time(&p, r->t.not_before);
	snprintf(p.num[p.n], sizeof p.num[0], "%.17g", r->retry_backoff);
	pp_str(&p, p.num[p.n]);
	pp_int(&p, r->t.max_retries);
	pp_time(&p, r->t.created_at);
	pp_int(&p, r->t.retrieved);
	if (pg_send(PS_INSERT, &p, NULL, NULL) == -1)
		return -1;
	if (r->t.id > pg.txn_max_id)
		pg.txn_max_id = r->t.id;
	return pg_labels_add(r->t.id, r);
}

/* The previous state is not known here: counts are live (live_counts). */
static int
pg_update(struct store_backend *b, const struct store_row *r, int *old)
{
	struct pg_params	p = { 0 };

	*old = -1;
	pg_params_progress(&p, r);
	return pg_send(PS_UPDATE, &p, NULL, NULL);
}

static int
pg_send_id(enum pg_stmt k, int64_t id)
{
	struct pg_params	p = { 0 };

	pp_int(&p, id);
	return pg_send(k, &p, NULL, NULL);
}

static int
pg_retrieved(struct store_backend *b, int64_t id, int *changed)
{
	*changed = 0;
	return pg_send_id(PS_RETRIEVED, id);
}

static int
pg_item_add(struct store_backend *b, int64_t id, int64_t seq, json_t *value,
    json_t *error)
{
	struct pg_params	p = { 0 };

	pp_int(&p, id);
	pp_int(&p, seq);
	pp_json(&p, value);
	pp_json(&p, error);
	return pg_send(PS_ITEM_ADD, &p, NULL, NULL);
}

static int
pg_overflow_set(struct store_backend *b, int64_t id)
{
	return pg_send_id(PS_OVERFLOW_SET, id);
}

static int
pg_queue_save(struct store_backend *b, const char *name, int concurrency,
    int paused)
{
	struct pg_params	p = { 0 };

	pp_str(&p, name);
	pp_int(&p, concurrency);
	pp_int(&p, paused);
	return pg_send(PS_QUEUE_SAVE, &p, NULL, NULL);
}

/* ---- reads ---- */

/* What a read's answer goes to. */
struct pg_read {
	store_done_cb	*done;
	store_row_cb	*row;
	store_key_cb	*key;
	store_items_cb	*items;
	store_next_cb	*next;
	store_queue_cb	*queue;
	void		(*purged)(void *, int);
	void		*arg;
	struct fp_text	*o;
	const int64_t	*ids;
	size_t		 n;
	int		*states;
	int64_t		*counts;
	int64_t		*unretrieved;
	int		 limit;
};

static struct pg_read *
pg_read_new(void *arg)
{
	struct pg_read	*rd = xcalloc(1, sizeof *rd);

	rd->arg = arg;
	return rd;
}

static int64_t
pg_col_int(PGresult *r, int row, int col, int64_t dflt)
{
	if (PQgetisnull(r, row, col))
		return dflt;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static double
pg_col_double(PGresult *r, int row, int col, double dflt)
{
	if (PQgetisnull(r, row, col))
		return dflt;
	return strtod(PQgetvalue(r, row, col), NULL);
}

static const char *
pg_col_text(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* A JSON column, parsed; NULL when SQL NULL. */
static json_t *
pg_col_json(PGresult *r, int row, int col)
{
	const char	*s = pg_col_text(r, row, col);
	json_error_t	 err;
	json_t		*v;

	if (s == NULL)
		return NULL;
	if ((v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err)) == NULL)
		log_warnx("store: bad JSON in column %d: %s", col, err.text);
	return v;
}

/* Row i of a PG_COLUMNS result; its text lives as long as r. */
static void
pg_row_read(PGresult *r, int i, struct store_row *row)
{
	struct fp_task	*t = &row->t;

	memset(row, 0, sizeof *row);
	t->id = pg_col_int(r, i, COL_ID, 0);
	t->kind = pg_col_text(r, i, COL_KIND);
	t->state = (enum fp_state)pg_col_int(r, i, COL_STATE, 0);
	t->queue = pg_col_text(r, i, COL_QUEUE);
	t->priority = (int)pg_col_int(r, i, COL_PRIORITY, 0);
	t->key = pg_col_text(r, i, COL_KEY);
	t->spec.text = pg_col_text(r, i, COL_SPEC);
	t->labels.text = pg_col_text(r, i, COL_LABELS);
	t->after.text = pg_col_text(r, i, COL_AFTER);
	t->timeout = pg_col_double(r, i, COL_TIMEOUT, -1);
	t->not_before = pg_col_double(r, i, COL_NOT_BEFORE, 0);
	t->attempt = (int)pg_col_int(r, i, COL_ATTEMPT, 0);
	t->max_retries = (int)pg_col_int(r, i, COL_MAX_RETRIES, 0);
	t->created_at = pg_col_double(r, i, COL_CREATED, 0);
	t->started_at = pg_col_double(r, i, COL_STARTED, 0);
	t->finished_at = pg_col_double(r, i, COL_FINISHED, 0);
	t->result.text = pg_col_text(r, i, COL_RESULT);
	t->exception.text = pg_col_text(r, i, COL_EXCEPTION);
	t->retrieved = (int)pg_col_int(r, i, COL_RETRIEVED, 0);
	t->attempts.text = pg_col_text(r, i, COL_ATTEMPTS);
	if (t->spec.text == NULL)
		t->spec.text = "null";
	row->retry_backoff = pg_col_double(r, i, COL_BACKOFF, 1);
	row->start_after = pg_col_double(r, i, COL_START_AFTER, 0);
	row->attempt_state.text = pg_col_text(r, i, COL_ATTEMPT_STATE);
}

static void
pg_write_cb(void *arg, PGresult *r)
{
	struct pg_read		*rd = arg;
	struct store_row	 row;

	if (!pg_ok(r))
		rd->done(rd->arg, STORE_FAILED);
	else if (PQntuples(r) == 0)
		rd->done(rd->arg, STORE_NONE);
	else {
		pg_row_read(r, 0, &row);
		fp_task_write(rd->o, &row.t);
		rd->done(rd->arg, STORE_OK);
	}
	free(rd);
}

static void
pg_write(struct store_backend *b, int64_t id, struct fp_text *o,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	rd->o = o;
	pp_int(&p, id);
	pg_read(PS_GET, &p, pg_write_cb, rd);
}

static void
pg_get_cb(void *arg, PGresult *r)
{
	struct pg_read		*rd = arg;
	struct store_row	 row;

	if (!pg_ok(r))
		rd->row(rd->arg, STORE_FAILED, NULL);
	else if (PQntuples(r) == 0)
		rd->row(rd->arg, STORE_NONE, NULL);
	else {
		pg_row_read(r, 0, &row);
		rd->row(rd->arg, STORE_OK, &row);
	}
	free(rd);
}

static void
pg_get(struct store_backend *b, int64_t id, store_row_cb *cb, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->row = cb;
	pp_int(&p, id);
	pg_read(PS_GET, &p, pg_get_cb, rd);
}

static void
pg_states_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int64_t		 id;
	size_t		 j;
	int		 i;

	for (j = 0; j < rd->n; j++)
		rd->states[j] = -1;
	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		id = pg_col_int(r, i, 0, 0);
		for (j = 0; j < rd->n; j++)
			if (rd->ids[j] == id)
				rd->states[j] = (int)pg_col_int(r, i, 1, -1);
	}
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_states(struct store_backend *b, const int64_t *ids, size_t n, int *states,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };
	struct fp_text		 o = { 0 };
	char			 num[32];
	size_t			 i, len;

	rd->done = done;
	rd->ids = ids;
	rd->n = n;
	rd->states = states;
	fp_text_add(&o, "{", 1);
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof num, "%s%lld", i > 0 ? "," : "",
		    (long long)ids[i]);
		fp_text_cstr(&o, num);
	}
	fp_text_add(&o, "}", 1);
	if ((p.own[0] = fp_text_take(&o, &len)) == NULL)
		fatalx("store: out of memory");
	p.v[0] = p.own[0];
	p.n = 1;
	pg_read(PS_STATES, &p, pg_states_cb, rd);
}

static void
pg_by_key_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	json_t		*spec;

	if (!pg_ok(r))
		rd->key(rd->arg, STORE_FAILED, 0, NULL);
	else if (PQntuples(r) == 0)
		rd->key(rd->arg, STORE_NONE, 0, NULL);
	else {
		spec = pg_col_json(r, 0, 1);
		rd->key(rd->arg, STORE_OK, pg_col_int(r, 0, 0, 0), spec);
		json_decref(spec);
	}
	free(rd);
}

static void
pg_by_key(struct store_backend *b, const char *key, store_key_cb *cb,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->key = cb;
	pp_str(&p, key);
	pg_read(PS_BY_KEY, &p, pg_by_key_cb, rd);
}

static void
pg_count_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int		 i, s;

	memset(rd->counts, 0, FP_STATE_COUNT * sizeof *rd->counts);
	*rd->unretrieved = 0;
	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		s = (int)pg_col_int(r, i, 0, -1);
		if (s >= 0 && s < FP_STATE_COUNT)
			rd->counts[s] = pg_col_int(r, i, 1, 0);
		*rd->unretrieved += pg_col_int(r, i, 2, 0);
	}
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_count(struct store_backend *b, int64_t states[FP_STATE_COUNT],
    int64_t *unretrieved, store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	rd->counts = states;
	rd->unretrieved = unretrieved;
	pg_read(PS_COUNTS, &p, pg_count_cb, rd);
}

static void
pg_sql_cat(char *sql, size_t len, const char *fmt, int *arg)
{
	size_t	n = strlen(sql);

	snprintf(sql + n, len - n, fmt, *arg);
	(*arg)++;
}

/*
 * The task.list query and its parameters, in the order of sqlite's: the
 * first label drives it (newest first through task_labels' key).
 */
static void
pg_list_query(const struct fp_list *l, char *sql, size_t len,
    struct pg_params *p)
{
	const char	*k, *first = NULL;
	json_t		*v;
	int		 i = 1;

	json_object_foreach(l->label, k, v) {
		first = k;
		break;
	}
	if (first != NULL) {
		snprintf(sql, len, "SELECT " PG_COLUMNS " FROM task_labels "
		    "JOIN tasks ON id = task_id WHERE name = $1 AND value = $2");
		i = 3;
		pp_str(p, first);
		pp_str(p, json_string_value(json_object_get(l->label, first)));
	} else
		snprintf(sql, len, "SELECT " PG_COLUMNS " FROM tasks WHERE true");
	if (l->cursor > 0) {
		pg_sql_cat(sql, len, " AND id < $%d", &i);
		pp_int(p, l->cursor);
	}
	if (l->has_state) {
		pg_sql_cat(sql, len, " AND state = $%d", &i);
		pp_int(p, l->state);
	}
	if (l->queue != NULL) {
		pg_sql_cat(sql, len, " AND queue = $%d", &i);
		pp_str(p, l->queue);
	}
	if (l->unretrieved)
		strncat(sql, " AND state = 3 AND retrieved = 0",
		    len - strlen(sql) - 1);
	json_object_foreach(l->label, k, v) {
		if (k == first || p->n + 3 > PG_MAXPARAMS)
			continue;
		pg_sql_cat(sql, len, " AND EXISTS (SELECT 1 FROM task_labels l "
		    "WHERE l.name = $%d", &i);
		pg_sql_cat(sql, len, " AND l.value = $%d AND l.task_id = id)",
		    &i);
		pp_str(p, k);
		pp_str(p, json_string_value(v));
	}
	pg_sql_cat(sql, len, first != NULL ? " ORDER BY task_id DESC LIMIT $%d" :
	    " ORDER BY id DESC LIMIT $%d", &i);
	pp_int(p, l->limit + 1);
}

static void
pg_list_cb(void *arg, PGresult *r)
{
	struct pg_read		*rd = arg;
	struct store_row	 row;
	json_t			*next;
	int			 i, n;

	if (!pg_ok(r)) {
		rd->done(rd->arg, STORE_FAILED);
		free(rd);
		return;
	}
	n = PQntuples(r);
	fp_text_cstr(rd->o, "{\"tasks\":[");
	for (i = 0; i < n && i < rd->limit; i++) {
		if (i > 0)
			fp_text_add(rd->o, ",", 1);
		pg_row_read(r, i, &row);
		fp_task_write(rd->o, &row.t);
	}
	/* a next page when this one is full and one more row exists */
	next = n > rd->limit ? xjson(fp_cursor_create(pg_col_int(r,
	    rd->limit - 1, COL_ID, 0))) : NULL;
	fp_text_cstr(rd->o, "],\"next\":");
	fp_text_json(rd->o, next);
	fp_text_add(rd->o, "}", 1);
	json_decref(next);
	rd->done(rd->arg, STORE_OK);
	free(rd);
}

static void
pg_list(struct store_backend *b, const struct fp_list *l, struct fp_text *o,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };
	char			 sql[8192];
	int			 rv;

	rd->done = done;
	rd->o = o;
	rd->limit = l->limit;
	if (json_object_size(l->label) > (PG_MAXPARAMS - 6) / 2) {
		/* more labels than parameters: none such is stored anyway */
		log_warnx("store: task.list with %zu labels: too many",
		    json_object_size(l->label));
		done(arg, STORE_FAILED);
		free(rd);
		return;
	}
	pg_list_query(l, sql, sizeof sql, &p);
	if (pg.conn == NULL) {
		pp_free(&p);
		pg_list_cb(rd, NULL);
		return;
	}
	rv = PQsendQueryParams(pg.conn, sql, p.n, NULL, p.v, NULL, NULL, 0);
	pp_free(&p);
	if (rv == 0) {
		pg_broken("list");
		pg_list_cb(rd, NULL);
		return;
	}
	pg_wait_add(pg_list_cb, NULL, rd, 0);
	pg_read_sent();
}

static void
pg_items_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	json_t		*items = xjson(json_array()), *item, *v;
	int		 i, overflow = 0;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		overflow = (int)pg_col_int(r, i, 0, 0);
		if (PQgetisnull(r, i, 1))
			continue;	/* the task, without items */
		item = xjson(json_pack("{s:I}", "seq",
		    (json_int_t)pg_col_int(r, i, 1, 0)));
		if ((v = pg_col_json(r, i, 3)) != NULL)
			json_object_set_new(item, "error", v);
		else
			json_object_set_new(item, "value", (v = pg_col_json(r,
			    i, 2)) != NULL ? v : json_null());
		json_array_append_new(items, item);
	}
	rd->items(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED, items, overflow);
	json_decref(items);
	free(rd);
}

static void
pg_items(struct store_backend *b, int64_t id, int64_t from, int limit,
    store_items_cb *cb, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->items = cb;
	pp_int(&p, id);
	pp_int(&p, from);
	pp_int(&p, limit);
	pg_read(PS_ITEMS, &p, pg_items_cb, rd);
}

static void
pg_next_seq_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int64_t		 next = 0;

	if (pg_ok(r) && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		next = pg_col_int(r, 0, 0, 0) + 1;
	rd->next(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED, next);
	free(rd);
}

static void
pg_next_seq(struct store_backend *b, int64_t id, store_next_cb *cb, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->next = cb;
	pp_int(&p, id);
	pg_read(PS_ITEM_NEXT, &p, pg_next_seq_cb, rd);
}

/* Each row of r to row(), then done(). */
static void
pg_rows_cb(void *arg, PGresult *r)
{
	struct pg_read		*rd = arg;
	struct store_row	 row;
	int			 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		pg_row_read(r, i, &row);
		rd->row(rd->arg, STORE_OK, &row);
	}
	if (rd->done != NULL)
		rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	else
		rd->purged(rd->arg, pg_ok(r) ? PQntuples(r) : -1);
	free(rd);
}

static void
pg_load(struct store_backend *b, store_row_cb *row, store_done_cb *done,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->row = row;
	rd->done = done;
	pg_read(PS_LOAD, &p, pg_rows_cb, rd);
}

static void
pg_queues_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int		 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++)
		rd->queue(rd->arg, PQgetvalue(r, i, 0),
		    (int)pg_col_int(r, i, 1, 0), (int)pg_col_int(r, i, 2, 0));
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_queues(struct store_backend *b, store_queue_cb *queue, store_done_cb *done,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->queue = queue;
	rd->done = done;
	pg_read(PS_QUEUE_LOAD, &p, pg_queues_cb, rd);
}

static void
pg_purge(struct store_backend *b, double before, int limit,
    store_row_cb *deleted, void (*done)(void *, int), void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->row = deleted;
	rd->purged = done;
	snprintf(p.num[0], sizeof p.num[0], "%.17g", before);
	pp_str(&p, p.num[0]);
	pp_int(&p, limit);
	pg_read(PS_PURGE, &p, pg_rows_cb, rd);
}

static void
pg_last_id_cb(void *arg, PGresult *r)
{
	int64_t	*id = arg;

	*id = pg_ok(r) && PQntuples(r) == 1 ? pg_col_int(r, 0, 0, 0) : -1;
}

/* At open: the loop does not serve anyone yet. */
static int
pg_last_id(struct store_backend *b, int64_t *id)
{
	struct pg_params	p = { 0 };

	*id = -1;
	pg_read(PS_LAST_ID, &p, pg_last_id_cb, id);
	pg_drain(b);
	return *id >= 0 ? 0 : -1;
}

const struct store_backend_ops store_pg_ops = {
	.scheme = "postgresql",
	.live_counts = 1,
	.open = pg_open,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.last_id = pg_last_id,
	.count = pg_count,
	.drain = pg_drain,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.insert = pg_insert,
	.update = pg_update,
	.retrieved = pg_retrieved,
	.item_add = pg_item_add,
	.overflow_set = pg_overflow_set,
	.queue_save = pg_queue_save,
	.write = pg_write,
	.get = pg_get,
	.states = pg_states,
	.by_key = pg_by_key,
	.list = pg_list,
	.items = pg_items,
	.next_seq = pg_next_seq,
	.load = pg_load,
	.queues = pg_queues,
	.purge = pg_purge,
};
