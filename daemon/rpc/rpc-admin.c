/* rpc-admin.c: daemon.info, rpc.discover, queue.list and queue.set. */
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

static json_t	*(*rpc_listen)(void);

void
rpc_admin_set_listen(json_t *(*listen)(void))
{
	rpc_listen = listen;
}

/* daemon.info's counts, while the store counts them. */
struct admin_counts {
	int64_t	state[FP_STATE_COUNT];
	int64_t	unretrieved;
	json_t	*nodes;		/* several nodes: the live ones */
};

static json_t *
rpc_admin_counts(const struct admin_counts *ac)
{
	json_t	*o = xjson(json_object());
	int	 i;

	for (i = 0; i < FP_STATE_COUNT; i++)
		json_object_set_new(o, fp_state_name((enum fp_state)i),
		    json_integer(ac->state[i]));
	return o;
}

static json_t *
rpc_admin_limits(void)
{
	return xjson(json_pack("{s:i,s:I,s:I,s:I,s:f,s:f,s:f}",
	    "jobs", cfg.jobs,
	    "max_request", (json_int_t)cfg.max_request,
	    "max_requests", (json_int_t)cfg.max_requests,
	    "max_output", (json_int_t)cfg.max_output,
	    "max_wait", cfg.max_wait,
	    "kill_grace", cfg.kill_grace,
	    "retention", cfg.retention));
}

/* Several nodes: this one's name and the live ones. */
static json_t *
rpc_admin_cluster(struct admin_counts *ac)
{
	json_t	*o;

	if (!store_shared())
		return json_null();
	o = json_pack("{s:s,s:f,s:O}", "node", store_node(), "lease",
	    store_lease(), "nodes", ac->nodes != NULL ? ac->nodes :
	    json_array());
	return o;
}

static void
rpc_admin_info_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct admin_counts	*ac = c->state.counts;
	char			 started[FP_TIME_LEN];

	c->state.counts = NULL;
	if (status != STORE_OK) {
		json_decref(ac->nodes);
		free(ac);
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot count the tasks"));
		return;
	}
	rpc_reply(c, json_pack("{s:s,s:i,s:i,s:f,s:s,s:s,s:s,s:o,s:o,s:I,"
	    "s:I,s:I,s:I,s:o,s:i,s:s,s:o}",
	    "version", FUTURED_VERSION,
	    "protocol_version", FP_PROTO_VERSION,
	    "pid", (int)getpid(),
	    "uptime", loop_uptime(),
	    "started_at", fp_time_format(start_time, started),
	    "state_dir", cfg.state_dir,
	    "database", store_backend_name(),
	    "listen", rpc_listen != NULL ? rpc_listen() : json_array(),
	    "counts", rpc_admin_counts(ac),
	    "unretrieved", (json_int_t)ac->unretrieved,
	    "running_processes", (json_int_t)exec_running(),
	    "waiters", (json_int_t)watch_count(),
	    "refused_notifications", (json_int_t)rpc_refused_notifications(),
	    "limits", rpc_admin_limits(),
	    "schema_version", store_schema_version(),
	    "synchronous", cfg.sync_full ? "full" : "normal",
	    "cluster", rpc_admin_cluster(ac)));
	json_decref(ac->nodes);
	free(ac);
}

static void
rpc_admin_nodes_cb(void *arg, int status, json_t *nodes)
{
	struct rpc_call		*c = arg;
	struct admin_counts	*ac = c->state.counts;

	if (status != STORE_OK) {
		rpc_admin_info_cb(c, status);
		return;
	}
	ac->nodes = json_incref(nodes);
	store_task_counts(ac->state, &ac->unretrieved, rpc_admin_info_cb, c);
}

void
rpc_admin_info(struct rpc_call *c)
{
	struct admin_counts	*ac = xcalloc(1, sizeof *ac);

	c->state.counts = ac;
	if (store_shared())
		store_nodes(rpc_admin_nodes_cb, c);
	else
		store_task_counts(ac->state, &ac->unretrieved,
		    rpc_admin_info_cb, c);
}

