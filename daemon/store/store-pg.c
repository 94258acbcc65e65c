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
#include <stdarg.h>
#include <unistd.h>
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
	"  stream_overflow smallint NOT NULL DEFAULT 0,"
	/* the node that runs it (or will): NULL while it waits to be
	 * claimed */
	"  owner text,"
	"  after_ids bigint[],"
	"  cancel_requested smallint NOT NULL DEFAULT 0,"
	/* why an unclaimed task is not claimable: 1 its delay runs, 2 its
	 * queue is paused, 4 its queue has a limit (claimed apart), 8 it has
	 * concurrency keys or a rate limit (the limits node's: version 5) */
	"  held smallint NOT NULL DEFAULT 0);"
	/*
	 * The claim path holds only tasks that may be claimed now: claimed,
	 * running and finished tasks leave it at once, delayed ones and
	 * those of paused queues enter it only when they may start, so a
	 * claim reads its head and no dead entries pile up there.
	 */
	"CREATE INDEX tasks_claim ON tasks (kind, priority DESC, id)"
	"  WHERE state = 0 AND owner IS NULL AND held = 0;"
	"CREATE INDEX tasks_claim_limited ON tasks (queue, kind, priority DESC,"
	"  id) WHERE state = 0 AND owner IS NULL AND held = 4;"
	"CREATE INDEX tasks_delayed ON tasks (start_after)"
	"  WHERE state = 0 AND owner IS NULL AND held & 1 = 1;"
	"CREATE INDEX tasks_owned ON tasks (owner) WHERE state IN (0, 1);"
	"CREATE INDEX tasks_active ON tasks (queue)"
	"  WHERE state IN (0, 1) AND owner IS NOT NULL;"
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
	/* ids in blocks, one block a node at a time: never handed out
	 * twice, even purged */
	"CREATE SEQUENCE task_ids INCREMENT BY 1000;"
	/* the nodes alive: each renews its lease, or its work is adopted */
	"CREATE TABLE nodes ("
	"  name text PRIMARY KEY,"
	"  host text NOT NULL,"
	"  pid integer NOT NULL,"
	"  started_at double precision NOT NULL,"
	"  lease_until double precision NOT NULL);",
	/*
	 * 2: the output of attempts running on a node, shared with the
	 * others as it comes (store_output_add); gone when the attempt ends
	 * (its output is then in the task's result or exception).
	 */
	"CREATE TABLE task_output ("
	"  task_id bigint NOT NULL,"
	"  attempt integer NOT NULL,"
	"  stream smallint NOT NULL,"	/* 1 stdout, 2 stderr */
	"  off bigint NOT NULL,"		/* of its first byte */
	"  data bytea NOT NULL,"
	"  PRIMARY KEY (task_id, attempt, stream, off));",
	/*
	 * 3: what another node asks of a task that this node holds, with
	 * cancel_requested: {state: cancelled, exception?} (a cancel, with
	 * its message) or a future's outcome {state, result | exception}.
	 */
	"ALTER TABLE tasks ADD COLUMN asked text;",
	/* 4: task trees (#16): a child's parent, and what becomes of a
	 * task's children when its own work ends (enum fp_child_policy) */
	"ALTER TABLE tasks ADD COLUMN parent bigint;"
	"ALTER TABLE tasks ADD COLUMN child_policy smallint NOT NULL DEFAULT 0;"
	/* a child was submitted: its end waits, wherever they run */
	"ALTER TABLE tasks ADD COLUMN has_children smallint NOT NULL "
	"  DEFAULT 0;"
	"CREATE INDEX tasks_by_parent ON tasks (parent, id) "
	"  WHERE parent IS NOT NULL;",
	/* 5: schedules (#17): a definition and a state, both JSON, and a
	 * version that every write compares and raises, so that one node
	 * takes a firing */
	"CREATE TABLE schedules ("
	"  name text PRIMARY KEY,"
	"  def text NOT NULL,"
	"  state text NOT NULL,"
	"  version bigint NOT NULL);"
	/* a task's concurrency keys and rate limit (#17) */
	"ALTER TABLE tasks ADD COLUMN limits text;"
	/* a task with limits (held bit 8) is claimed by the limits node
	 * only, so that its keys and buckets count every node's tasks */
	"CREATE INDEX tasks_claim_keyed ON tasks (kind, priority DESC, id)"
	"  WHERE state = 0 AND owner IS NULL AND held = 8;"
	"CREATE INDEX tasks_claim_keyed_limited ON tasks (queue, kind, "
	"  priority DESC, id) WHERE state = 0 AND owner IS NULL AND held = 12;"
	"CREATE TABLE rate_limits ("
	"  name text PRIMARY KEY,"
	"  starts double precision NOT NULL,"
	"  per double precision NOT NULL,"
	"  burst double precision NOT NULL);",
	/* 6: the tasks with limits that nodes hold, waiting or running:
	 * a keyed claim reads their keys (PG_KEYS_HELD) */
	"CREATE INDEX tasks_limits_held ON tasks (owner)"
	"  WHERE limits IS NOT NULL AND owner IS NOT NULL AND state IN (0, 1);",
};
#define PG_NMIGRATIONS	((int)(sizeof pg_migrations / sizeof pg_migrations[0]))

#define PG_COLUMNS "id, kind, state, queue, priority, key, spec, labels, " \
	"after, timeout, not_before, retry_backoff, attempt, max_retries, " \
	"created_at, started_at, finished_at, result, exception, retrieved, " \
	"attempts, start_after, attempt_state, parent, child_policy, " \
	"has_children, limits"
#define PG_COLUMNS_T "t.id, t.kind, t.state, t.queue, t.priority, t.key, " \
	"t.spec, t.labels, t.after, t.timeout, t.not_before, t.retry_backoff, " \
	"t.attempt, t.max_retries, t.created_at, t.started_at, t.finished_at, " \
	"t.result, t.exception, t.retrieved, t.attempts, t.start_after, " \
	"t.attempt_state, t.parent, t.child_policy, t.has_children, t.limits"
/*
 * The held bits queue $q gives its unclaimed tasks.  FOR SHARE: a queue's
 * change (PS_QUEUE_HOLD, under the row's lock) and an insert into it are
 * one after the other, so no task keeps the bits of a setting replaced.
 */
#define PG_QUEUE_HELD(q) "coalesce((SELECT (CASE WHEN paused = 1 THEN 2 " \
	"ELSE 0 END) | (CASE WHEN concurrency > 0 THEN 4 ELSE 0 END) FROM " \
	"queues WHERE name = " q " FOR SHARE), 0)"
/* The held bits of a task given back, to be claimed again. */
#define PG_HELD_AGAIN "((CASE WHEN coalesce(start_after, 0) > " \
	"extract(epoch FROM clock_timestamp()) THEN 1 ELSE 0 END) | " \
	"(CASE WHEN limits IS NULL THEN 0 ELSE 8 END) | " \
	PG_QUEUE_HELD("queue") ")"
enum pg_col {
	COL_ID, COL_KIND, COL_STATE, COL_QUEUE, COL_PRIORITY, COL_KEY,
	COL_SPEC, COL_LABELS, COL_AFTER, COL_TIMEOUT, COL_NOT_BEFORE,
	COL_BACKOFF, COL_ATTEMPT, COL_MAX_RETRIES, COL_CREATED, COL_STARTED,
	COL_FINISHED, COL_RESULT, COL_EXCEPTION, COL_RETRIEVED, COL_ATTEMPTS,
	COL_START_AFTER, COL_ATTEMPT_STATE, COL_PARENT, COL_CHILD_POLICY,
	COL_HAS_CHILDREN, COL_LIMITS,
	COL_COUNT		/* the first column after PG_COLUMNS */
};

enum pg_stmt {
	PS_INSERT, PS_UPDATE, PS_GET, PS_BY_KEY, PS_STATES, PS_RETRIEVED,
	PS_COUNTS, PS_LOAD, PS_QUEUE_SAVE, PS_QUEUE_UNSET, PS_QUEUE_BUSY,
	PS_QUEUE_LOAD, PS_ITEM_ADD,
	PS_ITEMS, PS_ITEM_NEXT, PS_OVERFLOW_SET, PS_PURGE, PS_LABEL_ADD,
	PS_ID_BLOCK, PS_NOTIFY, PS_CLAIM_LOCK, PS_CLAIM, PS_CLAIM_FREE,
	PS_CLAIM_K, PS_CLAIM_FREE_K,
	PS_NEXT_START,
	PS_ADOPT, PS_RELEASE, PS_NODES, PS_FINISH_FREE,
	PS_FINISH_ASK, PS_CANCELS, PS_QUEUE_STATS, PS_QUEUE_HOLD, PS_PROMOTE,
	PS_OUTPUT_ADD, PS_OUTPUT_READ, PS_CHILDREN, PS_PARENT_MARK,
	PS_CLOSE_FREE, PS_SCHED_INSERT, PS_SCHED_UPDATE, PS_SCHED_DELETE,
	PS_SCHED_LOAD, PS_RATE_SAVE, PS_RATE_UNSET, PS_RATE_LOAD,
	PS_COUNT
};

/*
 * The concurrency keys held by the tasks other nodes hold (claimed or
 * running; a parent waiting for its children holds none, as in
 * limits.c).  Only the limits node claims tasks with limits, but the
 * role moves (its lease connection lost, its node dead) while the node
 * that had it still runs its keyed tasks, until they end or, its lease
 * out, another node adopts them.  A keyed claim leaves the tasks with
 * any of those keys meanwhile ($3 is the claiming node); other keys go on.
 * The owners are named (the index's condition), so that the limits
 * node's own claimed tasks, which may be many, are not read.
 */
