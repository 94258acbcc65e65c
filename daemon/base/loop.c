/*
 * loop.c: the one event_base, the clocks, one-shot timers, and the flag
 * that says futured is stopping.  Signals, and what stopping involves,
 * belong to the service (service.c).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <event2/event.h>

#include "base/base.h"

struct event_base	*loop_base;
double			 start_time;
static double		 loop_start_mono;

static int		 loop_stopping;
static unsigned long	 loop_turns;	/* loop_run's turns so far */
static int		 loop_in_turn;

void
loop_init(void)
{
	struct event_config	*ec;

	start_time = loop_now();
	loop_start_mono = loop_mono();
	signal(SIGPIPE, SIG_IGN);
	/* Past a file size limit, writes fail (EFBIG) like a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	/*
	 * libevent's own clock is otherwise CLOCK_MONOTONIC_COARSE, a tick of
	 * 4 ms here: every timer, a zero one included (the next slice of
	 * waiters, a key's waiters woken), waited for the next tick.
	 */
	if ((ec = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	if ((loop_base = event_base_new_with_config(ec)) == NULL)
		fatalx("event_base_new failed");
	event_config_free(ec);
}

/*
 * FUTURED_STALL_PROBE=1 (benchmarks): a timer every 5 ms notes how late
 * it runs; the worst lateness is how long the loop stalled, CPU starvation
 * on a busy machine included.  The loop then also runs one turn at a time
 * and notes the most CPU time (its thread's) one turn took: the stall its
 * own work caused.  Both are logged when the loop ends.
 */
#define LOOP_PROBE_EVERY	0.005
static struct event	*loop_probe_ev;
static double		 loop_probe_due, loop_probe_worst, loop_probe_turn;

static void
loop_probe_cb(evutil_socket_t fd, short events, void *arg)
{
	double	now = loop_mono();

	if (now - loop_probe_due > loop_probe_worst)
		loop_probe_worst = now - loop_probe_due;
	loop_probe_due = now + LOOP_PROBE_EVERY;
	loop_timer_add(loop_probe_ev, LOOP_PROBE_EVERY);
}

static double
loop_thread_cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The loop, a turn at a time: each turn's CPU time (the loop thread's) is
 * a metric, the time the loop's own work kept it from polling; the
 * blocking part of a turn, sqlite's fsync, is the store's commit metric.
 */
int
loop_run(void)
{
	const char	*probe = getenv("FUTURED_STALL_PROBE");
	static struct metric	*turns;
	double		 cpu;
	int		 rv;

	if (turns == NULL)
		turns = metric_new(METRIC_HISTOGRAM, "futured_loop_turn_cpu_seconds",
	    "CPU time of one turn of the event loop", NULL,
	    metric_buckets_seconds, METRIC_BUCKETS_SECONDS);
	if (probe != NULL && strcmp(probe, "1") == 0 &&
	    (loop_probe_ev = evtimer_new(loop_base, loop_probe_cb, NULL)) !=
	    NULL) {
		loop_probe_due = loop_mono() + LOOP_PROBE_EVERY;
		loop_timer_add(loop_probe_ev, LOOP_PROBE_EVERY);
	}
	do {
		loop_turns++;
		loop_in_turn = 1;
		cpu = loop_thread_cpu();
		rv = event_base_loop(loop_base, EVLOOP_ONCE);
		cpu = loop_thread_cpu() - cpu;
		loop_in_turn = 0;
		if (cpu > loop_probe_turn)
			loop_probe_turn = cpu;
		metric_observe(turns, NULL, cpu);
	} while (rv == 0 && !event_base_got_exit(loop_base) &&
	    !event_base_got_break(loop_base));
	if (loop_probe_ev != NULL) {
		log_warnx("loop: worst stall %.3f ms, longest turn %.3f ms "
		    "of CPU", loop_probe_worst * 1e3, loop_probe_turn * 1e3);
		event_free(loop_probe_ev);
		loop_probe_ev = NULL;
	}
	return rv;
}

void
loop_exit(void)
{
	event_base_loopexit(loop_base, NULL);
}

int
loop_stop_begin(void)
{
	if (loop_stopping)
		return 0;
	loop_stopping = 1;
	return 1;
}

int
loop_shutting_down(void)
{
	return loop_stopping;
}

double
loop_now(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

double
loop_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * This turn's work budget, counted from the turn's first use.  A turn is
 * one of loop_run's; outside them each call starts a budget of its own.
 * (Not libevent's cached time: it is CLOCK_MONOTONIC_COARSE, a tick of
 * several milliseconds, so many turns shared one budget and, once it was
 * spent, spun until the tick: issue 18.)
 */
static unsigned long	loop_work_turn;
static double		loop_work_deadline[2];	/* by enum loop_work */
static int		loop_work_nrows[2];

static void
loop_work_turn_check(void)
{
	if (!loop_in_turn || loop_work_turn != loop_turns) {
		loop_work_turn = loop_turns;
		loop_work_deadline[LOOP_WORK_NEW] = 0;
		loop_work_deadline[LOOP_WORK_DONE] = 0;
		loop_work_nrows[LOOP_WORK_NEW] = 0;
		loop_work_nrows[LOOP_WORK_DONE] = 0;
	}
}

int
loop_work_over(enum loop_work w)
{
	loop_work_turn_check();
	/* the budget's time runs from its first use in the turn */
	if (loop_work_deadline[w] == 0)
		loop_work_deadline[w] = loop_mono() + LOOP_WORK_SECS;
	return loop_work_nrows[w] >= LOOP_WORK_ROWS ||
	    loop_mono() > loop_work_deadline[w];
}

int
loop_first_in_turn(unsigned long *turn)
{
	if (*turn == loop_turns)
		return 0;
	*turn = loop_turns;
	return 1;
}

void
loop_work_rows(enum loop_work w, int n)
{
	loop_work_turn_check();
	loop_work_nrows[w] += n;
}

double
loop_uptime(void)
{
	return loop_mono() - loop_start_mono;
}

struct loop_deferred {
	void	(*cb)(void *);
	void	*arg;
};

static void
loop_deferred_cb(evutil_socket_t fd, short events, void *arg)
{
	struct loop_deferred	d = *(struct loop_deferred *)arg;

	free(arg);
	d.cb(d.arg);
}

struct timeval
loop_timeval(double secs)
{
	struct timeval	tv;

	if (secs < 0)
		secs = 0;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	return tv;
}

void
loop_timer_add(struct event *ev, double secs)
{
	struct timeval	tv = loop_timeval(secs);

	evtimer_add(ev, &tv);
}

void
loop_after(double secs, void (*cb)(void *), void *arg)
{
	struct loop_deferred	*d = xmalloc(sizeof *d);
	struct timeval		 tv = loop_timeval(secs);

	d->cb = cb;
	d->arg = arg;
	if (event_base_once(loop_base, -1, EV_TIMEOUT, loop_deferred_cb, d,
	    &tv) == -1)
		fatalx("event_base_once failed");
}
