/* loop.c: the one event_base, its signals, and shutdown. */
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <event2/event.h>

#include "futured.h"
#include "store.h"

struct event_base	*loop_base;
double			 start_time;
static double		 loop_start_mono;

static struct event	*loop_signals[4];
static int		 loop_stopping;

/* Reaps every exited child without blocking. */
static void
loop_reap(void)
{
	pid_t	pid;
	int	status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == ECHILD))
			return;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			log_warn("waitpid");
			return;
		}
		spawn_child_exited(pid, status);
	}
}

/* SIGHUP: what can change at run time changes now. */
static void
loop_reload(void)
{
	log_info("SIGHUP: reloading %s", cfg.config_file);
	notify_reloading();
	if (config_reload() >= 0) {
		fetch_configure();
		sched_apply_config();
	}
	notify_ready();
}

static void
loop_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		loop_reap();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: shutting down", (int)sig);
		loop_shutdown();
		break;
	case SIGHUP:
		loop_reload();
		break;
	}
}

void
loop_init(void)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	size_t	i;

	start_time = loop_now();
	loop_start_mono = loop_mono();
	signal(SIGPIPE, SIG_IGN);
	/* Past a file size limit, writes fail (EFBIG) like a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	if ((loop_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		loop_signals[i] = evsignal_new(loop_base, sigs[i],
		    loop_signal_cb, NULL);
		if (loop_signals[i] == NULL || evsignal_add(loop_signals[i],
		    NULL) == -1)
			fatalx("cannot watch signal %d", sigs[i]);
	}
}

int
loop_run(void)
{
	int	rv = event_base_dispatch(loop_base);
	size_t	i;

	for (i = 0; i < sizeof loop_signals / sizeof loop_signals[0]; i++)
		if (loop_signals[i] != NULL)
			event_free(loop_signals[i]);
	return rv;
}

/*
 * Shutdown: running tasks may finish for up to --drain seconds; then they
 * are ended and their fate recorded (task_shutdown); the loop ends once
 * every child is reaped and every reply sent.
 */
static double	loop_drain_until;
static int	loop_terminated;

static void
loop_drain_cb(evutil_socket_t fd, short events, void *arg)
{
	struct event	*ev = arg;
	struct timeval	 tv = { 0, 20000 };
	static int	 turns;

	if (!loop_terminated && (exec_running() + fetch_running() == 0 ||
	    loop_now() >= loop_drain_until)) {
		loop_terminated = 1;
		task_shutdown();
	}
	if (!loop_terminated || exec_running() > 0 || rpc_in_flight() > 0) {
		if (turns++ % 50 == 0)	/* each second while draining */
			notify_extend(cfg.drain + cfg.kill_grace + 5);
		evtimer_add(ev, &tv);
		return;
	}
	event_free(ev);
	store_flush();
	event_base_loopexit(loop_base, NULL);
}

void
loop_shutdown(void)
{
	struct event	*ev;
	struct timeval	 tv = { 0, 0 };

	if (loop_stopping)
		return;
	loop_stopping = 1;
	loop_drain_until = loop_now() + cfg.drain;
	notify_stopping();
	http_stop_accepting();
	rpc_wake_all();
	if (exec_running() + fetch_running() > 0)
		log_info("letting %zu running tasks finish for up to %gs",
		    exec_running() + fetch_running(), cfg.drain);
	ev = evtimer_new(loop_base, loop_drain_cb, NULL);
	evtimer_assign(ev, loop_base, loop_drain_cb, ev);
	evtimer_add(ev, &tv);
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

void
loop_after(double secs, void (*cb)(void *), void *arg)
{
	struct loop_deferred	*d = xmalloc(sizeof *d);
	struct timeval		 tv;

	d->cb = cb;
	d->arg = arg;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (event_base_once(loop_base, -1, EV_TIMEOUT, loop_deferred_cb, d,
	    &tv) == -1)
		fatalx("event_base_once failed");
}

void
loop_defer(void (*cb)(void *), void *arg)
{
	loop_after(0, cb, arg);
}
