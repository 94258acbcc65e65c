/*
 * store.h: durable storage of tasks, their stream items and queues.
 *
 * store.c holds what does not depend on the database: the turn's
 * transaction (group commit: opened by the first write of a loop turn,
 * committed once at its end), the work that waits for that commit
 * (store_defer), write-behind (a task changed several times in a turn is
 * written once, with what it holds at the commit) and daemon.info's
 * counts.  A backend (store-backend.h; store-sqlite.c today) speaks rows.
 *
 * Reads answer through a callback, which may run before the call returns
 * (sqlite) or in a later turn (a networked backend): a caller must expect
 * both.  A read sees every write made before it, this turn's included.
 * Writes join the turn's transaction; a write that fails dooms the turn,
 * and every store_defer callback of the turn hears STORE_FAILED.
 *
 * json_t given to the store is borrowed; json_t it hands out is borrowed
 * for the callback's duration unless it says otherwise.
 */
#ifndef FUTURED_STORE_H
#define FUTURED_STORE_H

#include "base/base.h"

/* How a call or a turn's commit ended. */
#define STORE_OK		0
#define STORE_COMMITTED		STORE_OK
#define STORE_NONE		1	/* no such row */
#define STORE_FAILED		-1

/*
 * A task as stored.  Its JSON columns come as trees (what the model
 * writes) or as compact text (what a backend reads back), so that task.get
 * and task.list copy stored text into answers without parsing it.
 */
struct store_row {
	struct fp_task	 t;
	double		 start_after;	/* when a pending task may start; 0: now */
	double		 retry_backoff;
	struct fp_value	 attempt_state;	/* what recovery needs of a running
					 * attempt (the kind's), or none */
	int		 has_children;	/* several nodes: one was submitted */
};

/* Where the rows of tasks in memory come from, for write-behind. */
struct store_task_ops {
	/* Fills row from obj; its pointers stay valid until the next call. */
	void	(*row)(void *obj, struct store_row *row);
	void	(*ref)(void *obj);
	void	(*unref)(void *obj);
	/* What only memory knows of task t->id, added to its view (may be
	 * NULL; pointers borrowed until the next call). */
	void	(*view)(struct fp_task *t);
};
/* For the backends: a stored task's view gets what memory adds. */
void	 store_task_view(struct fp_task *);

typedef void	 store_done_cb(void *arg, int status);

/*
 * Opens the store at url: "sqlite:PATH" or a libpq URI
 * "postgresql://...", whose tables live in schema `schema`.  sync_full: a commit is durable
 * on return (fsync), else it may be lost at a power failure.
 */
int	 store_open(const char *url, const char *schema, int sync_full,
	    const struct store_task_ops *);
void	 store_close(void);
/* Does url name a backend futured has (and something after its ':')? */
int	 store_url_check(const char *url);
/* "sqlite"; and the schema version of the open store. */
const char *store_backend_name(void);
int	 store_schema_version(void);

/*
 * Runs cb(arg, status) once the current turn's transaction has committed
 * (STORE_COMMITTED) or failed (STORE_FAILED); when nothing was written this
 * turn, cb still runs at the end of the turn.
 */
void	 store_defer(store_done_cb *cb, void *arg);
/* Whether this turn wrote anything not yet committed. */
int	 store_pending(void);
/* Commits now (shutdown, tests); runs the deferred callbacks. */
int	 store_flush(void);
/*
 * Waits until the backend has answered everything asked of it (start-up,
 * before the loop serves anyone; shutdown).  The only call that blocks.
 */
void	 store_drain(void);

/* ---- writes: they join the turn's transaction ---- */

/*
 * A new task: its id, or -1 when the turn is already doomed.  Only marks
 * obj: its row is written once, at the next store call or at the commit,
 * with what obj holds then (the store holds a reference until then).
 */
int64_t	 store_task_insert(void *obj);
/* obj (task id) changed; written the same way. */
void	 store_task_update(int64_t id, void *obj);
/* A failed task's exception was handed to a client. */
void	 store_task_retrieved(int64_t id);
/* Stream items: value or error (one of them NULL), numbered from 0. */
void	 store_stream_add(int64_t id, int64_t seq, json_t *value, json_t *error);
void	 store_stream_overflow(int64_t id);
/* A queue's settings; none (0, not paused) delete its row. */
void	 store_queue_save(const char *name, int concurrency, int paused);

/* ---- reads ---- */

/* The client's view of task id appended to o; STORE_NONE: no such task. */
void	 store_task_write(int64_t id, struct fp_text *o, store_done_cb *,
	    void *arg);
typedef void	 store_row_cb(void *arg, int status, const struct store_row *);
void	 store_task_get(int64_t id, store_row_cb *, void *arg);
/*
 * The states of n tasks into states[]; an unknown id gets -1.  status is
 * STORE_FAILED when the store could not be read.
 */
void	 store_task_states(const int64_t *ids, size_t n, int *states,
	    store_done_cb *, void *arg);
