/*
 * tree.c: task trees (#16).  A task submitted with a parent is its child;
 * a group (kind-group.c) is a parent whose children are its members.
 *
 * When a task's own work ends (task_finish of a last attempt, a group's
 * close), its child_policy decides: wait (it stays running, costing no
 * slot, until every child has ended: task_wait_children, then tree_check
 * settles it), cancel (its unfinished children are cancelled) or abandon.
 * A cancelled task cancels its unfinished children in turn.  A group ends
 * with its members' outcomes, read from the store once all have ended;
 * the first member that fails cancels the others unless the group gathers
 * exceptions.
 *
 * What an end sets off (reading the children, cancelling them, settling a
 * waiting parent) goes through one queue of jobs, drained in a loop: a
 * chain of 100,000 tasks cancels as deep as it likes, without recursion.
 *
 * With one futured on its store, every unfinished task is in memory, so a
 * parent counts its unfinished children (children_open) and needs the
 * store only to list them.  With several nodes the children may run
 * anywhere: a child's insert and its end note its parent (has_children,
 * and a notification to the node holding it: tree_heard), a waiting
 * parent or an open group reads its children from the store then and
 * whenever another node finished something (tree_recheck), and a cancel
 * reaches the ones other nodes hold through store_finish_free (then their
 * own children, tree_cancel_below) and store_finish_ask.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

#define TREE_MARK	FP_CHILDREN_MARK	/* in attempt_state */
#define TREE_RETRY	1.0		/* after a read that failed */

enum tree_job_kind {
	TREE_CHECK,		/* a waiting task: are its children done? */
	TREE_LOOK,		/* an open group: did a member fail elsewhere? */
	TREE_CANCEL,		/* cancel the task's unfinished children */
};

struct tree_job {
	enum tree_job_kind	 kind;
	struct task		*task;		/* a reference; NULL: by id */
	int64_t			 id;
	char			*message;	/* TREE_CANCEL's */
};

/* One reading of the children of a task (in memory, or only its id). */
struct tree_read {
	struct task	*task;		/* a reference, or NULL */
	int64_t		 id;
	int		 open;		/* unfinished children */
	json_t		*members;	/* a group's [{id, state, outcome}] */
	json_t		*failures;	/* a group's [{id, exception}] */
	char		*cancel;	/* non-NULL: cancel the unfinished */
	int64_t		*unfinished;	/* to cancel, once the read is over */
	size_t		 n_unfinished, cap;
};

static struct tree_job	*tree_jobs;
static size_t		 tree_head, tree_njobs, tree_cap;
static int		 tree_draining;
static struct event	*tree_recheck_ev;

static void	tree_read(struct task *, int64_t id, const char *cancel);

/* Marks t's attempt_state so that a restart finds it waiting. */
json_t *
tree_mark(enum fp_state outcome, int failing)
{
	return xjson(json_pack("{s:s,s:b}", TREE_MARK, fp_state_name(outcome),
	    "failing", failing));
}

int
tree_marked(json_t *attempt_state, enum fp_state *outcome, int *failing)
{
	const char	*s;

	s = json_string_value(json_object_get(attempt_state, TREE_MARK));
	if (s == NULL)
		return 0;
	*outcome = strcmp(s, fp_state_name(FP_FAILED)) == 0 ? FP_FAILED :
	    FP_SUCCEEDED;
	*failing = json_is_true(json_object_get(attempt_state, "failing"));
	return 1;
}

void
tree_link(struct task *child)
{
	struct task	*p;

	if (child->parent <= 0 || child->linked ||
	    (p = task_find(child->parent)) == NULL)
		return;
	p->children_open++;
	child->linked = 1;
	/* the child may leave this node's memory (claimed elsewhere) */
	if (store_shared())
		p->children_remote = 1;
}

void
tree_unlink(struct task *child)
{
	struct task	*p;

	if (child->linked && (p = task_find(child->parent)) != NULL)
		p->children_open--;
	child->linked = 0;
}

/* ---- the queue of jobs ---- */

