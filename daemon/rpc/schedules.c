/*
 * schedules.c: the schedules, their timers and their firings.
 *
 * A schedule is a stored row (name, definition, state, version) and a
 * copy here with a timer armed for its next firing.  A firing is taken
 * before its task is made: the state, with the firing's times in
 * `firing`, is written over the version this copy holds, so that of
 * several nodes one takes it; then each time becomes a task.submit of
 * its own, whose key (schedule:NAME:SECONDS) makes a firing tried again
 * after a crash find its task rather than make a second.  The last write
 * empties `firing`.  Work on one schedule (a firing, a method's change)
 * runs one at a time: the next waits in the schedule's queue of ops.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

#define SCHED_CATCHUP_MAX	100	/* firings run by one catch-up */
#define SCHED_WALK_MAX		100000	/* firings counted by one catch-up */
#define SCHED_REFRESH_EVERY	2.0	/* several nodes: reload, seconds */
#define SCHED_TAKEOVER_AFTER	30.0	/* a firing left by a dead node */

struct sched_op {
	void		(*run)(struct schedule *, void *);
	void		*arg;
	struct sched_op	*next;
};

/* One firing being made into tasks. */
struct sched_run {
	int64_t		*times;
	size_t		 n, i;
	int		 overlap;
	int		 prev_state;
	schedule_fired_cb *cb;		/* a trigger's answer, or NULL */
	void		*arg;
	enum schedule_outcome outcome;
	int64_t		 task;
};

static struct schedule	**sched_all;	/* by name */
static size_t		  sched_n, sched_cap;
static int		  sched_status;
static struct event	 *sched_refresh_ev;
static struct metric	 *sched_firings;

/* futured_schedule_firings_total{outcome}: fired, skipped, buffered,
 * missed, failed (its task refused). */
static void
schedule_counted(const char *outcome, double n)
{
	if (sched_firings == NULL)
		sched_firings = metric_new(METRIC_COUNTER,
		    "futured_schedule_firings_total", "Schedules' firings by "
		    "outcome: fired (a task made), skipped or buffered (the "
		    "overlap policy), missed (futured was down), failed (the "
		    "task was refused)", "outcome", NULL, 0);
	if (n > 0)
		metric_add(sched_firings, &outcome, n);
}

static void	schedule_arm(struct schedule *);
static void	schedule_unbusy(struct schedule *);

/* ---- the table ---- */

