/*
 * http-events.c: GET /events, the task and queue events of events.c as
 * Server-Sent Events.
 *
 * Each client names what it wants in the query (queue, label, task,
 * type); every event released after a commit is written to each client
 * whose filter it passes.  An event's id is RUN-SEQ: a client that
 * reconnects with Last-Event-ID gets what it missed while that is still
 * in the window of the last 10,000 events; from an older id, or one of an
 * earlier run, it gets a "reset" event first (reload what you show), then
 * the events from now on.  A client that does not read is dropped once
 * SSE_MAX_QUEUED bytes wait for it: its buffer never grows without bound.
 */
#include <sys/queue.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "http/http-parse.h"

#define SSE_MAX_QUEUED		(1024 * 1024)
#define SSE_HEARTBEAT		15.0	/* seconds: proxies close idle ones */
#define SSE_RETRY_MS		2000
#define SSE_VALUE_MAX		1024

struct sse_client {
	struct http_conn	*conn;
	uint64_t		 next;		/* the next seq to consider */
	char			*queue;		/* filters; NULL: any */
	char			*label_key, *label_value;
	int64_t			 task;		/* 0: any */
	char			*types;		/* ",t1,t2,": prefixes */
	TAILQ_ENTRY(sse_client)	 entry;
};

static TAILQ_HEAD(, sse_client)	sse_clients = TAILQ_HEAD_INITIALIZER(sse_clients);
static size_t			sse_nclients;
static struct event		*sse_heartbeat_ev;
static struct metric		*sse_dropped_metric, *sse_clients_metric;

/* Frees a client that is in no list. */
static void
sse_client_clear(struct sse_client *sc)
{
	free(sc->queue);
	free(sc->label_key);
	free(sc->label_value);
	free(sc->types);
	free(sc);
}

static void
sse_client_free(struct sse_client *sc)
{
	TAILQ_REMOVE(&sse_clients, sc, entry);
	sse_nclients--;
	metric_set(sse_clients_metric, NULL, (double)sse_nclients);
	sse_client_clear(sc);
}

static int
sse_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX and '+' of a query value; NULL when it is not valid. */
static char *
sse_decode(const char *s, size_t n)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	if (n > SSE_VALUE_MAX)
		return NULL;
	o = out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] != '%')
			*o++ = s[i];
		else if (i + 2 < n && (hi = sse_hex(s[i + 1])) >= 0 &&
		    (lo = sse_hex(s[i + 2])) >= 0) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	*o = '\0';
	if (strlen(out) != (size_t)(o - out)) {	/* a %00 */
		free(out);
		return NULL;
	}
	return out;
}

/* Reads the query into sc's filters; why not, as a 400's reason. */
static const char *
sse_filters(struct sse_client *sc, const char *query)
{
	const char	*p = query, *eq, *end;
	char		*v, *sep, *stop;
	size_t		 klen;

	while (*p != '\0') {
		end = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			return "each query parameter is NAME=VALUE";
		klen = (size_t)(eq - p);
		if ((v = sse_decode(eq + 1, (size_t)(end - eq - 1))) == NULL)
			return "a query value is not valid percent-encoding";
		if (klen == 5 && strncmp(p, "queue", 5) == 0) {
			free(sc->queue);
			sc->queue = v;
		} else if (klen == 5 && strncmp(p, "label", 5) == 0) {
			if ((sep = strchr(v, '=')) == NULL &&
			    (sep = strchr(v, ':')) == NULL) {
				free(v);
				return "label is KEY=VALUE";
			}
			*sep = '\0';
			free(sc->label_key);
			free(sc->label_value);
			sc->label_key = v;
			sc->label_value = xstrdup(sep + 1);
		} else if (klen == 4 && strncmp(p, "task", 4) == 0) {
			sc->task = strtoll(v, &stop, 10);
			if (*v == '\0' || *stop != '\0' || sc->task <= 0) {
				free(v);
				return "task is a task id";
			}
			free(v);
		} else if (klen == 4 && strncmp(p, "type", 4) == 0) {
			free(sc->types);
			xasprintf(&sc->types, ",%s,", v);
			free(v);
		} else {
			free(v);
			return "the filters are queue, label, task and type";
		}
		p = *end == '&' ? end + 1 : end;
	}
	return NULL;
}

/* Does type start with one of the ",a,b," prefixes? */
static int
sse_type_ok(const char *types, const char *type)
{
	const char	*p = types + 1, *end;

	while (*p != '\0') {
		end = strchr(p, ',');
		if (end > p && strncmp(type, p, (size_t)(end - p)) == 0 &&
		    (type[end - p] == '\0' || type[end - p] == '.'))
			return 1;
		p = end + 1;
	}
	return 0;
}

static int
sse_match(const struct sse_client *sc, const struct event_view *v)
{
	json_t	*l;

	if (sc->task != 0 && v->task != sc->task)
		return 0;
	if (sc->queue != NULL && strcmp(sc->queue, v->queue) != 0)
		return 0;
	if (sc->types != NULL && !sse_type_ok(sc->types, v->type))
		return 0;
	if (sc->label_key != NULL && (v->labels == NULL ||
	    (l = json_object_get(v->labels, sc->label_key)) == NULL ||
	    !json_is_string(l) ||
	    strcmp(json_string_value(l), sc->label_value) != 0))
		return 0;
	return 1;
}

