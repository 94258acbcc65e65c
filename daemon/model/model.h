/*
 * model.h: tasks, their state machine and scheduling, watches, streams,
 * retention.
 */
#ifndef FUTURED_MODEL_H
#define FUTURED_MODEL_H

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"

/*
 * tree.c: parents and children, groups.  tree_link counts a child its
 * parent holds here; tree_waits says whether t, whose own part ended,
 * waits for its children; tree_check settles a waiting t once they have
 * ended; tree_settled tells t's parent and cancels t's children when t's
 * end says so; tree_recheck has waiting tasks look at the store (another
 * node ended something).  tree_mark and tree_marked: what attempt_state
 * holds of a waiting task, for a restart.
 */
struct task;
void		 tree_link(struct task *child);
void		 tree_unlink(struct task *child);
int		 tree_waits(struct task *);
void		 tree_check(struct task *);
void		 tree_settled(struct task *);
void		 tree_recheck(void);
/* Another node noted that t's children changed. */
void		 tree_heard(struct task *);
/* Cancels the unfinished children of task id (not in memory here). */
void		 tree_cancel_below(int64_t id, const char *message);
void		 tree_free(void);
json_t		*tree_mark(enum fp_state outcome, int failing);
int		 tree_marked(json_t *attempt_state, enum fp_state *outcome,
		    int *failing);
/* task.close: 1 closed, 0 already closed or finished, -1 not a group. */
int		 tree_close(struct task *);

/*
 * watch.c: callbacks for "task id finished" or "task id yielded items",
 * fired after the commit that made it true.  A fired watch is consumed:
 * its owner must forget the pointer.
 */
enum watch_event {
	WATCH_DONE,
	WATCH_ITEMS,
	WATCH_OUTPUT,		/* fired at once (or as another node shares it) */
};
#define WATCH_EVENTS	3
struct watch;
typedef void	 watch_cb(int64_t id, enum fp_state, void *arg);
struct watch	*watch_add(int64_t id, enum watch_event, watch_cb *, void *arg);
void		 watch_remove(struct watch *);
void		 watch_fire(int64_t id, enum watch_event, enum fp_state);
/* cb(id, arg) for each task something waits on for ev. */
void		 watch_ids(enum watch_event, void (*cb)(int64_t, void *), void *);
size_t		 watch_count(void);
void		 watch_free_all(void);

/*
 * events.c: transitions of tasks and changes of queues, released after
 * the commit that made them true into a ring of the last 10,000 (ids
 * 1, 2, ... of this run), and counted in the task metrics.
 */
struct task;
struct event_view {
	uint64_t	 seq;
	const char	*type;		/* "task.created", "queue.paused"... */
	int64_t		 task;		/* 0: a queue's */
	const char	*queue;
	json_t		*labels;	/* NULL: none */
};
typedef void	 events_cb(void *arg);
void		 events_init(void);
void		 events_free(void);
/* cb(arg) after events were released (one listener: the http layer). */
void		 events_listen(events_cb *cb, void *arg);
/* wait: since ready (started), run: of the attempt that ended; -1: none */
void		 events_task(struct task *, const char *type, double wait,
		    double run);
void		 events_queue(const char *name, const char *type, json_t *info);
uint64_t	 events_first(void);
uint64_t	 events_last(void);		/* 0: none yet */
long long	 events_run_id(void);
int		 events_get(uint64_t seq, struct event_view *);
/* The event as a JSON object (NULL: not in the ring). */
const char	*events_text(uint64_t seq);

/*
 * kind.c and kind-*.c: what each kind of task does, the one place a kind
 * is special.  Adding a kind = its kind-NAME.c, its entry in kinds[] and
 * its fields in proto/fp-submit.c and proto/openrpc.json.
 */
struct task;
struct kind {
	const char	*name;
	/*
	 * Starts an attempt of t (t->kstate may hold what the kind keeps);
	 * its end comes through task_attempt_done, maybe before start
	 * returns.
	 */
	void	(*start)(struct task *);
	/* Ends t's running attempt (task_attempt_done follows, maybe at once). */
	void	(*stop)(struct task *, int graceful);
	/*
	 * At start-up t was running when its daemon died: 1 when the kind
	 * resumed it (a sleep), 0 when what was left of it is gone and the
	 * attempt is lost (the model then retries or fails it).  May block.
	 */
	int	(*recover)(struct task *);
	/* How many more attempts of this kind may start now (its runner's
	 * limit; INT_MAX: no limit). */
	int	(*room)(void);
	/* Keeps only what a waiting task needs (may drop t->spec). */
	void	(*compact)(struct task *);
	/* A running attempt's kept stdout (1) or stderr (2); -1: none. */
	int	(*output)(struct task *, int which, const char **, size_t *);
	/* The same from a finished attempt's result or exception. */
	json_t	*(*stored_output)(json_t *outcome, int which);
	/* Frees t->kstate. */
	void	(*free)(struct task *);
	/* A stop of futured leaves it running: it resumes at the next start. */
	int	 resumes;
	/* Its attempt ends from outside (task_resolve): task.set_result. */
	int	 external;
	/* Its attempt holds no slot of its queue: it only waits. */
	int	 slotless;
	/* A group: its children are its members (tree.c). */
	int	 group;
};
extern const struct kind kind_exec, kind_sleep, kind_http, kind_future,
		    kind_group;
