/*
 * rpc-schedule.c: schedule.create, get, list, update, delete, pause,
 * resume and trigger.  schedules.c keeps the schedules and fires them;
 * these check what a client asks, and change a schedule inside one of its
 * ops, so that a change never crosses a firing.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

/* What a schedule method holds while it waits. */
struct sched_call_state {
	struct schedule	 *s;
	json_t		 *def;		/* the new definition, or NULL */
	int		  paused;	/* -1: unchanged */
	json_t		 *old_def;	/* to go back to */
	json_t		 *old_state;
	int		  overlap;	/* trigger */
	double		  at;
	void		(*op)(struct schedule *, void *);
	int		  tries;	/* another node wrote meanwhile */
	json_t		 *objs;		/* get, list: the answer */
	int64_t		 *ids;
	int		 *states;
	size_t		  n;
};

static void
rpc_schedule_free(struct rpc_call *c)
{
	struct sched_call_state	*st = c->state.sched;

	c->state.sched = NULL;
	if (st == NULL)
		return;
	json_decref(st->def);
	json_decref(st->old_def);
	json_decref(st->old_state);
	json_decref(st->objs);
	free(st->ids);
	free(st->states);
	free(st);
}

static struct sched_call_state *
rpc_schedule_state(struct rpc_call *c)
{
	c->state.sched = xcalloc(1, sizeof *c->state.sched);
	c->state.sched->paused = -1;
	return c->state.sched;
}

static void
rpc_schedule_missing(struct rpc_call *c, const char *name)
{
	rpc_error(c, FP_ERR_NO_SUCH_SCHEDULE, json_pack("{s:s}", "name", name));
}

static void
rpc_schedule_store_error(struct rpc_call *c, int status)
{
	rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
	    status == STORE_NONE ? "the schedule changed on another node "
	    "meanwhile: try again" : "cannot record the schedule"));
}

/* The cron expression and zone of def parse, and it fires at all. */
static int
rpc_schedule_when_check(json_t *def, struct fp_invalid *inv)
{
	const char	*expr = json_string_value(json_object_get(def, "cron"));
	const char	*tz = json_string_value(json_object_get(def, "tz"));
	struct cron	*cr;
	char		 err[FP_REASON_LEN];
	int64_t		 next;

	const char	*rate = json_string_value(json_object_get(json_object_get(
			    def, "task"), "rate_limit"));

	if (rate != NULL && rate_find(rate) == NULL)
		return fp_invalid_set(inv, "task.rate_limit", "no rate limit %s "
		    "(rate.set makes one)", rate);
	if (expr == NULL)
		return 0;
	if (!tz_valid(tz))
		return fp_invalid_set(inv, "tz", "no time zone %s here", tz);
	if ((cr = cron_parse(expr, err, sizeof err)) == NULL)
		return fp_invalid_set(inv, "cron", "%s", err);
	next = cron_next(cr, tz, (int64_t)loop_now());
	cron_free(cr);
	if (next < 0)
		return fp_invalid_set(inv, "cron", "never fires within 8 years");
	return 0;
}

/* ---- answers: the schedules with their last task's state ---- */

static void
rpc_schedule_answer_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct sched_call_state	*st = c->state.sched;
	json_t			*arr = st->objs, *last;
	size_t			 i;

	st->objs = NULL;
	for (i = 0; status == STORE_OK && i < st->n; i++)
		if ((last = json_object_get(json_array_get(arr, i), "last")) !=
		    NULL && json_is_object(last) && st->states[i] >= 0)
			json_object_set_new(last, "state", json_string(
			    fp_state_name(st->states[i])));
	if (strcmp(c->method, "schedule.list") == 0)
		rpc_reply(c, json_pack("{s:o}", "schedules", arr));
	else {
		rpc_reply(c, json_incref(json_array_get(arr, 0)));
		json_decref(arr);
	}
	rpc_schedule_free(c);
}

/*
 * Answers with s (or, s NULL, every schedule paused says), each with its
 * last task's state, read first.  The objects are made now: a schedule
 * may be deleted while the states are read.
 */
