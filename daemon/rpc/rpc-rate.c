/*
 * rpc-rate.c: rate.set, rate.list and rate.delete: the named rate limits
 * (token buckets) that tasks name in rate_limit (model/limits.c keeps
 * them and the tasks waiting for a token).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

#define RATE_PER_MAX	86400.0		/* a period: at most a day */
#define RATE_STARTS_MAX	1000000.0

static json_t *
rpc_rate_json(const struct rate_limit *r)
{
	return json_pack("{s:s,s:f,s:f,s:f}", "name", r->name, "starts",
	    r->starts, "per", r->per, "burst", r->burst);
}

/* A number field in [min, max]; absent: dflt (< 0: required). */
static int
rpc_rate_number(json_t *p, const char *field, double dflt, double min,
    double max, double *out, struct fp_invalid *inv)
{
	json_t	*v = json_object_get(p, field);

	if (v == NULL || json_is_null(v)) {
		if (dflt < 0)
			return fp_invalid_set(inv, field, "required");
		*out = dflt;
		return 0;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
	    json_number_value(v) < min || json_number_value(v) > max)
		return fp_invalid_set(inv, field, "must be a number from %g "
		    "to %g", min, max);
	*out = json_number_value(v);
	return 0;
}

void
rpc_rate_set(struct rpc_call *c)
{
	static const char *const keys[] = { "starts", "per", "burst", NULL };
	struct fp_invalid	 inv;
	struct rate_limit	*r;
	const char		*name;
	double			 starts, per, burst;

	if (fp_schedule_name(c->params, keys, &name, &inv) == -1 ||
	    rpc_rate_number(c->params, "starts", -1, 1, RATE_STARTS_MAX,
	    &starts, &inv) == -1 ||
	    rpc_rate_number(c->params, "per", 1, 0.001, RATE_PER_MAX, &per,
	    &inv) == -1 ||
	    rpc_rate_number(c->params, "burst", 1, 1, RATE_STARTS_MAX, &burst,
	    &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if ((r = rate_set(name, starts, per, burst)) == NULL) {
		rpc_error(c, FP_ERR_LIMIT, json_pack("{s:s,s:s,s:i,s:i}", "limit",
		    "rate_limits", "max", RATE_MAX, "value", RATE_MAX + 1));
		return;
	}
	log_info("rate limit %s: %g starts per %g s, burst %g", name, starts,
	    per, burst);
	rpc_reply(c, rpc_rate_json(r));
}

void
rpc_rate_list(struct rpc_call *c)
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
	for (i = 0; i < rate_count(); i++)
		json_array_append_new(a, rpc_rate_json(rate_at(i)));
	rpc_reply(c, json_pack("{s:o,s:I}", "rate_limits", a, "waiting",
	    (json_int_t)limits_waiting()));
}

void
rpc_rate_delete(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	const char		*name;

	if (fp_schedule_name(c->params, NULL, &name, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if (rate_delete(name) == -1) {
		fp_invalid_set(&inv, "name", "no rate limit %s", name);
		rpc_invalid(c, &inv);
		return;
	}
	log_info("rate limit %s deleted", name);
	rpc_reply(c, json_pack("{s:s,s:b}", "name", name, "deleted", 1));
}