static size_t
schedule_pos(const char *name, int *found)
{
	size_t	lo = 0, hi = sched_n, mid;
	int	c;

	*found = 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(sched_all[mid]->name, name)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct schedule *
schedule_find(const char *name)
{
	int	found;
	size_t	i = schedule_pos(name, &found);

	return found ? sched_all[i] : NULL;
}

size_t
schedule_count(void)
{
	return sched_n;
}

struct schedule *
schedule_at(size_t i)
{
	return i < sched_n ? sched_all[i] : NULL;
}

static void
schedule_insert(struct schedule *s)
{
	int	found;
	size_t	i = schedule_pos(s->name, &found);

	if (sched_n == sched_cap) {
		sched_cap = sched_cap ? sched_cap * 2 : 16;
		sched_all = xreallocarray(sched_all, sched_cap,
		    sizeof *sched_all);
	}
	memmove(sched_all + i + 1, sched_all + i, (sched_n - i) *
	    sizeof *sched_all);
	sched_all[i] = s;
	sched_n++;
}

static void
schedule_remove(struct schedule *s)
{
	int	found;
	size_t	i = schedule_pos(s->name, &found);

	if (!found)
		return;
	memmove(sched_all + i, sched_all + i + 1, (sched_n - i - 1) *
	    sizeof *sched_all);
	sched_n--;
}

/* ---- definition and state ---- */

static double
schedule_num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Takes def's fields into s: -1 when its cron no longer parses. */
static int
schedule_set_def(struct schedule *s, json_t *def)
{
	const char	*cron = json_string_value(json_object_get(def, "cron"));
	char		 err[128];
	int		 o = FP_OVERLAP_SKIP;

	struct cron	*parsed;

	if (cron == NULL && schedule_num(def, "every") < 1) {
		log_warnx("schedule %s: neither cron nor every", s->name);
		return -1;
	}
	if (cron != NULL && (s->cron == NULL || s->def == NULL ||
	    !json_equal(json_object_get(s->def, "cron"),
	    json_object_get(def, "cron")))) {
		/* s stays as it was when the new one does not parse */
		if ((parsed = cron_parse(cron, err, sizeof err)) == NULL) {
			log_warnx("schedule %s: %s", s->name, err);
			return -1;
		}
		cron_free(s->cron);
		s->cron = parsed;
	} else if (cron == NULL) {
		cron_free(s->cron);
		s->cron = NULL;
	}
	json_decref(s->def);
	s->def = json_incref(def);
	s->tz = json_string_value(json_object_get(def, "tz"));
	s->every = (int64_t)schedule_num(def, "every");
	s->start_at = schedule_num(def, "start_at");
	s->end_at = schedule_num(def, "end_at");
	s->jitter = schedule_num(def, "jitter");
	s->window = schedule_num(def, "catchup_window");
	fp_overlap_parse(json_string_value(json_object_get(def, "overlap")), &o);
	s->overlap = o;
	s->catchup = strcmp(fp_cstr(json_object_get(def, "catchup")) ?
	    fp_cstr(json_object_get(def, "catchup")) : "", "all") == 0 ?
	    FP_CATCHUP_ALL : FP_CATCHUP_LATEST;
	return 0;
}

static int64_t
schedule_int(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void
schedule_set_state(struct schedule *s, json_t *st)
{
	json_t	*v;
	size_t	 i;

	s->paused = json_is_true(json_object_get(st, "paused"));
	s->created_at = schedule_num(st, "created_at");
	s->updated_at = schedule_num(st, "updated_at");
	s->next_at = schedule_int(st, "next_at");
	s->last_at = schedule_num(st, "last_at");
	s->last_task = schedule_int(st, "last_task");
	s->last_error = NULL;
	free(s->last_error_buf);
	s->last_error_buf = NULL;
	if (json_is_string(json_object_get(st, "last_error")))
		s->last_error = s->last_error_buf = xstrdup(json_string_value(
		    json_object_get(st, "last_error")));
	s->buffered = schedule_int(st, "buffered");
	s->fired = schedule_int(st, "fired");
	s->skipped = schedule_int(st, "skipped");
	s->missed = schedule_int(st, "missed");
	s->taken_at = schedule_num(st, "taken_at");
	free(s->firing);
	s->firing = NULL;
	s->n_firing = json_array_size(json_object_get(st, "firing"));
	if (s->n_firing > 0)
		s->firing = xcalloc(s->n_firing, sizeof *s->firing);
	json_array_foreach(json_object_get(st, "firing"), i, v)
		s->firing[i] = json_integer_value(v);
}

static json_t *
schedule_state(const struct schedule *s)
{
	json_t	*st, *firing = xjson(json_array());
	size_t	 i;

	for (i = 0; i < s->n_firing; i++)
		json_array_append_new(firing, json_integer(s->firing[i]));
	st = json_pack("{s:b,s:f,s:f,s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:o,s:f}",
	    "paused", s->paused, "created_at", s->created_at, "updated_at",
	    s->updated_at, "next_at", (json_int_t)s->next_at, "last_at",
	    s->last_at, "last_task", (json_int_t)s->last_task,
	    "buffered", (json_int_t)s->buffered, "fired",
	    (json_int_t)s->fired, "skipped", (json_int_t)s->skipped,
	    "missed", (json_int_t)s->missed, "firing", firing, "taken_at",
	    s->taken_at);
	xjson(st);
	if (s->last_error != NULL)
		json_object_set_new(st, "last_error",
		    json_string(s->last_error));
	return st;
}

static struct schedule *
schedule_new(const char *name)
{
	struct schedule	*s = xcalloc(1, sizeof *s);

	s->name = xstrdup(name);
	TIMERQ_ENTRY_INIT(&s->timer);
	return s;
}

static void
schedule_free(struct schedule *s)
{
	struct sched_op	*op;

	while ((op = s->ops) != NULL) {	/* at exit only: never answered */
		s->ops = op->next;
		free(op);
	}
	timerq_del(&s->timer);
	if (s->watch != NULL)
		watch_remove(s->watch);
	cron_free(s->cron);
	json_decref(s->def);
	free(s->firing);
	free(s->last_error_buf);
	free(s->name);
	free(s);
}

/* ---- when ---- */

/* The first firing strictly after `after`, or 0: none (past end_at). */
int64_t
schedule_next(const struct schedule *s, int64_t after)
{
	int64_t	start = (int64_t)ceil(s->start_at), t, anchor;

	if (start > 0 && after < start - 1)
		after = start - 1;
	if (s->cron != NULL)
		t = cron_next(s->cron, s->tz, after);
	else {
		anchor = start > 0 ? start : (int64_t)s->created_at;
		if (after < anchor)
			t = anchor;
		else
			t = anchor + ((after - anchor) / s->every + 1) *
			    s->every;
	}
	if (t <= 0 || (s->end_at > 0 && (double)t > s->end_at))
		return 0;
	return t;
}

/* The firing at `at` waits a further 0 <= j < jitter: the same j on every
 * node and after every restart. */
static double
schedule_jitter(const struct schedule *s, int64_t at)
{
	uint64_t	 h = 14695981039346656037ULL;	/* FNV-1a */
	const char	*p;
	int		 i;

	if (s->jitter <= 0)
		return 0;
	for (p = s->name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (i = 0; i < 8; i++)
		h = (h ^ ((uint64_t)at >> (8 * i) & 0xff)) * 1099511628211ULL;
	return (double)(h % 1000000) / 1000000 * s->jitter;
}

/*
 * An interval's firings that are too many to walk: those before the
 * catch-up window, and all but the last SCHED_CATCHUP_MAX within it, are
 * counted as missed by arithmetic; next_at moves to the first left.
 */
static void
schedule_every_skip(struct schedule *s, double now)
{
	int64_t	t = s->next_at, last, skip;
	double	from = now - s->window;

	if (s->cron != NULL || t <= 0 || (double)t > now)
		return;
	last = t + (int64_t)floor((now - (double)t) / (double)s->every) *
	    s->every;			/* the last firing due by now */
	if (s->end_at > 0 && (double)last > s->end_at)
		last = t + (int64_t)floor((s->end_at - (double)t) /
		    (double)s->every) * s->every;
	skip = (last - t) / s->every + 1 - SCHED_CATCHUP_MAX;
	if ((double)t < from)	/* those before the window, at least */
		skip = skip > (int64_t)ceil((from - (double)t) /
		    (double)s->every) ? skip : (int64_t)ceil((from -
		    (double)t) / (double)s->every);
	if (skip <= 0)
		return;
	if (t + skip * s->every > last) {	/* every one of them missed */
		skip = (last - t) / s->every + 1;
	}
	s->missed += skip;
	schedule_counted("missed", (double)skip);
	s->next_at = t + skip * s->every;
	if (s->end_at > 0 && (double)s->next_at > s->end_at)
		s->next_at = 0;
}

/*
 * The firings due by now from next_at: those within the catch-up window
 * into times (all, or the latest), the rest counted as missed; next_at
 * moves past now.
 */
static size_t
schedule_due_times(struct schedule *s, double now, int64_t *times)
{
	int64_t	t;
	size_t	n = 0, walked = 0;

	schedule_every_skip(s, now);
	t = s->next_at;

	while (t > 0 && (double)t <= now && walked++ < SCHED_WALK_MAX) {
		if ((double)t >= now - s->window) {
			if (n == SCHED_CATCHUP_MAX) {
				memmove(times, times + 1, (n - 1) *
				    sizeof *times);
				n--;
				s->missed++;
				schedule_counted("missed", 1);
			}
			times[n++] = t;
		} else {
			s->missed++;
			schedule_counted("missed", 1);
		}
		t = schedule_next(s, t);
	}
	if (t > 0 && (double)t <= now)	/* too many to count one by one */
		t = schedule_next(s, (int64_t)now);
	if (s->catchup == FP_CATCHUP_LATEST && n > 1) {
		s->missed += n - 1;
		schedule_counted("missed", n - 1);
		times[0] = times[n - 1];
		n = 1;
	}
	s->next_at = t;
	return n;
}

/* ---- ops: one at a time per schedule ---- */

void
schedule_op(struct schedule *s, void (*run)(struct schedule *, void *),
    void *arg)
{
	struct sched_op	*op, **tail;

	if (!s->busy) {
		s->busy = 1;
		run(s, arg);
		return;
	}
	op = xcalloc(1, sizeof *op);
	op->run = run;
	op->arg = arg;
	for (tail = &s->ops; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = op;
}

/* The op holding s is over: the next runs, else s may fire again. */
static void
schedule_unbusy(struct schedule *s)
{
	struct sched_op	*op = s->ops;

	if (op != NULL) {
		s->ops = op->next;
		op->run(s, op->arg);
		free(op);
		return;
	}
	s->busy = 0;
	if (s->gone) {
		schedule_free(s);
		return;
	}
	schedule_arm(s);
}

void
schedule_done(struct schedule *s)
{
	schedule_unbusy(s);
}

void
schedule_destroy(struct schedule *s)
{
	schedule_free(s);
}

/* ---- writes ---- */

struct sched_write {
	struct schedule	*s;
	json_t		*before;	/* the state to go back to */
	store_done_cb	*cb;
	void		*arg;
};

static void
schedule_written_cb(void *arg, int status)
{
	struct sched_write	*w = arg;

	if (status == STORE_OK)
		w->s->version++;
	else if (w->before != NULL)
		schedule_set_state(w->s, w->before);
	json_decref(w->before);
	w->cb(w->arg, status);
	free(w);
}

/*
 * Writes s's state (and def, when not NULL) over the version it holds;
 * before (stolen, may be NULL): the state s goes back to when the write
 * fails.
 */
static void
schedule_write_undo(struct schedule *s, json_t *def, json_t *before,
    store_done_cb *cb, void *arg)
{
	struct sched_write	*w = xcalloc(1, sizeof *w);
	json_t			*st = schedule_state(s);

	w->s = s;
	w->before = before;
	w->cb = cb;
	w->arg = arg;
	store_schedule_put(s->name, def, st, s->version, schedule_written_cb,
	    w);
	json_decref(st);
}

void
schedule_write(struct schedule *s, json_t *def, store_done_cb *cb, void *arg)
{
	schedule_write_undo(s, def, NULL, cb, arg);
}

/* ---- firing ---- */

/*
 * A write of s found its row at another version: another node wrote it,
 * or a commit this node thought done failed.  What the store holds is
 * read again, into s even while it is busy, and s waits a little.
 */
static void
schedule_conflict(struct schedule *s)
{
	s->stale = 1;
	s->retry_at = loop_now() + 0.5;
	schedules_refresh(NULL, NULL);
}

static void	schedule_fire_one(struct schedule *, struct sched_run *);

static void
schedule_run_end_cb(void *arg, int status)
{
	struct schedule	*s = arg;

	if (status == STORE_NONE)	/* another node changed it meanwhile */
		schedule_conflict(s);
	else if (status != STORE_OK)
		log_warnx("schedule %s: cannot record its firing", s->name);
	schedule_unbusy(s);
}

static void
schedule_run_end(struct schedule *s, struct sched_run *r)
{
	if (r->cb != NULL)
		r->cb(r->arg, r->outcome, r->task);
	free(r->times);
	free(r);
	free(s->firing);
	s->firing = NULL;
	s->n_firing = 0;
	if (loop_shutting_down()) {	/* the next start finishes it */
		schedule_unbusy(s);
		return;
	}
	schedule_write(s, NULL, schedule_run_end_cb, s);
}

static void
schedule_run_step(struct schedule *s, struct sched_run *r)
{
	r->i++;
	if (r->i < r->n && !loop_shutting_down())
		schedule_fire_one(s, r);
	else
		schedule_run_end(s, r);
}

/* A taken firing's time: a trigger's is kept as -milliseconds. */
static double
schedule_firing_time(int64_t at)
{
	return at < 0 ? (double)-at / 1000 : (double)at;
}

/* What a firing's task.submit answered. */
struct sched_call {
	struct schedule	*s;
	struct sched_run *r;
};

static int64_t
schedule_reply_task(struct schedule *s, const char *body, size_t len)
{
	json_t		*resp = json_loadb(body, len, 0, NULL), *result, *data;
	const char	*message;
	int64_t		 id = 0;
	int		 code;

	switch (resp == NULL ? -1 : fp_response_parse(resp, &result, &code,
	    &message, &data)) {
	case 0:
		id = json_integer_value(json_object_get(result, "id"));
		break;
	case 1:
		if (code == FP_ERR_KEY_CONFLICT)	/* made before, changed */
			id = json_integer_value(json_object_get(data, "id"));
		if (id == 0) {
			free(s->last_error_buf);
			s->last_error = s->last_error_buf = fp_json_text(data);
			log_warnx("schedule %s: its task was refused: %s %s",
			    s->name, message, s->last_error);
		}
		break;
	default:
		log_warnx("schedule %s: no answer to its task", s->name);
	}
	json_decref(resp);
	return id;
}

static void
schedule_submitted_cb(void *arg, char *body, size_t len)
{
	struct sched_call	*sc = arg;
	struct schedule		*s = sc->s;
	struct sched_run	*r = sc->r;
	int64_t			 id;

	free(sc);
	id = body != NULL ? schedule_reply_task(s, body, len) : 0;
	free(body);
	s->last_at = schedule_firing_time(r->times[r->i]);
	s->last_task = id;
	r->outcome = id != 0 ? SCHEDULE_FIRED : SCHEDULE_FAILED;
	r->task = id;
	if (id == 0)
		schedule_counted("failed", 1);
	if (id != 0) {
		s->fired++;
		schedule_counted("fired", 1);
		s->last_error = NULL;
	}
	schedule_run_step(s, r);
}

/* An internal call: params stolen. */
static void
schedule_call(const char *method, json_t *params, rpc_reply_cb *cb,
    void *arg)
{
	json_t	*req = xjson(fp_request_create(method, params, 1));
	char	*body = fp_json_text(req);

	json_decref(req);
	rpc_handle(body, strlen(body), cb, arg);
	free(body);
}

static void
schedule_ignore_cb(void *arg, char *body, size_t len)
{
	free(body);
}

static void
schedule_submit(struct schedule *s, struct sched_run *r)
{
	struct sched_call	*sc = xcalloc(1, sizeof *sc);
	json_t			*p = xjson(json_deep_copy(json_object_get(s->def,
				    "task")));
	json_t			*labels = json_object_get(p, "labels");
	int64_t			 at = r->times[r->i];
	char			 when[FP_TIME_LEN], *key;
	double			 j = at > 0 ? schedule_jitter(s, at) : 0;

	if (!json_is_object(labels)) {
		labels = xjson(json_object());
		json_object_set_new(p, "labels", labels);
	}
	json_object_set_new(labels, "schedule", json_string(s->name));
	fp_time_format(schedule_firing_time(at), when);
	strcpy(when + 19, "Z");		/* to the second */
	json_object_set_new(labels, "scheduled_at", json_string(when));
	if (at < 0)
		xasprintf(&key, "schedule:%s:trigger:%lld", s->name,
		    (long long)-at);
	else
		xasprintf(&key, "schedule:%s:%lld", s->name, (long long)at);
	json_object_set_new(p, "key", json_string(key));
	free(key);
	if (j > 0 && at > 0) {
		fp_time_format((double)at + j, when);
		json_object_set_new(p, "not_before", json_string(when));
	}
	sc->s = s;
	sc->r = r;
	schedule_call(FP_TASK_SUBMIT, p, schedule_submitted_cb, sc);
}

static void
schedule_buffered_cb(int64_t id, enum fp_state st, void *arg)
{
	struct schedule	*s = arg;

	s->watch = NULL;
	if (s->buffered != 0 && !s->gone)
		schedule_arm(s);	/* fires the buffered one now */
}

/* The previous firing's task is pending or running: the policy says. */
static void
schedule_overlap(struct schedule *s, struct sched_run *r)
{
	char	msg[128];

	switch (r->overlap) {
	case FP_OVERLAP_CANCEL_OTHER:
		snprintf(msg, sizeof msg, "schedule %s fired again", s->name);
		schedule_call(FP_TASK_CANCEL, json_pack("{s:I,s:s}", "id",
		    (json_int_t)s->last_task, "message", msg),
		    schedule_ignore_cb, NULL);
		schedule_submit(s, r);
		return;
	case FP_OVERLAP_BUFFER_ONE:
		if (s->buffered == 0) {
			s->buffered = r->times[r->i];	/* a trigger's too */
			r->outcome = SCHEDULE_BUFFERED;
			schedule_counted("buffered", 1);
			if (s->watch == NULL)
				s->watch = watch_add(s->last_task, WATCH_DONE,
				    schedule_buffered_cb, s);
			break;
		}
		/* FALLTHROUGH */
	default:
		s->skipped++;
		schedule_counted("skipped", 1);
		r->outcome = SCHEDULE_SKIPPED;
	}
	schedule_run_step(s, r);
}

static void
schedule_prev_cb(void *arg, int status)
{
	struct sched_call	*sc = arg;
	struct schedule		*s = sc->s;
	struct sched_run	*r = sc->r;

	free(sc);
	if (status == STORE_OK && r->prev_state >= 0 &&
	    !fp_state_done(r->prev_state))
		schedule_overlap(s, r);
	else
		schedule_submit(s, r);
}

/* One time of the run: the overlap policy, then its task. */
static void
schedule_fire_one(struct schedule *s, struct sched_run *r)
{
	struct sched_call	*sc;

	if (s->last_task == 0 || r->overlap == FP_OVERLAP_ALLOW_ALL) {
		schedule_submit(s, r);
		return;
	}
	sc = xcalloc(1, sizeof *sc);
	sc->s = s;
	sc->r = r;
	r->prev_state = -1;
	task_states(&s->last_task, 1, &r->prev_state, schedule_prev_cb, sc);
}

/* s (busy) makes tasks of the times it took. */
static void
schedule_run(struct schedule *s, int overlap, schedule_fired_cb *cb,
    void *arg)
{
	struct sched_run	*r = xcalloc(1, sizeof *r);

	r->n = s->n_firing;
	r->times = xcalloc(r->n > 0 ? r->n : 1, sizeof *r->times);
	memcpy(r->times, s->firing, r->n * sizeof *r->times);
	r->overlap = overlap;
	r->cb = cb;
	r->arg = arg;
	r->outcome = SCHEDULE_SKIPPED;
	if (r->n == 0) {
		schedule_run_end(s, r);
		return;
	}
	schedule_fire_one(s, r);
}

static void
schedule_taken_cb(void *arg, int status)
{
	struct schedule	*s = arg;

	if (status == STORE_OK) {
		schedule_run(s, s->overlap, NULL, NULL);
		return;
	}
	if (status == STORE_NONE)	/* another node took it */
		schedule_conflict(s);
	else {
		log_warnx("schedule %s: cannot take its firing", s->name);
		s->retry_at = loop_now() + 1;
	}
	schedule_unbusy(s);
}

/* Takes the firings due now (and a buffered one whose wait is over). */
static void
schedule_take(struct schedule *s, void *arg)
{
	json_t		*saved = schedule_state(s);	/* on failure */
	int64_t		 times[SCHED_CATCHUP_MAX + 1];
	size_t		 n = 0;
	double		 now = loop_now();

	if (s->gone || loop_shutting_down()) {
		json_decref(saved);
		schedule_unbusy(s);
		return;
	}
	/* a buffered firing: its task's end was heard, or is overdue (a
	 * watch added as the task ended on another node never fires) */
	/* (a trigger's, < 0, was asked for: paused or not) */
	if (s->buffered != 0 && (!s->paused || s->buffered < 0) &&
	    (s->watch == NULL ||
	    (s->next_at > 0 && (double)s->next_at <= now))) {
		if (s->watch != NULL)
			watch_remove(s->watch);
		s->watch = NULL;
		times[n++] = s->buffered;
		s->buffered = 0;
	}
	if (!s->paused && s->next_at > 0 && (double)s->next_at <= now)
		n += schedule_due_times(s, now, times + n);
	if (n == 0 && s->n_firing == 0) {
		json_decref(saved);
		schedule_unbusy(s);
		return;
	}
	s->firing = xreallocarray(s->firing, s->n_firing + n,
	    sizeof *s->firing);
	memcpy(s->firing + s->n_firing, times, n * sizeof *times);
	s->n_firing += n;
	s->taken_at = now;
	schedule_write_undo(s, NULL, saved, schedule_taken_cb, s);
}

static void
schedule_due(void *arg)
{
	struct schedule	*s = arg;

	if (!s->busy)
		schedule_op(s, schedule_take, NULL);
}

/* Arms s's timer: its next firing, a buffered one, or one left taken. */
static void
schedule_arm(struct schedule *s)
{
	double	at = 0;

	timerq_del(&s->timer);
	if (s->gone || loop_shutting_down())
		return;
	if (s->n_firing > 0 && (!store_shared() ||
	    s->taken_at < loop_now() - SCHED_TAKEOVER_AFTER))
		at = loop_now();	/* taken, never made: made now */
	else if (s->buffered != 0 && s->watch == NULL &&
	    (!s->paused || s->buffered < 0))
		at = loop_now();
	else if (!s->paused && s->next_at > 0)
		at = (double)s->next_at;
	if (at > 0 && at < s->retry_at)	/* the store refused: not at once */
		at = s->retry_at;
	if (at > 0)
		timerq_add(&s->timer, at, schedule_due, s);
}

/* ---- a trigger ---- */

struct sched_trigger {
	int			 overlap;
	schedule_fired_cb	*cb;
	void			*arg;
	struct schedule		*s;
};

static void
schedule_trigger_cb(void *arg, int status)
{
	struct sched_trigger	*tr = arg;
	struct schedule		*s = tr->s;

	if (status != STORE_OK) {
		tr->cb(tr->arg, status == STORE_NONE ? SCHEDULE_CHANGED :
		    SCHEDULE_FAILED, 0);
		free(tr);
		if (status == STORE_NONE)
			schedule_conflict(s);
		schedule_unbusy(s);
		return;
	}
	schedule_run(s, tr->overlap, tr->cb, tr->arg);
	free(tr);
}

static void
schedule_trigger_op(struct schedule *s, void *arg)
{
	struct sched_trigger	*tr = arg;
	json_t			*before;

	if (s->gone) {
		tr->cb(tr->arg, SCHEDULE_GONE, 0);
		free(tr);
		schedule_unbusy(s);
		return;
	}
	before = schedule_state(s);
	tr->s = s;
	s->firing = xreallocarray(s->firing, s->n_firing + 1,
	    sizeof *s->firing);
	s->firing[s->n_firing++] = -(int64_t)(loop_now() * 1000);
	s->taken_at = loop_now();
	schedule_write_undo(s, NULL, before, schedule_trigger_cb, tr);
}

void
schedule_trigger(struct schedule *s, int overlap, schedule_fired_cb *cb,
    void *arg)
{
	struct sched_trigger	*tr = xcalloc(1, sizeof *tr);

	tr->overlap = overlap;
	tr->cb = cb;
	tr->arg = arg;
	schedule_op(s, schedule_trigger_op, tr);
}

/* ---- creating, changing, deleting (the methods' part) ---- */

/* A new schedule (not yet stored, not in the table): NULL when def's cron
 * does not parse. */
struct schedule *
schedule_create(const char *name, json_t *def, int paused)
{
	struct schedule	*s = schedule_new(name);

	if (schedule_set_def(s, def) == -1) {
		schedule_free(s);
		return NULL;
	}
	s->paused = paused > 0;
	s->created_at = s->updated_at = loop_now();
	s->next_at = schedule_next(s, (int64_t)loop_now());
	return s;
}

/* s was stored (version 1): it joins the table, armed. */
void
schedule_add(struct schedule *s)
{
	s->version = 1;
	schedule_insert(s);
	schedule_arm(s);
}

int
schedule_change(struct schedule *s, json_t *def, int paused)
{
	int	timing = 0;
	static const char *const when[] = { "cron", "every", "tz",
	    "start_at", "end_at", NULL };
	const char *const *k;

	if (def != NULL) {
		for (k = when; *k != NULL; k++)
			if (!json_equal(json_object_get(def, *k),
			    json_object_get(s->def, *k)) &&
			    (json_object_get(def, *k) != NULL ||
			    json_object_get(s->def, *k) != NULL))
				timing = 1;
		if (schedule_set_def(s, def) == -1)
			return -1;
	}
	if (paused == 0 && s->paused)
		timing = 1;	/* firings while paused are not made up */
	if (paused >= 0)
		s->paused = paused;
	if (timing)
		s->next_at = schedule_next(s, (int64_t)loop_now());
	s->updated_at = loop_now();
	return 0;
}

/* s was deleted from the store: it leaves the table now, and memory once
 * its queue of ops has run. */
void
schedule_gone(struct schedule *s)
{
	schedule_remove(s);
	timerq_del(&s->timer);
	s->gone = 1;
}

/* Copies what is stored back into s (a write failed). */
void
schedule_restore(struct schedule *s, json_t *def, json_t *state)
{
	if (def != NULL)
		schedule_set_def(s, def);
	schedule_set_state(s, state);
}

json_t *
schedule_stored_state(const struct schedule *s)
{
	return schedule_state(s);
}

/* ---- the client's view ---- */

static void
schedule_time(json_t *o, const char *k, double t)
{
	char	buf[FP_TIME_LEN];

	json_object_set_new(o, k, t > 0 ? json_string(fp_time_format(t, buf)) :
	    json_null());
}

json_t *
schedule_json(const struct schedule *s, int last_state)
{
	json_t	*o = xjson(json_pack("{s:s}", "name", s->name));
	json_t	*last = json_null();

	json_object_update(o, s->def);
	if (s->start_at > 0)
		schedule_time(o, "start_at", s->start_at);
	if (s->end_at > 0)
		schedule_time(o, "end_at", s->end_at);
	json_object_set_new(o, "paused", json_boolean(s->paused));
	schedule_time(o, "created_at", s->created_at);
	schedule_time(o, "updated_at", s->updated_at);
	schedule_time(o, "next_at", s->paused ? 0 : (double)s->next_at);
	if (s->last_at > 0) {
		last = xjson(json_object());
		schedule_time(last, "scheduled_at", s->last_at);
		json_object_set_new(last, "task", s->last_task > 0 ?
		    json_integer(s->last_task) : json_null());
		json_object_set_new(last, "state", last_state >= 0 ?
		    json_string(fp_state_name(last_state)) : json_null());
		if (s->last_error != NULL)
			json_object_set_new(last, "error",
			    json_string(s->last_error));
	}
	json_object_set_new(o, "last", last);
	schedule_time(o, "buffered", s->buffered != 0 ?
	    schedule_firing_time(s->buffered) : 0);
	json_object_set_new(o, "fired", json_integer(s->fired));
	json_object_set_new(o, "skipped", json_integer(s->skipped));
	json_object_set_new(o, "missed", json_integer(s->missed));
	return o;
}

/* ---- loading ---- */

struct sched_load {
	void		(*done)(void *);
	void		*arg;
};

static void
schedule_loaded_row(void *arg, const char *name, json_t *def, json_t *st,
    int64_t version)
{
	struct schedule	*s = schedule_find(name);
	int		 is_new = s == NULL;

	if (s != NULL) {
		s->seen = 1;
		if (!s->stale && (s->busy || s->version == version))
			return;
		s->stale = 0;
	} else
		s = schedule_new(name);
	if (schedule_set_def(s, def) == -1) {
		if (is_new)
			schedule_free(s);
		return;
	}
	schedule_set_state(s, st);
	s->version = version;
	s->seen = 1;
	if (is_new)
		schedule_insert(s);
	if (s->buffered != 0 && s->last_task != 0 && s->watch == NULL &&
	    task_find(s->last_task) != NULL)
		s->watch = watch_add(s->last_task, WATCH_DONE,
		    schedule_buffered_cb, s);
	schedule_arm(s);
}

static void
schedule_loaded_cb(void *arg, int status)
{
	struct sched_load	*l = arg;
	size_t			 i;

	sched_status = status == STORE_OK ? 0 : -1;
	if (status != STORE_OK)
		log_warnx("schedules: cannot read them");
	for (i = 0; status == STORE_OK && i < sched_n; ) {
		struct schedule	*s = sched_all[i];

		if (s->seen || s->busy) {
			s->seen = 0;
			i++;
			continue;
		}
		schedule_gone(s);	/* another node deleted it */
		schedule_free(s);
	}
	if (l->done != NULL)
		l->done(l->arg);
	free(l);
}

void
schedules_refresh(void (*done)(void *), void *arg)
{
	struct sched_load	*l = xcalloc(1, sizeof *l);

	l->done = done;
	l->arg = arg;
	store_schedule_load(schedule_loaded_row, schedule_loaded_cb, l);
}

static void
schedules_refresh_tick(evutil_socket_t fd, short ev, void *arg)
{
	if (loop_shutting_down())
		return;
	schedules_refresh(NULL, NULL);
	loop_timer_add(sched_refresh_ev, SCHED_REFRESH_EVERY);
}

void
schedules_init(void)
{
	schedule_counted("fired", 0);	/* the family, from the start */
	schedules_refresh(NULL, NULL);
	if (store_shared()) {
		sched_refresh_ev = evtimer_new(loop_base,
		    schedules_refresh_tick, NULL);
		loop_timer_add(sched_refresh_ev, SCHED_REFRESH_EVERY);
	}
}

int
schedules_init_status(void)
{
	return sched_status;
}

void
schedules_free(void)
{
	size_t	i;

	if (sched_refresh_ev != NULL)
		event_free(sched_refresh_ev);
	sched_refresh_ev = NULL;
	for (i = 0; i < sched_n; i++)
		schedule_free(sched_all[i]);
	free(sched_all);
	sched_all = NULL;
	sched_firings = NULL;		/* metrics_free frees it */
	sched_n = sched_cap = 0;
}