static void
tree_job_run(struct tree_job *j)
{
	struct task	*t = j->task;

	switch (j->kind) {
	case TREE_CANCEL:
		tree_read(t, j->id, j->message);
		break;
	case TREE_CHECK:
		if (t->tree_reading)
			t->tree_again = 1;
		else if (!t->waiting || fp_state_done(t->state))
			break;
		else if (!store_shared() && t->children_open > 0)
			break;
		else if (!store_shared() && !t->kind->group)
			task_settle(t, t->waiting_state,
			    json_incref(t->result), json_incref(t->exception));
		else
			tree_read(t, t->id, NULL);
		break;
	case TREE_LOOK:
		if (!t->tree_reading && !fp_state_done(t->state))
			tree_read(t, t->id, NULL);
		break;
	}
}

static void
tree_drain(void)
{
	struct tree_job	j;

	if (tree_draining)
		return;		/* the loop below gets to it */
	tree_draining = 1;
	while (tree_head < tree_njobs) {
		j = tree_jobs[tree_head++];
		tree_job_run(&j);
		if (j.task != NULL)
			task_unref(j.task, __func__);
		free(j.message);
	}
	tree_head = tree_njobs = 0;
	tree_draining = 0;
}

static void
tree_push(enum tree_job_kind kind, struct task *t, int64_t id,
    const char *message)
{
	struct tree_job	*j;

	if (tree_njobs == tree_cap)
		tree_jobs = xreallocarray(tree_jobs, tree_cap = tree_cap * 2 +
		    64, sizeof *tree_jobs);
	j = &tree_jobs[tree_njobs++];
	j->kind = kind;
	j->task = t;
	j->id = t != NULL ? t->id : id;
	j->message = message != NULL ? xstrdup(message) : NULL;
	if (t != NULL)
		task_ref(t, "tree job");
	tree_drain();
}

void
tree_check(struct task *t)
{
	tree_push(TREE_CHECK, t, 0, NULL);
}

void
tree_cancel_below(int64_t id, const char *message)
{
	tree_push(TREE_CANCEL, NULL, id, message);
}

/* ---- cancelling the children ---- */

/* One child another node may hold: ended in the store, or asked of it. */
struct tree_cancel {
	int64_t	 id;
	json_t	*exception;
};

static void
tree_cancel_free(struct tree_cancel *tc)
{
	json_decref(tc->exception);
	free(tc);
}

static void
tree_cancel_asked_cb(void *arg, int status)
{
	tree_cancel_free(arg);
}

static void
tree_cancel_free_cb(void *arg, int status)
{
	struct tree_cancel	*tc = arg;
	json_t			*asked;

	if (status == STORE_OK)		/* its own children next */
		tree_cancel_below(tc->id, json_string_value(json_object_get(
		    tc->exception, "message")));
	if (status != STORE_NONE) {
		tree_cancel_free(tc);
		return;
	}
	asked = xjson(json_pack("{s:s,s:O}", "state",
	    fp_state_name(FP_CANCELLED), "exception", tc->exception));
	store_finish_ask(tc->id, asked, tree_cancel_asked_cb, tc);
	json_decref(asked);
}

/* Cancels unfinished child id, wherever it is. */
static void
tree_cancel_child(int64_t id, const char *message)
{
	struct tree_cancel	*tc;
	struct task		*c;

	if ((c = task_find(id)) != NULL) {
		task_cancel(c, message);
		return;
	}
	if (!store_shared())
		return;
	tc = xcalloc(1, sizeof *tc);
	tc->id = id;
	tc->exception = fp_cancelled_exception(message);
	store_finish_free(tc->id, FP_CANCELLED, NULL, tc->exception,
	    loop_now(), tree_cancel_free_cb, tc);
}

/* ---- reading the children ---- */

static void
tree_row_cb(void *arg, int status, const struct store_row *r)
{
	struct tree_read	*rd = arg;
	json_t			*m, *v;

	if (!fp_state_done(r->t.state)) {
		rd->open++;
		/* not now: a cancel may read the store, which is reading */
		if (rd->cancel != NULL) {
			if (rd->n_unfinished == rd->cap)
				rd->unfinished = xreallocarray(rd->unfinished,
				    rd->cap = rd->cap * 2 + 8,
				    sizeof *rd->unfinished);
			rd->unfinished[rd->n_unfinished++] = r->t.id;
		}
		return;
	}
	if (rd->members == NULL)
		return;
	m = xjson(json_pack("{s:I,s:s}", "id", (json_int_t)r->t.id, "state",
	    fp_state_name(r->t.state)));
	if (r->t.state == FP_SUCCEEDED &&
	    (v = store_value_json(&r->t.result)) != NULL)
		json_object_set_new(m, "result", v);
	if (r->t.state == FP_FAILED &&
	    (v = store_value_json(&r->t.exception)) != NULL) {
		json_object_set(m, "exception", v);
		json_array_append_new(rd->failures, xjson(json_pack("{s:I,s:o}",
		    "id", (json_int_t)r->t.id, "exception", v)));
	}
	json_array_append_new(rd->members, m);
}

