/*
 * test_sched.c: the scheduler's ordering and limits with real tasks: sleep
 * tasks on the real loop, exec tasks as real child processes.  (#2, #3)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

static char	dir[] = "/tmp/futured-test-sched.XXXXXX";

static int	lock_fd = -1;

static int
setup(void **state)
{
	const char	*build = getenv("FUTURED_BUILD");
	char		 path[256], exe[1024];

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/futured.db", dir);
	/* exec tasks start through the spawner: futured's own binary */
	snprintf(exe, sizeof exe, "%s/daemon/futured", build != NULL ? build :
	    ".");
	log_init(LOG_LEVEL_ERROR);
	config_defaults();
	cfg.jobs = 2;
	cfg.kill_grace = 0.2;
	loop_init();
	snprintf(path, sizeof path, "%s/tasks.lock", dir);
	if ((lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    spawn_init(lock_fd, exe) == -1)
		return -1;
	snprintf(path, sizeof path, "sqlite:%s/futured.db", dir);
	if (store_open(path, NULL, 0, &task_store_ops) == -1)
		return -1;
	sched_init();
	store_drain();
	if (sched_init_status() == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[512];

	task_free_all();
	timerq_free();
	sched_free();
	store_close();
	spawn_free();
	close(lock_fd);
	event_base_free(loop_base);
	watch_free_all();
	config_free();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* Submits a task the way task.submit does; the table holds it. */
static struct task *
submit(const char *queue, int priority, json_t *spec)
{
	struct task	*t = task_create();

	t->kind = kind_find(json_string_value(json_object_get(spec, "kind")));
	t->state = FP_PENDING;
	t->queue = sched_queue(queue);
	t->priority = priority;
	t->spec = spec;
	t->labels = json_object();
	t->created_at = loop_now();
	task_ref(t, __func__);		/* the test's own */
	assert_int_equal(task_submit(t), 0);
	return t;
}

static json_t *
long_sleep(void)
{
	return json_pack("{s:s,s:i}", "kind", "sleep", "seconds", 1000);
}

/* Runs the loop until cond(arg) holds or 10 s pass. */
static void
run_until(int (*cond)(void *), void *arg)
{
	struct timeval	tv = { 0, 10000 };
	int		i;

	for (i = 0; i < 1000 && !cond(arg); i++) {
		event_base_loopexit(loop_base, &tv);
		event_base_dispatch(loop_base);
	}
	assert_true(cond(arg));
}

static int
no_children(void *arg)
{
	return exec_running() == 0;
}

static int
third_started(void *arg)
{
	return ((struct task *)arg)->state == FP_RUNNING;
}

static int
is_done(void *arg)
{
	return fp_state_done(((struct task *)arg)->state) &&
	    task_find(((struct task *)arg)->id) == NULL;
}

/* Higher priority first, then submission order, one at a time. */
static void
test_priority_order(void **state)
{
	struct queue	*q = sched_queue("one");
	struct task	*t[4];
	int		 prio[4] = { 0, 5, -5, 5 };
	int		 want[4] = { 1, 3, 0, 2 };	/* indexes in start order */
	int		 i, k, running;

	q->concurrency = 1;
	q->paused = 1;
	for (i = 0; i < 4; i++)
		t[i] = submit("one", prio[i], long_sleep());
	for (i = 0; i < 4; i++)
		assert_int_equal(t[i]->state, FP_PENDING);
	q->paused = 0;
	sched_kick();
	for (k = 0; k < 4; k++) {
		running = 0;
		for (i = 0; i < 4; i++)
			running += t[i]->state == FP_RUNNING;
		assert_int_equal(running, 1);
		assert_int_equal(t[want[k]]->state, FP_RUNNING);
		assert_int_equal(task_cancel(t[want[k]], NULL), 1);
		run_until(is_done, t[want[k]]);
	}
	for (i = 0; i < 4; i++)
		task_unref(t[i], __func__);
}

/* --jobs bounds exec tasks only; a sleep never waits behind them. */
static void
test_jobs_limit(void **state)
{
	struct task	*t[3], *s;
	int		 i;

	for (i = 0; i < 3; i++)
		t[i] = submit("default", 0, json_pack("{s:s,s:[s,s]}", "kind",
		    "exec", "argv", "sleep", "30"));
	assert_int_equal(exec_running(), 2);
	assert_int_equal(t[0]->state, FP_RUNNING);
	assert_int_equal(t[1]->state, FP_RUNNING);
	assert_int_equal(t[2]->state, FP_PENDING);
	s = submit("default", 0, long_sleep());
	assert_int_equal(s->state, FP_RUNNING);
	/* Cancelling a running child frees its slot only once it is reaped. */
	task_cancel(t[0], NULL);
	assert_int_equal(t[2]->state, FP_PENDING);
	run_until(is_done, t[0]);
	run_until(third_started, t[2]);
	assert_int_equal(exec_running(), 2);
	task_cancel(t[1], NULL);
	task_cancel(t[2], NULL);
	task_cancel(s, NULL);
	run_until(no_children, NULL);
	for (i = 0; i < 3; i++)
		task_unref(t[i], __func__);
	task_unref(s, __func__);
}

/* A paused queue starts nothing; resuming starts what waits. */
static void
test_paused_queue(void **state)
{
	struct queue	*q = sched_queue("paused");
	struct task	*t;

	q->paused = 1;
	t = submit("paused", 0, long_sleep());
	assert_int_equal(t->state, FP_PENDING);
	assert_int_equal(sched_queue_waiting(q), 1);
	q->paused = 0;
	sched_kick();
	assert_int_equal(t->state, FP_RUNNING);
	task_cancel(t, NULL);
	run_until(is_done, t);
	task_unref(t, __func__);
}

/* A dependency that fails fails its dependents without running them. */
static void
test_dependency_failure(void **state)
{
	struct task	*a, *b;

	a = submit("default", 0, long_sleep());
	b = task_create();
	b->kind = &kind_sleep;
	b->state = FP_PENDING;
	b->queue = sched_queue("default");
	b->spec = long_sleep();
	b->labels = json_object();
	b->after = json_pack("[I]", (json_int_t)a->id);
	task_ref(b, __func__);
	assert_int_equal(task_submit(b), 0);
	assert_int_equal(b->state, FP_PENDING);
	assert_int_equal(b->deps_left, 1);
	task_cancel(a, NULL);
	run_until(is_done, b);
	assert_int_equal(b->state, FP_FAILED);
	assert_int_equal(b->attempt, 0);	/* it never ran */
	assert_string_equal(json_string_value(json_object_get(b->exception,
	    "type")), "DependencyFailed");
	task_unref(a, __func__);
	task_unref(b, __func__);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_order),
		cmocka_unit_test(test_jobs_limit),
		cmocka_unit_test(test_paused_queue),
		cmocka_unit_test(test_dependency_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