static void
rpc_schedule_answer(struct rpc_call *c, struct schedule *s, int paused)
{
	struct sched_call_state	*st = c->state.sched != NULL ?
				    c->state.sched : rpc_schedule_state(c);
	size_t			 i, n = s != NULL ? 1 : schedule_count();
	struct schedule		*x;

	st->objs = xjson(json_array());
	st->ids = xcalloc(n ? n : 1, sizeof *st->ids);
	st->states = xcalloc(n ? n : 1, sizeof *st->states);
	st->n = 0;
	for (i = 0; i < n; i++) {
		x = s != NULL ? s : schedule_at(i);
		if (paused >= 0 && x->paused != paused)
			continue;
		json_array_append_new(st->objs, schedule_json(x, -1));
		/* no task yet: an id no task has, to keep the arrays aligned */
		st->ids[st->n] = x->last_task > 0 ? x->last_task :
		    FP_ID_LIMIT - 1;
		st->states[st->n++] = -1;
	}
	task_states(st->ids, st->n, st->states, rpc_schedule_answer_cb, c);
}

/* ---- schedule.create ---- */

static void
rpc_schedule_created_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct schedule		*s = c->state.sched->s;

	if (status != STORE_OK) {
		if (status == STORE_NONE)
			rpc_error(c, FP_ERR_SCHEDULE_EXISTS, json_pack("{s:s}",
			    "name", s->name));
		else
			rpc_schedule_store_error(c, status);
		schedule_destroy(s);
		rpc_schedule_free(c);
		return;
	}
	schedule_add(s);
	log_info("schedule %s created", s->name);
	rpc_schedule_answer(c, s, -1);
}

void
rpc_schedule_create(struct rpc_call *c)
{
	struct sched_call_state	*st;
	struct fp_invalid	 inv;
	struct schedule		*s;
	json_t			*def, *state;
	const char		*name;
	int			 paused;

	if ((def = fp_schedule_def(c->params, NULL, &paused, &inv)) == NULL ||
	    rpc_schedule_when_check(def, &inv) == -1) {
		json_decref(def);
		rpc_invalid(c, &inv);
		return;
	}
	name = json_string_value(json_object_get(c->params, "name"));
	if (schedule_find(name) != NULL) {
		json_decref(def);
		rpc_error(c, FP_ERR_SCHEDULE_EXISTS, json_pack("{s:s}", "name",
		    name));
		return;
	}
	if (schedule_count() >= FP_SCHEDULE_MAX) {
		json_decref(def);
		rpc_error(c, FP_ERR_LIMIT, json_pack("{s:s,s:i,s:I}", "limit",
		    "schedules", FP_SCHEDULE_MAX, "value",
		    (json_int_t)schedule_count() + 1));
		return;
	}
	s = schedule_create(name, def, paused);
	st = rpc_schedule_state(c);
	st->s = s;
	state = schedule_stored_state(s);
	s->version = 0;
	store_schedule_put(name, def, state, 0, rpc_schedule_created_cb, c);
	json_decref(state);
	json_decref(def);
}

/* ---- get, list ---- */

static void
rpc_schedule_get_fresh(void *arg)
{
	struct rpc_call	*c = arg;
	const char	*name = json_string_value(json_object_get(c->params,
			    "name"));
	struct schedule	*s = schedule_find(name);

	if (s == NULL)
		rpc_schedule_missing(c, name);
	else
		rpc_schedule_answer(c, s, -1);
}

/* With several nodes, the database says what there is now. */
static void
rpc_schedule_fresh(struct rpc_call *c, void (*then)(void *))
{
	if (store_shared())
		schedules_refresh(then, c);
	else
		then(c);
}

void
rpc_schedule_get(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	const char		*name;

	if (fp_schedule_name(c->params, NULL, &name, &inv) == -1)
		rpc_invalid(c, &inv);
	else
		rpc_schedule_fresh(c, rpc_schedule_get_fresh);
}

static void
rpc_schedule_list_fresh(void *arg)
{
	struct rpc_call	*c = arg;
	json_t		*p = json_object_get(c->params, "paused");

	rpc_schedule_answer(c, NULL, json_is_boolean(p) ? json_is_true(p) :
	    -1);
}