/* The OpenRPC document (proto/openrpc.json), with this futured's versions. */
void
rpc_admin_discover(struct rpc_call *c)
{
	json_t	*doc = json_deep_copy(rpc_openrpc()), *info;

	info = json_object_get(xjson(doc), "info");
	json_object_set_new(info, "version", json_string(FUTURED_VERSION));
	json_object_set_new(info, "x-protocol-version",
	    json_integer(FP_PROTO_VERSION));
	rpc_reply(c, doc);
}

static json_t *
rpc_queue_json(struct queue *q)
{
	return xjson(json_pack("{s:s,s:i,s:b,s:i,s:I}", "name", q->name,
	    "concurrency", q->concurrency, "paused", q->paused,
	    "running", q->running,
	    "waiting", (json_int_t)sched_queue_waiting(q)));
}

static void
rpc_queue_add(json_t *a, const char *name, int concurrency, int paused,
    int64_t running, int64_t waiting)
{
	json_array_append_new(a, xjson(json_pack("{s:s,s:i,s:b,s:I,s:I}",
	    "name", name, "concurrency", concurrency, "paused", paused,
	    "running", (json_int_t)running, "waiting", (json_int_t)waiting)));
}

/* A queue as every node sees it (several nodes: from the database). */
static void
rpc_queue_stat(void *arg, const char *name, int concurrency, int paused,
    int64_t running, int64_t waiting)
{
	struct rpc_call	*c = arg;

	rpc_queue_add(c->state.queues, name, concurrency, paused, running,
	    waiting);
}

/* Queues known here that hold no task and were never saved. */
static void
rpc_queue_stats_cb(void *arg, int status)
{
	struct rpc_call	*c = arg;
	json_t		*a = c->state.queues, *q;
	struct queue	*lq;
	size_t		 i, j;

	c->state.queues = NULL;
	if (status != STORE_OK) {
		json_decref(a);
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "cannot read the queues"));
		return;
	}
	for (i = 0; i < sched_queue_count(); i++) {
		lq = sched_queue_at(i);
		json_array_foreach(a, j, q)
			if (strcmp(json_string_value(json_object_get(q, "name")),
			    lq->name) == 0)
				break;
		if (j == json_array_size(a))
			rpc_queue_add(a, lq->name, lq->concurrency, lq->paused,
			    0, 0);
	}
	rpc_reply(c, json_pack("{s:o}", "queues", a));
}

void
rpc_admin_queue_list(struct rpc_call *c)
{
	static const char *const none[] = { NULL };
	struct fp_invalid	 inv;
	json_t			*a;
	size_t			 i;

	if (fp_params_only(c->params, none, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	a = xjson(json_array());
	if (store_shared()) {
		c->state.queues = a;
		store_queue_stats(loop_now(), rpc_queue_stat, rpc_queue_stats_cb,
		    c);
		return;
	}
	for (i = 0; i < sched_queue_count(); i++)
		json_array_append_new(a, rpc_queue_json(sched_queue_at(i)));
	rpc_reply(c, json_pack("{s:o}", "queues", a));
}

/* Queues live in memory: refuse a new one past SCHED_MAX_QUEUES. */
int
rpc_queue_limit(struct rpc_call *c, const char *name)
{
	if (sched_queue_find(name) != NULL ||
	    sched_queue_count() < SCHED_MAX_QUEUES)
		return 0;
	rpc_error(c, FP_ERR_LIMIT, json_pack("{s:s,s:i,s:I}", "limit",
	    "queues", "max", SCHED_MAX_QUEUES, "value",
	    (json_int_t)sched_queue_count() + 1));
	return 1;
}

void
rpc_admin_queue_set(struct rpc_call *c)
{
	struct fp_queue_set	 qs;
	struct fp_invalid	 inv;
	struct queue		*q;

	if (fp_queue_set_parse(c->params, &qs, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if (rpc_queue_limit(c, qs.name))
		return;
	q = sched_queue(qs.name);
	if (qs.has_concurrency)
		q->concurrency = qs.concurrency;
	if (qs.has_paused)
		q->paused = qs.paused;
	store_queue_save(q->name, q->concurrency, q->paused);
	sched_kick();
	rpc_reply(c, rpc_queue_json(q));
}