#define PG_KEYS_HELD \
	    "held_keys AS (SELECT coalesce(array_agg(DISTINCT k), " \
	    "'{}'::text[]) AS keys FROM tasks o CROSS JOIN LATERAL " \
	    "jsonb_object_keys(coalesce(o.limits::jsonb -> 'concurrency', " \
	    "'{}')) AS k WHERE o.owner = ANY (ARRAY(SELECT name FROM nodes " \
	    "WHERE name <> $3)) AND o.limits IS NOT NULL AND " \
	    "o.state IN (0, 1) AND " \
	    "coalesce(o.attempt_state, '') NOT LIKE '%\"" FP_CHILDREN_MARK \
	    "\"%'), "
#define PG_KEYS_FREE \
	    " AND NOT (coalesce(t.limits::jsonb -> 'concurrency', '{}') ?| " \
	    "(SELECT keys FROM held_keys))"

/*
 * Up to $2 tasks of kind $1 in the queues with a limit, within each
 * queue's limit counting what every node holds: dependencies
 * finished (the model fails a task whose dependency failed), highest
 * priority first, then oldest.  What only waits holds no slot, as in
 * the model (sched_slot_take): the kinds that are slotless, and a
 * parent whose own part is over (tree.c's mark in attempt_state).
 * held: 4, or 12 for tasks with limits (the limits node's), whose
 * claims leave the keys other nodes hold (keys: PG_KEYS_HELD, free:
 * PG_KEYS_FREE; else both empty).
 */
#define PG_CLAIM_LIMITED(held, keys, free) \
	    "WITH " keys "q AS (SELECT name, concurrency - (SELECT count(*) " \
	    "FROM tasks a WHERE a.queue = queues.name AND a.state IN (0, 1) AND " \
	    "a.owner IS NOT NULL AND a.kind NOT IN ('future', 'group') AND " \
	    "coalesce(a.attempt_state, '') NOT LIKE '%\"" FP_CHILDREN_MARK "\"%') " \
	    "AS room FROM queues WHERE concurrency > 0 AND " \
	    "paused = 0), ready AS (SELECT t.id, t.priority, q.name, q.room " \
	    "FROM q CROSS JOIN LATERAL (SELECT id, priority FROM tasks t WHERE " \
	    "t.queue = q.name AND t.kind = $1 AND t.state = 0 AND t.owner IS " \
	    "NULL AND t.held = " held free " AND (t.after_ids IS NULL OR NOT " \
	    "EXISTS (SELECT 1 FROM tasks d WHERE d.id = ANY (t.after_ids) AND d.state IN (0, " \
	    "1))) ORDER BY priority DESC, id LIMIT $2 FOR UPDATE SKIP LOCKED) t " \
	    "WHERE q.room > 0), ranked AS (SELECT id, priority, room, " \
	    "row_number() OVER (PARTITION BY name ORDER BY priority DESC, id) " \
	    "AS rn FROM ready), chosen AS (SELECT id FROM ranked WHERE rn <= " \
	    "room ORDER BY priority DESC, id LIMIT $2) UPDATE tasks t SET " \
	    "owner = $3 FROM chosen WHERE t.id = chosen.id RETURNING " \
	    PG_COLUMNS_T
/* The same in the queues without a limit (held 0, or 8). */
#define PG_CLAIM_FREE(held, keys, free) \
	    "WITH " keys "chosen AS (SELECT t.id FROM tasks t WHERE t.state = 0 " \
	    "AND t.owner IS NULL AND t.held = " held free " AND t.kind = $1 AND " \
	    "(t.after_ids IS NULL OR NOT EXISTS (SELECT 1 FROM tasks d WHERE " \
	    "d.id = ANY (t.after_ids) AND d.state IN (0, 1))) ORDER BY " \
	    "t.priority DESC, t.id LIMIT $2 FOR UPDATE OF t SKIP LOCKED) " \
	    "UPDATE tasks t SET owner = $3 FROM chosen WHERE t.id = chosen.id " \
	    "RETURNING " PG_COLUMNS_T