/* The task holding key: its id and spec, or STORE_NONE. */
typedef void	 store_key_cb(void *arg, int status, int64_t id, json_t *spec);
void	 store_task_by_key(const char *key, store_key_cb *, void *arg);
/* {tasks, next} per the filters of task.list, appended to o. */
void	 store_task_list(const struct fp_list *, struct fp_text *o,
	    store_done_cb *, void *arg);
/* [{seq, value} | {seq, error}] from seq `from` on, at most limit. */
typedef void	 store_items_cb(void *arg, int status, json_t *items,
	    int overflow);
void	 store_stream_read(int64_t id, int64_t from, int limit,
	    store_items_cb *, void *arg);
/* The seq the next item of id gets. */
typedef void	 store_next_cb(void *arg, int status, int64_t next);
void	 store_stream_next(int64_t id, store_next_cb *, void *arg);
/* Calls row for each pending or running task, oldest first, then done. */
void	 store_task_load(store_row_cb *row, store_done_cb *done, void *arg);
/* Calls row for each child of task id (parent = id), oldest first. */
void	 store_task_children(int64_t id, store_row_cb *row, store_done_cb *done,
	    void *arg);
/*
 * Schedules (rpc/schedules.c): a name, a definition and a state (JSON),
 * and a version every write compares and raises, so that of two nodes
 * only one takes a firing.  put: version 0 inserts (STORE_NONE: the name
 * is taken), else updates the row still at version (STORE_NONE: it
 * changed or went); def NULL keeps the stored one.
 */
typedef void	 store_schedule_cb(void *arg, const char *name, json_t *def,
		    json_t *state, int64_t version);
void	 store_schedule_put(const char *name, json_t *def, json_t *state,
	    int64_t version, store_done_cb *, void *arg);
void	 store_schedule_delete(const char *name, int64_t version,
	    store_done_cb *, void *arg);
/* Each schedule, by name, then done. */
void	 store_schedule_load(store_schedule_cb *, store_done_cb *, void *arg);

/* Rate limits (model/limits.c): starts 0 deletes the row. */
void	 store_rate_save(const char *name, double starts, double per,
	    double burst);
typedef void	 store_rate_cb(void *arg, const char *name, double starts,
		    double per, double burst);
void	 store_rate_load(store_rate_cb *, store_done_cb *, void *arg);

/* Calls queue for each saved queue, then done. */
typedef void	 store_queue_cb(void *arg, const char *name, int concurrency,
	    int paused);
void	 store_queue_load(store_queue_cb *queue, store_done_cb *done,
	    void *arg);
/*
 * Deletes up to limit tasks finished before `before`, with their items
 * and labels; unretrieved(arg, row) runs first for each failed task whose
 * exception nobody retrieved.  done(arg, n deleted) or done(arg, -1).
 */
void	 store_task_purge(double before, int limit, store_row_cb *unretrieved,
	    void (*done)(void *arg, int n), void *arg);
/* Which finished tasks a delete takes (retention: before alone). */
struct store_select {
	double			 before;	/* finished before; 0: whenever */
	const struct fp_list	*filter;	/* state, queue, label; NULL */
	const int64_t		*ids;		/* only these; NULL: any */
	size_t			 n_ids;
};
/*
 * Deletes up to limit finished tasks that sel selects (task.delete), in
 * the turn's transaction; deleted(arg, row) for each, then done(arg, n
 * deleted) or done(arg, -1).
 */
void	 store_task_delete(const struct store_select *sel, int limit,
	    store_row_cb *deleted, void (*done)(void *arg, int n), void *arg);
/* A row's JSON column as a tree (a new reference; NULL: none). */
json_t	*store_value_json(const struct fp_value *);

/* ---- several nodes on one database (PostgreSQL) ---- */

/*
 * This node's name and the seconds its lease lasts, before store_open
 * (defaults: "futured", 10).
 */
void	 store_node_config(const char *name, double lease);
const char *store_node(void);
double	 store_lease(void);
/* Does the open store share its tasks with other nodes? */
int	 store_shared(void);
/* What another node did (store_events): the model acts on it. */
enum store_event {
	STORE_EV_WORK,		/* there may be tasks to claim */
	STORE_EV_DONE,		/* task id finished, in state */
	STORE_EV_ITEMS,		/* task id has new stream items */
	STORE_EV_OUTPUT,	/* task id has new output (store_output_add) */
	STORE_EV_CANCEL,	/* task id, which this node holds, is to end:
				 * asked says how, NULL: look (store_cancels) */
	STORE_EV_QUEUES,	/* a queue's settings changed */
	STORE_EV_CHILD,		/* task id got a child */
	STORE_EV_LEFT,		/* a node stopped: its work is to be taken */
	STORE_EV_RECONNECTED,	/* what was said meanwhile is lost: look again */
};
typedef void	 store_event_cb(enum store_event, int64_t id, int state,
		    json_t *asked);
