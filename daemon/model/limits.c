/*
 * limits.c: what a ready task may still wait for before it starts: its
 * concurrency keys (at most N running tasks with a key, whatever their
 * queue) and its rate limit (a token bucket, named, maybe one bucket a
 * key).  sched.c asks limits_admit when a task reaches the head of its
 * queue; a task refused is parked here, off its queue, so the tasks
 * behind it go on (no head-of-line blocking), and goes back to its queue
 * (sched_ready) when a task of its key ends or a token comes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

#define LIMITS_IDLE_MAX	10000	/* idle buckets and keys kept */

/* A concurrency key, or a rate limit's bucket: who runs, who waits. */
struct limit_slot {
	char		 *name;		/* the key; a bucket: "limit\nkey" */
	uint64_t	  hash;
	int		  running;	/* a key's running tasks */
	double		  tokens;	/* a bucket's */
	double		  filled_at;
	struct task	**waiting;
	size_t		  n, cap;
	struct timerq_entry timer;	/* a bucket's next token */
	struct rate_limit *rate;	/* a bucket's limit */
	int		  waking;	/* a key: its line is being woken */
	struct limit_slot *next;	/* same hash */
};

struct slot_map {
	struct idmap	*map;
	size_t		 count;
};

static struct slot_map	 limit_keys, limit_buckets;
static struct rate_limit **rates;
static size_t		 nrates;
static int		 rates_status;
static struct metric	*limits_waiting_metric;
static size_t		 limits_parked;
static size_t		 limits_parked_kind[KIND_COUNT];
static json_t		*limits_to_wake;	/* keys a task released */
static struct event	*limits_wake_ev;

static void	limits_wake_keys(evutil_socket_t, short, void *);
static void	limits_key_tidy(struct limit_slot *);
static json_t	*limits_keys(const struct task *);

static uint64_t
limits_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h >> 1;
}

static struct limit_slot *
slot_find(struct slot_map *m, const char *name, int create)
{
	uint64_t		 h = limits_hash(name);
	struct limit_slot	*s;

	if (m->map == NULL)
		m->map = idmap_create();
	for (s = idmap_get(m->map, (int64_t)h); s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	if (!create)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->name = xstrdup(name);
	s->hash = h;
	TIMERQ_ENTRY_INIT(&s->timer);
	s->next = idmap_get(m->map, (int64_t)h);
	idmap_put(m->map, (int64_t)h, s);
	m->count++;
	return s;
}

static void
slot_detach(struct slot_map *m, struct limit_slot *s)
{
	struct limit_slot	*head = idmap_remove(m->map, (int64_t)s->hash);
	struct limit_slot	*x;

	if (head != s) {
		for (x = head; x->next != s; x = x->next)
			;
		x->next = s->next;
		idmap_put(m->map, (int64_t)s->hash, head);
	} else if (s->next != NULL)
		idmap_put(m->map, (int64_t)s->hash, s->next);
	m->count--;
}

static void
slot_release(struct limit_slot *s)
{
	timerq_del(&s->timer);
	free(s->waiting);
	free(s->name);
	free(s);
}

static void
slot_free(struct slot_map *m, struct limit_slot *s)
{
	slot_detach(m, s);
	slot_release(s);
}

struct slot_list {
	struct limit_slot	**all;
	size_t			  n;
};

static void
slot_collect_cb(int64_t h, void *v, void *arg)
{
	struct slot_list	*l = arg;
	struct limit_slot	*x;

	for (x = v; x != NULL; x = x->next)
		l->all[l->n++] = x;
}

/* Every slot of m, in an array the caller frees: waking changes m. */
static struct limit_slot **
slot_all(struct slot_map *m, size_t *n)
{
	struct slot_list	l = { xcalloc(m->count + 1, sizeof *l.all), 0 };

	if (m->map != NULL)
		idmap_foreach(m->map, slot_collect_cb, &l);
	*n = l.n;
	return l.all;
}

/* ---- rate limits ---- */

struct rate_limit *
rate_find(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < nrates; i++)
		if (strcmp(rates[i]->name, name) == 0)
			return rates[i];
	return NULL;
}

