/*
 * futured.c: main.  Reads the options, takes the state dir, recovers the
 * tasks, and hands over to the loop.  futured always runs in the
 * foreground; systemd supervises it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "service/service.h"

static void
cleanup(void)
{
	service_free();		/* first: the signals are ignored from here */
	/* Whatever the last turn left unwritten, while its tasks and queues
	 * are still alive, and until the backend has answered it (the work
	 * that waited for it still finds what it refers to). */
	store_flush();
	store_drain();
	http_free();
	events_free();
	rpc_methods_free();
	schedules_free();
	purge_stop();
	cluster_free();
	limits_free();
	task_free_all();
	timerq_free();
	fetch_cleanup();
	sched_free();
	store_close();
	spawn_free();
	event_base_free(loop_base);
	watch_free_all();
	metrics_free();
	config_free();
}

int
main(int argc, char **argv)
{
	int	*fds = NULL, nfds, check_only = 0;

	if (argc >= 2 && strcmp(argv[1], "--spawner") == 0)
		return spawner_main(argc, argv);
	log_init(LOG_LEVEL_INFO);
	config_defaults();
	config_parse_args(argc, argv, &check_only);
	config_finish();
	log_init(cfg.log_level);
	if (store_url_check(cfg.store) == -1)
		fatalx("--store %s: not a store URL (sqlite:PATH or "
		    "postgresql://...)", cfg.store);
	if (check_only) {
		printf("configuration OK (%s)\n", access(cfg.config_file, F_OK)
		    == 0 ? cfg.config_file : "no config file");
		return 0;
	}
	config_std_fds();
	config_raise_nofile();
	srandom((unsigned int)getpid() ^ (unsigned int)time(NULL));
	config_mkdir_p(cfg.state_dir);
	config_lock_state_dir();
	loop_init();
	events_init();
	service_signals();
	if (spawn_init(config_tasks_lock(), "/proc/self/exe") == -1)
		fatal("cannot start the spawner");
	if (fetch_init() == -1)
		fatalx("cannot initialise libcurl");
	store_node_config(cfg.node, cfg.lease);
	if (store_open(cfg.store, cfg.store_schema, cfg.sync_full,
	    &task_store_ops) == -1)
		fatalx("cannot open the store %s", cfg.store);
	/* start-up reads answer before anything is served */
	sched_init();
	store_drain();
	if (sched_init_status() == -1)
		fatalx("cannot load queues from the database");
	sched_apply_config();
	limits_init();
	store_drain();
	if (limits_init_status() == -1)
		fatalx("cannot load rate limits from the database");
	task_recover();
	store_drain();
	if (task_recover_status() == -1)
		fatalx("cannot recover tasks from the database");
	cluster_init();
	schedules_init();
	store_drain();
	if (schedules_init_status() == -1)
		fatalx("cannot load schedules from the database");
	nfds = notify_listen_fds(&fds);
	http_init(fds, nfds);
	free(fds);
	purge_start();
	log_info("futured %s ready: state %s, jobs %d", FUTURED_VERSION,
	    cfg.state_dir, cfg.jobs);
	notify_ready();
	notify_start_status();
	loop_run();
	notify_stop_status();
	log_info("stopped");
	cleanup();
	return 0;
}
