/*
 * rpc.c: JSON-RPC 2.0 dispatch.
 *
 * One HTTP body is a batch of calls (a single request is a batch of one
 * that answers without the array).  Handlers reply at once or wait; the
 * batch answers when every call has replied, and only after the store has
 * committed what the calls changed, so an acknowledged change is durable.
 * Every request gets exactly one reply, or none when its client is gone.
 */
#include <sys/queue.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"

#define RPC_MAX_BATCH	10000
/*
 * Batches' calls run while the turn's work budget lasts (loop_work_over,
 * checked every RPC_SLICE_CHECK calls; parsing counts), the rest in the
 * next turns: a batch of thousands leaves the loop to the other clients,
 * the timers and the store's answers in between, and each turn commits
 * its part.
 */
#define RPC_SLICE_CHECK	32
/* Commits of one batch's slices in flight at once, at most. */
#define RPC_SLICES_AHEAD	4

struct rpc_batch {
	rpc_reply_cb		*reply;		/* the transport's */
	void			*reply_arg;
	int			 gone;		/* the client went away */
	json_t			*doc;		/* the parsed body */
	struct rpc_call		*calls;		/* each holds its response */
	size_t			 ncalls;
	size_t			 outstanding;
	int			 is_array;
	int			 dispatching;
	size_t			 dispatched;	/* calls run so far */
	int			 slices_out;	/* their commits in flight */
	struct event		*next_slice;	/* runs the calls left */
	int			 refs;		/* the batch list; commit marks */
	int			 nul_keys;	/* fp_body_parse said so */
	int			 read_only;	/* methods that change: ReadOnly */
	int64_t			 as_task;	/* a task's credential: rpc_scope */
	TAILQ_ENTRY(rpc_batch)	 entry;
};

/* What a waiting call needs from rpc.c: its deadline, maybe watches. */
struct rpc_deadline {
	struct event	*ev;
	void		(*fire)(struct rpc_call *);
	struct watch	*news;		/* rpc_park: the task did something */
	struct watch	*done;		/* rpc_park: the task finished */
	void		(*answer)(struct rpc_call *, int timed_out);
};

static TAILQ_HEAD(, rpc_batch)	rpc_batches = TAILQ_HEAD_INITIALIZER(rpc_batches);

static void	rpc_batch_wake(struct rpc_batch *);
static void	rpc_dispatch_run(struct rpc_call *, const struct rpc_method *);
static int	rpc_scope(struct rpc_call *, const struct rpc_method *, int);
static struct rpc_batch *rpc_handle_with(const char *, size_t, int, int64_t,
		    rpc_reply_cb *, void *);
static void	rpc_batch_dispatch(struct rpc_batch *);
static void	rpc_text_response(struct rpc_call *, json_t *);
static size_t			rpc_nbatches;
static int64_t			rpc_nrefused;	/* notifications refused */

int64_t
rpc_refused_notifications(void)
{
	return rpc_nrefused;
}

size_t
rpc_in_flight(void)
{
	return rpc_nbatches;
}

int
rpc_is_notification(struct rpc_call *c)
{
	return c->id == NULL;
}

static void
rpc_batch_unref(struct rpc_batch *b)
{
	size_t	i;

	if (--b->refs > 0)
		return;
	for (i = 0; i < b->ncalls; i++)
		fp_text_clear(&b->calls[i].reply);
	if (b->next_slice != NULL)
		event_free(b->next_slice);
	json_decref(b->doc);
	free(b->calls);
	free(b);
}

static void
rpc_batch_free(struct rpc_batch *b)
{
	TAILQ_REMOVE(&rpc_batches, b, entry);
	rpc_nbatches--;
	rpc_batch_unref(b);
}

/* The calls of a batch that one turn dispatched, and that turn's commit. */
struct rpc_slice {
	struct rpc_batch	*batch;
	size_t			 from, to;
};

/*
 * The commit of a turn that dispatched calls of a batch: if it failed,
 * what those calls changed is gone, and their answers must say so even
 * though they are sent in a later turn.  A batch has at most
 * RPC_SLICES_AHEAD commits in flight: the database sets the pace, and the
 * calls of other clients do not queue behind a whole batch's writes.
 */