static const char *const pg_sql[PS_COUNT] = {
	/* $1-$10 are given alike for both (pg_params_progress). */
	[PS_INSERT] = "INSERT INTO tasks (state, attempt, started_at, "
	    "finished_at, result, exception, start_after, attempts, id, "
	    "attempt_state, kind, queue, priority, key, spec, labels, after, "
	    "timeout, not_before, retry_backoff, max_retries, created_at, "
	    "retrieved, parent, child_policy, limits, after_ids, held) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
	    "$16, $17::text, $18, $19, $20, $21, $22, $23, $25, $26, $27, "
	    "(SELECT array_agg(x::bigint) FROM "
	    "json_array_elements_text($17::text::json) x), (CASE WHEN "
	    "coalesce($7::float8, 0) > $24 THEN 1 ELSE 0 END) | (CASE WHEN "
	    "$27::text IS NULL THEN 0 ELSE 8 END) | " PG_QUEUE_HELD("$12") ")",
	/*
	 * Only the node that owns it writes a task (or the node that
	 * inserted it, in that same transaction): a node that lost its lease
	 * writes nothing over the node that adopted its work.  A task that
	 * stops running leaves its shared output behind (the outcome holds
	 * it), in the same transaction, so a reader sees one or the other.
	 */
	[PS_UPDATE] = "WITH u AS (UPDATE tasks SET state = $1, attempt = $2, "
	    "started_at = $3, finished_at = $4, result = $5, exception = $6, "
	    "start_after = $7, attempts = $8, attempt_state = $10 "
	    "WHERE id = $9 AND (owner = $11 OR owner IS NULL) RETURNING id) "
	    "DELETE FROM task_output WHERE $1 <> 1 AND task_id IN "
	    "(SELECT id FROM u)",
	[PS_GET] = "SELECT " PG_COLUMNS " FROM tasks WHERE id = $1",
	[PS_CHILDREN] = "SELECT " PG_COLUMNS " FROM tasks WHERE parent = $1 "
	    "ORDER BY id",
	[PS_PARENT_MARK] = "UPDATE tasks SET has_children = 1 WHERE id = $1 "
	    "AND has_children = 0",
	/* a group nobody holds is closed in its row, or a future resolved
	 * that has children: it no longer waits for its delay, and the node
	 * that claims it finds it waiting for them (task_resume) */
	[PS_CLOSE_FREE] = "UPDATE tasks SET attempt_state = $2, result = $3, "
	    "exception = $4, start_after = NULL, held = held & ~1 WHERE id = $1 "
	    "AND state = 0 AND owner IS "
	    "NULL AND coalesce(attempt_state, '') NOT LIKE "
	    "'%\"" FP_CHILDREN_MARK "\"%' RETURNING id",
	[PS_BY_KEY] = "SELECT id, spec FROM tasks WHERE key = $1",
	/* a row per id asked for, in the order asked: NULL when none */
	[PS_STATES] = "SELECT t.state FROM unnest($1::bigint[]) WITH ORDINALITY "
	    "AS u(id, i) LEFT JOIN tasks t ON t.id = u.id ORDER BY u.i",
	[PS_RETRIEVED] = "UPDATE tasks SET retrieved = 1 WHERE id = $1 "
	    "AND retrieved = 0 AND state = 3",
	[PS_COUNTS] = "SELECT state, count(*), count(*) FILTER "
	    "(WHERE state = 3 AND retrieved = 0) FROM tasks GROUP BY state",
	/* this node's own, from its previous run */
	[PS_LOAD] = "SELECT " PG_COLUMNS " FROM tasks "
	    "WHERE state IN (0, 1) AND owner = $1 ORDER BY id",
	[PS_QUEUE_SAVE] = "INSERT INTO queues (name, concurrency, paused) "
	    "VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET "
	    "concurrency = excluded.concurrency, paused = excluded.paused",
	[PS_QUEUE_UNSET] = "DELETE FROM queues WHERE name = $1",
	/* queue.delete, rare: no index of its own */
	[PS_QUEUE_BUSY] = "SELECT count(*) FROM tasks WHERE queue = $1 AND "
	    "state IN (0, 1)",
	[PS_QUEUE_LOAD] = "SELECT name, concurrency, paused FROM queues",
	/* after PS_QUEUE_SAVE: the queue's unclaimed tasks get its bits */
	[PS_QUEUE_HOLD] = "UPDATE tasks SET held = (held & 9) | " PG_QUEUE_HELD(
	    "$1") " WHERE queue = $1 AND state = 0 AND owner IS NULL AND "
	    "(held & 6) <> " PG_QUEUE_HELD("$1"),
	/* delayed tasks whose time has come enter the claim path */
	[PS_PROMOTE] = "UPDATE tasks SET held = held & ~1 WHERE state = 0 AND "
	    "owner IS NULL AND held & 1 = 1 AND start_after <= $1",
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
	    "l AS (DELETE FROM task_labels l USING d WHERE l.task_id = d.id), "
	    "o AS (DELETE FROM task_output o USING d WHERE o.task_id = d.id) "
	    "SELECT * FROM d ORDER BY finished_at",
	[PS_LABEL_ADD] = "INSERT INTO task_labels (name, value, task_id) "
	    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	[PS_ID_BLOCK] = "SELECT nextval('task_ids')",
	[PS_NOTIFY] = "SELECT pg_notify($1, $2)",
	/*
	 * Claims in limited queues, and of tasks with limits, one at a
	 * time: each counts what the claims before it took.
	 */
	[PS_CLAIM_LOCK] = "SELECT pg_advisory_xact_lock(hashtext($1))",
	[PS_CLAIM] = PG_CLAIM_LIMITED("4", "", ""),
	/* the same in the other queues: no lock, nodes claim at once */
	[PS_CLAIM_FREE] = PG_CLAIM_FREE("0", "", ""),
	/* tasks with limits, for the limits node alone */
	[PS_CLAIM_K] = PG_CLAIM_LIMITED("12", PG_KEYS_HELD, PG_KEYS_FREE),
	[PS_CLAIM_FREE_K] = PG_CLAIM_FREE("8", PG_KEYS_HELD, PG_KEYS_FREE),
	[PS_NEXT_START] = "SELECT min(start_after) FROM tasks WHERE state = 0 "
	    "AND owner IS NULL AND held & 1 = 1 AND start_after > $1",
	/* leases are on the database's clock, the one all nodes share */
	/*
	 * In one statement, so that no crash leaves a dead node's tasks with
	 * nobody: the nodes whose lease ran out are removed, their waiting
	 * tasks go back to be claimed by anyone, their running ones become
	 * node $1's; the rows adopted, then (last column, first row) the
	 * names of the dead.
	 */
	/*
	 * $2 running tasks at most a round; a dead node's row goes with
	 * the round that takes the last of them (its lock keeps another
	 * adopter out meanwhile)
	 */
	[PS_ADOPT] = "WITH dead AS (SELECT name FROM nodes WHERE lease_until < "
	    "extract(epoch FROM clock_timestamp()) AND name <> $1 FOR UPDATE "
	    "SKIP LOCKED), rel AS (UPDATE tasks SET owner = NULL, held = "
	    PG_HELD_AGAIN " WHERE owner IN (SELECT name FROM dead) AND "
	    "state = 0), ad AS "
	    "(UPDATE tasks SET owner = $1 WHERE id IN (SELECT id FROM tasks "
	    "WHERE owner IN (SELECT name FROM dead) AND state = 1 LIMIT $2) "
	    "RETURNING " PG_COLUMNS "), gone AS (DELETE FROM nodes WHERE name "
	    "IN (SELECT name FROM dead) AND (SELECT count(*) FROM ad) < $2) "
	    "SELECT ad.*, n.names FROM (SELECT string_agg(name, ', ') AS names "
	    "FROM dead) n LEFT JOIN ad ON true",
	[PS_RELEASE] = "UPDATE tasks SET owner = NULL, held = " PG_HELD_AGAIN
	    " WHERE id = $1 AND owner = $2 AND state = 0 AND "
	    "cancel_requested = 0 RETURNING id",
	[PS_NODES] = "SELECT name, host, pid, started_at, lease_until, "
	    "extract(epoch FROM clock_timestamp()) FROM nodes ORDER BY name",
	[PS_RATE_SAVE] = "INSERT INTO rate_limits (name, starts, per, burst) "
	    "VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET "
	    "starts = $2, per = $3, burst = $4",
	[PS_RATE_UNSET] = "DELETE FROM rate_limits WHERE name = $1",
	[PS_RATE_LOAD] = "SELECT name, starts, per, burst FROM rate_limits",
	[PS_SCHED_INSERT] = "INSERT INTO schedules (name, def, state, version) "
	    "VALUES ($1, $2, $3, 1) ON CONFLICT (name) DO NOTHING "
	    "RETURNING version",
	[PS_SCHED_UPDATE] = "UPDATE schedules SET def = coalesce($2, def), "
	    "state = $3, version = version + 1 WHERE name = $1 AND "
	    "version = $4 RETURNING version",
	[PS_SCHED_DELETE] = "DELETE FROM schedules WHERE name = $1 AND "
	    "version = $2 RETURNING version",
	[PS_SCHED_LOAD] = "SELECT name, def, state, version FROM schedules "
	    "ORDER BY name",
	/* a task nobody has claimed is cancelled by whoever is asked */
	[PS_FINISH_FREE] = "UPDATE tasks SET state = $2, finished_at = $3, "
	    "result = $4, exception = $5 WHERE id = $1 AND state = 0 AND "
	    "owner IS NULL RETURNING id",
	/* else its owner is asked to */
	[PS_FINISH_ASK] = "UPDATE tasks SET cancel_requested = 1, asked = $2 "
	    "WHERE id = $1 AND state IN (0, 1) AND owner IS NOT NULL "
	    "RETURNING owner",
	/* a row asked before version 3 was a cancel */
	[PS_CANCELS] = "SELECT id, coalesce(asked, '{\"state\":\"cancelled\"}') "
	    "FROM tasks WHERE owner = $1 AND state IN (0, 1) AND "
	    "cancel_requested = 1",
	/* queue.list across the nodes: running, and waiting past any delay */
	[PS_QUEUE_STATS] = "WITH c AS (SELECT queue, count(*) FILTER (WHERE "
	    "state = 1) AS r, count(*) FILTER (WHERE state = 0 AND coalesce("
	    "start_after, 0) <= $1) AS w FROM tasks WHERE state IN (0, 1) "
	    "GROUP BY queue) SELECT coalesce(q.name, c.queue), coalesce("
	    "q.concurrency, 0), coalesce(q.paused, 0), coalesce(c.r, 0), "
	    "coalesce(c.w, 0) FROM queues q FULL JOIN c ON c.queue = q.name "
	    "ORDER BY 1",
	/* only by the node running that attempt */
	[PS_OUTPUT_ADD] = "INSERT INTO task_output (task_id, attempt, stream, "
	    "off, data) SELECT $1, $2, $3, $4, decode($5, 'hex') WHERE EXISTS "
	    "(SELECT 1 FROM tasks WHERE id = $1 AND owner = $6 AND state = 1 "
	    "AND attempt = $2) ON CONFLICT DO NOTHING",
	/* one row per chunk that reaches past $3, or one of NULLs: the
	 * task's state comes along either way; no row: no such task */
	[PS_OUTPUT_READ] = "SELECT t.state, o.off, o.data FROM tasks t LEFT "
	    "JOIN task_output o ON o.task_id = t.id AND o.attempt = t.attempt "
	    "AND o.stream = $2 AND o.off + length(o.data) > $3 WHERE t.id = $1 "
	    "ORDER BY o.off",
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

/* What a node's ids come from: blocks of the sequence task_ids. */
#define PG_ID_BLOCK	1000	/* the sequence's increment */

/*
 * A connection made again on the loop, without waiting on the network:
 * PQconnectPoll on the socket's events, then the session's set-up, one
 * statement at a time (send(conn, i) sends the i-th and says 1, or 0
 * when there is none left); done(a, ok) at the end.  Each step has
 * PG_ASYNC_SECS to answer.
 */
struct pg_async {
	PGconn		*conn;
	struct event	*ev;
	int		 connected;
	int		 sent;		/* set-up statements sent */
	int		(*send)(PGconn *, int);
	int		(*check)(PGresult *, int);	/* 0: failed (said why) */
	void		(*done)(struct pg_async *, int);
	const char	*what;		/* for the log */
};
#define PG_ASYNC_SECS	5

struct store_backend {
	PGconn		*conn;
	struct pg_async	 reconnect;	/* conn, made again */
	struct pg_async	 leaseconnect;	/* leaseconn, made again */
	struct pg_async	 idconnect;	/* idconn, made again */
	PGconn		*idconn;	/* for id blocks only */
	struct event	*id_ev;
	int		 id_fetching;	/* blocks asked for, not yet come */
	PGconn		*leaseconn;	/* non-blocking, for the lease only */
	struct event	*lease_ev;
	int		 limits_node;	/* holds the limits lock (lease conn) */
	store_done_cb	*lease_cb;	/* a renewal is out */
	void		*lease_arg;
	char		*node;		/* this node's name */
	double		 lease;		/* seconds */
	char		*channel;	/* LISTEN/NOTIFY's */
	int64_t		*id_blocks;	/* first ids of blocks not yet used */
	size_t		 id_nblocks;
	int64_t		 id_next, id_end;	/* the block in use */
	struct fp_text	 notes;		/* what this turn tells the others */
	int64_t		 note_items;	/* the last task noted for items */
	int64_t		 noted[16];	/* parents noted this turn ('k') */
	size_t		 n_noted;
	int		 note_work;
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
	int		 version;
};

static struct store_backend	pg;

static void	pg_process(void);
static void	pg_broken(const char *);
static int	pg_connect(void);
static void	pg_notifications(void);
static void	pg_notes_send(void);
static void	pg_note(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	pg_note_parent(int64_t);
static int	pg_exec(const char *);
/* This node's row: pg_node_sql and the values of its parameters. */
struct pg_node_params {
	char		 host[256], pid[32], now[64], lease[64];
	const char	*vals[5];
};
static void	pg_node_sql(char *, size_t);
static void	pg_node_params(struct pg_node_params *);
static void	pg_session_sql(char *, size_t);
static int	pg_pipeline(PGconn *);
static void	pg_notice(void *, const char *);
static void	pg_id_send(void);

/* ---- parameters: every value is sent as text ---- */

#define PG_MAXPARAMS	40
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
	pg_notifications();
}

static void
pg_event_unused_cb(evutil_socket_t fd, short events, void *arg)
{
}

/*
 * An event assigned to no descriptor yet, so that deleting it before
 * its first use is quiet (libevent warns about unassigned ones).
 */
static struct event *
pg_event_alloc(void)
{
	struct event	*ev = xcalloc(1, event_get_struct_event_size());

	event_assign(ev, loop_base, -1, 0, pg_event_unused_cb, NULL);
	return ev;
}

/* ---- connecting again, on the loop ---- */

static void	pg_async_cb(evutil_socket_t, short, void *);

static int
pg_async_busy(const struct pg_async *a)
{
	return a->conn != NULL;
}

static void
pg_async_end(struct pg_async *a, int ok, int said)
{
	event_del(a->ev);
	if (!ok) {
		if (!said)
			log_warnx("store: postgresql: %s: %s", a->what,
			    a->conn != NULL ? PQerrorMessage(a->conn) :
			    "no memory");
		PQfinish(a->conn);
		a->conn = NULL;
	}
	a->done(a, ok);
}

/* Drops a connection being made (at close). */
static void
pg_async_cancel(struct pg_async *a)
{
	if (a->ev != NULL)
		event_del(a->ev);
	PQfinish(a->conn);
	a->conn = NULL;
	free(a->ev);
	a->ev = NULL;
}

static void
pg_async_wait(struct pg_async *a, short what)
{
	struct timeval	tv = { PG_ASYNC_SECS, 0 };

	event_del(a->ev);
	event_assign(a->ev, loop_base, PQsocket(a->conn), what, pg_async_cb,
	    a);
	event_add(a->ev, &tv);
}

/* The next set-up statement, or the end when none is left. */
static void
pg_async_next(struct pg_async *a)
{
	int	rv = a->send != NULL ? a->send(a->conn, a->sent) : 0;

	if (rv <= 0) {
		pg_async_end(a, rv == 0, 0);
		return;
	}
	a->sent++;
	if ((rv = PQflush(a->conn)) == -1)
		pg_async_end(a, 0, 0);
	else
		pg_async_wait(a, rv == 1 ? EV_WRITE : EV_READ);
}

/* A statement's results: all of them come before the next is sent. */
static void
pg_async_read(struct pg_async *a)
{
	PGresult	*r;
	int		 ok = 1;

	if (PQconsumeInput(a->conn) == 0) {
		pg_async_end(a, 0, 0);
		return;
	}
	if (PQisBusy(a->conn)) {
		pg_async_wait(a, EV_READ);
		return;
	}
	while ((r = PQgetResult(a->conn)) != NULL) {
		if (!pg_ok(r))
			ok = 0;
		else if (ok && a->check != NULL && !a->check(r, a->sent - 1))
			ok = -1;	/* the check said why */
		PQclear(r);
	}
	if (ok == 1)
		pg_async_next(a);
	else
		pg_async_end(a, 0, ok == -1);
}

static void
pg_async_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pg_async	*a = arg;
	int		 rv;

	if (events & EV_TIMEOUT) {
		log_warnx("store: postgresql: %s: no answer within %d s",
		    a->what, PG_ASYNC_SECS);
		pg_async_end(a, 0, 1);
		return;
	}
	if (a->connected) {
		if ((events & EV_WRITE) && (rv = PQflush(a->conn)) != 0) {
			if (rv == -1)
				pg_async_end(a, 0, 0);
			else
				pg_async_wait(a, EV_WRITE);
			return;
		}
		pg_async_read(a);
		return;
	}
	switch (PQconnectPoll(a->conn)) {
	case PGRES_POLLING_READING:
		pg_async_wait(a, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		pg_async_wait(a, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		pg_async_end(a, 0, 0);
		return;
	}
	a->connected = 1;
	if (PQsetnonblocking(a->conn, 1) == -1) {
		pg_async_end(a, 0, 0);
		return;
	}
	pg_async_next(a);
}

/* Starts connecting a (application name app); 0 when under way. */
static int
pg_async_start(struct pg_async *a, const char *app)
{
	const char *const keys[] = { "dbname", "fallback_application_name",
	    "client_encoding", NULL };
	const char *const vals[] = { pg.conninfo, app, "UTF8", NULL };

	if (a->ev == NULL)
		a->ev = pg_event_alloc();
	a->connected = a->sent = 0;
	a->conn = PQconnectStartParams(keys, vals, 1);
	if (a->conn == NULL || PQstatus(a->conn) == CONNECTION_BAD) {
		log_warnx("store: postgresql: %s: %s", a->what, a->conn !=
		    NULL ? PQerrorMessage(a->conn) : "no memory");
		PQfinish(a->conn);
		a->conn = NULL;
		return -1;
	}
	/* PQconnectPoll is first called as if the socket were writable */
	pg_async_wait(a, EV_WRITE);
	return 0;
}

/*
 * The main connection's set-up after a reconnect: this node's lock
 * (tried, not waited for: the retry a second later tries again), its
 * row, the session, the prepared statements.
 */
static int
pg_reconnect_send(PGconn *c, int i)
{
	struct pg_node_params	 np;
	char			 sql[512], key[256], name[16];
	const char		*vals[1];

	switch (i) {
	case 0:
		snprintf(key, sizeof key, "futured node %s %s", pg.schema,
		    pg.node);
		vals[0] = key;
		return PQsendQueryParams(c, "SELECT pg_try_advisory_lock("
		    "hashtext($1))", 1, NULL, vals, NULL, NULL, 0) ? 1 : -1;
	case 1:
		pg_node_params(&np);
		pg_node_sql(sql, sizeof sql);
		return PQsendQueryParams(c, sql, 5, NULL, np.vals, NULL, NULL,
		    0) ? 1 : -1;
	case 2:
		pg_session_sql(sql, sizeof sql);
		return PQsendQuery(c, sql) ? 1 : -1;
	default:
		if (i - 3 >= PS_COUNT)
			return 0;
		snprintf(name, sizeof name, "f%d", i - 3);
		return PQsendPrepare(c, name, pg_sql[i - 3], 0, NULL) ? 1 : -1;
	}
}

static int
pg_reconnect_check(PGresult *r, int i)
{
	if (i == 0 && (PQntuples(r) != 1 ||
	    strcmp(PQgetvalue(r, 0, 0), "t") != 0)) {
		log_warnx("store: postgresql: node %s is still locked by an "
		    "earlier session of this node or another futured", pg.node);
		return 0;
	}
	return 1;
}

static void
pg_reconnected(struct pg_async *a, int ok)
{
	struct timeval	tv = { 1, 0 };

	if (!ok || pg_pipeline(a->conn) == -1) {
		PQfinish(a->conn);
		a->conn = NULL;
		evtimer_add(pg.retry_ev, &tv);
		return;
	}
	pg.conn = a->conn;
	a->conn = NULL;
	log_info("store: postgresql: connected again");
	/* what was said meanwhile is lost: look again */
	store_event(STORE_EV_RECONNECTED, 0, 0, NULL);
}

static void
pg_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timeval	tv = { 1, 0 };
	struct pg_async	*a = &pg.reconnect;

	if (pg.conn != NULL || pg_async_busy(a))
		return;
	a->what = "connecting again";
	a->send = pg_reconnect_send;
	a->check = pg_reconnect_check;
	a->done = pg_reconnected;
	if (pg_async_start(a, "futured") == -1)
		evtimer_add(pg.retry_ev, &tv);
}

/* ---- what the nodes tell one another (LISTEN/NOTIFY) ---- */

/*
 * A line for the other nodes, sent with this turn's commit (a NOTIFY is
 * delivered when its transaction commits, and not at all when it fails):
 * "w" new work, "d ID STATE" a task finished, "s ID" stream items,
 * "o ID" output, "c ID NODE" NODE is asked to cancel ID, "q" a queue's
 * settings, "n" a node left (its work is to be taken).
 */
static void
pg_note(const char *fmt, ...)
{
	char	line[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fp_text_cstr(&pg.notes, line);
	fp_text_add(&pg.notes, "\n", 1);
}

/* Sends the turn's lines, in payloads below NOTIFY's 8000 bytes. */
static void
pg_notes_send(void)
{
	struct pg_params	 p = { 0 };
	char			*all, *at, *cut;
	size_t			 len;

	pg.note_work = 0;
	pg.note_items = 0;
	if (pg.notes.len == 0 || pg.conn == NULL) {
		fp_text_clear(&pg.notes);
		return;
	}
	if ((all = fp_text_take(&pg.notes, &len)) == NULL)
		fatalx("store: out of memory");
	for (at = all; *at != '\0'; at = cut) {
		cut = at + strlen(at) > at + 7000 ? at + 7000 : at + strlen(at);
		while (cut > at && cut[-1] != '\n')
			cut--;
		p.own[1] = xcalloc(1, (size_t)(cut - at) + 1);
		memcpy(p.own[1], at, (size_t)(cut - at));
		pp_str(&p, pg.channel);
		p.v[p.n++] = p.own[1];
		pg_send(PS_NOTIFY, &p, NULL, NULL);
	}
	free(all);
}

/* One line another node sent. */
static void
pg_heard(const char *line)
{
	long long	id;
	int		state;
	char		node[256];

	if (strcmp(line, "w") == 0)
		store_event(STORE_EV_WORK, 0, 0, NULL);
	else if (strcmp(line, "q") == 0)
		store_event(STORE_EV_QUEUES, 0, 0, NULL);
	else if (strcmp(line, "n") == 0)
		store_event(STORE_EV_LEFT, 0, 0, NULL);
	else if (sscanf(line, "d %lld %d", &id, &state) == 2)
		store_event(STORE_EV_DONE, id, state, NULL);
	else if (sscanf(line, "s %lld", &id) == 1)
		store_event(STORE_EV_ITEMS, id, 0, NULL);
	else if (sscanf(line, "o %lld", &id) == 1)
		store_event(STORE_EV_OUTPUT, id, 0, NULL);
	else if (sscanf(line, "k %lld", &id) == 1)
		store_event(STORE_EV_CHILD, id, 0, NULL);
	else if (sscanf(line, "c %lld %255s", &id, node) == 2 &&
	    strcmp(node, pg.node) == 0)
		store_event(STORE_EV_CANCEL, id, 0, NULL);
}

/* What the other nodes sent since the last look. */
static void
pg_notifications(void)
{
	PGnotify	*n;
	char		*line, *next;

	while (pg.conn != NULL && (n = PQnotifies(pg.conn)) != NULL) {
		if (n->be_pid != PQbackendPID(pg.conn))
			for (line = n->extra; line != NULL && *line != '\0';
			    line = next) {
				if ((next = strchr(line, '\n')) != NULL)
					*next++ = '\0';
				pg_heard(line);
			}
		PQfreemem(n);
	}
}

/* Runs sql with parameters, before the pipeline; -1 when it failed. */
static int
pg_exec_params(const char *sql, int n, const char *const *vals)
{
	PGresult	*r = PQexecParams(pg.conn, sql, n, NULL, vals, NULL, NULL,
			    0);
	int		 ok = pg_ok(r);

	if (!ok)
		log_warnx("store: postgresql: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* This node's row in nodes, with its lease ($1-$5: pg_node_params). */
static void
pg_node_sql(char *sql, size_t len)
{
	snprintf(sql, len, "INSERT INTO %s.nodes (name, host, pid, "
	    "started_at, lease_until) VALUES ($1, $2, $3, $4, extract(epoch "
	    "FROM clock_timestamp()) + $5) ON CONFLICT (name) DO UPDATE SET "
	    "host = excluded.host, pid = excluded.pid, started_at = "
	    "excluded.started_at, lease_until = excluded.lease_until",
	    pg.schema);
}

/* pg_node_sql's parameters. */
static void
pg_node_params(struct pg_node_params *np)
{
	if (gethostname(np->host, sizeof np->host) == -1)
		snprintf(np->host, sizeof np->host, "unknown");
	np->host[sizeof np->host - 1] = '\0';
	snprintf(np->pid, sizeof np->pid, "%d", (int)getpid());
	snprintf(np->now, sizeof np->now, "%.17g", loop_now());
	snprintf(np->lease, sizeof np->lease, "%.17g", pg.lease);
	np->vals[0] = pg.node;
	np->vals[1] = np->host;
	np->vals[2] = np->pid;
	np->vals[3] = np->now;
	np->vals[4] = np->lease;
}

/* The session: its schema, its commits, the nodes' channel. */
static void
pg_session_sql(char *sql, size_t len)
{
	snprintf(sql, len, "SET search_path TO %s; SET synchronous_commit "
	    "TO %s; LISTEN %s", pg.schema, pg.sync_full ? "on" : "off",
	    pg.channel);
}

/* A connection set up: now the non-blocking pipeline on the loop. */
static int
pg_pipeline(PGconn *c)
{
	PQsetNoticeProcessor(c, pg_notice, NULL);
	if (PQenterPipelineMode(c) == 0 || PQsetnonblocking(c, 1) == -1) {
		log_warnx("store: postgresql: no pipeline: %s",
		    PQerrorMessage(c));
		return -1;
	}
	event_assign(pg.read_ev, loop_base, PQsocket(c), EV_READ | EV_PERSIST,
	    pg_io_cb, NULL);
	event_assign(pg.write_ev, loop_base, PQsocket(c), EV_WRITE, pg_io_cb,
	    NULL);
	event_add(pg.read_ev, NULL);
	return 0;
}

/*
 * Takes this node's name (a session lock: one futured a name) and its
 * lease.  Waits a little for the lock: the session of a futured that
 * just stopped or died may hold it until its server process notices.
 */
static int
pg_join(void)
{
	struct pg_node_params	 np;
	char			 key[512];
	const char		*vals[1];

	snprintf(key, sizeof key, "futured node %s %s", pg.schema, pg.node);
	vals[0] = key;
	if (pg_exec("SET lock_timeout TO '5s'") == -1)
		return -1;
	if (pg_exec_params("SELECT pg_advisory_lock(hashtext($1))", 1,
	    vals) == -1) {
		log_warnx("store: another futured runs as node %s on schema %s "
		    "(--node names each one)", pg.node, pg.schema);
		return -1;
	}
	pg_node_params(&np);
	pg_node_sql(key, sizeof key);
	if (pg_exec("SET lock_timeout TO 0") == -1 ||
	    pg_exec_params(key, 5, np.vals) == -1)
		return -1;
	return 0;
}

/* Id blocks asked for ahead, and how few left before asking again. */
#define PG_ID_AHEAD	4
#define PG_ID_LOW	2

/* The connection for id blocks, made at open (not in a busy turn). */
static void
pg_idconn(void)
{
	if (pg.idconn != NULL && PQstatus(pg.idconn) == CONNECTION_OK)
		return;
	if (pg.id_fetching)
		event_del(pg.id_ev);
	const char *const keys[] = { "dbname", "fallback_application_name",
	    NULL };
	const char *const vals[] = { pg.conninfo, "futured-ids", NULL };

	pg.id_fetching = 0;
	PQfinish(pg.idconn);
	pg.idconn = PQconnectdbParams(keys, vals, 1);
}

/* The blocks of an answer to pg_id_send's query, kept in order. */
static int
pg_id_take(PGresult *r)
{
	int	i, n;

	if (!pg_ok(r) || (n = PQntuples(r)) < 1) {
		log_warnx("store: postgresql: no task ids: %s",
		    PQresultErrorMessage(r));
		return -1;
	}
	pg.id_blocks = xreallocarray(pg.id_blocks, pg.id_nblocks + (size_t)n,
	    sizeof *pg.id_blocks);
	for (i = 0; i < n; i++)
		pg.id_blocks[pg.id_nblocks++] = strtoll(PQgetvalue(r, i, 0),
		    NULL, 10);
	return 0;
}

/* Ends an answer on the id connection: its blocks, then its end. */
static int
pg_id_finish(void)
{
	PGresult	*r;
	int		 rv = -1, first = 1;

	while ((r = PQgetResult(pg.idconn)) != NULL) {
		if (first)
			rv = pg_id_take(r);
		first = 0;
		PQclear(r);
	}
	pg.id_fetching = 0;
	event_del(pg.id_ev);
	return rv;
}

static void
pg_id_cb(evutil_socket_t fd, short events, void *arg)
{
	if (PQconsumeInput(pg.idconn) == 0) {
		log_warnx("store: postgresql: task ids: %s",
		    PQerrorMessage(pg.idconn));
		event_del(pg.id_ev);
		pg.id_fetching = 0;
		pg_id_send();	/* on a connection made again */
		return;
	}
	if (!PQisBusy(pg.idconn) && pg_id_finish() == -1)
		pg_id_send();	/* again, on a connection made again if lost */
}

static void
pg_id_connected(struct pg_async *a, int ok)
{
	if (!ok)
		return;		/* tried again at the next ask */
	PQfinish(pg.idconn);
	pg.idconn = a->conn;
	a->conn = NULL;
	pg_id_send();
}

/*
 * Asks for PG_ID_AHEAD blocks, without waiting for them; a lost id
 * connection is made again on the loop first.
 */
static void
pg_id_send(void)
{
	struct pg_async	*a = &pg.idconnect;
	char		 sql[256];

	if (pg.id_fetching || pg_async_busy(a))
		return;
	if (pg.idconn == NULL || PQstatus(pg.idconn) != CONNECTION_OK) {
		a->what = "task ids: connecting";
		a->send = NULL;
		a->check = NULL;
		a->done = pg_id_connected;
		pg_async_start(a, "futured-ids");
		return;
	}
	snprintf(sql, sizeof sql, "SELECT nextval('%s.task_ids') FROM "
	    "generate_series(1, %d)", pg.schema, PG_ID_AHEAD);
	PQsetnonblocking(pg.idconn, 1);
	if (PQsendQuery(pg.idconn, sql) == 0) {
		log_warnx("store: postgresql: task ids: %s",
		    PQerrorMessage(pg.idconn));
		return;
	}
	PQflush(pg.idconn);
	pg.id_fetching = 1;
	event_assign(pg.id_ev, loop_base, PQsocket(pg.idconn),
	    EV_READ | EV_PERSIST, pg_id_cb, NULL);
	event_add(pg.id_ev, NULL);
}

/*
 * Waits for the blocks asked for (or asks and waits): the one place ids
 * block the loop, when a burst used up every block asked for ahead
 * (more than PG_ID_LOW blocks within one round trip), or the id
 * connection is still being made again.
 */
static int
pg_id_wait(void)
{
	pg_async_cancel(&pg.idconnect);
	pg_idconn();
	if (!pg.id_fetching)
		pg_id_send();
	if (!pg.id_fetching)
		return -1;
	PQsetnonblocking(pg.idconn, 0);
	while (PQflush(pg.idconn) == 1)
		;
	return pg_id_finish();
}

/*
 * The next task id.  Ids come in blocks of the sequence (one a node at
 * a time), asked for on a connection of their own PG_ID_AHEAD at a time,
 * again while PG_ID_LOW are left: the loop waits for a round trip only
 * when a burst takes more than that many blocks at once.
 */
static int64_t
pg_next_id(struct store_backend *b)
{
	if (pg.id_next < pg.id_end)
		return pg.id_next++;
	if (pg.id_nblocks == 0 && (pg_id_wait() == -1 || pg.id_nblocks == 0))
		return -1;
	/* in the order taken: a node's ids grow */
	pg.id_next = pg.id_blocks[0];
	memmove(pg.id_blocks, pg.id_blocks + 1, --pg.id_nblocks *
	    sizeof *pg.id_blocks);
	pg.id_end = pg.id_next + PG_ID_BLOCK;
	if (pg.id_nblocks < PG_ID_LOW)
		pg_id_send();
	return pg.id_next++;
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
	if (pg_join() == -1)
		goto fail;
	pg_session_sql(sql, sizeof sql);
	if (pg_exec(sql) == -1 || pg_prepare() == -1 ||
	    pg_pipeline(pg.conn) == -1)
		goto fail;
	pg_idconn();
	pg_id_send();
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

/*
 * A clean stop (its tasks ended or recorded): the lease ends now and the
 * others are told, so that they take this node's work at once rather than
 * when the lease would have run out.
 */
static void
pg_leave(void)
{
	const char	*vals[2] = { pg.node, pg.channel };
	char		 sql[256];
	PGresult	*r;

	if (pg.idconn == NULL || pg.node == NULL)
		return;
	if (pg.id_fetching)
		pg_id_finish();		/* blocks: the connection is wanted */
	PQsetnonblocking(pg.idconn, 0);
	snprintf(sql, sizeof sql, "WITH u AS (UPDATE %s.nodes SET "
	    "lease_until = 0 WHERE name = $1 RETURNING name) SELECT "
	    "pg_notify($2, 'n') FROM u", pg.schema);
	r = PQexecParams(pg.idconn, sql, 2, NULL, vals, NULL, NULL, 0);
	if (!pg_ok(r))
		log_warnx("store: postgresql: cannot end this node's lease "
		    "(the others take its work when it runs out): %s",
		    PQresultErrorMessage(r));
	PQclear(r);
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
	pg.node = xstrdup(store_node());
	pg.lease = store_lease();
	xasprintf(&pg.channel, "futured_%s", schema);
	pg.sync_full = sync_full;
	pg.read_ev = pg_event_alloc();
	pg.lease_ev = pg_event_alloc();
	pg.id_ev = pg_event_alloc();
	pg.write_ev = pg_event_alloc();
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
	pg_leave();
	if (pg.conn != NULL) {
		event_del(pg.read_ev);
		event_del(pg.write_ev);
		PQfinish(pg.conn);
		pg.conn = NULL;
	}
	pg_fail_all();
	pg_async_cancel(&pg.reconnect);
	pg_async_cancel(&pg.leaseconnect);
	pg_async_cancel(&pg.idconnect);
	if (pg.lease_cb != NULL)
		event_del(pg.lease_ev);
	pg.lease_cb = NULL;
	PQfinish(pg.leaseconn);
	free(pg.lease_ev);
	if (pg.id_fetching)
		event_del(pg.id_ev);
	free(pg.id_ev);
	PQfinish(pg.idconn);
	free(pg.id_blocks);
	free(pg.node);
	free(pg.channel);
	fp_text_clear(&pg.notes);
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
		pg_notifications();
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
	return 0;
}

static void
pg_commit(struct store_backend *b, store_done_cb *done, void *arg)
{
	pg.n_noted = 0;
	pg_notes_send();
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

/*
 * Tells the node holding parent that its children changed, once a turn
 * (a group of 10,000 members submitted at once is one notification).
 */
static void
pg_note_parent(int64_t parent)
{
	size_t	i;

	for (i = 0; i < pg.n_noted; i++)
		if (pg.noted[i] == parent)
			return;
	if (pg.n_noted < sizeof pg.noted / sizeof pg.noted[0])
		pg.noted[pg.n_noted++] = parent;
	pg_note("k %lld", (long long)parent);
}

/* The parent of a new task learns it has children, wherever it runs. */
static int
pg_parent_mark(int64_t parent)
{
	struct pg_params	p = { 0 };
	size_t			i;

	for (i = 0; i < pg.n_noted; i++)	/* marked this turn */
		if (pg.noted[i] == parent)
			return 0;
	pp_int(&p, parent);
	if (pg_send(PS_PARENT_MARK, &p, NULL, NULL) == -1)
		return -1;
	pg_note_parent(parent);
	return 0;
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
	pp_time(&p, loop_now());
	if (r->t.parent > 0)
		pp_int(&p, r->t.parent);
	else
		pp_str(&p, NULL);
	pp_int(&p, r->t.child_policy);
	pp_value(&p, &r->t.limits);
	if (pg_send(PS_INSERT, &p, NULL, NULL) == -1)
		return -1;
	if (!pg.note_work) {
		pg_note("w");
		pg.note_work = 1;
	}
	if (r->t.parent > 0 && pg_parent_mark(r->t.parent) == -1)
		return -1;
	return pg_labels_add(r->t.id, r);
}

/* The previous state is not known here: counts are live (live_counts). */
static int
pg_update(struct store_backend *b, const struct store_row *r, int *old)
{
	struct pg_params	p = { 0 };

	*old = -1;
	pg_params_progress(&p, r);
	pp_str(&p, pg.node);
	if (pg_send(PS_UPDATE, &p, NULL, NULL) == -1)
		return -1;
	if (fp_state_done(r->t.state))
		pg_note("d %lld %d", (long long)r->t.id, (int)r->t.state);
	return 0;
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
	if (pg_send(PS_ITEM_ADD, &p, NULL, NULL) == -1)
		return -1;
	if (pg.note_items != id) {
		pg_note("s %lld", (long long)id);
		pg.note_items = id;
	}
	return 0;
}

static int
pg_overflow_set(struct store_backend *b, int64_t id)
{
	return pg_send_id(PS_OVERFLOW_SET, id);
}

static int
pg_output_add(struct store_backend *b, int64_t id, int attempt, int which,
    int64_t off, const char *data, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	struct pg_params	 p = { 0 };
	char			*hex = xreallocarray(NULL, 2 * len + 1, 1);
	size_t			 i;

	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)data[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)data[i] & 0xf];
	}
	hex[2 * len] = '\0';
	pp_int(&p, id);
	pp_int(&p, attempt);
	pp_int(&p, which);
	pp_int(&p, off);
	p.own[p.n] = hex;
	p.v[p.n++] = hex;
	pp_str(&p, pg.node);
	if (pg_send(PS_OUTPUT_ADD, &p, NULL, NULL) == -1)
		return -1;
	pg_note("o %lld", (long long)id);
	return 0;
}

static int
pg_queue_save(struct store_backend *b, const char *name, int concurrency,
    int paused)
{
	struct pg_params	p = { 0 };

	pp_str(&p, name);
	if (concurrency != 0 || paused) {
		pp_int(&p, concurrency);
		pp_int(&p, paused);
	}
	/* no settings: no row */
	if (pg_send(concurrency != 0 || paused ? PS_QUEUE_SAVE :
	    PS_QUEUE_UNSET, &p, NULL, NULL) == -1)
		return -1;
	pp_str(&p, name);
	if (pg_send(PS_QUEUE_HOLD, &p, NULL, NULL) == -1)
		return -1;
	pg_note("q");
	return 0;
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
	store_nodes_cb	*nodes;
	store_queue_stats_cb *stats;
	store_output_cb	*output;
	store_busy_cb	*busy;
	store_schedule_cb *schedule;
	store_rate_cb	*rate;
	void		*arg;
	int64_t		 limit_id;
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
	t->parent = pg_col_int(r, i, COL_PARENT, 0);
	t->child_policy = (int)pg_col_int(r, i, COL_CHILD_POLICY, 0);
	t->waiting = row->attempt_state.text != NULL &&
	    strstr(row->attempt_state.text, "\"" FP_CHILDREN_MARK "\"") != NULL;
	row->has_children = (int)pg_col_int(r, i, COL_HAS_CHILDREN, 0);
	t->limits.text = pg_col_text(r, i, COL_LIMITS);
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
		store_task_view(&row.t);
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
	size_t		 j;
	int		 ok = pg_ok(r) && (size_t)PQntuples(r) == rd->n;

	for (j = 0; j < rd->n; j++)
		rd->states[j] = ok ? (int)pg_col_int(r, (int)j, 0, -1) : -1;
	rd->done(rd->arg, ok ? STORE_OK : STORE_FAILED);
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
	if (l->kind != NULL) {
		pg_sql_cat(sql, len, " AND kind = $%d", &i);
		pp_str(p, l->kind);
	}
	if (l->parent > 0) {
		pg_sql_cat(sql, len, " AND parent = $%d", &i);
		pp_int(p, l->parent);
	} else if (l->parent < 0)
		strncat(sql, " AND parent IS NULL", len - strlen(sql) - 1);
	if (l->text != NULL) {
		/* one parameter, four uses: $n stays n */
		pg_sql_cat(sql, len, " AND (strpos(spec::text, $%d) > 0", &i);
		i--;
		pg_sql_cat(sql, len, " OR strpos(labels::text, $%d) > 0", &i);
		i--;
		pg_sql_cat(sql, len, " OR key = $%d", &i);
		i--;
		pg_sql_cat(sql, len, " OR id::text = $%d)", &i);
		pp_str(p, l->text);
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
	if (json_object_size(l->label) > (PG_MAXPARAMS - 10) / 2) {
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

/*
 * Joins the chunks into the bytes from rd->limit_id on, up to the first
 * gap (a chunk whose commit failed is shared again from where it began,
 * so chunks may overlap).
 */
static void
pg_output_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	struct fp_text	 o = { 0 };
	unsigned char	*data;
	size_t		 len, skip;
	int64_t		 at = rd->limit_id, off;
	int		 i, state = -1;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		state = (int)pg_col_int(r, i, 0, -1);
		if (PQgetisnull(r, i, 1) || (off = pg_col_int(r, i, 1, 0)) > at)
			continue;	/* none, or after a gap */
		data = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i,
		    2), &len);
		if (data == NULL)
			fatalx("store: out of memory");
		skip = (size_t)(at - off);
		if (len > skip) {
			fp_text_add(&o, (const char *)data + skip, len - skip);
			at += (int64_t)(len - skip);
		}
		PQfreemem(data);
	}
	rd->output(rd->arg, !pg_ok(r) ? STORE_FAILED : PQntuples(r) == 0 ?
	    STORE_NONE : STORE_OK, state, o.buf != NULL ? o.buf : "", o.len);
	fp_text_clear(&o);
	free(rd);
}

static void
pg_output_read(struct store_backend *b, int64_t id, int which, int64_t from,
    store_output_cb *cb, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->output = cb;
	rd->limit_id = from;
	pp_int(&p, id);
	pp_int(&p, which);
	pp_int(&p, from);
	pg_read(PS_OUTPUT_READ, &p, pg_output_cb, rd);
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
	pp_str(&p, pg.node);
	pg_read(PS_LOAD, &p, pg_rows_cb, rd);
}

static void
pg_children(struct store_backend *b, int64_t id, store_row_cb *row,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->row = row;
	rd->done = done;
	pp_int(&p, id);
	pg_read(PS_CHILDREN, &p, pg_rows_cb, rd);
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

/*
 * A delete's statement when it filters more than retention does, with
 * its parameters: PS_PURGE's shape around task.list's filters.
 */
static void
pg_select_query(const struct store_select *sel, int limit, char *sql,
    size_t len, struct pg_params *p)
{
	const char	*k;
	json_t		*v, *a;
	size_t		 n;
	int		 i = 1;

	snprintf(sql, len, "WITH d AS (DELETE FROM tasks WHERE id IN (SELECT "
	    "id FROM tasks WHERE finished_at IS NOT NULL");
	if (sel->before > 0) {
		pg_sql_cat(sql, len, " AND finished_at < $%d", &i);
		pp_time(p, sel->before);
	}
	if (sel->filter != NULL && sel->filter->has_state) {
		pg_sql_cat(sql, len, " AND state = $%d", &i);
		pp_int(p, sel->filter->state);
	}
	if (sel->filter != NULL && sel->filter->queue != NULL) {
		pg_sql_cat(sql, len, " AND queue = $%d", &i);
		pp_str(p, sel->filter->queue);
	}
	if (sel->filter != NULL)
		json_object_foreach(sel->filter->label, k, v) {
			pg_sql_cat(sql, len, " AND EXISTS (SELECT 1 FROM "
			    "task_labels l WHERE l.name = $%d", &i);
			pg_sql_cat(sql, len, " AND l.value = $%d AND "
			    "l.task_id = id)", &i);
			pp_str(p, k);
			pp_str(p, json_string_value(v));
		}
	if (sel->ids != NULL) {
		pg_sql_cat(sql, len, " AND id IN (SELECT jsonb_array_elements_"
		    "text($%d::jsonb)::bigint)", &i);
		a = xjson(json_array());
		for (n = 0; n < sel->n_ids; n++)
			json_array_append_new(a, json_integer(sel->ids[n]));
		pp_json(p, a);
		json_decref(a);
	}
	pg_sql_cat(sql, len, " ORDER BY finished_at LIMIT $%d) RETURNING "
	    PG_COLUMNS "), "
	    "i AS (DELETE FROM stream_items s USING d WHERE s.task_id = d.id), "
	    "l AS (DELETE FROM task_labels l USING d WHERE l.task_id = d.id), "
	    "o AS (DELETE FROM task_output o USING d WHERE o.task_id = d.id) "
	    "SELECT * FROM d ORDER BY finished_at", &i);
	pp_int(p, limit);
}

static void
pg_purge(struct store_backend *b, const struct store_select *sel, int limit,
    store_row_cb *deleted, void (*done)(void *, int), void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };
	char			 sql[8192];
	int			 rv;

	rd->row = deleted;
	rd->purged = done;
	if (sel->filter == NULL && sel->ids == NULL) {	/* retention */
		snprintf(p.num[0], sizeof p.num[0], "%.17g", sel->before);
		pp_str(&p, p.num[0]);
		pp_int(&p, limit);
		pg_read(PS_PURGE, &p, pg_rows_cb, rd);
		return;
	}
	if (sel->filter != NULL &&
	    json_object_size(sel->filter->label) > (PG_MAXPARAMS - 6) / 2) {
		log_warnx("store: task.delete with %zu labels: too many",
		    json_object_size(sel->filter->label));
		pg_rows_cb(rd, NULL);
		return;
	}
	pg_select_query(sel, limit, sql, sizeof sql, &p);
	if (pg.conn == NULL) {
		pp_free(&p);
		pg_rows_cb(rd, NULL);
		return;
	}
	rv = PQsendQueryParams(pg.conn, sql, p.n, NULL, p.v, NULL, NULL, 0);
	pp_free(&p);
	if (rv == 0) {
		pg_broken("delete");
		pg_rows_cb(rd, NULL);
		return;
	}
	pg_wait_add(pg_rows_cb, NULL, rd, 0);
	pg_read_sent();
}

static void
pg_queue_busy_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;

	rd->busy(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED, pg_ok(r) &&
	    PQntuples(r) == 1 ? pg_col_int(r, 0, 0, 0) : 0);
	free(rd);
}

static void
pg_queue_busy(struct store_backend *b, const char *name, store_busy_cb *cb,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->busy = cb;
	pp_str(&p, name);
	pg_read(PS_QUEUE_BUSY, &p, pg_queue_busy_cb, rd);
}

/* ---- several nodes ---- */

static void
pg_claim(struct store_backend *b, const char *kind, int limit, double now,
    int limited, store_row_cb *row, store_done_cb *done, void *arg)
{
	static const enum pg_stmt sides[4] = { PS_CLAIM_FREE, PS_CLAIM,
	    PS_CLAIM_FREE_K, PS_CLAIM_K };
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };
	char			 key[256];

	rd->row = row;
	rd->done = done;
	pp_time(&p, now);
	pg_send(PS_PROMOTE, &p, NULL, NULL);
	if (limited & (STORE_CLAIM_LIMITED | STORE_CLAIM_KEYED)) {
		snprintf(key, sizeof key, "futured claim %s", pg.schema);
		pp_str(&p, key);
		pg_send(PS_CLAIM_LOCK, &p, NULL, NULL);
	}
	pp_str(&p, kind);
	pp_int(&p, limit);
	pp_str(&p, pg.node);
	pg_read(sides[limited & 3], &p, pg_rows_cb, rd);
}

