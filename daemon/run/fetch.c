/*
 * fetch.c: the http kind.  Every transfer is an easy handle in one curl
 * multi handle driven by the daemon's loop through the multi-socket API:
 * curl says which sockets to watch (fetch_socket_cb) and when to time out
 * (fetch_timer_cb); the loop tells curl what happened.  Thousands of
 * fetches cost memory, not threads.  Bodies are kept up to max_body; a
 * larger body ends the transfer and is flagged truncated.  What one turn
 * does is bounded: ready sockets are served in order within the turn's
 * budget, and at most FETCH_ADDS new transfers reach curl a turn.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "base/base.h"
#include "run/run.h"

#define FETCH_MAX_BODY		(1024 * 1024)
#define FETCH_ERROR_BODY	4096	/* body kept in an HttpError */
#define FETCH_CONNECT_TIMEOUT	30L
#define FETCH_MAX_REDIRECTS	10L
#define FETCH_RESUME		1e-5	/* seconds: serving sockets left */
#define FETCH_ADDS		128	/* transfers handed to curl a turn */

struct fetch {
	json_t			*spec;		/* a reference, until done */
	double			 timeout;	/* < 0: none */
	const struct run_ops	*ops;
	void			*arg;
	CURL			*easy;
	struct curl_slist	*headers_out;
	char			*body;
	size_t			 len;
	size_t			 limit;
	int			 truncated;
	json_t			*headers;	/* of the last response */
	double			 started;
	int			 added;		/* to the multi handle */
	TAILQ_ENTRY(fetch)	 entry;		/* in fetch_waiting, till then */
	char			 error[CURL_ERROR_SIZE];
};

/* What curl asked us to watch on one socket. */
struct fetch_socket {
	curl_socket_t		 fd;
	struct event		*ev;
	int			 ready;		/* CURL_CSELECT_*, while queued */
	TAILQ_ENTRY(fetch_socket) entry;	/* in fetch_ready */
};

static CURLM		*fetch_multi;
static struct event	*fetch_timer;
static size_t		 fetch_count;

/*
 * Sockets reported ready, served oldest first within the turn's budget
 * for new work (at least one a turn).  With a thousand transfers in
 * flight one poll reports hundreds of sockets, and serving them all (each
 * may end a transfer and its task) made 15-22 ms turns.  A queue, not
 * leaving them to the next poll: epoll reports them in a stable order,
 * so the same busy socket could come first every turn and starve others.
 */
static TAILQ_HEAD(, fetch_socket) fetch_ready =
    TAILQ_HEAD_INITIALIZER(fetch_ready);
static struct event	*fetch_resume;
static unsigned long	 fetch_served_turn;

/*
 * Transfers started but not yet handed to curl: at most FETCH_ADDS a
 * turn are, because curl connects every handle added in a turn inside
 * its next call, and a thousand connects made one turn of 10 ms.
 */
static TAILQ_HEAD(, fetch) fetch_waiting = TAILQ_HEAD_INITIALIZER(fetch_waiting);
static unsigned long	 fetch_added_turn;
static int		 fetch_added;

size_t
fetch_running(void)
{
	return fetch_count;
}

static void	fetch_check_done(void);
static void	fetch_add_waiting(void);
static int	fetch_may_add(void);
static int	fetch_add(struct fetch *);

/* Goes on in the next turn, after a poll. */
static void
fetch_resume_later(void)
{
	if (!evtimer_pending(fetch_resume, NULL))
		loop_timer_add(fetch_resume, FETCH_RESUME);
}

/* Serves the ready sockets in order while the turn's budget lasts. */
static void
fetch_serve(void)
{
	struct fetch_socket	*fs;
	int			 ready, running;

	while ((fs = TAILQ_FIRST(&fetch_ready)) != NULL) {
		if (!loop_first_in_turn(&fetch_served_turn) &&
		    loop_work_over(LOOP_WORK_NEW)) {
			fetch_resume_later();
			return;
		}
		TAILQ_REMOVE(&fetch_ready, fs, entry);
		ready = fs->ready;
		fs->ready = 0;
		/* may remove any socket, this one too (fetch_socket_cb) */
		curl_multi_socket_action(fetch_multi, fs->fd, ready, &running);
		fetch_check_done();
	}
}