size_t
rate_count(void)
{
	return nrates;
}

struct rate_limit *
rate_at(size_t i)
{
	return i < nrates ? rates[i] : NULL;
}

static void	limits_wake(struct slot_map *, struct limit_slot *);
static void	limits_fill(struct limit_slot *, double, double);

/*
 * The buckets of r, its rate about to change (or r gone, drop): tokens
 * so far are counted at the old rate, the timers armed for it are
 * dropped, and the waiters go back to their queues, where they take a
 * token at the new rate or park again (arming a timer for it).
 */
static void
rate_buckets_wake(struct rate_limit *r, int drop)
{
	struct limit_slot	**all;
	size_t			  n, i;
	double			  now = loop_now();

	all = slot_all(&limit_buckets, &n);
	for (i = 0; i < n; i++) {
		if (all[i]->rate != r)
			continue;
		limits_fill(all[i], now, r->burst);
		timerq_del(&all[i]->timer);
		if (drop) {	/* off the map first: no one parks there again */
			slot_detach(&limit_buckets, all[i]);
			limits_wake(&limit_buckets, all[i]);
			slot_release(all[i]);
		}
	}
	for (i = 0; !drop && i < n; i++)
		if (all[i]->rate == r && all[i]->n > 0)
			limits_wake(&limit_buckets, all[i]);
	free(all);
}

/* r's settings change in memory: its buckets follow at once. */
static struct rate_limit *
rate_apply(const char *name, double starts, double per, double burst)
{
	struct rate_limit	*r = rate_find(name);

	if (r == NULL) {
		if (nrates == RATE_MAX)
			return NULL;
		r = xcalloc(1, sizeof *r);
		r->name = xstrdup(name);
		rates = xreallocarray(rates, nrates + 1, sizeof *rates);
		rates[nrates++] = r;
	} else if (r->starts == starts && r->per == per && r->burst == burst)
		return r;
	else
		rate_buckets_wake(r, 0);	/* counted at the old rate */
	r->starts = starts;
	r->per = per;
	r->burst = burst;
	rate_buckets_wake(r, 0);	/* and woken at the new one */
	return r;
}

/* r leaves memory: the tasks waiting for its tokens start unlimited. */
static void
rate_remove(struct rate_limit *r)
{
	size_t	i;

	for (i = 0; i < nrates && rates[i] != r; i++)
		;
	memmove(rates + i, rates + i + 1, (nrates - i - 1) * sizeof *rates);
	nrates--;
	rate_buckets_wake(r, 1);
	free(r->name);
	free(r);
}

/*
 * A change did not commit (a full disk): the rates go back to the store's,
 * once for the turn (a deleted one comes back; the tasks it released have
 * started).  On PostgreSQL a reload that cannot read is made again when
 * the connection is back (cluster.c).
 */
static void
rates_saved_cb(void *arg, int status)
{
	static unsigned long	reloaded_turn;

	if (status == STORE_COMMITTED || !loop_first_in_turn(&reloaded_turn))
		return;
	log_warnx("rate limits not stored; the stored ones apply again");
	limits_reload();
}

struct rate_limit *
rate_set(const char *name, double starts, double per, double burst)
{
	struct rate_limit	*r = rate_apply(name, starts, per, burst);

	if (r != NULL) {
		store_rate_save(name, starts, per, burst);
		store_defer(rates_saved_cb, NULL);
	}
	return r;
}

int
rate_delete(const char *name)
{
	struct rate_limit	*r = rate_find(name);

	if (r == NULL)
		return -1;
	store_rate_save(name, 0, 0, 0);
	store_defer(rates_saved_cb, NULL);
	rate_remove(r);
	return 0;
}

static void
rate_loaded(void *arg, const char *name, double starts, double per,
    double burst)
{
	struct rate_limit	*r = rate_apply(name, starts, per, burst);

	if (r != NULL)
		r->seen = 1;
}

static void
rates_loaded(void *arg, int status)
{
	rates_status = status;
}