/* Writes what sc has not seen; drops it when it does not read. */
static void
sse_pump(struct sse_client *sc)
{
	struct event_view	 v;
	const char		*data;
	char			 head[96];
	int			 n;

	for (; sc->next <= events_last(); sc->next++) {
		if (events_get(sc->next, &v) == -1 || !sse_match(sc, &v) ||
		    (data = events_text(sc->next)) == NULL)
			continue;
		n = snprintf(head, sizeof head, "id: %lld-%" PRIu64 "\ndata: ",
		    events_run_id(), v.seq);
		if (http_stream_write(sc->conn, head, (size_t)n) == -1 ||
		    http_stream_write(sc->conn, data, strlen(data)) == -1 ||
		    http_stream_write(sc->conn, "\n\n", 2) == -1 ||
		    http_stream_queued(sc->conn) > SSE_MAX_QUEUED) {
			log_info("events: dropped a client that does not "
			    "read (%zu bytes waiting)",
			    http_stream_queued(sc->conn));
			metric_add(sse_dropped_metric, NULL, 1);
			http_stream_close(sc->conn);
			sse_client_free(sc);
			return;
		}
	}
}

static void
sse_released_cb(void *arg)
{
	struct sse_client	*sc, *next;

	for (sc = TAILQ_FIRST(&sse_clients); sc != NULL; sc = next) {
		next = TAILQ_NEXT(sc, entry);
		sse_pump(sc);	/* may free sc */
	}
}

static void
sse_heartbeat_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sse_client	*sc;

	TAILQ_FOREACH(sc, &sse_clients, entry)
		http_stream_write(sc->conn, ":\n\n", 3);
	loop_timer_add(sse_heartbeat_ev, SSE_HEARTBEAT);
}

/*
 * Where a client resumes: after the event its Last-Event-ID names, when
 * that is of this run and still in the window; else from now, after a
 * reset event.
 */
static void
sse_resume(struct sse_client *sc, const char *last)
{
	char		 buf[160];
	long long	 run;
	uint64_t	 seq;
	int		 n, used = 0;

	sc->next = events_last() + 1;
	if (last == NULL || *last == '\0')
		return;
	if (sscanf(last, "%lld-%" SCNu64 "%n", &run, &seq, &used) == 2 &&
	    last[used] == '\0' && run == events_run_id() &&
	    seq + 1 >= events_first() && seq <= events_last()) {
		sc->next = seq + 1;
		return;
	}
	n = snprintf(buf, sizeof buf, "event: reset\ndata: {\"type\":\"reset\","
	    "\"reason\":\"events after %s are no longer kept\"}\n\n",
	    strlen(last) < 48 ? last : "that id");
	http_stream_write(sc->conn, buf, (size_t)n);
}

void
http_events_serve(struct http_conn *c)
{
	const struct http_head	*h = http_conn_head_of(c);
	struct sse_client	*sc = xcalloc(1, sizeof *sc);
	const char		*why;
	char			*body, retry[32];
	int			 n;

	sc->conn = c;
	if (h->is_head) {	/* a HEAD has no body: nothing to stream */
		free(sc);
		http_respond(c, 200, "text/event-stream",
		    "Cache-Control: no-store\r\n", "", 0);
		return;
	}
	if ((why = sse_filters(sc, h->query)) != NULL) {
		xasprintf(&body, "{\"status\":400,\"error\":\"Bad Request\","
		    "\"reason\":\"%s\"}", why);
		http_respond(c, 400, "application/json", NULL, body,
		    strlen(body));
		free(body);
		sse_client_clear(sc);
		return;
	}
	TAILQ_INSERT_TAIL(&sse_clients, sc, entry);
	sse_nclients++;
	metric_set(sse_clients_metric, NULL, (double)sse_nclients);
	http_stream_begin(c, "text/event-stream", "X-Accel-Buffering: no\r\n");
	n = snprintf(retry, sizeof retry, "retry: %d\n\n", SSE_RETRY_MS);
	http_stream_write(c, retry, (size_t)n);
	sse_resume(sc, h->last_event_id);
	sse_pump(sc);
}

void
http_events_gone(struct http_conn *c)
{
	struct sse_client	*sc;

	TAILQ_FOREACH(sc, &sse_clients, entry)
		if (sc->conn == c) {
			sse_client_free(sc);
			return;
		}
}

void
http_events_init(void)
{
	events_listen(sse_released_cb, NULL);
	if (sse_dropped_metric == NULL) {
		sse_dropped_metric = metric_new(METRIC_COUNTER,
		    "futured_events_clients_dropped_total",
		    "Event stream clients dropped for not reading", NULL,
		    NULL, 0);
		sse_clients_metric = metric_new(METRIC_GAUGE,
		    "futured_events_clients", "Clients of GET /events", NULL,
		    NULL, 0);
	}
	sse_heartbeat_ev = evtimer_new(loop_base, sse_heartbeat_cb, NULL);
	loop_timer_add(sse_heartbeat_ev, SSE_HEARTBEAT);
}

void
http_events_free(void)
{
	struct sse_client	*sc;

	events_listen(NULL, NULL);
	while ((sc = TAILQ_FIRST(&sse_clients)) != NULL)
		sse_client_free(sc);
	if (sse_heartbeat_ev != NULL)
		event_free(sse_heartbeat_ev);
	sse_heartbeat_ev = NULL;
}