static void
rpc_slice_committed_cb(void *arg, int status)
{
	struct rpc_slice	*sl = arg;
	struct rpc_batch	*b = sl->batch;
	size_t			 i;

	for (i = sl->from; status != STORE_COMMITTED && i < sl->to; i++)
		b->calls[i].turn_failed = 1;
	if (b->slices_out-- == RPC_SLICES_AHEAD && b->dispatched < b->ncalls)
		loop_timer_add(b->next_slice, 0);
	rpc_batch_unref(b);
	free(sl);
}

/* The body to send: the single response, or the array of the others. */
static char *
rpc_batch_body(struct rpc_batch *b, size_t *len)
{
	struct fp_text	 out = { 0 }, *r;
	size_t		 i, size = 2;

	if (!b->is_array)
		return fp_text_take(&b->calls[0].reply, len);
	for (i = 0; i < b->ncalls; i++)
		size += b->calls[i].reply.len + 1;
	fp_text_reserve(&out, size);
	for (i = 0; i < b->ncalls; i++) {
		r = &b->calls[i].reply;
		if (r->len == 0)
			continue;
		fp_text_add(&out, out.len == 0 ? "[" : ",", 1);
		fp_text_add(&out, r->buf, r->len);
	}
	if (out.len > 0)
		fp_text_add(&out, "]", 1);
	return fp_text_take(&out, len);
}

/*
 * A commit failed: what the calls it carried said may not be trusted
 * (all: the commit of the turn that sends the answer).
 */
static void
rpc_batch_store_failed(struct rpc_batch *b, int all)
{
	struct rpc_call	*c;
	size_t		 i;

	for (i = 0; i < b->ncalls; i++) {
		c = &b->calls[i];
		if (c->reply.len == 0 || !(all || c->turn_failed))
			continue;
		fp_text_clear(&c->reply);
		rpc_text_response(c, xjson(fp_response_error(c->id,
		    FP_ERR_STORE, NULL, json_pack("{s:s}", "reason",
		    "the database could not commit; nothing was changed"))));
	}
}

static void
rpc_batch_send_cb(void *arg, int status)
{
	struct rpc_batch	*b = arg;
	size_t			 len = 0;
	char			*body = NULL;

	if (!b->gone) {
		rpc_batch_store_failed(b, status != STORE_COMMITTED);
		/* out of memory: an empty answer, the connection lives on */
		if ((body = rpc_batch_body(b, &len)) == NULL) {
			log_warnx("%s: out of memory for a batch's answer",
			    __func__);
			len = 0;
		}
	}
	b->reply(b->reply_arg, body, len);
	rpc_batch_free(b);
}

/*
 * A batch whose last call settles after its dispatch (a long-poll woken by
 * a commit or its deadline, a read a networked store answered) is answered
 * at the end of the turn, after the commit of what the turn wrote (and of
 * any earlier commit not yet answered); never inside the reply, whose
 * caller may still hold the call.
 */
static void
rpc_batch_check(struct rpc_batch *b)
{
	if (b->outstanding != 0 || b->dispatching)
		return;
	store_defer(rpc_batch_send_cb, b);
}

/*
 * A response that could not be written for lack of memory (a huge result
 * under a memory limit): -32603 instead, or, if even that fails, no entry.
 */
static void
rpc_out_of_memory(struct rpc_call *c)
{
	log_warnx("%s: out of memory for the answer to %s", __func__,
	    c->method != NULL ? c->method : "a request");
	fp_text_clear(&c->reply);
	fp_text_cstr(&c->reply, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":"
	    "-32603,\"message\":\"Internal error\",\"data\":{\"reason\":"
	    "\"out of memory\"}},\"id\":");
	fp_text_json(&c->reply, c->id);
	fp_text_add(&c->reply, "}", 1);
	if (c->reply.failed)
		fp_text_clear(&c->reply);
}

/* The call has answered; c->reply holds its response, or nothing. */
static void
rpc_settled(struct rpc_call *c)
{
	struct rpc_batch	*b = c->batch;
	struct rpc_deadline	*d;

	c->replied = 1;
	if (c->deadline != NULL) {
		d = c->deadline;

		watch_remove(d->news);
		watch_remove(d->done);
		event_free(d->ev);
		free(d);
		c->deadline = NULL;
	}
	if (c->reply.failed)
		rpc_out_of_memory(c);
	fp_text_shrink(&c->reply);	/* kept until the batch is sent */
	b->outstanding--;
	rpc_batch_check(b);
}

/* response (stolen) as the call's text; notifications keep none. */
static void
rpc_text_response(struct rpc_call *c, json_t *response)
{
	if (c->id != NULL)
		fp_text_json(&c->reply, response);
	json_decref(response);
}

