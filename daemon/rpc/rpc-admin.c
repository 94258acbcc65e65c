/* rpc-admin.c: daemon.info, rpc.discover and ui.login. */
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

static json_t	*(*rpc_listen)(void);
static json_t	*(*rpc_login)(void);

void
rpc_admin_set_listen(json_t *(*listen)(void))
{
	rpc_listen = listen;
}

void
rpc_admin_set_login(json_t *(*login)(void))
{
	rpc_login = login;
}

/* A one-time link to the dashboard (the transport makes it). */
void
rpc_admin_login(struct rpc_call *c)
{
	json_t	*link = rpc_login != NULL ? rpc_login() : NULL;

	if (link == NULL) {
		rpc_error(c, FP_ERR_INTERNAL, json_pack("{s:s}", "reason",
		    "no dashboard in this futured"));
		return;
	}
	rpc_reply(c, link);
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