static void
fetch_event_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fetch_socket	*fs = arg;
	int			 queued = fs->ready != 0;

	if (events & EV_READ)
		fs->ready |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		fs->ready |= CURL_CSELECT_OUT;
	if (!queued && fs->ready != 0)
		TAILQ_INSERT_TAIL(&fetch_ready, fs, entry);
	fetch_serve();
}

static void
fetch_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	fetch_add_waiting();
	fetch_serve();
}

static void
fetch_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	int	running;

	curl_multi_socket_action(fetch_multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check_done();
}

/* curl: start, change or stop watching socket s. */
static int
fetch_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct fetch_socket	*fs = socketp;
	short			 events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL) {
			if (fs->ready != 0)
				TAILQ_REMOVE(&fetch_ready, fs, entry);
			event_free(fs->ev);
			free(fs);
		}
		curl_multi_assign(fetch_multi, s, NULL);
		return 0;
	}
	if (fs == NULL) {
		fs = xcalloc(1, sizeof *fs);
		fs->fd = s;
		curl_multi_assign(fetch_multi, s, fs);
	} else
		event_free(fs->ev);
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EV_WRITE;
	fs->ev = event_new(loop_base, s, events, fetch_event_cb, fs);
	event_add(fs->ev, NULL);
	return 0;
}

/* curl: call back in timeout_ms (-1: never). */
static int
fetch_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct timeval	tv;

	if (timeout_ms < 0) {
		evtimer_del(fetch_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(fetch_timer, &tv);
	return 0;
}

int
fetch_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (fetch_multi = curl_multi_init()) == NULL)
		return -1;
	fetch_timer = evtimer_new(loop_base, fetch_timeout_cb, NULL);
	fetch_resume = evtimer_new(loop_base, fetch_resume_cb, NULL);
	curl_multi_setopt(fetch_multi, CURLMOPT_SOCKETFUNCTION, fetch_socket_cb);
	curl_multi_setopt(fetch_multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	fetch_configure();
	return 0;
}

static long
fetch_cache_size(void)
{
	struct rlimit	rl;
	long		n = cfg.http_max;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && (rlim_t)n > rl.rlim_cur / 4)
		n = (long)(rl.rlim_cur / 4);
	return n > 0 ? n : 1;
}

void
fetch_configure(void)
{
	curl_multi_setopt(fetch_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)cfg.http_max);
	curl_multi_setopt(fetch_multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)cfg.http_per_host);
	/*
	 * Idle connections kept for reuse: enough for a full burst, or a
	 * burst to one host closes and reopens most of them (a third of the
	 * throughput here), but never more than a quarter of the descriptors,
	 * which clients and task pipes need too.
	 */
	curl_multi_setopt(fetch_multi, CURLMOPT_MAXCONNECTS,
	    fetch_cache_size());
}

static size_t
fetch_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * n, keep = len;

	if (f->len + keep > f->limit) {
		keep = f->limit - f->len;
		f->truncated = 1;
	}
	if (keep > 0) {
		f->body = xreallocarray(f->body, f->len + keep + 1, 1);
		memcpy(f->body + f->len, data, keep);
		f->len += keep;
	}
	/* Past the limit, stop the transfer rather than read on. */
	return f->truncated ? 0 : len;
}

/* Collects "Name: value" lines; a new status line starts over. */
static size_t
fetch_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * n, klen;
	const char	*colon = memchr(data, ':', len), *v, *end = data + len;
	char		*key;
	json_t		*old;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		json_object_clear(f->headers);
		return len;
	}
	if (colon == NULL)
		return len;
	klen = (size_t)(colon - data);
	key = xmalloc(klen + 1);
	for (size_t i = 0; i < klen; i++)
		key[i] = (char)(data[i] >= 'A' && data[i] <= 'Z' ?
		    data[i] + 32 : data[i]);
	key[klen] = '\0';
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' '))
		end--;
	if ((old = json_object_get(f->headers, key)) != NULL) {
		char *joined;

		xasprintf(&joined, "%s, %.*s", json_string_value(old),
		    (int)(end - v), v);
		json_object_set_new(f->headers, key, xjson(fp_string_from_bytes(
		    joined, strlen(joined))));
		free(joined);
	} else
		json_object_set_new(f->headers, key, xjson(fp_string_from_bytes(
		    v, (size_t)(end - v))));
	free(key);
	return len;
}