static void
rpc_settle(struct rpc_call *c, json_t *response)
{
	assert(!c->replied);
	if (c->replied) {
		json_decref(response);
		return;
	}
	fp_text_clear(&c->reply);	/* a result given up half-written */
	rpc_text_response(c, response);
	rpc_settled(c);
}

/* Where a second reply goes in a build without asserts: nowhere. */
static struct fp_text	rpc_discarded;

/*
 * Same framing as fp_response_result, so a result written as text and one
 * given as a tree look alike on the wire.
 */
struct fp_text *
rpc_result_begin(struct rpc_call *c)
{
	assert(!c->replied && c->reply.len == 0);
	if (c->replied) {
		fp_text_clear(&rpc_discarded);
		return &rpc_discarded;
	}
	fp_text_cstr(&c->reply, "{\"jsonrpc\":\"2.0\",\"result\":");
	return &c->reply;
}

void
rpc_result_end(struct rpc_call *c)
{
	if (c->replied) {
		fp_text_clear(&rpc_discarded);
		return;
	}
	if (c->id == NULL)
		fp_text_clear(&c->reply);
	else {
		fp_text_cstr(&c->reply, ",\"id\":");
		fp_text_json(&c->reply, c->id);
		fp_text_add(&c->reply, "}", 1);
	}
	rpc_settled(c);
}

void
rpc_reply(struct rpc_call *c, json_t *result)
{
	fp_text_json(rpc_result_begin(c), xjson(result));
	json_decref(result);
	rpc_result_end(c);
}

/*
 * Nobody hears a refused notification, so it is logged, once, with what
 * identifies the work that was not done (a submit's key or labels).
 */
static void
rpc_log_refused(struct rpc_call *c, int code, json_t *data)
{
	json_t	*key = NULL, *labels = NULL;
	char	*d, *what = NULL;

	rpc_nrefused++;
	if (c->method != NULL && strcmp(c->method, FP_TASK_SUBMIT) == 0) {
		key = json_object_get(c->params, "key");
		labels = json_object_get(c->params, "labels");
	}
	if (json_is_string(key))
		what = json_dumps(key, JSON_ENCODE_ANY);
	else if (json_is_object(labels))
		what = json_dumps(labels, JSON_COMPACT);
	d = data != NULL ? json_dumps(data, JSON_COMPACT) : NULL;
	log_warnx("refused notification %s: %s %s%s%s",
	    c->method != NULL ? c->method : "(invalid)",
	    fp_error_message(code), d != NULL ? d : "{}",
	    what == NULL ? "" : json_is_string(key) ? "; key " : "; labels ",
	    what != NULL ? what : "");
	free(d);
	free(what);
}

void
rpc_error(struct rpc_call *c, int code, json_t *data)
{
	if (c->id == NULL && !c->replied)
		rpc_log_refused(c, code, data);
	rpc_settle(c, xjson(fp_response_error(c->id, code, NULL, data)));
}

void
rpc_task_missing(struct rpc_call *c, int status, int64_t id)
{
	if (status == STORE_FAILED)
		rpc_error(c, FP_ERR_STORE, json_pack("{s:s,s:I}", "reason",
		    "cannot read the task", "id", (json_int_t)id));
	else
		rpc_error(c, FP_ERR_NO_SUCH_TASK, json_pack("{s:I}", "id",
		    (json_int_t)id));
}

int
rpc_poll_timeout(struct rpc_call *c, double *timeout, struct fp_invalid *inv)
{
	if (fp_timeout_parse(c->params, "timeout", 0, cfg.max_wait, timeout,
	    inv) == -1)
		return -1;
	if (rpc_is_notification(c))
		*timeout = 0;	/* nobody would read the answer */
	return 0;
}

void
rpc_invalid(struct rpc_call *c, const struct fp_invalid *inv)
{
	rpc_error(c, FP_ERR_INVALID_PARAMS, fp_invalid_data(inv));
}

static void
rpc_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct rpc_call		*c = arg;
	struct rpc_deadline	*d = c->deadline;

	d->fire(c);
}

void
rpc_wait(struct rpc_call *c, double secs, void (*fire)(struct rpc_call *))
{
	struct rpc_deadline	*d = xcalloc(1, sizeof *d);

	d->fire = fire;
	d->ev = evtimer_new(loop_base, rpc_deadline_cb, c);
	loop_timer_add(d->ev, secs);
	c->deadline = d;
}