void
limits_init(void)
{
	rates_status = STORE_FAILED;
	limits_waiting_metric = metric_new(METRIC_GAUGE,
	    "futured_limit_waiting_tasks", "Ready tasks that wait for a "
	    "concurrency key's slot or a rate limit's token", "limit", NULL,
	    0);
	if ((limits_wake_ev = evtimer_new(loop_base, limits_wake_keys,
	    NULL)) == NULL)
		fatalx("limits: no memory for an event");
	store_rate_load(rate_loaded, rates_loaded, NULL);
}

int
limits_init_status(void)
{
	return rates_status == STORE_OK ? 0 : -1;
}

/* Another node changed the rate limits: what the store lacks goes. */
static void
rates_reloaded(void *arg, int status)
{
	size_t	i;

	for (i = nrates; status == STORE_OK && i-- > 0; ) {
		if (!rates[i]->seen)
			rate_remove(rates[i]);
		else
			rates[i]->seen = 0;
	}
}

void
limits_reload(void)
{
	size_t	i;

	for (i = 0; i < nrates; i++)
		rates[i]->seen = 0;
	store_rate_load(rate_loaded, rates_reloaded, NULL);
}

/* ---- parking ---- */

static const char *
limits_metric_label(struct limit_slot *s)
{
	return s->rate != NULL ? s->rate->name : "concurrency";
}

static void
limits_park(struct slot_map *m, struct limit_slot *s, struct task *t)
{
	const char	*label = limits_metric_label(s);

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->waiting = xreallocarray(s->waiting, s->cap,
		    sizeof *s->waiting);
	}
	s->waiting[s->n++] = t;
	task_ref(t, __func__);
	limits_parked_kind[kind_index(t->kind)]++;
	t->parked = s;
	t->parked_in = m == &limit_buckets;
	t->parked_limit = t->parked_in ? 0 : (int)json_integer_value(
	    json_object_get(limits_keys(t), s->name));
	json_decref(t->waiting_for);
	t->waiting_for = limits_waiting_for(t);
	limits_parked++;
	metric_add(limits_waiting_metric, &label, 1);
}

/* t, taken out of s's line, is parked no more (the line's ref is the
 * caller's to drop). */
static void
limits_unparked(struct limit_slot *s, struct task *t)
{
	const char	*label = limits_metric_label(s);

	t->parked = NULL;
	json_decref(t->waiting_for);
	t->waiting_for = NULL;
	limits_parked--;
	limits_parked_kind[kind_index(t->kind)]--;
	metric_add(limits_waiting_metric, &label, -1);
}

/* The first n tasks parked on s go back to their queues. */
static void
limits_wake_n(struct slot_map *m, struct limit_slot *s, size_t n)
{
	struct task	**woken;
	size_t		  i;

	if (n > s->n)
		n = s->n;
	if (n == 0)
		return;
	woken = xcalloc(n + 1, sizeof *woken);
	memcpy(woken, s->waiting, n * sizeof *woken);
	memmove(s->waiting, s->waiting + n, (s->n - n) * sizeof *s->waiting);
	s->n -= n;
	/* parked again meanwhile, they go to the end of the line */
	for (i = 0; i < n; i++) {
		struct task	*t = woken[i];

		limits_unparked(s, t);
		if (t->state == FP_PENDING && !t->waiting)
			sched_ready(t);
		task_unref(t, "limits_park");
	}
	free(woken);
}

/* Every task parked on s goes back to its queue. */
static void
limits_wake(struct slot_map *m, struct limit_slot *s)
{
	limits_wake_n(m, s, s->n);
}

void
limits_unpark(struct task *t)
{
	struct limit_slot	*s = t->parked;
	size_t			 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n && s->waiting[i] != t; i++)
		;
	if (i < s->n) {
		memmove(s->waiting + i, s->waiting + i + 1, (s->n - i - 1) *
		    sizeof *s->waiting);
		s->n--;
	}
	limits_unparked(s, t);
	if (!t->parked_in)
		limits_key_tidy(s);
	task_unref(t, "limits_park");
}

