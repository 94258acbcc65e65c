/*
 * events.c: what happened to tasks and queues, told once it committed.
 *
 * A transition (created, started, retrying, finished, cancelled) or a
 * queue change is noted where it happens and released after the turn's
 * commit (store_defer), as every answer is: a watcher of /events never
 * learns of a task a crash could still lose.  Released events get an id
 * (a sequence number of this run, with the run's start time, so that an
 * id of an earlier run is recognised) and stay in a ring of the last
 * EVENTS_WINDOW, from which a client that reconnects resumes.
 *
 * The same released transitions feed the task metrics (counts by kind,
 * queue and outcome; queue wait and run time), so /metrics and /events
 * never disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

#define EVENTS_WINDOW	10000

/*
 * What happened, kept as it was then; its JSON text is written when a
 * client first reads it (most events are only counted).
 */
struct event_rec {
	uint64_t	 seq;		/* 0 until released */
	const char	*type;		/* "task.created"... (static) */
	int64_t		 task;		/* 0: a queue event */
	char		*queue;
	json_t		*labels;	/* a reference, or NULL */
	const char	*kind;		/* static; NULL: a queue event */
	enum fp_state	 state;
	int		 attempt;
	double		 at;
	double		 wait, run;	/* < 0: not measured */
	json_t		*exception;	/* a reference: a failure's */
	json_t		*settings;	/* a reference: a queue's */
	char		*data;		/* the JSON object, once written */
};

static struct event_rec	*events_ring[EVENTS_WINDOW];
static uint64_t		 events_next = 1;	/* the next released seq */
static long long	 events_run;		/* this run's id */
static events_cb	*events_listener;
static void		*events_listener_arg;

static struct metric	*m_submitted, *m_finished, *m_retried, *m_started;
static struct metric	*m_wait, *m_run;

static void
events_metrics_init(void)
{
	m_submitted = metric_new(METRIC_COUNTER,
	    "futured_tasks_submitted_total", "Tasks submitted",
	    "kind,queue", NULL, 0);
	m_started = metric_new(METRIC_COUNTER,
	    "futured_task_attempts_started_total", "Attempts started",
	    "kind,queue", NULL, 0);
	m_retried = metric_new(METRIC_COUNTER,
	    "futured_task_attempts_retried_total",
	    "Failed attempts followed by another", "kind,queue", NULL, 0);
	m_finished = metric_new(METRIC_COUNTER,
	    "futured_tasks_finished_total",
	    "Tasks that reached a final state, by outcome",
	    "kind,queue,outcome", NULL, 0);
	m_wait = metric_new(METRIC_HISTOGRAM,
	    "futured_task_queue_wait_seconds",
	    "From ready (submitted, delay over, retry due) to started",
	    "kind", metric_buckets_task_seconds, METRIC_BUCKETS_TASK_SECONDS);
	m_run = metric_new(METRIC_HISTOGRAM, "futured_task_run_seconds",
	    "Run time of attempts that ended", "kind",
	    metric_buckets_task_seconds, METRIC_BUCKETS_TASK_SECONDS);
}

void
events_init(void)
{
	events_run = (long long)loop_now();
	if (m_submitted == NULL)
		events_metrics_init();
}

static void
events_rec_free(struct event_rec *e)
{
	if (e == NULL)
		return;
	free(e->queue);
	json_decref(e->labels);
	json_decref(e->exception);
	json_decref(e->settings);
	free(e->data);
	free(e);
}

void
events_free(void)
{
	size_t	i;

	for (i = 0; i < EVENTS_WINDOW; i++) {
		events_rec_free(events_ring[i]);
		events_ring[i] = NULL;
	}
}

void
events_listen(events_cb *cb, void *arg)
{
	events_listener = cb;
	events_listener_arg = arg;
}

static void
events_count(const struct event_rec *e)
{
	const char	*v[3] = { e->kind, e->queue, NULL };

	if (e->kind == NULL)
		return;
	if (strcmp(e->type, "task.created") == 0)
		metric_add(m_submitted, v, 1);
	else if (strcmp(e->type, "task.started") == 0) {
		metric_add(m_started, v, 1);
		if (e->wait >= 0)
			metric_observe(m_wait, v, e->wait);
	} else if (strcmp(e->type, "task.retrying") == 0)
		metric_add(m_retried, v, 1);
	else {
		v[2] = e->type + strlen("task.");
		metric_add(m_finished, v, 1);
	}
	if (e->run >= 0)
		metric_observe(m_run, v, e->run);
}