static int
tree_gathers(const struct task *g)
{
	return json_is_true(json_object_get(g->spec, "return_exceptions"));
}

/* A group's outcome from its members: its result, or an ExceptionGroup. */
static void
tree_group_settle(struct task *g, struct tree_read *rd)
{
	json_t	*e;
	size_t	 n = json_array_size(rd->failures);

	if (n == 0 || tree_gathers(g)) {
		task_settle(g, FP_SUCCEEDED, json_incref(rd->members), NULL);
		return;
	}
	e = xjson(fp_exception_create("ExceptionGroup", "%zu of %zu members "
	    "failed", n, json_array_size(rd->members)));
	json_object_set(e, "exceptions", rd->failures);
	task_settle(g, FP_FAILED, NULL, e);
}

/* The first failed member of g cancels the others and ends g's own part. */
static void
tree_group_failed(struct task *g, int64_t member)
{
	char	why[96];

	if (tree_gathers(g) || g->group_failing || fp_state_done(g->state))
		return;
	g->group_failing = 1;
	snprintf(why, sizeof why, "group %lld: member %lld failed",
	    (long long)g->id, (long long)member);
	tree_push(TREE_CANCEL, g, 0, why);
	if (!g->waiting)
		task_group_end(g);
	else {	/* closed already: a restart must find it failing */
		json_decref(g->attempt_state);
		g->attempt_state = tree_mark(g->waiting_state, 1);
		task_stored(g);
	}
}

static void
tree_retry_cb(void *arg)
{
	struct tree_read	*rd = arg;

	tree_push(TREE_CANCEL, rd->task, rd->id, rd->cancel);
	if (rd->task != NULL)
		task_unref(rd->task, "tree retry");
	free(rd->cancel);
	free(rd);
}

static void
tree_read_free(struct tree_read *rd)
{
	json_decref(rd->members);
	json_decref(rd->failures);
	free(rd->unfinished);
	free(rd->cancel);
	if (rd->task != NULL)
		task_unref(rd->task, "tree read");
	free(rd);
}

static void
tree_read_done_cb(void *arg, int status)
{
	struct tree_read	*rd = arg, *retry;
	struct task		*t = rd->task;
	size_t			 i;

	if (t != NULL)
		t->tree_reading = 0;
	if (status != STORE_OK) {
		log_warnx("task %lld: its children could not be read; again "
		    "in %gs", (long long)rd->id, TREE_RETRY);
		retry = xcalloc(1, sizeof *retry);	/* the same, later */
		retry->task = rd->task;
		retry->id = rd->id;
		retry->cancel = rd->cancel;
		rd->task = NULL;
		rd->cancel = NULL;
		loop_after(TREE_RETRY, tree_retry_cb, retry);
		tree_read_free(rd);
		return;
	}
	for (i = 0; i < rd->n_unfinished; i++)
		tree_cancel_child(rd->unfinished[i], rd->cancel);
	if (t == NULL || fp_state_done(t->state)) {
		tree_read_free(rd);
		return;
	}
	if (rd->n_unfinished > 0)	/* they ended meanwhile, here */
		t->tree_again = 1;
	if (t->kind->group && !t->waiting &&
	    json_array_size(rd->failures) > 0)	/* failed on another node */
		tree_group_failed(t, json_integer_value(json_object_get(
		    json_array_get(rd->failures, 0), "id")));
	else if (t->waiting && rd->open == 0) {
		if (t->kind->group)
			tree_group_settle(t, rd);
		else
			task_settle(t, t->waiting_state, json_incref(t->result),
			    json_incref(t->exception));
	}
	if (t->tree_again && !fp_state_done(t->state)) {
		t->tree_again = 0;
		tree_check(t);
	}
	tree_read_free(rd);
}