/* ---- admission ---- */

static json_t *
limits_keys(const struct task *t)
{
	return json_object_get(t->limits, "concurrency");
}

/* The first key of t that is full, or NULL. */
static struct limit_slot *
limits_full_key(struct task *t)
{
	struct limit_slot	*s;
	const char		*k;
	json_t			*v;

	json_object_foreach(limits_keys(t), k, v) {
		s = slot_find(&limit_keys, k, 0);
		if (s != NULL && s->running >= json_integer_value(v))
			return s;
	}
	return NULL;
}

/*
 * A token came: as many waiters as tokens go back to their queues, in
 * their order.  While some wait the timer runs on, so that a token a
 * woken task did not take (another key held it) still reaches one.
 */
static void
limits_bucket_cb(void *arg)
{
	struct limit_slot	*s = arg;
	double			 now = loop_now(), n;

	/*
	 * The timer was due when a token came: what came while the loop
	 * was late (epoll's milliseconds) is kept, up to one token over the
	 * burst, or waiting tasks would lose it at every token.
	 */
	limits_fill(s, now, s->rate->burst + 1);
	n = floor(s->tokens + 1e-9);
	limits_wake_n(&limit_buckets, s, n < 1 ? 1 : (size_t)n);
	if (s->n > 0 && s->timer.index == TIMERQ_IDLE) {
		/* when the next token is due: a late wake is not carried on */
		n = s->tokens < 1 ? 1 - s->tokens : 0.05;
		timerq_add(&s->timer, now + n * s->rate->per / s->rate->starts,
		    limits_bucket_cb, s);
	}
}

/* Tokens come at starts/per a second; a bucket holds at most cap. */
static void
limits_fill(struct limit_slot *b, double now, double cap)
{
	struct rate_limit	*r = b->rate;

	if (now <= b->filled_at)	/* made with a later clock reading */
		return;
	b->tokens += (now - b->filled_at) * r->starts / r->per;
	if (b->tokens > cap)
		b->tokens = cap;
	b->filled_at = now;
}

/* Drops idle buckets (full, nobody waiting) once there are many. */
static void
limits_buckets_tidy(void)
{
	struct limit_slot	**all;
	size_t			  n, i;
	double			  now = loop_now();

	if (limit_buckets.count < LIMITS_IDLE_MAX)
		return;
	all = slot_all(&limit_buckets, &n);
	for (i = 0; i < n; i++) {
		limits_fill(all[i], now, all[i]->rate->burst);
		if (all[i]->n == 0 && all[i]->tokens >= all[i]->rate->burst)
			slot_free(&limit_buckets, all[i]);
	}
	free(all);
}

/* t's bucket, made full when new; NULL: t has no rate limit (left). */
static struct limit_slot *
limits_bucket(struct task *t)
{
	const char		*name = json_string_value(json_object_get(
				    t->limits, "rate_limit"));
	const char		*key = json_string_value(json_object_get(
				    t->limits, "rate_key"));
	struct rate_limit	*r = rate_find(name);
	struct limit_slot	*b;
	char			*id;

	if (r == NULL)
		return NULL;
	xasprintf(&id, "%s\n%s", name, key != NULL ? key : "");
	if ((b = slot_find(&limit_buckets, id, 0)) == NULL) {
		limits_buckets_tidy();
		b = slot_find(&limit_buckets, id, 1);
		b->rate = r;
		b->tokens = r->burst;
		b->filled_at = loop_now();
	}
	free(id);
	return b;
}

int
limits_admit(struct task *t)
{
	struct limit_slot	*s;
	double			 now = loop_now();

	if (t->limits == NULL)
		return 1;
	if ((s = limits_full_key(t)) != NULL) {
		limits_park(&limit_keys, s, t);
		return 0;
	}
	if ((s = limits_bucket(t)) == NULL)
		return 1;
	limits_fill(s, now, s->tokens > s->rate->burst ? s->tokens :
	    s->rate->burst);
	if (s->tokens >= 1 - 1e-9) {
		s->tokens -= 1;
		return 1;
	}
	limits_park(&limit_buckets, s, t);
	if (s->timer.index == TIMERQ_IDLE)
		timerq_add(&s->timer, now + (1 - s->tokens) * s->rate->per /
		    s->rate->starts, limits_bucket_cb, s);
	return 0;
}