/* NULL-terminated; a kind's index is its scheduling class. */
extern const struct kind *const kinds[];
#define KIND_COUNT	5
const struct kind *kind_find(const char *name);
int		 kind_index(const struct kind *);
int		 kind_room_any(void);

/* task.c: tasks that are not finished live in memory; finished ones only
 * in the store. */
struct queue;

/*
 * What a task's attempts wrote needs kept (stream.c, cluster.c): only
 * exec tasks write, so it is allocated at its first use (task_out).
 */
struct task_out {
	int64_t		 stream_next;	/* seq of the next yielded item */
	size_t		 stream_bytes;
	int		 stream_overflow;
	int		 stream_notify;	/* a notification awaits the commit */
	int64_t		 output_shared[2];	/* stdout, stderr bytes shared */
	int		 output_attempt;	/* whose output is shared */
	int		 output_listed;		/* to be shared soon */
};

/*
 * 100,000 sleeping tasks should cost little: no holes between fields,
 * flags in one word, what only some tasks use behind a pointer.  Keep it
 * within 312 bytes (a 320-byte chunk): a submit's answer (~300 bytes,
 * kept until its batch is sent, rpc.c) leaves a hole of that size among
 * the batch's tasks, which the next batch's tasks fill only if they fit;
 * at 400 bytes they did not, and RSS per sleeping task went 440 -> 770.
 */
struct task {
	int64_t		 id;
	const struct kind *kind;
	enum fp_state	 state;
	int		 refs;
	struct queue	*queue;
	int		 priority;
	int		 attempt;	/* 0 until first start */
	char		*key;
	json_t		*spec;		/* kind fields; NULL once compacted */
	json_t		*labels;
	json_t		*after;		/* array of ids or NULL */
	double		 timeout;	/* < 0: none */
	double		 not_before;	/* the client's; 0: none */
	double		 start_after;	/* not_before or a retry's; 0: now */
	double		 retry_backoff;
	int		 max_retries;
	int		 deps_left;	/* unfinished dependencies */
	double		 created_at;
	double		 started_at;
	double		 finished_at;
	json_t		*result;
	json_t		*exception;	/* final, or the last attempt's */
	json_t		*attempts;	/* outcomes of finished attempts */
	json_t		*attempt_state;	/* the running attempt's, for recovery */

	struct watch	**dep_watches;
	size_t		 heap_index;	/* in its queue's heap, or SIZE_MAX */
	struct timerq_entry timer;	/* delay, retry backoff, a sleep */
	void		*kstate;	/* its kind's own (kind-*.c) */
	struct task_out	*out;		/* NULL until task_out */

	int64_t		 parent;		/* 0: none */
	int		 child_policy;		/* enum fp_child_policy */
	int		 children_open;		/* unfinished, counted here */
	enum fp_state	 waiting_state;		/* its own outcome, then */
	int		 group_failing;		/* 1 a member failed, or: */
#define TREE_EXPIRED	2			/* its timeout passed */
	char		*credential;		/* FUTURED_TOKEN (tcp), or NULL */

	json_t		*limits;		/* {concurrency?, rate_limit?,
						 * rate_key?} or NULL */
	struct limit_slot *parked;		/* waits there: limits.c */
	json_t		*waiting_for;		/* limits_waiting_for's, kept */

	unsigned int	 slot:1;		/* holds a slot of its queue */
	unsigned int	 claimed:1;		/* several nodes: this node's */
	unsigned int	 linked:1;		/* counted by its parent here */
	unsigned int	 children_remote:1;	/* several nodes: it has some */
	unsigned int	 waiting:1;		/* its own part over: tree.c */
	unsigned int	 tree_reading:1;	/* its children being read */
	unsigned int	 tree_again:1;		/* look again after that */
	unsigned int	 limits_held:1;		/* its keys count it running */
	unsigned int	 parked_in:1;		/* 1: a rate's bucket */
	int		 parked_limit;		/* a key's: its own limit */
};
#define TASK_NOT_QUEUED	((size_t)-1)