static void
pg_next_start_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	double		*at = (double *)rd->counts;

	*at = pg_ok(r) && PQntuples(r) == 1 ? pg_col_double(r, 0, 0, 0) : 0;
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_next_start(struct store_backend *b, double now, double *at,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	rd->counts = (int64_t *)at;
	snprintf(p.num[0], sizeof p.num[0], "%.17g", now);
	pp_str(&p, p.num[0]);
	pg_read(PS_NEXT_START, &p, pg_next_start_cb, rd);
}

/* This node is the limits node now, or no longer. */
static void
pg_limits_node(int now)
{
	if (now != pg.limits_node)
		log_info("store: postgresql: %s the limits node (tasks with "
		    "concurrency keys or a rate limit run here)", now ?
		    "this node is" : "this node is no longer");
	pg.limits_node = now;
}

static int
pg_is_limits_node(struct store_backend *b)
{
	return pg.limits_node;
}

/* STORE_OK: renewed; STORE_NONE: another node took this one's work. */
/*
 * The lease is renewed on a connection of its own, one statement at a
 * time: a long statement of this node's (a queue of a million tasks
 * paused) must not hold up the renewal behind it.
 */
static void
pg_lease_done(int status)
{
	store_done_cb	*cb = pg.lease_cb;
	void		*arg = pg.lease_arg;

	pg.lease_cb = NULL;
	event_del(pg.lease_ev);
	if (status == STORE_FAILED)
		pg.limits_node = 0;	/* the lock goes with the connection */
	if (status == STORE_FAILED && pg.leaseconn != NULL) {
		log_warnx("store: postgresql: lease: %s",
		    PQerrorMessage(pg.leaseconn));
		PQfinish(pg.leaseconn);
		pg.leaseconn = NULL;	/* connected again next time */
	}
	if (cb != NULL)
		cb(arg, status);
}

