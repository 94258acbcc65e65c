/*
 * timerq.c: many deadlines, one evtimer (beanstalkd's prottick).  Delays
 * and sleeps embed a struct timerq_entry in their task instead of owning a
 * libevent timer each, so 100,000 sleeping tasks cost a heap slot apiece.
 *
 * Deadlines are given in wall-clock time (they are stored, and a restart
 * keeps them), but each is turned into monotonic time when it is armed:
 * a clock set forward or back while futured runs neither fires a timer
 * early nor stalls it.
 */
#include <stdlib.h>
#include <event2/event.h>

#include "base/base.h"

static struct timerq_entry	**tq_heap;
static size_t			  tq_len, tq_cap;
static struct event		 *tq_ev;

static void
tq_set(size_t i, struct timerq_entry *e)
{
	tq_heap[i] = e;
	e->index = i;
}

static void
tq_up(size_t i)
{
	struct timerq_entry	*e = tq_heap[i];

	while (i > 0 && e->due < tq_heap[(i - 1) / 2]->due) {
		tq_set(i, tq_heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	tq_set(i, e);
}

static void
tq_down(size_t i)
{
	struct timerq_entry	*e = tq_heap[i];
	size_t			 c;

	while ((c = 2 * i + 1) < tq_len) {
		if (c + 1 < tq_len && tq_heap[c + 1]->due < tq_heap[c]->due)
			c++;
		if (tq_heap[c]->due >= e->due)
			break;
		tq_set(i, tq_heap[c]);
		i = c;
	}
	tq_set(i, e);
}

/* Arms the one evtimer for the earliest deadline. */
static void
tq_arm(void)
{
	if (tq_len == 0) {
		evtimer_del(tq_ev);
		return;
	}
	loop_timer_add(tq_ev, tq_heap[0]->due - loop_mono());
}

static void
tq_remove_at(size_t i)
{
	struct timerq_entry	*e = tq_heap[i];

	e->index = TIMERQ_IDLE;
	if (i != --tq_len) {
		tq_set(i, tq_heap[tq_len]);
		tq_down(i);
		tq_up(tq_heap[i]->index);
	}
}

/*
 * Fires what is due while the turn's work budget lasts (loop_work_over,
 * checked every TQ_TURN_CHECK fires): a thousand sleeps due at once end
 * over a few loop turns, not in one that holds up everything else.
 */
#define TQ_TURN_CHECK	16

static void
tq_fire_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timerq_entry	*e;
	double			 now = loop_mono();
	unsigned		 n = 0;

	/* Each fire may add or remove entries: look at the top every time. */
	while (tq_len > 0 && tq_heap[0]->due <= now) {
		e = tq_heap[0];
		tq_remove_at(0);
		e->fire(e->arg);
		if (++n % TQ_TURN_CHECK == 0 && loop_work_over(LOOP_WORK_NEW))
			break;
	}
	tq_arm();	/* what is left is due: fires in the next turn */
}

void
timerq_add(struct timerq_entry *e, double at, void (*fire)(void *), void *arg)
{
	if (tq_ev == NULL)
		tq_ev = evtimer_new(loop_base, tq_fire_cb, NULL);
	timerq_del(e);
	e->at = at;
	e->due = loop_mono() + (at - loop_now());
	e->fire = fire;
	e->arg = arg;
	if (tq_len == tq_cap) {
		tq_cap = tq_cap ? tq_cap * 2 : 64;
		tq_heap = xreallocarray(tq_heap, tq_cap, sizeof *tq_heap);
	}
	tq_set(tq_len, e);
	tq_up(tq_len++);
	if (e->index == 0)
		tq_arm();
}

void
timerq_del(struct timerq_entry *e)
{
	int	was_top;

	if (e->index == TIMERQ_IDLE)
		return;
	was_top = e->index == 0;
	tq_remove_at(e->index);
	if (was_top && tq_ev != NULL)
		tq_arm();
}

void
timerq_free(void)
{
	if (tq_ev != NULL)
		event_free(tq_ev);
	tq_ev = NULL;
	free(tq_heap);
	tq_heap = NULL;
	tq_len = tq_cap = 0;
}
