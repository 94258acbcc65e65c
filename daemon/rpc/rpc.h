/*
 * rpc.h: JSON-RPC dispatch and the method handlers.
 */
#ifndef FUTURED_RPC_H
#define FUTURED_RPC_H

#include "model/model.h"

/* rpc.c: a batch is one HTTP request's worth of calls. */
struct rpc_batch;
struct rpc_call;
struct rpc_deadline;
struct rpc_submit;
struct future_wait;
struct stream_wait;
struct output_wait;
struct queue_op;
struct task_delete;
struct sched_call_state;

/* A method handler: it answers c now or later, exactly once. */
typedef void	 rpc_handler(struct rpc_call *);

/* rpc-methods.c: the one table of methods (proto/openrpc.json says more). */
struct rpc_method {
	const char	*name;
	rpc_handler	*handler;
	int		 while_stopping;	/* answered during shutdown */
	int		 changes;	/* refused to read-only callers */
};
const struct rpc_method *rpc_method_find(const char *name);
/* The OpenRPC document (proto/openrpc.json), parsed once; borrowed. */
json_t		*rpc_openrpc(void);
/*
 * What the document says of a method's params that can be checked for
 * every method alike: unknown names, required ones.  -1 with inv set.
 */
int		 rpc_params_check(const struct rpc_method *, json_t *params,
		    struct fp_invalid *inv);
void		 rpc_methods_free(void);
void		 rpc_task_free(void);

struct rpc_call {
	struct rpc_batch	*batch;
	size_t			 index;
	json_t			*id;		/* NULL: notification */
	json_t			*params;
	const char		*method;
	int			 replied;
	int			 turn_failed;	/* its dispatch's commit failed */
	struct rpc_deadline	*deadline;	/* while it waits (rpc.c) */
	union {				/* the handler's, while it waits */
		int64_t		 task_id;	/* task.get */
		struct rpc_finish *finish;	/* task.cancel, set_result */
		struct rpc_submit *submit;
		struct future_wait *future;
		struct stream_wait *stream;
		struct output_wait *output;
		struct admin_counts *counts;	/* daemon.info */
		json_t		*queues;	/* queue.list */
		struct queue_op	*queue_op;	/* queue.set, queue.delete */
		struct task_delete *del;	/* task.delete */
		struct sched_call_state *sched;	/* schedule.* */
	} state;
	struct fp_text		 reply;		/* the response, once settled */
};
/*
 * The answer to one HTTP body: the JSON text (taken: free it), or NULL
 * when the client went away (rpc_batch_gone).  len 0: an empty body.
 */
typedef void	 rpc_reply_cb(void *arg, char *body, size_t len);
/*
 * Parses and dispatches body; calls reply(arg, ...) exactly once, never
 * from inside rpc_handle, when every call has replied and the store has
 * committed.  The batch stays valid until then.
 */
struct rpc_batch *rpc_handle(const char *body, size_t len, rpc_reply_cb *reply,
		    void *arg);
/* The same; read_only: methods that change anything answer ReadOnly. */
struct rpc_batch *rpc_handle_as(const char *body, size_t len, int read_only,
		    rpc_reply_cb *reply, void *arg);
/*
 * The same for task as_task's credential: it submits its children (parent
 * as_task), reads, and cancels, closes or completes its own children;
 * other calls answer ReadOnly.
 */
struct rpc_batch *rpc_handle_task(const char *body, size_t len,
		    int64_t as_task, rpc_reply_cb *reply, void *arg);
/* The client went away: waiting calls answer now, and nothing is sent. */
void		 rpc_batch_gone(struct rpc_batch *);
void		 rpc_reply(struct rpc_call *, json_t *result);
/*
 * The same, for a result written as text: write it into the text that
 * rpc_result_begin returns, then call rpc_result_end.  A handler that
 * cannot finish it clears the text and answers with rpc_error instead.
 */
struct fp_text	*rpc_result_begin(struct rpc_call *);
void		 rpc_result_end(struct rpc_call *);
void		 rpc_error(struct rpc_call *, int code, json_t *data);
void		 rpc_invalid(struct rpc_call *, const struct fp_invalid *);
int		 rpc_is_notification(struct rpc_call *);
/* The call waits: fire(c) runs after secs unless it replied before. */
void		 rpc_wait(struct rpc_call *, double secs,
		    void (*fire)(struct rpc_call *));
/*
 * The call waits until task id does `news` or finishes (answer(c, 0)), or
 * for secs (answer(c, 1)); answer may park it again.
 */
void		 rpc_park(struct rpc_call *, int64_t id, enum watch_event news,
		    double secs, void (*answer)(struct rpc_call *, int timed_out));
size_t		 rpc_in_flight(void);
/* Notifications refused since start (each was logged). */
int64_t		 rpc_refused_notifications(void);
/* Answers every waiting long-poll now (shutdown). */
void		 rpc_wake_all(void);

/* task.retry's new task: params (stolen) go through task.submit's path. */
void		 rpc_task_resubmit(struct rpc_call *, json_t *params);
/* Answers NoSuchTask for id, or StoreError for a read that failed. */
void		 rpc_task_missing(struct rpc_call *, int status, int64_t id);

/*
 * schedules.c: schedules in memory (all of them, by name), their timers
 * and firings.  Work on one schedule runs one op at a time
 * (schedule_op; the op ends with schedule_done).
 */