static void
pg_lease_cb(evutil_socket_t fd, short events, void *arg)
{
	PGresult	*r;
	int		 status;

	if (PQconsumeInput(pg.leaseconn) == 0) {
		pg_lease_done(STORE_FAILED);
		return;
	}
	if (PQisBusy(pg.leaseconn))
		return;
	r = PQgetResult(pg.leaseconn);
	if (!pg_ok(r))
		status = STORE_FAILED;
	else
		status = strcmp(PQcmdTuples(r), "1") == 0 ? STORE_OK :
		    STORE_NONE;
	if (status == STORE_OK)
		pg_limits_node(strcmp(PQgetvalue(r, 0, 0), "t") == 0);
	PQclear(r);
	while ((r = PQgetResult(pg.leaseconn)) != NULL)
		PQclear(r);
	pg_lease_done(status);
}

/* Sends the renewal on the lease connection; pg_lease_cb hears it. */
static void
pg_lease_send(void)
{
	char		 sql[512], lease[64], lock[256];
	const char	*params[3] = { pg.node, lease, lock };

	snprintf(lease, sizeof lease, "%.17g", pg.lease);
	snprintf(lock, sizeof lock, "futured limits %s", pg.schema);
	/*
	 * The limits node: whoever holds this session lock (it goes with a
	 * dead node's connection, and the next renewal elsewhere takes it).
	 * Taken again at each renewal, its count grows by one: harmless.
	 */
	snprintf(sql, sizeof sql, "UPDATE %s.nodes SET lease_until = "
	    "extract(epoch FROM clock_timestamp()) + $2 WHERE name = $1 "
	    "RETURNING pg_try_advisory_lock(hashtext($3))", pg.schema);
	if (PQsendQueryParams(pg.leaseconn, sql, 3, NULL, params, NULL, NULL,
	    0) == 0) {
		pg_lease_done(STORE_FAILED);
		return;
	}
	PQflush(pg.leaseconn);
	event_assign(pg.lease_ev, loop_base, PQsocket(pg.leaseconn),
	    EV_READ | EV_PERSIST, pg_lease_cb, NULL);
	event_add(pg.lease_ev, NULL);
}

