/*
 * http-metrics.c: GET /metrics, in Prometheus' text format.
 *
 * The counters and histograms are kept by the modules that see what they
 * count (events.c: tasks; store.c: commits; loop.c: turns; here: HTTP).
 * The gauges are read at each scrape: tasks per state from the store
 * (counted in memory with sqlite, by a query on PostgreSQL, so a scrape
 * answers when that read does), queues from the scheduler, connections,
 * and the process's own numbers from /proc.
 */
#include <sys/resource.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "http/http-parse.h"

#define METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct metrics_scrape {
	struct http_conn	*conn;
	int64_t			 counts[FP_STATE_COUNT];
	int64_t			 unretrieved;
};

static struct metric	*g_tasks, *g_unretrieved, *g_queue_tasks;
static struct metric	*g_queue_paused, *g_queue_limit;
static struct metric	*g_conns, *g_requests, *g_calls, *g_waiters;
static struct metric	*g_build, *g_cpu, *g_rss, *g_vsz, *g_fds;
static struct metric	*g_max_fds, *g_start;

static struct metric *
gauge(const char *name, const char *help, const char *labels)
{
	return metric_new(METRIC_GAUGE, name, help, labels, NULL, 0);
}

void
http_metrics_init(void)
{
	if (g_tasks != NULL)
		return;
	g_tasks = gauge("futured_tasks", "Tasks in the store, by state",
	    "state");
	g_unretrieved = gauge("futured_tasks_failed_unretrieved",
	    "Failed tasks whose exception no client has retrieved", NULL);
	g_queue_tasks = gauge("futured_queue_tasks",
	    "Unfinished tasks this node holds, by queue and state",
	    "queue,state");
	g_queue_paused = gauge("futured_queue_paused",
	    "1 when the queue is paused", "queue");
	g_queue_limit = gauge("futured_queue_concurrency_limit",
	    "The queue's concurrency limit (0: none)", "queue");
	g_conns = gauge("futured_http_connections", "Open HTTP connections",
	    NULL);
	g_requests = gauge("futured_http_requests_in_flight",
	    "HTTP requests being answered (long-polls included)", NULL);
	g_calls = gauge("futured_rpc_calls_in_flight",
	    "JSON-RPC calls not yet answered", NULL);
	g_waiters = gauge("futured_watches",
	    "Long-polls and dependencies waiting on a task", NULL);
	g_build = gauge("futured_build_info", "futured's version", "version");
	g_cpu = metric_new(METRIC_COUNTER, "process_cpu_seconds_total",
	    "User and system CPU time spent, seconds", NULL, NULL, 0);
	g_rss = gauge("process_resident_memory_bytes",
	    "Resident memory size, bytes", NULL);
	g_vsz = gauge("process_virtual_memory_bytes",
	    "Virtual memory size, bytes", NULL);
	g_fds = gauge("process_open_fds", "Open file descriptors", NULL);
	g_max_fds = gauge("process_max_fds",
	    "Limit of open file descriptors", NULL);
	g_start = gauge("process_start_time_seconds",
	    "Start time of the process since the epoch, seconds", NULL);
}

static void
metrics_queues(void)
{
	struct queue	*q;
	const char	*v[2];
	size_t		 i;

	metric_reset(g_queue_tasks);
	metric_reset(g_queue_paused);
	metric_reset(g_queue_limit);
	for (i = 0; i < sched_queue_count(); i++) {
		q = sched_queue_at(i);
		v[0] = q->name;
		v[1] = "pending";
		metric_set(g_queue_tasks, v, q->tasks - q->running);
		v[1] = "running";
		metric_set(g_queue_tasks, v, q->running);
		metric_set(g_queue_paused, v, q->paused);
		metric_set(g_queue_limit, v, q->concurrency);
	}
}

static size_t
metrics_open_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	size_t		 n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;	/* not the one reading it */
}

static void
metrics_process(void)
{
	struct rusage	ru;
	struct rlimit	rl;
	unsigned long	size = 0, resident = 0;
	FILE		*f;
	long		 page = sysconf(_SC_PAGESIZE);
	const char	*version[1] = { FUTURED_VERSION };

	metric_set(g_build, version, 1);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		metric_set(g_cpu, NULL, ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%lu %lu", &size, &resident) == 2) {
			metric_set(g_vsz, NULL, (double)size * page);
			metric_set(g_rss, NULL, (double)resident * page);
		}
		fclose(f);
	}
	metric_set(g_fds, NULL, (double)metrics_open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metric_set(g_max_fds, NULL, rl.rlim_cur == RLIM_INFINITY ? -1 :
		    (double)rl.rlim_cur);
	metric_set(g_start, NULL, start_time);
}

static void
metrics_counts_cb(void *arg, int status)
{
	static const char	 oom[] = "{\"status\":503,\"error\":"
	    "\"Service Unavailable\",\"reason\":\"out of memory\"}";
	struct metrics_scrape	*sc = arg;
	struct fp_text		 t = { 0 };
	const char		*v[1];
	int			 i;

	metric_reset(g_tasks);
	if (status == STORE_OK) {
		for (i = 0; i < FP_STATE_COUNT; i++) {
			v[0] = fp_state_name((enum fp_state)i);
			metric_set(g_tasks, v, (double)sc->counts[i]);
		}
		metric_set(g_unretrieved, NULL, (double)sc->unretrieved);
	}
	metrics_queues();
	metric_set(g_conns, NULL, (double)http_connections());
	metric_set(g_requests, NULL, (double)http_busy());
	metric_set(g_calls, NULL, (double)rpc_in_flight());
	metric_set(g_waiters, NULL, (double)watch_count());
	metrics_process();
	metrics_write(&t);
	if (t.failed)
		http_respond(sc->conn, 503, "application/json", NULL, oom,
		    strlen(oom));
	else
		http_respond(sc->conn, 200, METRICS_TYPE,
		    "Cache-Control: no-store\r\n", t.buf, t.len);
	fp_text_clear(&t);
	free(sc);
}

void
http_metrics_serve(struct http_conn *c)
{
	struct metrics_scrape	*sc = xcalloc(1, sizeof *sc);

	sc->conn = c;
	store_task_counts(sc->counts, &sc->unretrieved, metrics_counts_cb, sc);
}