enum schedule_outcome {
	SCHEDULE_FIRED,
	SCHEDULE_SKIPPED,
	SCHEDULE_BUFFERED,
	SCHEDULE_FAILED,	/* the store, or the task was refused */
	SCHEDULE_CHANGED,	/* another node changed it: try again */
	SCHEDULE_GONE,		/* deleted meanwhile */
};
struct sched_op;
struct cron;
struct schedule {
	char		*name;
	json_t		*def;		/* fp_schedule_def's */
	struct cron	*cron;		/* NULL: every */
	const char	*tz;		/* in def */
	int64_t		 every;
	double		 start_at, end_at, jitter, window;
	int		 overlap, catchup;
	/* its state, stored */
	int		 paused;
	double		 created_at, updated_at;
	int64_t		 next_at;	/* the next firing to handle; 0: none */
	int64_t		*firing;	/* taken, tasks not made (< 0: a
					 * trigger's, in -milliseconds) */
	size_t		 n_firing;
	double		 taken_at;
	double		 last_at;
	int64_t		 last_task;
	const char	*last_error;	/* why the last firing made no task */
	char		*last_error_buf;
	int64_t		 buffered;
	int64_t		 fired, skipped, missed;
	int64_t		 version;
	/* memory only */
	double		 retry_at;	/* a failed write: not before */
	int		 stale;		/* its row moved on: read it again */
	struct timerq_entry timer;
	struct watch	*watch;		/* on last_task, while buffered */
	int		 busy;
	struct sched_op	*ops;		/* waiting for busy to clear */
	int		 gone;		/* deleted: freed once not busy */
	int		 seen;		/* in the latest load */
};
typedef void	 schedule_fired_cb(void *arg, enum schedule_outcome,
		    int64_t task);
void		 schedules_init(void);
int		 schedules_init_status(void);
/* Reads every schedule again (several nodes); done(arg) may be NULL. */
void		 schedules_refresh(void (*done)(void *), void *arg);
void		 schedules_free(void);
struct schedule	*schedule_find(const char *name);
size_t		 schedule_count(void);
struct schedule	*schedule_at(size_t);
void		 schedule_op(struct schedule *,
		    void (*run)(struct schedule *, void *), void *arg);
void		 schedule_done(struct schedule *);
/* A new schedule, not stored yet; NULL when def's cron does not parse. */
struct schedule	*schedule_create(const char *name, json_t *def, int paused);
void		 schedule_add(struct schedule *);	/* stored: armed */
void		 schedule_destroy(struct schedule *);	/* never stored */
/* def (NULL: kept) and paused (-1: kept) into s; -1: cron refused. */
int		 schedule_change(struct schedule *, json_t *def, int paused);
/* s's state as stored, and back (a write failed). */
json_t		*schedule_stored_state(const struct schedule *);
void		 schedule_restore(struct schedule *, json_t *def,
		    json_t *state);
/* Writes s's state (and def) over its version; version + 1 on STORE_OK. */
void		 schedule_write(struct schedule *, json_t *def,
		    store_done_cb *, void *arg);
void		 schedule_gone(struct schedule *);
void		 schedule_trigger(struct schedule *, int overlap,
		    schedule_fired_cb *, void *arg);
int64_t		 schedule_next(const struct schedule *, int64_t after);
/* The client's view; last_state: of its last task (-1: unknown). */
json_t		*schedule_json(const struct schedule *, int last_state);

/*
 * rpc-task.c, rpc-finish.c, rpc-future.c, rpc-stream.c, rpc-output.c, rpc-admin.c,
 * rpc-queue.c, rpc-manage.c.
 */
rpc_handler	 rpc_task_submit, rpc_task_get, rpc_task_list;
rpc_handler	 rpc_task_cancel, rpc_task_set_result, rpc_task_set_exception;
rpc_handler	 rpc_task_close;
rpc_handler	 rpc_future_result, rpc_future_exception, rpc_future_wait;
rpc_handler	 rpc_future_as_completed;
rpc_handler	 rpc_stream_read, rpc_output_read;
rpc_handler	 rpc_admin_info, rpc_admin_discover, rpc_admin_login;
rpc_handler	 rpc_queue_list, rpc_queue_set, rpc_queue_delete;
rpc_handler	 rpc_manage_retry, rpc_manage_delete;
rpc_handler	 rpc_schedule_create, rpc_schedule_get, rpc_schedule_list;
rpc_handler	 rpc_schedule_update, rpc_schedule_delete, rpc_schedule_pause;
rpc_handler	 rpc_schedule_resume, rpc_schedule_trigger;
rpc_handler	 rpc_rate_set, rpc_rate_list, rpc_rate_delete;
/* Answers LimitExceeded and returns 1 when name would be one queue too many. */
int		 rpc_queue_limit(struct rpc_call *, const char *name);
/*
 * Where futured listens, for daemon.info (["unix:PATH", ...]; a new
 * reference): the transport registers it, since rpc cannot call it.
 */
void		 rpc_admin_set_listen(json_t *(*listen)(void));
/* ui.login's answer {code, path, urls, expires_at}, made by the transport. */
void		 rpc_admin_set_login(json_t *(*login)(void));

/*
 * A long-poll's timeout param (absent: 0, null: the cap), 0 for a
 * notification (nobody would read the answer); -1 with inv set.
 */
int		 rpc_poll_timeout(struct rpc_call *, double *timeout,
		    struct fp_invalid *inv);

#endif