static void
pg_lease_connected(struct pg_async *a, int ok)
{
	if (!ok) {
		pg_lease_done(STORE_FAILED);
		return;
	}
	pg.leaseconn = a->conn;
	a->conn = NULL;
	pg_lease_send();
}

/*
 * Renews the lease on its own connection, made again on the loop when
 * it was lost.
 */
static void
pg_renew(struct store_backend *b, store_done_cb *done, void *arg)
{
	struct pg_async	*a = &pg.leaseconnect;

	if (pg.lease_cb != NULL) {	/* the last one is still out */
		done(arg, STORE_FAILED);
		return;
	}
	pg.lease_cb = done;
	pg.lease_arg = arg;
	if (pg.leaseconn != NULL && PQstatus(pg.leaseconn) == CONNECTION_OK) {
		pg_lease_send();
		return;
	}
	PQfinish(pg.leaseconn);
	pg.leaseconn = NULL;
	a->what = "lease: connecting";
	a->send = NULL;
	a->check = NULL;
	a->done = pg_lease_connected;
	if (pg_async_start(a, "futured-lease") == -1)
		pg_lease_done(STORE_FAILED);
}

static void
pg_adopt_cb(void *arg, PGresult *r)
{
	struct pg_read		*rd = arg;
	struct store_row	 row;
	int			 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		/* said by the round that takes the last of it */
		if (i == 0 && !PQgetisnull(r, 0, COL_COUNT) &&
		    PQntuples(r) < rd->limit)
			log_warnx("store: node %s left or let its lease run out: "
			    "its work taken", PQgetvalue(r, 0,
			    COL_COUNT));
		if (PQgetisnull(r, i, COL_ID))
			continue;	/* dead nodes, nothing running */
		pg_row_read(r, i, &row);
		rd->row(rd->arg, STORE_OK, &row);
	}
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