/* One of a parked call's watches fired (and is consumed). */
static void
rpc_park_fired(struct rpc_call *c, int timed_out)
{
	struct rpc_deadline	*d = c->deadline;

	watch_remove(d->news);
	watch_remove(d->done);
	d->news = d->done = NULL;
	d->answer(c, timed_out);
}

static void
rpc_park_news_cb(int64_t id, enum fp_state st, void *arg)
{
	struct rpc_call		*c = arg;
	struct rpc_deadline	*d = c->deadline;

	d->news = NULL;
	rpc_park_fired(c, 0);
}

static void
rpc_park_done_cb(int64_t id, enum fp_state st, void *arg)
{
	struct rpc_call		*c = arg;
	struct rpc_deadline	*d = c->deadline;

	d->done = NULL;
	rpc_park_fired(c, 0);
}

static void
rpc_park_deadline(struct rpc_call *c)
{
	rpc_park_fired(c, 1);
}

void
rpc_park(struct rpc_call *c, int64_t id, enum watch_event news, double secs,
    void (*answer)(struct rpc_call *, int timed_out))
{
	struct rpc_deadline	*d;

	if (c->deadline == NULL)
		rpc_wait(c, secs, rpc_park_deadline);
	d = c->deadline;
	d->answer = answer;
	d->news = watch_add(id, news, rpc_park_news_cb, c);
	d->done = watch_add(id, WATCH_DONE, rpc_park_done_cb, c);
}

void
rpc_wake_all(void)
{
	struct rpc_batch	*b;

	TAILQ_FOREACH(b, &rpc_batches, entry)
		rpc_batch_wake(b);
}

/* Answers every waiting call of b now, with what is true now. */
static void
rpc_batch_wake(struct rpc_batch *b)
{
	struct rpc_deadline	*d;
	size_t			 i;

	for (i = 0; i < b->ncalls; i++)
		if ((d = b->calls[i].deadline) != NULL)
			event_active(d->ev, EV_TIMEOUT, 0);
}

void
rpc_batch_gone(struct rpc_batch *b)
{
	log_debug("%s: client went away with %zu calls waiting", __func__,
	    b->outstanding);
	b->gone = 1;
	rpc_batch_wake(b);
}

/* Runs one well-formed call. */
static void
rpc_dispatch(struct rpc_call *c, struct fp_request *req)
{
	const struct rpc_method	*m = rpc_method_find(req->method);
	static json_t		*empty;

	if (m == NULL) {
		rpc_error(c, FP_ERR_METHOD_NOT_FOUND, json_pack("{s:s}",
		    "method", req->method));
		return;
	}
	if (c->batch->read_only && m->changes) {
		rpc_error(c, FP_ERR_READ_ONLY, json_pack("{s:s}", "method",
		    m->name));
		return;
	}
	if (loop_shutting_down() && !m->while_stopping) {
		rpc_error(c, FP_ERR_SHUTTING_DOWN, json_object());
		return;
	}
	if (empty == NULL)
		empty = xjson(json_object());
	c->params = req->params != NULL ? req->params : empty;
	c->method = m->name;
	if (c->batch->as_task != 0 && !rpc_scope(c, m, c->params != empty))
		return;
	rpc_dispatch_run(c, m);
}