void	 store_events(store_event_cb *);
/*
 * Claims up to limit tasks of kind that may start at now, in the turn's
 * transaction: row() for each, then done().  They are this node's once
 * the turn commits (store_defer), not before.  limited (bits, below):
 * in the queues with a concurrency limit (claims there take turns across
 * the nodes, so that the limits hold), else in the others (no waiting on
 * anyone); and the tasks with limits (the limits node's) or the others.
 */
void	 store_claim(const char *kind, int limit, double now, int limited,
	    store_row_cb *row, store_done_cb *done, void *arg);
/* store_claim's sides (limited): bits. */
#define STORE_CLAIM_LIMITED	1	/* in queues with a limit */
#define STORE_CLAIM_KEYED	2	/* tasks with limits: the limits node */
/*
 * Tasks with concurrency keys or a rate limit run on one node, the
 * limits node, so that their limits count every task: 1 when this node
 * is it (always, with one futured).
 */
int	 store_limits_node(void);
/* When the next delayed task nobody holds may start (*at 0: none). */
void	 store_next_start(double now, double *at, store_done_cb *, void *arg);
/* Renews this node's lease: STORE_NONE when its work was taken. */
void	 store_lease_renew(store_done_cb *, void *arg);
/*
 * Takes the work of nodes whose lease ran out, in the turn's transaction:
 * row() for each running task that becomes this node's, `limit` at most
 * (as many: adopt again, there may be more); their waiting tasks go back
 * to be claimed by any node.
 */
void	 store_adopt(int limit, store_row_cb *row, store_done_cb *done,
	    void *arg);
/*
 * Gives back task id, which this node claimed and has not started, for
 * any node to claim (the limits node, for a task with limits), in the
 * turn's transaction: STORE_OK; STORE_NONE when it is no longer this
 * node's waiting task.
 */
void	 store_release(int64_t id, store_done_cb *, void *arg);
/* The live nodes: [{name, host, pid, started_at, lease_left}]. */
typedef void	 store_nodes_cb(void *arg, int status, json_t *nodes);
void	 store_nodes(store_nodes_cb *, void *arg);
/*
 * Ends task id in state (cancelled, or a future's succeeded or failed)
 * with result or exception (borrowed; NULL: none) if nobody holds it yet
 * (STORE_OK), else STORE_NONE; store_finish_ask asks the node that holds
 * it to end it as `asked` says ({state: a state's name, or "closed" for a
 * group's task.close, result?, exception?, ...}: the model's) (STORE_OK:
 * it hears STORE_EV_CANCEL with it),
 * STORE_NONE when it is finished or held by none.
 */
void	 store_finish_free(int64_t id, int state, json_t *result,
	    json_t *exception, double at, store_done_cb *, void *arg);
void	 store_finish_ask(int64_t id, json_t *asked, store_done_cb *,
	    void *arg);
/* Task id's child ended (several nodes): the node holding id hears it. */
void	 store_child_ended(int64_t id);
/*
 * Ends the own part of task id (a group's close, or a future with
 * children resolved) if nobody holds it yet and it was not ended
 * already, writing mark as its attempt_state and its outcome (result or
 * exception, borrowed; NULL: none) (STORE_OK), else STORE_NONE.
 */
void	 store_close_free(int64_t id, json_t *mark, json_t *result,
	    json_t *exception, store_done_cb *, void *arg);
/* The cancels asked of this node, as STORE_EV_CANCEL events. */
void	 store_cancels(store_done_cb *, void *arg);
/* Each queue with its tasks running and waiting on every node. */
typedef void	 store_queue_stats_cb(void *arg, const char *name,
	    int concurrency, int paused, int64_t running, int64_t waiting);
void	 store_queue_stats(double now, store_queue_stats_cb *, store_done_cb *,
	    void *arg);
/*
 * Pending and running tasks of queue name on the other nodes too (0 when
 * this futured has the database alone: memory knows its tasks).
 */
typedef void	 store_busy_cb(void *arg, int status, int64_t n);
void	 store_queue_busy(const char *name, store_busy_cb *, void *arg);

/*
 * Output of an attempt running here, for the other nodes: bytes off.. of
 * task id's stdout (which 1) or stderr (2), in the turn's transaction.
 * The attempt's end, written by this node, takes them away again.
 */
void	 store_output_add(int64_t id, int attempt, int which, int64_t off,
	    const char *data, size_t len);
/*
 * What was shared of task id's running attempt, from byte from on: cb(arg,
 * STORE_OK, its state, data, len), data starting at byte from (len 0:
 * nothing yet; a finished task's output is in its outcome); STORE_NONE:
 * no such task.
 */
typedef void	 store_output_cb(void *arg, int status, int state,
	    const char *data, size_t len);
void	 store_output_read(int64_t id, int which, int64_t from,
	    store_output_cb *, void *arg);

/*
 * Tasks per state, and failed ones never retrieved, into the caller's
 * arrays: kept in memory (sqlite), or counted in a shared database.
 */
void	 store_task_counts(int64_t counts[FP_STATE_COUNT], int64_t *unretrieved,
	    store_done_cb *, void *arg);

#endif