/*
 * In the turn's transaction: the work of the nodes whose lease ran out
 * (PS_ADOPT); row() for each running task that becomes this node's.
 */
static void
pg_adopt(struct store_backend *b, int limit, store_row_cb *row,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->row = row;
	rd->done = done;
	rd->limit = limit;
	pp_str(&p, pg.node);
	pp_int(&p, limit);
	pg_read(PS_ADOPT, &p, pg_adopt_cb, rd);
}

static void
pg_nodes_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	json_t		*nodes = xjson(json_array());
	double		 now;
	int		 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		now = pg_col_double(r, i, 5, 0);
		json_array_append_new(nodes, xjson(json_pack("{s:s,s:s,s:I,"
		    "s:f,s:f}", "name", PQgetvalue(r, i, 0), "host",
		    PQgetvalue(r, i, 1), "pid", (json_int_t)pg_col_int(r, i, 2,
		    0), "started_at", pg_col_double(r, i, 3, 0), "lease_left",
		    pg_col_double(r, i, 4, 0) - now)));
	}
	rd->nodes(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED, nodes);
	json_decref(nodes);
	free(rd);
}

static void
pg_nodes(struct store_backend *b, store_nodes_cb *cb, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->nodes = cb;
	pg_read(PS_NODES, &p, pg_nodes_cb, rd);
}