static void
fetch_destroy(struct fetch *f)
{
	if (!f->added)
		TAILQ_REMOVE(&fetch_waiting, f, entry);
	if (f->easy != NULL) {
		if (f->added)
			curl_multi_remove_handle(fetch_multi, f->easy);
		curl_easy_cleanup(f->easy);
	}
	curl_slist_free_all(f->headers_out);
	json_decref(f->headers);
	json_decref(f->spec);
	free(f->body);
	free(f);
}

/* Request headers from the spec's object. */
static struct curl_slist *
fetch_headers(json_t *headers)
{
	struct curl_slist	*list = NULL;
	const char		*k;
	json_t			*v;
	char			*line;

	json_object_foreach(headers, k, v) {
		/* "Name;" sends an empty value; "Name:" would remove it. */
		if (json_string_length(v) == 0)
			xasprintf(&line, "%s;", k);
		else
			xasprintf(&line, "%s: %s", k, json_string_value(v));
		list = curl_slist_append(list, line);
		free(line);
	}
	return list;
}

static void
fetch_setup(struct fetch *f, json_t *spec)
{
	CURL		*e = f->easy;
	json_t		*body = json_object_get(spec, "body");
	json_t		*follow = json_object_get(spec, "follow_redirects");
	const char	*method = json_string_value(json_object_get(spec,
			    "method"));

	curl_easy_setopt(e, CURLOPT_URL, json_string_value(json_object_get(spec,
	    "url")));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, follow == NULL ||
	    json_is_true(follow) ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, f->timeout > 0 ?
	    0L : FETCH_CONNECT_TIMEOUT);	/* else the task's timeout rules */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "futured/" FUTURED_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_PRIVATE, f);
	if (f->timeout > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
		    (long)(f->timeout * 1000));
	if (body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)json_string_length(body));
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    json_string_value(body));
	}
	if (method != NULL && strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (method != NULL)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	f->headers_out = fetch_headers(json_object_get(spec, "headers"));
	if (f->headers_out != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers_out);
}

