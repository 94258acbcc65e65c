/* rpc-admin.c: daemon.info and rpc.discover. */
#include <unistd.h>

#include "futured.h"
#include "store.h"

static json_t *
rpc_admin_counts(int64_t *unretrieved)
{
	int64_t	counts[FP_STATE_COUNT];
	json_t	*o = xjson(json_object());
	int	i;

	store_task_counts(counts, unretrieved);
	for (i = 0; i < FP_STATE_COUNT; i++)
		json_object_set_new(o, fp_state_name((enum fp_state)i),
		    json_integer(counts[i]));
	return o;
}

static json_t *
rpc_admin_limits(void)
{
	return xjson(json_pack("{s:i,s:I,s:I,s:I,s:f,s:f}",
	    "jobs", cfg.jobs,
	    "max_request", (json_int_t)cfg.max_request,
	    "max_requests", (json_int_t)cfg.max_requests,
	    "max_output", (json_int_t)cfg.max_output,
	    "max_wait", cfg.max_wait,
	    "kill_grace", cfg.kill_grace));
}

enum rpc_ret
rpc_admin_info(struct rpc_call *c)
{
	char	 started[FP_TIME_LEN];
	int64_t	 unretrieved = 0;
	json_t	*counts = rpc_admin_counts(&unretrieved);

	rpc_reply(c, json_pack("{s:s,s:i,s:i,s:f,s:s,s:s,s:s,s:o,s:o,s:I,"
	    "s:I,s:I,s:o,s:i,s:s}",
	    "version", FUTURED_VERSION,
	    "protocol_version", FP_PROTO_VERSION,
	    "pid", (int)getpid(),
	    "uptime", loop_now() - start_time,
	    "started_at", fp_time_format(start_time, started),
	    "state_dir", cfg.state_dir,
	    "database", "sqlite",
	    "listen", http_listen_info(),
	    "counts", counts,
	    "unretrieved", (json_int_t)unretrieved,
	    "running_processes", (json_int_t)exec_running(),
	    "waiters", (json_int_t)watch_count(),
	    "limits", rpc_admin_limits(),
	    "schema_version", store_schema_version(),
	    "synchronous", cfg.sync_full ? "full" : "normal"));
	return RPC_DONE;
}

/* The OpenRPC document: every method, with the protocol version. */
enum rpc_ret
rpc_admin_discover(struct rpc_call *c)
{
	json_t	*methods = xjson(json_array());
	size_t	 i;

	for (i = 0; fp_methods[i].name != NULL; i++)
		json_array_append_new(methods, json_pack("{s:s,s:s,s:[],"
		    "s:{s:s,s:{}}}", "name", fp_methods[i].name, "summary",
		    fp_methods[i].summary, "params", "result", "name", "result",
		    "schema"));
	rpc_reply(c, json_pack("{s:s,s:{s:s,s:s,s:i},s:o}",
	    "openrpc", "1.2.6",
	    "info", "title", "futured", "version", FUTURED_VERSION,
	    "x-protocol-version", FP_PROTO_VERSION,
	    "methods", methods));
	return RPC_DONE;
}