/* STORE_OK when the task was cancelled here, STORE_NONE when not. */
static void
pg_changed_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;

	if (!pg_ok(r))
		rd->done(rd->arg, STORE_FAILED);
	else
		rd->done(rd->arg, PQntuples(r) > 0 ? STORE_OK : STORE_NONE);
	free(rd);
}

static void
pg_finish_free(struct store_backend *b, int64_t id, int state,
    json_t *result, json_t *exception, double at, store_done_cb *done,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	pp_int(&p, id);
	pp_int(&p, state);
	pp_time(&p, at);
	pp_json(&p, result);
	pp_json(&p, exception);
	pg_note("d %lld %d", (long long)id, state);
	pg_read(PS_FINISH_FREE, &p, pg_changed_cb, rd);
}

static void
pg_release(struct store_backend *b, int64_t id, store_done_cb *done,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	pp_int(&p, id);
	pp_str(&p, pg.node);
	if (!pg.note_work) {	/* the limits node claims it */
		pg_note("w");
		pg.note_work = 1;
	}
	pg_read(PS_RELEASE, &p, pg_changed_cb, rd);
}

static void
pg_close_free(struct store_backend *b, int64_t id, json_t *mark,
    json_t *result, json_t *exception, store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	pp_int(&p, id);
	pp_json(&p, mark);
	pp_json(&p, result);
	pp_json(&p, exception);
	if (!pg.note_work) {
		pg_note("w");
		pg.note_work = 1;
	}
	pg_read(PS_CLOSE_FREE, &p, pg_changed_cb, rd);
}

static void
pg_finish_ask_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;

	if (pg_ok(r) && PQntuples(r) > 0)
		pg_note("c %lld %s", (long long)rd->limit_id,
		    PQgetvalue(r, 0, 0));
	pg_changed_cb(rd, r);
}

static void
pg_finish_ask(struct store_backend *b, int64_t id, json_t *asked,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	rd->limit_id = id;
	pp_int(&p, id);
	pp_json(&p, asked);
	pg_read(PS_FINISH_ASK, &p, pg_finish_ask_cb, rd);
}

static void
pg_child_ended(struct store_backend *b, int64_t parent)
{
	pg_note_parent(parent);
}

static void
pg_cancels_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int		 i;

	json_t		*asked;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		asked = json_loads(PQgetvalue(r, i, 1), JSON_ALLOW_NUL, NULL);
		if (asked != NULL)
			store_event(STORE_EV_CANCEL, pg_col_int(r, i, 0, 0), 0,
			    asked);
		json_decref(asked);
	}
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

/* The cancels asked of this node (a look behind the notifications). */
static void
pg_cancels(struct store_backend *b, store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	pp_str(&p, pg.node);
	pg_read(PS_CANCELS, &p, pg_cancels_cb, rd);
}

static void
pg_queue_stats_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int		 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++)
		rd->stats(rd->arg, PQgetvalue(r, i, 0), (int)pg_col_int(r, i, 1,
		    0), (int)pg_col_int(r, i, 2, 0), pg_col_int(r, i, 3, 0),
		    pg_col_int(r, i, 4, 0));
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_queue_stats(struct store_backend *b, double now, store_queue_stats_cb *cb,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->stats = cb;
	rd->done = done;
	pp_time(&p, now);
	pg_read(PS_QUEUE_STATS, &p, pg_queue_stats_cb, rd);
}

static int
pg_rate_save(struct store_backend *b, const char *name, double starts,
    double per, double burst)
{
	struct pg_params	p = { 0 };

	pp_str(&p, name);
	if (starts > 0) {
		pp_time(&p, starts);
		pp_time(&p, per);
		pp_time(&p, burst);
	}
	if (pg_send(starts > 0 ? PS_RATE_SAVE : PS_RATE_UNSET, &p, NULL,
	    NULL) == -1)
		return -1;
	pg_note("q");		/* the others read queues and limits again */
	return 0;
}

static void
pg_rates_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	int		 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++)
		rd->rate(rd->arg, PQgetvalue(r, i, 0),
		    pg_col_double(r, i, 1, 0), pg_col_double(r, i, 2, 1),
		    pg_col_double(r, i, 3, 1));
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_rates(struct store_backend *b, store_rate_cb *cb, store_done_cb *done,
    void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->rate = cb;
	rd->done = done;
	pg_read(PS_RATE_LOAD, &p, pg_rates_cb, rd);
}

/* version 0 inserts; else the row must still be at version. */
static void
pg_schedule_put(struct store_backend *b, const char *name, json_t *def,
    json_t *state, int64_t version, store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	pp_str(&p, name);
	pp_json(&p, def);
	pp_json(&p, state);
	if (version != 0)
		pp_int(&p, version);
	pg_read(version == 0 ? PS_SCHED_INSERT : PS_SCHED_UPDATE, &p,
	    pg_changed_cb, rd);
}

static void
pg_schedule_delete(struct store_backend *b, const char *name,
    int64_t version, store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->done = done;
	pp_str(&p, name);
	pp_int(&p, version);
	pg_read(PS_SCHED_DELETE, &p, pg_changed_cb, rd);
}

static void
pg_schedules_cb(void *arg, PGresult *r)
{
	struct pg_read	*rd = arg;
	json_t		*def, *state;
	int		 i;

	for (i = 0; pg_ok(r) && i < PQntuples(r); i++) {
		def = json_loads(PQgetvalue(r, i, 1), 0, NULL);
		state = json_loads(PQgetvalue(r, i, 2), 0, NULL);
		if (def != NULL && state != NULL)
			rd->schedule(rd->arg, PQgetvalue(r, i, 0), def, state,
			    pg_col_int(r, i, 3, 0));
		json_decref(def);
		json_decref(state);
	}
	rd->done(rd->arg, pg_ok(r) ? STORE_OK : STORE_FAILED);
	free(rd);
}

static void
pg_schedules(struct store_backend *b, store_schedule_cb *cb,
    store_done_cb *done, void *arg)
{
	struct pg_read		*rd = pg_read_new(arg);
	struct pg_params	 p = { 0 };

	rd->schedule = cb;
	rd->done = done;
	pg_read(PS_SCHED_LOAD, &p, pg_schedules_cb, rd);
}

const struct store_backend_ops store_pg_ops = {
	.scheme = "postgresql",
	.live_counts = 1,
	.open = pg_open,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.next_id = pg_next_id,
	.claim = pg_claim,
	.next_start = pg_next_start,
	.renew = pg_renew,
	.adopt = pg_adopt,
	.nodes = pg_nodes,
	.finish_free = pg_finish_free,
	.release = pg_release,
	.schedule_put = pg_schedule_put,
	.schedule_delete = pg_schedule_delete,
	.schedules = pg_schedules,
	.limits_node = pg_is_limits_node,
	.rate_save = pg_rate_save,
	.rates = pg_rates,
	.finish_ask = pg_finish_ask,
	.close_free = pg_close_free,
	.child_ended = pg_child_ended,
	.cancels = pg_cancels,
	.queue_stats = pg_queue_stats,
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
	.output_add = pg_output_add,
	.output_read = pg_output_read,
	.queue_save = pg_queue_save,
	.queue_busy = pg_queue_busy,
	.write = pg_write,
	.get = pg_get,
	.states = pg_states,
	.by_key = pg_by_key,
	.list = pg_list,
	.items = pg_items,
	.next_seq = pg_next_seq,
	.load = pg_load,
	.children = pg_children,
	.queues = pg_queues,
	.purge = pg_purge,
};
