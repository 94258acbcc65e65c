/*
 * futured.h: the daemon's shared structures and per-file prototypes.
 */
#ifndef FUTURED_H
#define FUTURED_H

#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "proto.h"

struct event_base;

#define FUTURED_VERSION		PACKAGE_VERSION

/* config.c: configuration, one table describes every option. */
struct config_queue {
	char	*name;
	int	 has_concurrency;
	int	 concurrency;
	int	 has_paused;
	int	 paused;
};

struct config {
	char	*state_dir;
	char	*socket_path;
	char	*listen;		/* HOST:PORT or NULL */
	char	*listen_host;		/* its parts, once checked */
	char	*listen_port;
	char	*token_file;
	char	*config_file;
	int	 jobs;
	int	 log_level;
	long	 max_request;		/* bytes of one HTTP body */
	long	 max_requests;		/* requests in flight -> 503 */
	long	 max_output;		/* bytes kept per stream */
	double	 max_wait;		/* long-poll cap, seconds */
	double	 kill_grace;		/* SIGTERM -> SIGKILL, seconds */
	double	 drain;			/* running tasks may finish, seconds */
	int	 sync_full;		/* synchronous=FULL */
	double	 retention;		/* seconds finished tasks are kept */
	int	 http_max;		/* transfers at once */
	int	 http_per_host;		/* connections per host, 0: any */
	struct config_queue *queues;	/* [queue.NAME] sections */
	size_t	 nqueues;
};
extern struct config cfg;
extern double start_time;
void	 config_defaults(void);
void	 config_parse_args(int, char **, int *check_only);
void	 config_finish(void);
/* SIGHUP: re-reads file and flags; applies what may change at run time. */
int	 config_reload(void);
void	 config_free(void);
void	 config_mkdir_p(const char *);
void	 config_lock_state_dir(void);
/* The tasks lock (see config_lock_state_dir), for the spawner. */
int	 config_tasks_lock(void);
void	 config_std_fds(void);
void	 config_raise_nofile(void);
/* The open files limit futured was started with (all 0 if unknown). */
const struct rlimit *config_nofile_started(void);