void
limits_take(struct task *t)
{
	const char	*k;
	json_t		*v;

	if (t->limits_held)
		return;
	t->limits_held = 1;
	json_object_foreach(limits_keys(t), k, v)
		slot_find(&limit_keys, k, 1)->running++;
}

/*
 * What a key's release wakes: for each queue with tasks in its line, the
 * best of them (priority, then age) that the key has room for (each task
 * says its own limit), which goes back to its queue, where its queue's
 * turn and room decide; those not started park again.  One a queue,
 * because the best of all might wait for room in a full queue while
 * another queue could start one now.  (Waking the whole line, as before,
 * parked all but one of them again: a backlog of n tasks on one key cost
 * O(n) heap pushes and parkings per task's end, 2.3 ms each for 3,000.)
 * A task that another of its keys holds back moves to that key's line
 * instead, and its queue's next best is looked for.  While the key still
 * has room after the woken ones had their chance (one that waits in a
 * full queue or for its kind's room, or was cancelled), the next ones go
 * a turn later: the line ends up where the old wake put it at once.
 */
#define LIMITS_WAKE_QUEUES	32	/* more queues in one line: wake all */

static int
limits_better(const struct task *a, const struct task *b)
{
	return a->priority > b->priority || (a->priority == b->priority &&
	    a->id < b->id);
}

/* Does key s have room for t, parked on it (by t's own limit for it)? */
static int
limits_key_fits(const struct limit_slot *s, const struct task *t)
{
	return s->running < t->parked_limit;
}

static int
limits_key_has_room(const struct limit_slot *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		if (limits_key_fits(s, s->waiting[i]))
			return 1;
	return 0;
}

/*
 * Takes out of s's line the best waiter it has room for of each queue
 * (of those in only[0..nonly), if nonly), no longer parked: their number,
 * -1 when there are too many queues.
 */
static int
limits_take_best(struct limit_slot *s, const struct queue **only,
    size_t nonly, struct task **best)
{
	size_t	at[LIMITS_WAKE_QUEUES], nq = 0, i, q, o, n;

	for (i = 0; i < s->n; i++) {
		for (o = 0; o < nonly && only[o] != s->waiting[i]->queue; o++)
			;
		if ((nonly > 0 && o == nonly) ||
		    !limits_key_fits(s, s->waiting[i]))
			continue;
		for (q = 0; q < nq && s->waiting[at[q]]->queue !=
		    s->waiting[i]->queue; q++)
			;
		if (q == nq && nq == LIMITS_WAKE_QUEUES)
			return -1;
		if (q == nq || limits_better(s->waiting[i], s->waiting[at[q]]))
			at[q] = i;
		nq += q == nq;
	}
	for (q = 0; q < nq; q++) {
		best[q] = s->waiting[at[q]];
		s->waiting[at[q]] = NULL;
	}
	for (i = n = 0; i < s->n; i++)
		if (s->waiting[i] != NULL)
			s->waiting[n++] = s->waiting[i];
	s->n = n;
	/* all of them before any starts: a start may cancel another */
	for (q = 0; q < nq; q++)
		limits_unparked(s, best[q]);
	return (int)nq;
}

static void
limits_wake_key(struct limit_slot *s)
{
	struct task		*best[LIMITS_WAKE_QUEUES], *t;
	const struct queue	*retry[LIMITS_WAKE_QUEUES];
	struct limit_slot	*other;
	size_t			 nretry = 0;
	int			 n, q;

	do {
		if ((n = limits_take_best(s, retry, nretry, best)) == -1) {
			limits_wake(&limit_keys, s);
			return;
		}
		nretry = 0;
		for (q = 0; q < n; q++) {
			t = best[q];
			if (t->state != FP_PENDING || t->waiting)
				;	/* ended or moved on meanwhile */
			else if ((other = limits_full_key(t)) != NULL) {
				/* another key: its queue's next best may go */
				limits_park(&limit_keys, other, t);
				if (other != s)
					retry[nretry++] = t->queue;
			} else
				sched_ready(t);
			task_unref(t, "limits_park");
		}
	} while (nretry > 0 && s->n > 0);
}