struct task	*task_create(void);
/* t's output and items kept (struct task_out), allocated when first asked. */
struct task_out	*task_out(struct task *);
/* The client's view of an in-memory task, appended to o (fp_task_write). */
void		 task_write(struct task *, struct fp_text *o);
/*
 * Drops what a waiting task does not need in memory (its kind's compact,
 * empty labels): 100,000 sleeping tasks should cost little.
 */
void		 task_compact(struct task *);
void		 task_ref(struct task *, const char *);
void		 task_unref(struct task *, const char *);
struct task	*task_find(int64_t);
/*
 * The states of n tasks into states[] (-1: no such task): memory for the
 * unfinished, the store for the rest; cb(arg, STORE_OK or STORE_FAILED).
 */
void		 task_states(const int64_t *ids, size_t n, int *states,
		    store_done_cb *cb, void *arg);
/* What the store needs to write tasks (store_open). */
extern const struct store_task_ops task_store_ops;
/* A newly submitted task: stored, kept in memory, and scheduled. */
int		 task_submit(struct task *);
size_t		 task_count_running(void);
/*
 * Moves t to a final state: stores it, then after commit fires watchers and
 * drops the table's reference.  result and exception are stolen.
 */
void		 task_finish(struct task *, enum fp_state, json_t *result,
		    json_t *exception);
/* The same, now: t's children (tree.c) are not waited for. */
void		 task_settle(struct task *, enum fp_state, json_t *result,
		    json_t *exception);
/* Group g's own part is over (closed, or a member failed): it waits. */
void		 task_group_end(struct task *g);
/* t changed: it is written at the commit. */
void		 task_stored(struct task *);
/*
 * A running task's credential over TCP (task-ID-SECRET, made at its first
 * use): it acts as its children's parent, and nothing else.  The task it
 * names while that task runs its own part, or 0.
 */
const char	*task_credential(struct task *);
int64_t		 task_credential_check(const char *token, size_t len);
/* cb(id, task, arg) for each task in memory. */
void		 task_foreach(void (*cb)(int64_t, void *, void *), void *arg);
/* A failed attempt: retried after a backoff when retries are left. */
void		 task_fail(struct task *, json_t *exception);
/* The scheduler picked t: mark it running and start its kind. */
void		 task_start(struct task *);
/*
 * t's attempt is over (kinds call this): a result or an exception
 * (stolen), neither when it was stopped; the queue slot is given back.
 */
void		 task_attempt_done(struct task *, json_t *result,
		    json_t *exception);
/* The running attempt's state for recovery (stolen), stored. */
void		 task_attempt_state(struct task *, json_t *);
/*
 * Cancels t; 1 when it was cancelled, 0 when already finished.  message
 * (NULL: none) is kept in a CancelledError exception.
 */
int		 task_cancel(struct task *, const char *message);
/*
 * Completes t, whose kind is external, with a result or an exception
 * (one of them; stolen), pending or running: 1, or 0 when it had
 * already finished.
 */
int		 task_resolve(struct task *, json_t *result, json_t *exception);
/* The running attempt's kept stdout (1) or stderr (2); -1: none. */
int		 task_output(struct task *, int which, const char **, size_t *);
/*
 * Loads unfinished tasks from the store and schedules them; then (after
 * store_drain) task_recover_status: 0, or -1 when they could not be read.
 */
void		 task_recover(void);
int		 task_recover_status(void);
/*
 * A stored task into memory (NULL when there already, or of an unknown
 * kind); task_resume then recovers it if running, else schedules it,
 * and leaves it alone if it ended meanwhile (a cancel before its claim
 * committed); task_drop forgets a loaded task that was not started (one
 * that ended leaves memory when its end commits).
 */
struct task	*task_load(const struct store_row *);
void		 task_resume(struct task *);
void		 task_drop(struct task *);
/*
 * Gives pending task t, which this node claimed, back to the store for
 * any node to claim (cluster.c: tasks with limits, once this node is no
 * longer the limits node): 0, or -1 when it cannot go now (it runs, or
 * is between two of its waits; fresh: just claimed, not yet scheduled).
 * It leaves memory at once, so that what is asked of it meanwhile goes
 * to the store, and comes back if the store keeps it here after all.
 */
int		 task_release(struct task *, int fresh);
/* Shutdown: terminate running work and record its fate. */
void		 task_shutdown(void);
void		 task_free_all(void);

