/*
 * base.h: the base layer: configuration, logging, allocation, the event
 * loop and its clocks, timers, id maps, process identity.  Everything
 * above it may use it; it uses nothing above it.
 */
#ifndef FUTURED_BASE_H
#define FUTURED_BASE_H

#include "config.h"

#include <sys/types.h>
#include <sys/time.h>
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
	char	*listen_url;		/* how a task reaches it: http-server.c */
	char	*token_file;
	char	*store;			/* sqlite:PATH, postgresql://... */
	char	*store_schema;		/* PostgreSQL's schema */
	char	*node;			/* this node's name there */
	double	 lease;			/* its lease, seconds */
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
	int	 metrics_public;	/* /metrics on TCP without the token */
	int	 ui_read_only;		/* dashboard sessions only read */
	struct config_queue *queues;	/* [queue.NAME] sections */
	size_t	 nqueues;
};
extern struct config cfg;
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
/* Is given (len bytes) want?  In time independent of where they differ. */
int	 secret_equal(const char *want, const char *given, size_t len);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* jansson results that cannot be NULL except on allocation failure. */
json_t	*xjson(json_t *);

/* loop.c: the event base, clocks, timers, the stopping flag. */
extern struct event_base *loop_base;
extern double start_time;		/* wall clock at loop_init */
void	 loop_init(void);
int	 loop_run(void);
/* Ends loop_run after the current turn. */
void	 loop_exit(void);
/* Marks futured as stopping; 0 when it already was. */
int	 loop_stop_begin(void);
int	 loop_shutting_down(void);
double	 loop_now(void);		/* wall clock, epoch seconds */
double	 loop_mono(void);		/* monotonic seconds: for intervals */
double	 loop_uptime(void);		/* seconds since loop_init */
/* secs (clamped at 0) as a timeval; arms an evtimer secs from now. */
struct timeval loop_timeval(double secs);
struct event;
void	 loop_timer_add(struct event *, double secs);
/* Runs cb(arg) once, secs from now. */
void	 loop_after(double secs, void (*cb)(void *), void *arg);
/*
 * Work that can wait for the next loop turn has a budget a turn: a few
 * milliseconds, and a few hundred rows for the turn's commit to write
 * (writing them costs as much again).  New work (a batch's calls,
 * starting ready tasks, due timers) shares one; the work that waited for
 * commits (replies, watchers, claimed tasks) has its own, so new work
 * never starves it.  loop_work_over says a budget is spent; each kind
 * still does a little each turn.  The store counts the rows with
 * loop_work_rows.
 */
enum loop_work {
	LOOP_WORK_NEW,
	LOOP_WORK_DONE,
};
#define LOOP_WORK_SECS	0.003
#define LOOP_WORK_ROWS	512
int	 loop_work_over(enum loop_work);
void	 loop_work_rows(enum loop_work, int);
/* 1 the first time in a turn it is called with *turn, which it marks. */
int	 loop_first_in_turn(unsigned long *turn);

/*
 * metrics.c: counters, gauges and histograms with labels (at most 4),
 * written in Prometheus' text format.  A counter's name ends in _total;
 * values are given in the order of the labels ("kind,queue").
 */
enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };
struct metric;
#define METRIC_BUCKETS_SECONDS		18
#define METRIC_BUCKETS_TASK_SECONDS	16
extern const double metric_buckets_seconds[METRIC_BUCKETS_SECONDS];
extern const double metric_buckets_task_seconds[METRIC_BUCKETS_TASK_SECONDS];
struct metric	*metric_new(enum metric_type, const char *name,
		    const char *help, const char *labels,
		    const double *buckets, int nbuckets);
void		 metric_add(struct metric *, const char *const *values,
		    double by);
void		 metric_set(struct metric *, const char *const *values,
		    double v);
void		 metric_observe(struct metric *, const char *const *values,
		    double v);
void		 metric_reset(struct metric *);
void		 metrics_write(struct fp_text *);
void		 metrics_free(void);

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

#define PROC_BOOT_ID_LEN	40
struct proc_group {
	pid_t		 pgid;
	uint64_t	 start_time;	/* clock ticks since boot */
	char		 boot_id[PROC_BOOT_ID_LEN];
};

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

/*
 * cron.c: 5-field cron expressions in a time zone.  A struct cron is the
 * caller's, from cron_parse to cron_free.  Fields match the zone's wall
 * clock; for the hours daylight saving time skips or repeats, see cron.c.
 * Each call leaves TZ and glibc's zone as it found them.
 */
struct cron;
/* NULL with a message in err (e.g. "field 2 (hour): 24 is out of range 0-23") */
struct cron	*cron_parse(const char *expr, char *err, size_t errlen);
void		 cron_free(struct cron *);
/* 1 when the hour field follows the clock: "*", with or without a step. */
int		 cron_hourly(const struct cron *);
/*
 * The first firing strictly after `after` (Unix seconds) in zone tz (NULL
 * or "UTC": UTC); -1 when none within 8 years (e.g. "0 0 30 2 *") or when
 * tz is not valid.
 */
int64_t		 cron_next(const struct cron *, const char *tz, int64_t after);
/*
 * 1 when tz names a zone: "UTC", or an IANA name with a zone file under
 * /usr/share/zoneinfo (no "..", no leading '/', only [A-Za-z0-9_+/-],
 * at most 64 bytes).
 */
int		 tz_valid(const char *tz);
/* The zone's UTC offset in seconds at instant t (0 for an invalid zone). */
long		 tz_offset(const char *tz, int64_t t);

#endif