/* A key nobody runs or waits for is forgotten, unless a wake holds it. */
static void
limits_key_tidy(struct limit_slot *s)
{
	if (s->n == 0 && s->running <= 0 && !s->waking)
		slot_free(&limit_keys, s);
}

static void
limits_wake_later(const char *key)
{
	if (limits_to_wake == NULL)
		limits_to_wake = xjson(json_array());
	json_array_append_new(limits_to_wake, json_string(key));
	if (!evtimer_pending(limits_wake_ev, NULL))
		loop_timer_add(limits_wake_ev, 0);
}

/*
 * The keys whose tasks released a slot: their waiters go back a turn
 * later, once the ended task is recorded as finished, so that no waiter
 * starts before the task it waited for has ended in the store too.
 */
static void
limits_wake_keys(evutil_socket_t fd, short ev, void *arg)
{
	json_t			*names = limits_to_wake;
	struct limit_slot	*s;
	size_t			 i;
	json_t			*v;

	limits_to_wake = NULL;
	json_array_foreach(names, i, v) {
		if ((s = slot_find(&limit_keys, json_string_value(v), 0)) ==
		    NULL)
			continue;
		/* a woken task may end at once, and release s */
		s->waking = 1;
		if (s->n > 0)
			limits_wake_key(s);
		s->waking = 0;
		if (limits_key_has_room(s))
			limits_wake_later(s->name);
		limits_key_tidy(s);
	}
	json_decref(names);
}

void
limits_release(struct task *t)
{
	struct limit_slot	*s;
	const char		*k;
	json_t			*v;

	if (!t->limits_held)
		return;
	t->limits_held = 0;
	json_object_foreach(limits_keys(t), k, v) {
		if ((s = slot_find(&limit_keys, k, 0)) == NULL)
			continue;
		s->running--;
		if (s->n > 0)
			limits_wake_later(k);
		else
			limits_key_tidy(s);
	}
}

json_t *
limits_waiting_for(const struct task *t)
{
	struct limit_slot	*s = t->parked;
	const char		*nl;

	if (s == NULL)
		return NULL;
	if (!t->parked_in)
		return json_pack("{s:s,s:s}", "limit", "concurrency", "key",
		    s->name);
	nl = strchr(s->name, '\n');
	return json_pack("{s:s,s:s,s:s#}", "limit", "rate", "name",
	    s->rate->name, "key", nl + 1, (int)strlen(nl + 1));
}

size_t
limits_waiting(void)
{
	return limits_parked;
}

size_t
limits_waiting_kind(int k)
{
	return k >= 0 && k < KIND_COUNT ? limits_parked_kind[k] : 0;
}

static void
limits_map_free(struct slot_map *m)
{
	struct limit_slot	**all;
	struct task		 *t;
	size_t			  n, i, j;

	all = slot_all(m, &n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < all[i]->n; j++) {
			t = all[i]->waiting[j];
			t->parked = NULL;
			json_decref(t->waiting_for);
			t->waiting_for = NULL;
			task_unref(t, __func__);
		}
		slot_free(m, all[i]);
	}
	free(all);
	if (m->map != NULL)
		idmap_free(m->map);
	m->map = NULL;
}

void
limits_free(void)
{
	size_t	i;

	limits_map_free(&limit_keys);	/* first: buckets name their rate */
	limits_map_free(&limit_buckets);
	for (i = 0; i < nrates; i++) {
		free(rates[i]->name);
		free(rates[i]);
	}
	free(rates);
	rates = NULL;
	nrates = 0;
	json_decref(limits_to_wake);
	limits_to_wake = NULL;
	if (limits_wake_ev != NULL)
		event_free(limits_wake_ev);
	limits_wake_ev = NULL;
}