/* After the commit: released into the ring, or dropped. */
static void
events_commit_cb(void *arg, int status)
{
	struct event_rec	*e = arg;
	struct event_rec	**slot;

	if (status != STORE_COMMITTED) {
		events_rec_free(e);
		return;
	}
	events_count(e);
	e->seq = events_next++;
	slot = &events_ring[e->seq % EVENTS_WINDOW];
	events_rec_free(*slot);
	*slot = e;
	if (events_listener != NULL)
		events_listener(events_listener_arg);
}

static struct event_rec *
events_rec(const char *type, const char *queue)
{
	struct event_rec	*e = xcalloc(1, sizeof *e);

	if (m_submitted == NULL)
		events_init();
	e->type = type;
	e->queue = xstrdup(queue);
	e->at = loop_now();
	e->wait = e->run = -1;
	return e;
}

/* Notes a transition of t (type "task.started"...); told after commit. */
void
events_task(struct task *t, const char *type, double wait, double run)
{
	struct event_rec	*e = events_rec(type, t->queue->name);

	e->task = t->id;
	e->kind = t->kind->name;
	e->state = t->state;
	e->attempt = t->attempt;
	e->wait = wait;
	e->run = run;
	if (t->labels != NULL && json_object_size(t->labels) > 0)
		e->labels = json_incref(t->labels);
	if (t->exception != NULL && fp_state_done(t->state))
		e->exception = json_incref(t->exception);
	store_defer(events_commit_cb, e);
}

/* Notes a change of queue name ("queue.changed"...), settings in info. */
void
events_queue(const char *name, const char *type, json_t *info)
{
	struct event_rec	*e = events_rec(type, name);

	e->settings = json_incref(info);
	store_defer(events_commit_cb, e);
}

static void
events_write_task(struct fp_text *o, const struct event_rec *e)
{
	fp_text_cstr(o, ",\"task\":");
	fp_text_int(o, e->task);
	fp_text_cstr(o, ",\"kind\":");
	fp_text_str(o, e->kind);
	fp_text_cstr(o, ",\"queue\":");
	fp_text_str(o, e->queue);
	fp_text_cstr(o, ",\"state\":");
	fp_text_str(o, fp_state_name(e->state));
	fp_text_cstr(o, ",\"attempt\":");
	fp_text_int(o, e->attempt);
	fp_text_cstr(o, ",\"at\":");
	fp_text_time(o, e->at);
	if (e->wait >= 0) {
		fp_text_cstr(o, ",\"wait\":");
		fp_text_real(o, e->wait);
	}
	if (e->run >= 0) {
		fp_text_cstr(o, ",\"run\":");
		fp_text_real(o, e->run);
	}
	if (e->labels != NULL) {
		fp_text_cstr(o, ",\"labels\":");
		fp_text_json(o, e->labels);
	}
	if (e->exception != NULL) {
		fp_text_cstr(o, ",\"exception\":{\"type\":");
		fp_text_json(o, json_object_get(e->exception, "type"));
		fp_text_cstr(o, ",\"message\":");
		fp_text_json(o, json_object_get(e->exception, "message"));
		fp_text_add(o, "}", 1);
	}
}

/* The event as the JSON object /events sends. */
static const char *
events_data(struct event_rec *e)
{
	struct fp_text	o = { 0 };

	if (e->data != NULL)
		return e->data;
	fp_text_cstr(&o, "{\"type\":");
	fp_text_str(&o, e->type);
	if (e->kind != NULL)
		events_write_task(&o, e);
	else {
		fp_text_cstr(&o, ",\"queue\":");
		fp_text_str(&o, e->queue);
		fp_text_cstr(&o, ",\"at\":");
		fp_text_time(&o, e->at);
		if (e->settings != NULL) {
			fp_text_cstr(&o, ",\"settings\":");
			fp_text_json(&o, e->settings);
		}
	}
	fp_text_add(&o, "}", 2);	/* with its NUL */
	if (o.failed)
		fatalx("%s: out of memory", __func__);
	return e->data = o.buf;
}

/* ---- reading the ring ---- */

uint64_t
events_last(void)
{
	return events_next - 1;
}

uint64_t
events_first(void)
{
	return events_next > EVENTS_WINDOW ? events_next - EVENTS_WINDOW : 1;
}

long long
events_run_id(void)
{
	return events_run;
}

/* The released event seq (events_first..events_last), else -1. */
int
events_get(uint64_t seq, struct event_view *v)
{
	struct event_rec	*e;

	if (seq < events_first() || seq > events_last())
		return -1;
	e = events_ring[seq % EVENTS_WINDOW];
	v->seq = e->seq;
	v->type = e->type;
	v->task = e->task;
	v->queue = e->queue;
	v->labels = e->labels;
	return 0;
}

/* The released event seq as JSON text (written at its first read). */
const char *
events_text(uint64_t seq)
{
	if (seq < events_first() || seq > events_last())
		return NULL;
	return events_data(events_ring[seq % EVENTS_WINDOW]);
}
