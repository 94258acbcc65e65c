/*
 * service.c: what makes futured a service: its signals (TERM and INT stop
 * it, HUP reloads, CHLD reaps the spawner), the reload of what may change
 * at run time, and the drain that ends it.  It calls down into every
 * layer; nothing calls up into it.
 */
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "service/service.h"

#define SERVICE_DRAIN_TICK	0.02	/* seconds between drain checks */

static const int	 service_sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
static struct event	*service_sig_evs[4];
static struct event	*service_drain_ev;
static double		 service_drain_until;
static int		 service_terminated;

/* Reaps every exited child without blocking: the spawner is the one. */
static void
service_reap(void)
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
service_reload(void)
{
	log_info("SIGHUP: reloading %s", cfg.config_file);
	notify_reloading();
	if (config_reload() >= 0) {
		fetch_configure();
		sched_apply_config();
	}
	notify_ready();
}

static size_t
service_running(void)
{
	return exec_running() + fetch_running();
}

/*
 * Draining: running tasks may finish for up to --drain seconds; then they
 * are ended and their fate recorded (task_shutdown); the loop ends once
 * every child is gone and every reply sent.
 */
static void
service_drain_cb(evutil_socket_t fd, short events, void *arg)
{
	static int	turns;

	if (!service_terminated && (service_running() == 0 ||
	    loop_now() >= service_drain_until)) {
		service_terminated = 1;
		task_shutdown();
	}
	if (!service_terminated || exec_running() > 0 || rpc_in_flight() > 0) {
		if (turns++ % 50 == 0)	/* each second while draining */
			notify_extend(cfg.drain + cfg.kill_grace + 5);
		loop_timer_add(service_drain_ev, SERVICE_DRAIN_TICK);
		return;
	}
	store_flush();
	loop_exit();
}

void
service_stop(void)
{
	if (!loop_stop_begin())
		return;
	service_drain_until = loop_now() + cfg.drain;
	notify_stopping();
	http_stop_accepting();
	rpc_wake_all();
	if (service_running() > 0)
		log_info("letting %zu running tasks finish for up to %gs",
		    service_running(), cfg.drain);
	service_drain_ev = evtimer_new(loop_base, service_drain_cb, NULL);
	loop_timer_add(service_drain_ev, 0);
}

static void
service_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		service_reap();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: shutting down", (int)sig);
		service_stop();
		break;
	case SIGHUP:
		service_reload();
		break;
	}
}

void
service_signals(void)
{
	size_t	i;

	for (i = 0; i < sizeof service_sigs / sizeof service_sigs[0]; i++) {
		service_sig_evs[i] = evsignal_new(loop_base, service_sigs[i],
		    service_signal_cb, NULL);
		if (service_sig_evs[i] == NULL ||
		    evsignal_add(service_sig_evs[i], NULL) == -1)
			fatalx("cannot watch signal %d", service_sigs[i]);
	}
}

void
service_free(void)
{
	size_t	i;

	/*
	 * Freeing libevent's signal events restores the default actions: a
	 * second SIGTERM while futured frees its memory would end it with
	 * status 143 instead of 0.  It is stopping already.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (i = 0; i < sizeof service_sig_evs / sizeof service_sig_evs[0]; i++)
		if (service_sig_evs[i] != NULL)
			event_free(service_sig_evs[i]);
	if (service_drain_ev != NULL)
		event_free(service_drain_ev);
	service_drain_ev = NULL;
}