/* Reads the children of t (or of id); cancel: cancels the unfinished. */
static void
tree_read(struct task *t, int64_t id, const char *cancel)
{
	struct tree_read	*rd = xcalloc(1, sizeof *rd);

	rd->task = t;
	rd->id = t != NULL ? t->id : id;
	rd->cancel = cancel != NULL ? xstrdup(cancel) : NULL;
	if (t != NULL && t->kind->group) {
		rd->members = xjson(json_array());
		rd->failures = xjson(json_array());
	}
	if (t != NULL) {
		t->tree_reading = 1;
		task_ref(t, "tree read");
	}
	store_task_children(rd->id, tree_row_cb, tree_read_done_cb, rd);
}

/* ---- what a task's end does ---- */

/* May t have unfinished children?  Exact with one futured. */
static int
tree_has_children(const struct task *t)
{
	return t->children_open > 0 || (store_shared() && t->children_remote);
}

int
tree_waits(struct task *t)
{
	if (t->kind->group)
		return t->group_failing != TREE_EXPIRED;
	return t->child_policy == FP_CHILD_WAIT && tree_has_children(t);
}

/* Why t's end cancels its children, in msg; NULL: it does not. */
static const char *
tree_cancel_reason(const struct task *t, char *msg, size_t size)
{
	const char	*m;

	if (t->state == FP_CANCELLED) {
		m = json_string_value(json_object_get(t->exception, "message"));
		if (m != NULL)
			return m;
		snprintf(msg, size, "parent %lld was cancelled",
		    (long long)t->id);
	} else if (t->group_failing == TREE_EXPIRED)
		snprintf(msg, size, "group %lld timed out", (long long)t->id);
	else if (t->child_policy == FP_CHILD_CANCEL)
		snprintf(msg, size, "parent %lld ended", (long long)t->id);
	else
		return NULL;
	return msg;
}

void
tree_settled(struct task *t)
{
	struct task	*p;
	char		 why[96];
	const char	*m;

	if (t->parent > 0 && (p = task_find(t->parent)) != NULL &&
	    !fp_state_done(p->state)) {
		tree_unlink(t);
		if (p->kind->group && t->state == FP_FAILED)
			tree_group_failed(p, t->id);
		tree_check(p);
	} else if (t->parent > 0 && store_shared())
		store_child_ended(t->parent);	/* its holder looks */
	if (tree_has_children(t) &&
	    (m = tree_cancel_reason(t, why, sizeof why)) != NULL)
		tree_push(TREE_CANCEL, t, 0, m);
}

/* ---- several nodes: children end elsewhere ---- */

void
tree_heard(struct task *t)
{
	t->children_remote = 1;
	if (t->waiting)
		tree_check(t);
	else if (t->kind->group && !t->group_failing && !tree_gathers(t))
		tree_push(TREE_LOOK, t, 0, NULL);
}

static void
tree_recheck_cb(int64_t id, void *value, void *arg)
{
	struct task	*t = value;

	if (t->waiting)
		tree_check(t);
	else if (t->kind->group && t->children_remote && !t->group_failing &&
	    !tree_gathers(t) && !fp_state_done(t->state))
		tree_push(TREE_LOOK, t, 0, NULL);
}

static void
tree_recheck_ev_cb(evutil_socket_t fd, short events, void *arg)
{
	task_foreach(tree_recheck_cb, NULL);
}

void
tree_recheck(void)
{
	if (tree_recheck_ev == NULL && (tree_recheck_ev = evtimer_new(loop_base,
	    tree_recheck_ev_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (!evtimer_pending(tree_recheck_ev, NULL))
		loop_timer_add(tree_recheck_ev, 0.25);
}

int
tree_close(struct task *g)
{
	if (!g->kind->group)
		return -1;
	if (fp_state_done(g->state) || g->waiting)
		return 0;
	task_group_end(g);
	return 1;
}

void
tree_free(void)
{
	if (tree_recheck_ev != NULL)
		event_free(tree_recheck_ev);
	tree_recheck_ev = NULL;
	free(tree_jobs);
	tree_jobs = NULL;
	tree_head = tree_njobs = tree_cap = 0;
}