void
rpc_schedule_list(struct rpc_call *c)
{
	static const char *const keys[] = { "paused", NULL };
	struct fp_invalid	 inv;
	json_t			*p = json_object_get(c->params, "paused");

	if (fp_params_only(c->params, keys, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	if (p != NULL && !json_is_null(p) && !json_is_boolean(p)) {
		fp_invalid_set(&inv, "paused", "must be a boolean");
		rpc_invalid(c, &inv);
		return;
	}
	rpc_schedule_fresh(c, rpc_schedule_list_fresh);
}

/* ---- a change inside the schedule's op, on what the store holds ---- */

#define RPC_SCHEDULE_TRIES	3

static void
rpc_schedule_go(void *arg)
{
	struct rpc_call	*c = arg;
	const char	*name = json_string_value(json_object_get(c->params,
			    "name"));
	struct schedule	*s = schedule_find(name);

	if (s == NULL) {
		rpc_schedule_missing(c, name);
		rpc_schedule_free(c);
		return;
	}
	schedule_op(s, c->state.sched->op, c);
}

/* Runs op on the schedule c names, read again first with several nodes. */
static void
rpc_schedule_start(struct rpc_call *c, void (*op)(struct schedule *, void *))
{
	c->state.sched->op = op;
	rpc_schedule_fresh(c, rpc_schedule_go);
}

/*
 * Another node wrote the schedule between our read and our write: read
 * it again and do it over, a few times, before answering StoreError.
 */
static int
rpc_schedule_again(struct rpc_call *c, struct schedule *s, int status)
{
	struct sched_call_state	*st = c->state.sched;

	if (status != STORE_NONE || ++st->tries >= RPC_SCHEDULE_TRIES)
		return 0;
	json_decref(st->def);
	json_decref(st->old_def);
	json_decref(st->old_state);
	st->def = st->old_def = st->old_state = NULL;
	schedule_done(s);
	schedules_refresh(rpc_schedule_go, c);
	return 1;
}

/* ---- update, pause, resume ---- */

static void
rpc_schedule_changed_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct sched_call_state	*st = c->state.sched;
	struct schedule		*s = st->s;

	if (status != STORE_OK) {
		schedule_restore(s, st->def != NULL ? st->old_def : NULL,
		    st->old_state);
		if (rpc_schedule_again(c, s, status))
			return;
		rpc_schedule_store_error(c, status);
		rpc_schedule_free(c);
		if (status == STORE_NONE)
			schedules_refresh(NULL, NULL);
		schedule_done(s);
		return;
	}
	log_info("schedule %s changed", s->name);
	rpc_schedule_answer(c, s, -1);
	schedule_done(s);	/* re-armed for its new timing */
}

static void
rpc_schedule_change_op(struct schedule *s, void *arg)
{
	struct rpc_call		*c = arg;
	struct sched_call_state	*st = c->state.sched;
	struct fp_invalid	 inv;
	int			 paused = st->paused;

	if (s->gone) {
		rpc_schedule_missing(c, s->name);
		rpc_schedule_free(c);
		schedule_done(s);
		return;
	}
	st->s = s;
	if (strcmp(c->method, "schedule.update") == 0 &&
	    ((st->def = fp_schedule_def(c->params, s->def, &paused,
	    &inv)) == NULL || rpc_schedule_when_check(st->def, &inv) == -1)) {
		rpc_invalid(c, &inv);
		rpc_schedule_free(c);
		schedule_done(s);
		return;
	}
	st->old_def = json_incref(s->def);
	st->old_state = schedule_stored_state(s);
	schedule_change(s, st->def, paused);
	schedule_write(s, st->def, rpc_schedule_changed_cb, c);
}

static void
rpc_schedule_change(struct rpc_call *c, const char *const *keys, int paused)
{
	struct fp_invalid	 inv;
	const char		*name;

	if (fp_schedule_name(c->params, keys, &name, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	rpc_schedule_state(c)->paused = paused;
	rpc_schedule_start(c, rpc_schedule_change_op);
}

void
rpc_schedule_update(struct rpc_call *c)
{
	static const char *const keys[] = { "cron", "every", "tz",
	    "start_at", "end_at", "jitter", "task", "overlap", "catchup",
	    "catchup_window", "paused", NULL };

	rpc_schedule_change(c, keys, -1);
}

void
rpc_schedule_pause(struct rpc_call *c)
{
	rpc_schedule_change(c, NULL, 1);
}

void
rpc_schedule_resume(struct rpc_call *c)
{
	rpc_schedule_change(c, NULL, 0);
}

/* ---- delete ---- */

static void
rpc_schedule_deleted_cb(void *arg, int status)
{
	struct rpc_call		*c = arg;
	struct schedule		*s = c->state.sched->s;

	if (status == STORE_OK) {
		log_info("schedule %s deleted", s->name);
		rpc_reply(c, json_pack("{s:s,s:b}", "name", s->name,
		    "deleted", 1));
		schedule_gone(s);
	} else {
		if (rpc_schedule_again(c, s, status))
			return;
		rpc_schedule_store_error(c, status);
	}
	rpc_schedule_free(c);
	schedule_done(s);
}

static void
rpc_schedule_delete_op(struct schedule *s, void *arg)
{
	struct rpc_call	*c = arg;

	if (s->gone) {
		rpc_schedule_missing(c, s->name);
		rpc_schedule_free(c);
		schedule_done(s);
		return;
	}
	c->state.sched->s = s;
	store_schedule_delete(s->name, s->version, rpc_schedule_deleted_cb, c);
}

void
rpc_schedule_delete(struct rpc_call *c)
{
	struct fp_invalid	 inv;
	const char		*name;

	if (fp_schedule_name(c->params, NULL, &name, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	rpc_schedule_state(c);
	rpc_schedule_start(c, rpc_schedule_delete_op);
}

/* ---- trigger ---- */

static void	rpc_schedule_trigger_go(void *);

static const char *const rpc_schedule_outcomes[] = {
	[SCHEDULE_FIRED] = "fired",
	[SCHEDULE_SKIPPED] = "skipped",
	[SCHEDULE_BUFFERED] = "buffered",
};

static void
rpc_schedule_fired_cb(void *arg, enum schedule_outcome outcome, int64_t task)
{
	struct rpc_call		*c = arg;
	struct sched_call_state	*st = c->state.sched;
	char			 when[FP_TIME_LEN];

	switch (outcome) {
	case SCHEDULE_FIRED:
	case SCHEDULE_SKIPPED:
	case SCHEDULE_BUFFERED:
		rpc_reply(c, json_pack("{s:s,s:o,s:s}", "outcome",
		    rpc_schedule_outcomes[outcome], "task", task > 0 ?
		    json_integer(task) : json_null(), "scheduled_at",
		    fp_time_format(st->at, when)));
		break;
	case SCHEDULE_GONE:
		rpc_schedule_missing(c, json_string_value(json_object_get(
		    c->params, "name")));
		break;
	case SCHEDULE_FAILED:
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s}", "reason",
		    "its task could not be made (see the schedule's "
		    "last.error)"));
		break;
	default:
		if (++st->tries < RPC_SCHEDULE_TRIES) {
			schedules_refresh(rpc_schedule_trigger_go, c);
			return;
		}
		rpc_schedule_store_error(c, STORE_NONE);
	}
	rpc_schedule_free(c);
}

static void
rpc_schedule_trigger_go(void *arg)
{
	struct rpc_call		*c = arg;
	struct sched_call_state	*st = c->state.sched;
	const char		*name = json_string_value(json_object_get(
				    c->params, "name"));
	struct schedule		*s = schedule_find(name);

	if (s == NULL) {
		rpc_schedule_missing(c, name);
		rpc_schedule_free(c);
		return;
	}
	if (st->overlap < 0)
		st->overlap = s->overlap;
	st->at = loop_now();
	schedule_trigger(s, st->overlap, rpc_schedule_fired_cb, c);
}

void
rpc_schedule_trigger(struct rpc_call *c)
{
	static const char *const keys[] = { "overlap", NULL };
	struct fp_invalid	 inv;
	const char		*name;
	json_t			*o = json_object_get(c->params, "overlap");
	int			 overlap = -1;

	if (fp_schedule_name(c->params, keys, &name, &inv) == -1)
		goto invalid;
	if (o != NULL && !json_is_null(o) && fp_overlap_parse(
	    json_string_value(o), &overlap) == -1) {
		fp_invalid_set(&inv, "overlap", "must be one of skip, "
		    "buffer_one, allow_all, cancel_other");
		goto invalid;
	}
	rpc_schedule_state(c)->overlap = overlap;
	rpc_schedule_fresh(c, rpc_schedule_trigger_go);
	return;
invalid:
	rpc_invalid(c, &inv);
}