static void
rpc_dispatch_run(struct rpc_call *c, const struct rpc_method *m)
{
	struct fp_invalid	 inv;

	if (rpc_params_check(m, c->params, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	m->handler(c);
}

/* ---- what a task's credential may do ---- */

static void
rpc_scope_refuse(struct rpc_call *c, const char *why)
{
	rpc_error(c, FP_ERR_READ_ONLY, json_pack("{s:s,s:s}", "method",
	    c->method, "reason", why));
}

static void
rpc_scope_row_cb(void *arg, int status, const struct store_row *r)
{
	struct rpc_call	*c = arg;

	/* an unknown task: the method says so itself */
	if (status == STORE_NONE || (status == STORE_OK &&
	    r->t.parent == c->batch->as_task))
		rpc_dispatch_run(c, rpc_method_find(c->method));
	else if (status == STORE_OK)
		rpc_scope_refuse(c, "a task's credential acts on its own "
		    "children only");
	else
		rpc_task_missing(c, status, c->state.task_id);
}

/*
 * A task's credential (over TCP) acts as its children's parent: it reads,
 * submits children (parent: itself), and cancels, closes or completes its
 * own children.  1: go on now; 0: refused, or looked up first.
 */
static int
rpc_scope(struct rpc_call *c, const struct rpc_method *m, int own_params)
{
	int64_t		 self = c->batch->as_task, id;
	json_t		*parent = json_object_get(c->params, "parent");
	struct task	*t;

	if (!m->changes)
		return 1;
	if (strcmp(m->name, FP_TASK_SUBMIT) == 0) {
		if (parent != NULL && !json_is_null(parent) &&
		    json_integer_value(parent) != self) {
			rpc_scope_refuse(c, "a task's credential submits its "
			    "own children only");
			return 0;
		}
		if (own_params)
			json_object_set_new(c->params, "parent",
			    json_integer(self));
		return 1;
	}
	if (strcmp(m->name, FP_TASK_CANCEL) != 0 &&
	    strcmp(m->name, FP_TASK_CLOSE) != 0 &&
	    strcmp(m->name, FP_TASK_SET_RESULT) != 0 &&
	    strcmp(m->name, FP_TASK_SET_EXCEPTION) != 0) {
		rpc_scope_refuse(c, "a task's credential submits children, "
		    "reads, and ends its own children");
		return 0;
	}
	if (fp_id_parse(json_object_get(c->params, "id"), &id) == -1)
		return 1;	/* the method says what is wrong */
	if ((t = task_find(id)) != NULL) {
		if (t->parent == self)
			return 1;
		rpc_scope_refuse(c, "a task's credential acts on its own "
		    "children only");
		return 0;
	}
	c->state.task_id = id;
	store_task_get(id, rpc_scope_row_cb, c);
	return 0;
}

/*
 * The id an invalid request's error answers to: the request's own when it
 * was usable (it lives in the batch's document), else null.  Kept in the
 * call, so that a failed commit can rewrite the answer with the same id.
 */
static json_t *
rpc_error_id(json_t *err)
{
	json_t	*id = json_object_get(err, "id");

	return id != NULL ? id : json_null();
}

static void
rpc_call_run(struct rpc_batch *b, size_t i, json_t *member)
{
	struct rpc_call		*c = &b->calls[i];
	struct fp_request	 req;
	struct fp_invalid	 inv;
	json_t			*err, *e;

	c->batch = b;
	c->index = i;
	if (fp_request_parse(member, &req, &err) == -1) {
		/*
		 * An invalid request is answered (id null); a well-formed
		 * notification whose params are refused is not (JSON-RPC 4.1).
		 */
		e = json_object_get(xjson(err), "error");
		if (json_integer_value(json_object_get(e, "code")) !=
		    FP_ERR_INVALID_PARAMS || json_object_get(member, "id") != NULL)
			c->id = rpc_error_id(err);
		else {
			c->method = fp_cstr(json_object_get(member, "method"));
			rpc_log_refused(c, FP_ERR_INVALID_PARAMS,
			    json_object_get(e, "data"));
		}
		rpc_settle(c, err);
		return;
	}
	c->id = req.id;
	c->method = req.method;
	c->params = req.params;
	if (b->nul_keys && fp_nul_key_check(req.params, &inv) == -1) {
		rpc_invalid(c, &inv);
		return;
	}
	rpc_dispatch(c, &req);
}

static struct rpc_batch *
rpc_batch_create(rpc_reply_cb *reply, void *arg, json_t *doc, size_t n)
{
	struct rpc_batch	*b = xcalloc(1, sizeof *b);

	b->reply = reply;
	b->reply_arg = arg;
	b->doc = doc;
	b->ncalls = b->outstanding = n;
	b->refs = 1;
	b->calls = xcalloc(n, sizeof *b->calls);
	TAILQ_INSERT_TAIL(&rpc_batches, b, entry);
	rpc_nbatches++;
	return b;
}

/* A body that is not a batch of calls: one error response. */
static struct rpc_batch *
rpc_reject(rpc_reply_cb *reply, void *arg, int code, json_t *data)
{
	struct rpc_batch	*b = rpc_batch_create(reply, arg, NULL, 1);
	struct rpc_call		*c = &b->calls[0];

	c->batch = b;
	c->id = json_null();
	b->dispatching = 1;
	rpc_error(c, code, data);
	b->dispatching = 0;
	store_defer(rpc_batch_send_cb, b);
	return b;
}

static void
rpc_next_slice_cb(evutil_socket_t fd, short events, void *arg)
{
	rpc_batch_dispatch(arg);
}

/*
 * Runs b's calls while the turn's work budget lasts; what is left runs
 * in a later turn, once this one's commit is answered and the loop has
 * looked at everything else.
 */
static void
rpc_batch_dispatch(struct rpc_batch *b)
{
	struct rpc_slice	*sl;
	size_t			 from = b->dispatched;

	b->dispatching = 1;
	while (b->dispatched < b->ncalls) {
		rpc_call_run(b, b->dispatched, b->is_array ? json_array_get(
		    b->doc, b->dispatched) : b->doc);
		if (++b->dispatched % RPC_SLICE_CHECK == 0 &&
		    loop_work_over(LOOP_WORK_NEW))
			break;
	}
	if (b->dispatched < b->ncalls && b->next_slice == NULL &&
	    (b->next_slice = evtimer_new(loop_base, rpc_next_slice_cb, b)) ==
	    NULL)
		fatalx("rpc: no memory for an event");
	if (store_pending() || b->dispatched < b->ncalls) {
		sl = xcalloc(1, sizeof *sl);
		sl->batch = b;
		sl->from = from;
		sl->to = b->dispatched;
		b->refs++;
		b->slices_out++;
		store_defer(rpc_slice_committed_cb, sl);
	}
	if (b->dispatched < b->ncalls) {
		/* the rest in the next turn, or once a commit is answered */
		if (b->slices_out < RPC_SLICES_AHEAD)
			loop_timer_add(b->next_slice, 0);
		return;
	}
	b->dispatching = 0;
	rpc_batch_check(b);
}

struct rpc_batch *
rpc_handle(const char *body, size_t len, rpc_reply_cb *reply, void *arg)
{
	return rpc_handle_as(body, len, 0, reply, arg);
}

struct rpc_batch *
rpc_handle_as(const char *body, size_t len, int read_only, rpc_reply_cb *reply,
    void *arg)
{
	return rpc_handle_with(body, len, read_only, 0, reply, arg);
}

struct rpc_batch *
rpc_handle_task(const char *body, size_t len, int64_t as_task,
    rpc_reply_cb *reply, void *arg)
{
	return rpc_handle_with(body, len, 0, as_task, reply, arg);
}

static struct rpc_batch *
rpc_handle_with(const char *body, size_t len, int read_only, int64_t as_task,
    rpc_reply_cb *reply, void *arg)
{
	struct rpc_batch	*b;
	json_error_t		 jerr;
	json_t			*doc;
	size_t			 n;
	int			 nul_keys;

	/* the turn's budget from here: parsing counts */
	(void)loop_work_over(LOOP_WORK_NEW);
	doc = fp_body_parse(body, len, &nul_keys, &jerr);
	/* jansson leaves some allocation failures without a reason */
	if (doc == NULL && (json_error_code(&jerr) == json_error_out_of_memory ||
	    jerr.text[0] == '\0'))
		return rpc_reject(reply, arg, FP_ERR_INTERNAL, json_pack(
		    "{s:s,s:I}", "reason", "out of memory for this request",
		    "bytes", (json_int_t)len));
	/* jansson's "near '...'" may end inside a UTF-8 sequence */
	if (doc == NULL)
		return rpc_reject(reply, arg, FP_ERR_PARSE, json_pack("{s:o,s:i}",
		    "reason", fp_string_from_bytes(jerr.text, strlen(jerr.text)),
		    "position", jerr.position));
	if (json_is_array(doc) && json_array_size(doc) == 0) {
		json_decref(doc);
		return rpc_reject(reply, arg, FP_ERR_INVALID_REQUEST, json_pack("{s:s}",
		    "reason", "empty batch"));
	}
	n = json_is_array(doc) ? json_array_size(doc) : 1;
	if (n > RPC_MAX_BATCH) {
		json_decref(doc);
		return rpc_reject(reply, arg, FP_ERR_LIMIT, json_pack("{s:s,s:I,s:I}",
		    "limit", "batch", "max", (json_int_t)RPC_MAX_BATCH,
		    "value", (json_int_t)n));
	}
	b = rpc_batch_create(reply, arg, doc, n);
	b->is_array = json_is_array(doc);
	b->nul_keys = nul_keys;
	b->read_only = read_only;
	b->as_task = as_task;
	/* The transport still uses b on return: never answered from here. */
	rpc_batch_dispatch(b);
	return b;
}
