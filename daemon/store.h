/*
 * store.h: durable storage of tasks and queues.
 *
 * sqlite is the one implementation today (store-sqlite.c, the only file that
 * includes <sqlite3.h>); nothing outside it speaks SQL.  Writes join the
 * transaction of the current loop turn, opened on the first write and
 * committed once at the end of the turn (group commit): work that must wait
 * for durability, such as an RPC reply, is queued with store_defer().
 *
 * Functions return 0 on success and -1 on failure, with the reason logged
 * once here; json_t results are new references owned by the caller.
 */
#ifndef FUTURED_STORE_H
#define FUTURED_STORE_H

#include <stdint.h>
#include <jansson.h>

#include "proto.h"

struct task;
struct queue;
struct event_base;

#define STORE_SCHEMA_VERSION	4

/* How the commit at the end of a turn ended. */
#define STORE_COMMITTED		0
#define STORE_FAILED		-1

/* sync_full: synchronous=FULL, else NORMAL.  base drives group commit. */
int	 store_open(const char *path, int sync_full, struct event_base *base);
void	 store_close(void);
/* The schema version of the open database. */
int	 store_schema_version(void);

/*
 * Runs cb(arg, status) once the current turn's transaction has committed
 * (status STORE_COMMITTED) or failed (STORE_FAILED); when nothing was
 * written this turn, cb still runs at the end of the turn.
 */
void	 store_defer(void (*cb)(void *, int), void *arg);
/* Whether this turn wrote anything not yet committed. */
int	 store_pending(void);
/* Commits now (shutdown, tests); runs deferred callbacks. */
int	 store_flush(void);

/*
 * Gives t its id and makes it a new row of the current turn.  Like
 * store_task_update, this only marks t: the row is written once, at the
 * next store call or at the commit, with what t holds then, so t's spec and
 * labels must stay until the commit.  A failed write fails the whole turn.
 */
int	 store_task_insert(struct task *);
/* Persists t's state, attempt, times, result, exception (see above). */
int	 store_task_update(struct task *);
/* The client's view of task id (fp_task_write) appended to o; -1: none. */
int	 store_task_write(int64_t id, struct fp_text *o);
/* The same as a tree; NULL: none. */
json_t	*store_task_get(int64_t id);
/* state of id; -1 when there is no such task. */
int	 store_task_state(int64_t id, enum fp_state *);
/* The id and spec (new ref) of the task holding key; -1: none. */
int	 store_task_by_key(const char *key, int64_t *id, json_t **spec);
/* A failed task's exception was handed to a client. */
int	 store_task_retrieved(int64_t id);
/* {tasks, next} per the filters of task.list, appended to o; -1: failed. */
int	 store_task_list(const struct fp_list *, struct fp_text *o);
/* counts[st] for each state, and failed tasks never retrieved. */
int	 store_task_counts(int64_t counts[FP_STATE_COUNT], int64_t *unretrieved);
/*
 * Calls cb for each pending or running task, oldest first, with a task
 * created from its row (task_create); cb takes ownership.
 */
int	 store_task_load(void (*cb)(struct task *, void *), void *arg);

/* Queue settings (name, concurrency, paused) survive restarts. */
int	 store_queue_save(const struct queue *);
/* Calls cb(name, concurrency, paused, arg) for each saved queue. */
int	 store_queue_load(void (*cb)(const char *, int, int, void *), void *arg);

/*
 * Deletes up to limit tasks finished before `before`, with their stream
 * items; calls cb(id, kind, exception) first for each failed task whose
 * exception nobody retrieved.  Returns how many were deleted.
 */
int	 store_task_purge(double before, int limit, void (*cb)(int64_t,
	    const char *, json_t *, void *), void *arg);

/* Stream items: value or error (one of them NULL), numbered from 0. */
int	 store_stream_add(int64_t id, int64_t seq, json_t *value, json_t *error);
/* [{seq, value} | {seq, error}] from seq on, at most limit. */
json_t	*store_stream_read(int64_t id, int64_t from, int limit);
/* The seq the next item of id gets. */
int64_t	 store_stream_next(int64_t id);
/* set: flags id's stream as overflowed; else returns the flag. */
int	 store_stream_overflow(int64_t id, int set);

#endif