struct fetch *
fetch_start(const struct run_attempt *a, const struct run_ops *ops, void *arg)
{
	struct fetch	*f = xcalloc(1, sizeof *f);
	json_t		*mb = json_object_get(a->spec, "max_body");

	f->spec = json_incref(a->spec);
	f->timeout = a->timeout;
	f->ops = ops;
	f->arg = arg;
	f->started = loop_mono();
	f->limit = mb != NULL ? (size_t)json_integer_value(mb) : FETCH_MAX_BODY;
	f->headers = xjson(json_object());
	if ((f->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	fetch_setup(f, a->spec);
	fetch_count++;
	TAILQ_INSERT_TAIL(&fetch_waiting, f, entry);
	if (TAILQ_FIRST(&fetch_waiting) != f || !fetch_may_add()) {
		fetch_resume_later();
		return f;
	}
	return fetch_add(f) == 0 ? f : NULL;
}

/* May one more transfer be handed to curl this turn? */
static int
fetch_may_add(void)
{
	if (loop_first_in_turn(&fetch_added_turn))
		fetch_added = 0;
	return fetch_added < FETCH_ADDS;
}

/* Hands waiting f to curl; -1: it could not, f has ended. */
static int
fetch_add(struct fetch *f)
{
	const struct run_ops	*ops = f->ops;
	void			*arg = f->arg;

	fetch_added++;
	if (curl_multi_add_handle(fetch_multi, f->easy) == CURLM_OK) {
		TAILQ_REMOVE(&fetch_waiting, f, entry);
		f->added = 1;
		return 0;
	}
	fetch_count--;
	fetch_destroy(f);
	ops->done(arg, NULL, xjson(fp_exception_create("ConnectionError",
	    "cannot start the transfer")));
	return -1;
}

/* Hands waiting transfers to curl, FETCH_ADDS a turn, oldest first. */
static void
fetch_add_waiting(void)
{
	struct fetch	*f;

	while ((f = TAILQ_FIRST(&fetch_waiting)) != NULL) {
		if (!fetch_may_add()) {
			fetch_resume_later();
			return;
		}
		(void)fetch_add(f);
	}
}

/* The body as a string, or base64 when it is not UTF-8. */
static void
fetch_body_json(struct fetch *f, json_t *o, size_t max)
{
	size_t	n = f->len < max ? f->len : max;

	if (fp_utf8_valid(f->body != NULL ? f->body : "", n)) {
		json_object_set_new(o, "body", json_stringn_nocheck(
		    f->body != NULL ? f->body : "", n));
		json_object_set_new(o, "body_encoding", json_string("utf-8"));
	} else {
		json_object_set_new(o, "body", xjson(fp_base64(f->body, n)));
		json_object_set_new(o, "body_encoding", json_string("base64"));
	}
	json_object_set_new(o, "body_truncated",
	    json_boolean(f->truncated || n < f->len));
}

static json_t *
fetch_response(struct fetch *f, long status, size_t max_body)
{
	char	*url = NULL;
	json_t	*o;

	curl_easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url);
	o = xjson(json_pack("{s:i,s:O,s:s,s:f}", "status", (int)status,
	    "headers", f->headers, "url", url != NULL ? url : "",
	    "duration", loop_mono() - f->started));
	fetch_body_json(f, o, max_body);
	return o;
}

/* Maps a failed transfer to TimeoutError or ConnectionError. */
static json_t *
fetch_error(struct fetch *f, CURLcode rc)
{
	json_t	*e;

	if (rc == CURLE_OPERATION_TIMEDOUT && f->timeout > 0) {
		e = fp_exception_create("TimeoutError",
		    "task did not finish within %gs: %s", f->timeout,
		    f->error[0] != '\0' ? f->error : curl_easy_strerror(rc));
		json_object_set_new(xjson(e), "timeout",
		    json_real(f->timeout));
	} else
		e = fp_exception_create("ConnectionError", "%s",
		    f->error[0] != '\0' ? f->error : curl_easy_strerror(rc));
	json_object_set_new(xjson(e), "curl_code", json_integer(rc));
	return e;
}

/* A transfer ended: its outcome goes to the owner. */
static void
fetch_done(struct fetch *f, CURLcode rc)
{
	const struct run_ops	*ops = f->ops;
	void			*arg = f->arg;
	json_t			*spec = f->spec, *e, *r, *result = NULL;
	long			 status = 0;

	fetch_count--;
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_WRITE_ERROR && f->truncated)
		rc = CURLE_OK;		/* we ended it at max_body */
	if (rc != CURLE_OK)
		e = fetch_error(f, rc);
	else if ((status < 200 || status > 299) &&
	    !json_is_false(json_object_get(spec, "raise_for_status"))) {
		e = xjson(fp_exception_create("HttpError", "HTTP %ld from %s",
		    status, json_string_value(json_object_get(spec, "url"))));
		r = fetch_response(f, status, FETCH_ERROR_BODY);
		json_object_update(e, r);
		json_decref(r);
	} else {
		e = NULL;
		result = fetch_response(f, status, (size_t)-1);
	}
	fetch_destroy(f);
	ops->done(arg, result, e);
}

static void
fetch_check_done(void)
{
	struct fetch	*f;
	CURLMsg		*msg;
	int		 left;

	while ((msg = curl_multi_info_read(fetch_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &f);
		fetch_done(f, msg->data.result);
	}
}

void
fetch_stop(struct fetch *f)
{
	const struct run_ops	*ops;
	void			*arg;

	if (f == NULL)
		return;
	ops = f->ops;
	arg = f->arg;
	fetch_count--;
	fetch_destroy(f);
	ops->done(arg, NULL, NULL);
}

void
fetch_cleanup(void)
{
	if (fetch_multi != NULL)
		curl_multi_cleanup(fetch_multi);
	fetch_multi = NULL;
	if (fetch_timer != NULL)
		event_free(fetch_timer);
	fetch_timer = NULL;
	if (fetch_resume != NULL)
		event_free(fetch_resume);
	fetch_resume = NULL;
	curl_global_cleanup();
}
