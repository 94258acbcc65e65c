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

struct event_rec {
	uint64_t	 seq;		/* 0 until released */
	const char	*type;		/* "task.created"... (static) */
	int64_t		 task;		/* 0: a queue event */
	char		*queue;
	json_t		*labels;	/* a reference, or NULL */
	char		*data;		/* the JSON object sent */
	/* for the metrics */
	const char	*kind;
	double		 wait, run;	/* < 0: not measured */
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
	e->wait = e->run = -1;
	return e;
}

/* Notes a transition of t (type "task.started"...); told after commit. */
void
events_task(struct task *t, const char *type, double wait, double run)
{
	struct event_rec	*e = events_rec(type, t->queue->name);
	struct fp_text		 o = { 0 };
	char			 at[FP_TIME_LEN];

	e->task = t->id;
	e->kind = t->kind->name;
	e->wait = wait;
	e->run = run;
	if (t->labels != NULL)
		e->labels = json_incref(t->labels);
	fp_text_cstr(&o, "{\"type\":");
	fp_text_str(&o, type);
	fp_text_cstr(&o, ",\"task\":");
	fp_text_int(&o, t->id);
	fp_text_cstr(&o, ",\"kind\":");
	fp_text_str(&o, t->kind->name);
	fp_text_cstr(&o, ",\"queue\":");
	fp_text_str(&o, t->queue->name);
	fp_text_cstr(&o, ",\"state\":");
	fp_text_str(&o, fp_state_name(t->state));
	fp_text_cstr(&o, ",\"attempt\":");
	fp_text_int(&o, t->attempt);
	fp_text_cstr(&o, ",\"at\":");
	fp_text_str(&o, fp_time_format(loop_now(), at));
	if (wait >= 0) {
		fp_text_cstr(&o, ",\"wait\":");
		fp_text_real(&o, wait);
	}
	if (run >= 0) {
		fp_text_cstr(&o, ",\"run\":");
		fp_text_real(&o, run);
	}
	if (t->labels != NULL && json_object_size(t->labels) > 0) {
		fp_text_cstr(&o, ",\"labels\":");
		fp_text_json(&o, t->labels);
	}
	if (t->exception != NULL && fp_state_done(t->state)) {
		fp_text_cstr(&o, ",\"exception\":{\"type\":");
		fp_text_json(&o, json_object_get(t->exception, "type"));
		fp_text_cstr(&o, ",\"message\":");
		fp_text_json(&o, json_object_get(t->exception, "message"));
		fp_text_add(&o, "}", 1);
	}
	fp_text_add(&o, "}", 2);	/* with its NUL */
	if (o.failed)
		fatalx("%s: out of memory", __func__);
	e->data = o.buf;
	store_defer(events_commit_cb, e);
}

/* Notes a change of queue name ("queue.paused"...), settings in info. */
void
events_queue(const char *name, const char *type, json_t *info)
{
	struct event_rec	*e = events_rec(type, name);
	struct fp_text		 o = { 0 };
	char			 at[FP_TIME_LEN];

	fp_text_cstr(&o, "{\"type\":");
	fp_text_str(&o, type);
	fp_text_cstr(&o, ",\"queue\":");
	fp_text_str(&o, name);
	fp_text_cstr(&o, ",\"at\":");
	fp_text_str(&o, fp_time_format(loop_now(), at));
	if (info != NULL) {
		fp_text_cstr(&o, ",\"settings\":");
		fp_text_json(&o, info);
	}
	fp_text_add(&o, "}", 2);
	if (o.failed)
		fatalx("%s: out of memory", __func__);
	e->data = o.buf;
	store_defer(events_commit_cb, e);
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
	const struct event_rec	*e;

	if (seq < events_first() || seq > events_last())
		return -1;
	e = events_ring[seq % EVENTS_WINDOW];
	v->seq = e->seq;
	v->type = e->type;
	v->task = e->task;
	v->queue = e->queue;
	v->labels = e->labels;
	v->data = e->data;
	return 0;
}