/* log.c */
#define LOG_LEVEL_ERROR	0
#define LOG_LEVEL_WARN	1
#define LOG_LEVEL_INFO	2
#define LOG_LEVEL_DEBUG	3
void	 log_init(int level);
int	 log_level_parse(const char *);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 1, 2)))
void	 fatal(const char *, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void	 fatalx(const char *, ...);

/* xmalloc.c: allocation failure inside the daemon is fatal. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* jansson results that cannot be NULL except on allocation failure. */
json_t	*xjson(json_t *);

/* loop.c */
extern struct event_base *loop_base;
void	 loop_init(void);
int	 loop_run(void);
void	 loop_shutdown(void);
int	 loop_shutting_down(void);
double	 loop_now(void);		/* wall clock, epoch seconds */
double	 loop_mono(void);		/* monotonic seconds: for intervals */
double	 loop_uptime(void);		/* seconds since loop_init */
/* Runs cb(arg) at the start of the next turn (deferred free and the like). */
void	 loop_defer(void (*cb)(void *), void *arg);
/* Runs cb(arg) once, secs from now. */
void	 loop_after(double secs, void (*cb)(void *), void *arg);

/* timerq.c: deadlines sharing one evtimer; entries live in their owner. */
#define TIMERQ_IDLE	((size_t)-1)
struct timerq_entry {
	double	 at;			/* epoch seconds, as given */
	double	 due;			/* the same in loop_mono() time */
	size_t	 index;			/* in the heap, or TIMERQ_IDLE */
	void	(*fire)(void *);
	void	*arg;
};
#define TIMERQ_ENTRY_INIT(e)	((e)->index = TIMERQ_IDLE)
/* (Re)arms e for at; fire(arg) runs once then. */
void	 timerq_add(struct timerq_entry *, double at, void (*)(void *), void *);
void	 timerq_del(struct timerq_entry *);
void	 timerq_free(void);

/* idmap.c: int64 id -> pointer, open addressing. */
struct idmap;
struct idmap	*idmap_create(void);
void		 idmap_free(struct idmap *);
void		*idmap_get(struct idmap *, int64_t);
void		 idmap_put(struct idmap *, int64_t, void *);
void		*idmap_remove(struct idmap *, int64_t);
size_t		 idmap_count(struct idmap *);
/* Calls cb for each entry; cb must not change the map. */
void		 idmap_foreach(struct idmap *, void (*)(int64_t, void *, void *),
		    void *);

/*
 * watch.c: callbacks for "task id finished" or "task id yielded items",
 * fired after the commit that made it true.  A fired watch is consumed:
 * its owner must forget the pointer.
 */
enum watch_event {
	WATCH_DONE,
	WATCH_ITEMS,
	WATCH_OUTPUT,		/* fired at once: output is not stored yet */
};
#define WATCH_EVENTS	3
struct watch;
typedef void	 watch_cb(int64_t id, enum fp_state, void *arg);
struct watch	*watch_add(int64_t id, enum watch_event, watch_cb *, void *arg);
void		 watch_remove(struct watch *);
void		 watch_fire(int64_t id, enum watch_event, enum fp_state);
size_t		 watch_count(void);
void		 watch_free_all(void);

/* task.c: tasks that are not finished live in memory; finished ones only
 * in the store. */
enum task_kind {
	TASK_EXEC,
	TASK_SLEEP,
	TASK_HTTP,
};
/* Scheduling classes: which limit a kind's tasks wait for. */
#define SCHED_FREE	0	/* no limit (sleep) */
#define SCHED_NET	1	/* --http-max transfers */
#define SCHED_PROC	2	/* --jobs processes */
#define SCHED_CLASSES	3

#define PROC_BOOT_ID_LEN	40
struct proc_group {
	pid_t		 pgid;
	uint64_t	 start_time;	/* clock ticks since boot */
	char		 boot_id[PROC_BOOT_ID_LEN];
};

struct exec_proc;
struct fetch;
struct queue;

struct task {
	int64_t		 id;
	enum task_kind	 kind;
	enum fp_state	 state;
	int		 refs;
	struct queue	*queue;
	int		 priority;
	char		*key;
	json_t		*spec;		/* kind fields; NULL once compacted */
	double		 seconds;	/* TASK_SLEEP: its spec's seconds */
	json_t		*sleep_result;	/* TASK_SLEEP: its spec's result */
	json_t		*labels;
	json_t		*after;		/* array of ids or NULL */
	double		 timeout;	/* < 0: none */
	double		 not_before;	/* the client's; 0: none */
	double		 start_after;	/* not_before or a retry's; 0: now */
	double		 retry_backoff;
	int		 attempt;	/* 0 until first start */
	int		 max_retries;
	double		 created_at;
	double		 started_at;
	double		 finished_at;
	json_t		*result;
	json_t		*exception;	/* final, or the last attempt's */
	json_t		*attempts;	/* outcomes of finished attempts */

	int		 deps_left;	/* unfinished dependencies */
	struct watch	**dep_watches;
	size_t		 heap_index;	/* in its queue's heap, or SIZE_MAX */
	struct timerq_entry timer;	/* delay, sleep, retry backoff */
	struct exec_proc *proc;		/* TASK_EXEC while running */
	struct proc_group run;		/* TASK_EXEC: the attempt's group */
	struct fetch	*fetch;		/* TASK_HTTP while running */

	int64_t		 stream_next;	/* seq of the next yielded item */
	size_t		 stream_bytes;
	int		 stream_overflow;
	int		 stream_notify;	/* a notification awaits the commit */
	unsigned	 stored:1;	/* store.c: the row exists */
	unsigned	 dirty:1;	/* store.c: to be written this turn */
};
#define TASK_NOT_QUEUED	((size_t)-1)

const char	*task_kind_name(enum task_kind);
int		 task_kind_parse(const char *, enum task_kind *);
int		 task_sched_class(const struct task *);
struct task	*task_create(void);
/* The client's view of an in-memory task, appended to o (fp_task_write). */
void		 task_write(struct task *, struct fp_text *o);
/*
 * Drops what a waiting task does not need in memory (a sleep's spec, empty
 * labels): 100,000 sleeping tasks should cost little.
 */
void		 task_compact(struct task *);
void		 task_ref(struct task *, const char *);
void		 task_unref(struct task *, const char *);
struct task	*task_find(int64_t);
void		 task_table_add(struct task *);
/* A newly submitted task: dropped again if its insert does not commit. */
void		 task_table_add_new(struct task *);
size_t		 task_count_running(void);
/*
 * Moves t to a final state: stores it, then after commit fires watchers and
 * drops the table's reference.  result and exception are stolen.
 */
void		 task_finish(struct task *, enum fp_state, json_t *result,
		    json_t *exception);
/* A failed attempt: retried after a backoff when retries are left. */
void		 task_fail(struct task *, json_t *exception);
/* The scheduler picked t: mark it running and start its kind. */
void		 task_start(struct task *);
/* Cancels t; 1 when it was cancelled, 0 when already finished. */
int		 task_cancel(struct task *);
/* Loads unfinished tasks from the store and schedules them. */
int		 task_recover(void);
/* Shutdown: terminate running work and record its fate. */
void		 task_shutdown(void);
void		 task_free_all(void);

/* sched.c: which pending task runs next. */
struct queue {
	char		*name;
	int		 concurrency;	/* 0: no limit beyond --jobs */
	int		 paused;
	int		 running;
	struct task	**heap;
	size_t		 heap_len;
	size_t		 heap_cap;
};
#define SCHED_MAX_QUEUES	1000
int		 sched_init(void);
void		 sched_free(void);
/* The queue called name, created when new. */
struct queue	*sched_queue(const char *name);
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
/* A slot was freed: start what can start. */
void		 sched_kick(void);
size_t		 sched_pending(void);

/*
 * proc.c: process groups identified across restarts (pgid, the leader's
 * start time, the boot id), so that a later futured ends only its own.
 */
int		 proc_start_time(pid_t, uint64_t *ticks);
int		 proc_boot_id(char buf[PROC_BOOT_ID_LEN]);
/* Is any process of the group left (that we may signal)? */
int		 proc_group_alive(pid_t pgid);
/* Is g still alive, and surely the group that was recorded? */
int		 proc_group_ours(const struct proc_group *g);
/*
 * Ends g if it is ours: SIGTERM, SIGKILL after grace; returns once it is
 * gone (blocking: used at start, before anything is served).
 */
int		 proc_group_end(const struct proc_group *g, double grace);

/* spawner.c: main() of `futured --spawner` (see spawn-proto.h). */
int		 spawner_main(int, char **);

/*
 * spawn.c: children are started and ended by the spawner process.  The
 * callbacks of one child: started, then exited (once no process of its
 * group is left); or failed; or lost when the spawner died (its group has
 * been killed).
 */
struct spawn_cmd {
	const char	*cwd;		/* NULL: futured's */
	const char	*path;		/* the task's PATH, NULL: futured's */
	char *const	*argv;
	char *const	*envp;
	int		 fds[4];	/* stdin, stdout, stderr, yield: taken */
};
struct spawn_ops {
	void	(*started)(void *arg, pid_t pid, uint64_t started);
	void	(*failed)(void *arg, int error, int what);
	void	(*exited)(void *arg, int status);
	void	(*lost)(void *arg);
};
/*
 * Starts the spawner, `exe --spawner ...` (futured's own binary, or the
 * built one in unit tests); it holds lock_fd (the tasks lock) while it
 * lives.
 */
int		 spawn_init(int lock_fd, const char *exe);
/* Asks for a child; the answer comes through ops.  Returns its tag. */
uint64_t	 spawn_run(const struct spawn_cmd *, const struct spawn_ops *,
		    void *arg);
/* Ends a child's group: SIGTERM then SIGKILL after grace, or now. */
void		 spawn_stop(uint64_t tag, int now, double grace);
/* From the SIGCHLD reaper: the spawner itself may have died. */
void		 spawn_child_exited(pid_t, int status);
/* Children asked for and not yet exited. */
size_t		 spawn_count(void);
void		 spawn_free(void);

/* exec.c: child processes. */
int		 exec_start(struct task *);
void		 exec_kill(struct task *, int graceful);
size_t		 exec_running(void);
/*
 * Recovery: ends the process group t's last attempt recorded (t->run), if
 * it is still there, before t is retried or failed (blocking).
 */
void		 exec_recover(struct task *);
/* A running task's kept stdout (which 1) or stderr (2); -1: not running. */
int		 exec_output(struct task *, int which, const char **, size_t *);

/* stream.c: items an exec task yields on fd 3, one JSON value a line. */
#define STREAM_MAX_ITEMS	1000000
#define STREAM_MAX_BYTES	(256L * 1024 * 1024)
void		 stream_begin(struct task *);
/* One complete line (without its newline). */
void		 stream_line(struct task *, const char *, size_t);
/* A line longer than FP_YIELD_MAX_LINE was dropped. */
void		 stream_line_too_long(struct task *);

/* purge.c: deletes finished tasks past --retention. */
void		 purge_start(void);
void		 purge_stop(void);

/* fetch.c: the http kind, libcurl's multi-socket API on the loop. */
int		 fetch_init(void);
void		 fetch_cleanup(void);
/* Applies cfg's http limits (after a reload). */
void		 fetch_configure(void);
int		 fetch_start(struct task *);
void		 fetch_stop(struct task *);
size_t		 fetch_running(void);

/* sleep.c */
int		 sleep_start(struct task *);
void		 sleep_resume(struct task *);

/* http-server.c: the listening sockets and the TCP token. */
int		 http_server_init(void);
void		 http_server_free(void);
/* A descriptor was freed: accepting resumes if it had paused. */
void		 http_server_resume(void);
/* Does an Authorization header value carry the token? */
int		 http_server_token_ok(const char *authorization);
void		 http_stop_accepting(void);
/* ["unix:PATH", "tcp:HOST:PORT", ...]: where futured listens. */
json_t		*http_listen_info(void);

/* http.c: HTTP/1.1 connections; requests go to rpc_handle. */
int		 http_init(void);
void		 http_free(void);
/* A new connection on a listener (need_auth: TCP, the token). */
void		 http_conn_accept(int fd, int need_auth);
/* Requests being answered; open connections. */
size_t		 http_busy(void);
size_t		 http_connections(void);

/* rpc.c: a batch is one HTTP request's worth of calls. */
struct rpc_batch;
struct rpc_call;
enum rpc_ret {
	RPC_DONE,
	RPC_WAIT,
};
typedef enum rpc_ret rpc_handler(struct rpc_call *);

struct rpc_call {
	struct rpc_batch	*batch;
	size_t			 index;
	json_t			*id;		/* NULL: notification */
	json_t			*params;
	const char		*method;
	int			 replied;
	void			*wait;		/* rpc.c: the deadline */
	void			*state;		/* the handler's own */
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

/* rpc-task.c, rpc-future.c, rpc-admin.c: method handlers. */
enum rpc_ret	 rpc_task_submit(struct rpc_call *);
enum rpc_ret	 rpc_task_get(struct rpc_call *);
enum rpc_ret	 rpc_task_cancel(struct rpc_call *);
enum rpc_ret	 rpc_task_list(struct rpc_call *);
enum rpc_ret	 rpc_future_result(struct rpc_call *);
enum rpc_ret	 rpc_future_exception(struct rpc_call *);
enum rpc_ret	 rpc_future_wait(struct rpc_call *);
enum rpc_ret	 rpc_stream_read(struct rpc_call *);
enum rpc_ret	 rpc_output_read(struct rpc_call *);
enum rpc_ret	 rpc_admin_info(struct rpc_call *);
enum rpc_ret	 rpc_admin_discover(struct rpc_call *);
enum rpc_ret	 rpc_admin_queue_list(struct rpc_call *);
enum rpc_ret	 rpc_admin_queue_set(struct rpc_call *);
/* Answers LimitExceeded and returns 1 when name would be one queue too many. */
int		 rpc_queue_limit(struct rpc_call *, const char *name);

/* notify.c: systemd integration (no-ops without libsystemd). */
void		 notify_ready(void);
void		 notify_stopping(void);
/* Asks systemd for seconds more before it escalates a stop. */
void		 notify_extend(double seconds);
void		 notify_reloading(void);
/* STATUS= with the counts; WATCHDOG=1 when systemd asked for it. */
void		 notify_start_status(void);
void		 notify_stop_status(void);
/* Listening sockets handed over by socket activation; 0 when none. */
int		 notify_listen_fds(int **fds);

#endif