/* sched.c: which pending task runs next. */
struct queue {
	char		*name;
	int		 concurrency;	/* 0: no limit beyond the kinds' */
	int		 paused;
	int		 running;	/* tasks holding one of its slots */
	int		 tasks;		/* tasks in memory that are its */
	int		 loaded;	/* seen in the store's latest load */
};
#define SCHED_MAX_QUEUES	1000
/*
 * A queue with no settings (no limit, not paused) and no task in memory
 * is freed, so names used once do not count against SCHED_MAX_QUEUES;
 * "default" is always there.
 */
#define SCHED_DEFAULT_QUEUE	"default"
/* Loads the saved queues; sched_init_status as task_recover_status. */
void		 sched_init(void);
int		 sched_init_status(void);
void		 sched_reload(void);
/* Stores q's settings; if that turn's commit fails, memory reloads them. */
void		 sched_queue_save(struct queue *);
void		 sched_free(void);
/* The queue called name, created when new. */
struct queue	*sched_queue(const char *name);
/* A task takes q as its queue, or leaves it (q may be freed then). */
void		 sched_queue_hold(struct queue *q);
void		 sched_queue_release(struct queue *q);
/* Frees q when it has no settings and no task. */
void		 sched_queue_tidy(struct queue *q);
struct queue	*sched_queue_find(const char *name);
size_t		 sched_queue_count(void);
struct queue	*sched_queue_at(size_t);
size_t		 sched_queue_waiting(struct queue *);
/* Applies cfg's [queue.NAME] sections and stores them. */
void		 sched_apply_config(void);
/* A pending task whose dependencies and delay are satisfied. */
void		 sched_ready(struct task *);
/* A pending task: arms its delay, watches its dependencies. */
void		 sched_submit(struct task *);
/* Removes a pending task from its queue (cancel). */
void		 sched_remove(struct task *);
/* Is t ready and waiting here, for a slot or for its limits? */
int		 sched_waits(const struct task *);
/* A slot was freed: start what can start. */
void		 sched_kick(void);
/* t takes, or gives back, a slot of its queue. */
void		 sched_slot_take(struct task *);
void		 sched_slot_give(struct task *);
size_t		 sched_pending(void);
/* Tasks of kind k that wait for a slot here. */
size_t		 sched_waiting_kind(int k);

/*
 * cluster.c: this node among others on one database (store_shared):
 * claims, leases, the others' notifications.  Nothing when not shared.
 */
void		 cluster_init(void);
/* There may be work to claim, or room for it: claim soon. */
void		 cluster_kick(void);
/*
 * t's running attempt wrote output: shared with the other nodes within
 * CLUSTER_OUTPUT_EVERY seconds (and the commit).
 */
#define CLUSTER_OUTPUT_EVERY	0.25
void		 cluster_output(struct task *t);
void		 cluster_free(void);

/* stream.c: items an exec task yields on fd 3, one JSON value a line. */
#define STREAM_MAX_ITEMS	1000000
#define STREAM_MAX_BYTES	(256L * 1024 * 1024)
/* An attempt starts; its first item gets seq next (a retry continues). */
void		 stream_begin(struct task *, int64_t next);
/* One complete line (without its newline). */
void		 stream_line(struct task *, const char *, size_t);
/* A line longer than FP_YIELD_MAX_LINE was dropped. */
void		 stream_line_too_long(struct task *);

/*
 * limits.c: concurrency keys and rate limits.  limits_admit: 1 when the
 * ready task t may start now (a token taken), else 0 and t is parked
 * until a slot or a token frees (then sched_ready).  limits_take and
 * limits_release count a running task in its keys (idempotent).
 */
struct limit_slot;
struct rate_limit {
	char	*name;
	double	 starts;	/* per `per` seconds */
	double	 per;
	double	 burst;		/* tokens a bucket holds */
	int	 seen;		/* in the store's latest load */
};
#define RATE_MAX	1000
void		 limits_init(void);
int		 limits_init_status(void);
void		 limits_reload(void);
void		 limits_free(void);
int		 limits_admit(struct task *);
void		 limits_take(struct task *);
void		 limits_release(struct task *);
void		 limits_unpark(struct task *);
/* What t waits for ({limit, key} or {limit, name, key}), or NULL. */
json_t		*limits_waiting_for(const struct task *);
size_t		 limits_waiting(void);
/* Parked tasks of kind k (cluster.c claims no more than it can start). */
size_t		 limits_waiting_kind(int k);
struct rate_limit *rate_find(const char *name);
/* Sets (stores) a rate limit; NULL: RATE_MAX reached. */
struct rate_limit *rate_set(const char *name, double starts, double per,
		    double burst);
int		 rate_delete(const char *name);
size_t		 rate_count(void);
struct rate_limit *rate_at(size_t);

/* purge.c: deletes finished tasks past --retention. */
void		 purge_start(void);
void		 purge_stop(void);

#endif
