/*
 * rpc-methods.c: the methods futured answers.  This table says which
 * function answers a method and whether it still does during shutdown;
 * proto/openrpc.json (compiled in as rpc_openrpc_text) describes each one
 * for clients, and rpc.discover serves it.  A test checks that the two
 * name the same methods.  What the document says of every method alike
 * (which parameters exist, which are required) is checked here before a
 * handler runs; the handlers check the rest (proto/fp-*.c).
 */
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

extern const char rpc_openrpc_text[];	/* rpc-openrpc.c, generated */

/* result and exception change something: the failure is then retrieved */
static const struct rpc_method rpc_methods[] = {
	{ FP_TASK_SUBMIT, rpc_task_submit, 0, 1 },
	{ FP_TASK_GET, rpc_task_get, 1, 0 },
	{ FP_TASK_RESULT, rpc_future_result, 1, 1 },
	{ FP_TASK_EXCEPTION, rpc_future_exception, 1, 1 },
	{ FP_TASK_WAIT, rpc_future_wait, 1, 0 },
	{ FP_TASK_CANCEL, rpc_task_cancel, 0, 1 },
	{ FP_TASK_RETRY, rpc_manage_retry, 0, 1 },
	{ FP_TASK_DELETE, rpc_manage_delete, 0, 1 },
	{ FP_TASK_LIST, rpc_task_list, 1, 0 },
	{ FP_TASK_STREAM, rpc_stream_read, 1, 0 },
	{ FP_TASK_OUTPUT, rpc_output_read, 1, 0 },
	{ FP_DAEMON_INFO, rpc_admin_info, 1, 0 },
	{ FP_RPC_DISCOVER, rpc_admin_discover, 1, 0 },
	{ FP_QUEUE_LIST, rpc_queue_list, 1, 0 },
	{ FP_QUEUE_SET, rpc_queue_set, 0, 1 },
	{ FP_QUEUE_DELETE, rpc_queue_delete, 0, 1 },
	{ FP_UI_LOGIN, rpc_admin_login, 1, 1 },
	{ FP_TASK_SET_RESULT, rpc_task_set_result, 0, 1 },
	{ FP_TASK_SET_EXCEPTION, rpc_task_set_exception, 0, 1 },
	{ FP_TASK_AS_COMPLETED, rpc_future_as_completed, 1, 0 },
	{ FP_TASK_CLOSE, rpc_task_close, 0, 1 },
	{ FP_SCHEDULE_CREATE, rpc_schedule_create, 0, 1 },
	{ FP_SCHEDULE_GET, rpc_schedule_get, 1, 0 },
	{ FP_SCHEDULE_LIST, rpc_schedule_list, 1, 0 },
	{ FP_SCHEDULE_UPDATE, rpc_schedule_update, 0, 1 },
	{ FP_SCHEDULE_DELETE, rpc_schedule_delete, 0, 1 },
	{ FP_SCHEDULE_PAUSE, rpc_schedule_pause, 0, 1 },
	{ FP_SCHEDULE_RESUME, rpc_schedule_resume, 0, 1 },
	{ FP_SCHEDULE_TRIGGER, rpc_schedule_trigger, 0, 1 },
	{ FP_RATE_SET, rpc_rate_set, 0, 1 },
	{ FP_RATE_LIST, rpc_rate_list, 1, 0 },
	{ FP_RATE_DELETE, rpc_rate_delete, 0, 1 },
};

#define RPC_NMETHODS	(sizeof rpc_methods / sizeof rpc_methods[0])

static json_t	*rpc_doc;

const struct rpc_method *
rpc_method_find(const char *name)
{
	size_t	i;

	for (i = 0; i < RPC_NMETHODS; i++)
		if (strcmp(rpc_methods[i].name, name) == 0)
			return &rpc_methods[i];
	return NULL;
}

json_t *
rpc_openrpc(void)
{
	json_error_t	err;

	if (rpc_doc == NULL && (rpc_doc = json_loads(rpc_openrpc_text, 0,
	    &err)) == NULL)
		fatalx("proto/openrpc.json: %s (line %d)", err.text, err.line);
	return rpc_doc;
}

/*
 * What the document says of a method's params, read out of it once:
 * every call is checked, and walking the document's trees (a hash of
 * "name" for each of task.submit's thirty params) was a tenth of a
 * batch's CPU.  The names point into the document, which lives as long.
 */
struct rpc_param {
	const char	*name;
	int		 required;
};
struct rpc_param_spec {
	struct rpc_param	*params;	/* NULL: the document lacks it */
	size_t			 n;
	int			 read;		/* the document was read */
};

static struct rpc_param_spec	rpc_param_specs[RPC_NMETHODS];

/* The document's description of a method, or NULL. */
static json_t *
rpc_method_doc(const char *name)
{
	json_t	*m;
	size_t	 i;

	json_array_foreach(json_object_get(rpc_openrpc(), "methods"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "name")), name)
		    == 0)
			return m;
	return NULL;
}

static void
rpc_param_spec_read(struct rpc_param_spec *ps, const char *method)
{
	json_t	*m = rpc_method_doc(method), *list, *p;
	size_t	 i;

	ps->read = 1;
	if (m == NULL)
		return;
	list = json_object_get(m, "params");
	ps->n = json_array_size(list);
	ps->params = xcalloc(ps->n + 1, sizeof *ps->params);
	json_array_foreach(list, i, p) {
		ps->params[i].name = json_string_value(json_object_get(p,
		    "name"));
		ps->params[i].required = json_is_true(json_object_get(p,
		    "required"));
	}
}

static int
rpc_param_known(const struct rpc_param_spec *ps, const char *name)
{
	size_t	i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->params[i].name, name) == 0)
			return 1;
	return 0;
}

int
rpc_params_check(const struct rpc_method *m, json_t *params,
    struct fp_invalid *inv)
{
	struct rpc_param_spec	*ps = &rpc_param_specs[m - rpc_methods];
	const char		*k;
	json_t			*v;
	size_t			 i;

	if (!ps->read)
		rpc_param_spec_read(ps, m->name);
	if (ps->params == NULL)
		return 0;
	json_object_foreach(params, k, v)
		if (!rpc_param_known(ps, k))
			return fp_invalid_set(inv, k, "unknown parameter");
	for (i = 0; i < ps->n; i++)
		if (ps->params[i].required &&
		    json_object_get(params, ps->params[i].name) == NULL)
			return fp_invalid_set(inv, ps->params[i].name,
			    "required");
	return 0;
}

void
rpc_methods_free(void)
{
	size_t	i;

	for (i = 0; i < RPC_NMETHODS; i++)
		free(rpc_param_specs[i].params);
	memset(rpc_param_specs, 0, sizeof rpc_param_specs);
	json_decref(rpc_doc);
	rpc_doc = NULL;
	rpc_task_free();
}
