/*
 * run.h: the runners: child processes (through the spawner) and http
 * transfers.  A runner knows nothing of tasks: it is given one attempt
 * (what to run, for how long) and reports back through the callbacks its
 * owner registered (the model's kinds, model/kind-*.c).
 */
#ifndef FUTURED_RUN_H
#define FUTURED_RUN_H

#include "base/base.h"

/* One attempt, as a runner sees it. */
struct run_attempt {
	int64_t		 id;		/* the task's (FUTURED_TASK_ID) */
	json_t		*spec;		/* the runner takes a reference */
	double		 timeout;	/* seconds, < 0: none */
	const char	*credential;	/* FUTURED_TOKEN over TCP, or NULL */
};

/* What a runner reports of an attempt (arg: the owner's). */
struct run_ops {
	/*
	 * The attempt is over, exactly once, maybe from inside the start
	 * call: a result or an exception (stolen); neither when it was
	 * stopped.  Its processes, if it had any, are gone.
	 */
	void	(*done)(void *arg, json_t *result, json_t *exception);
	/* exec: its process group runs; state (stolen) is what recovery needs. */
	void	(*started)(void *arg, json_t *state);
	/* exec: one line on fd 3; one too long, dropped. */
	void	(*yield)(void *arg, const char *line, size_t len);
	void	(*yield_dropped)(void *arg);
	/* exec: more stdout or stderr is kept. */
	void	(*output)(void *arg);
};

/* spawner.c: main() of `futured --spawner` (see spawn-proto.h). */
int		 spawner_main(int, char **);

/*
 * spawn.c: children are started and ended by the spawner process.  The
 * callbacks of one child: started, then exited (once no process of its
 * group is left); or failed; or lost when the spawner died (its group has
 * been killed).
 */
struct spawn_cmd {
	const char	*cwd;		/* NULL: futured's */
	const char	*path;		/* the task's PATH, NULL: futured's */
	char *const	*argv;
	char *const	*envp;
	int		 fds[4];	/* stdin, stdout, stderr, yield: taken */
};
struct spawn_ops {
	void	(*started)(void *arg, pid_t pid, uint64_t started);
	void	(*failed)(void *arg, int error, int what);
	void	(*exited)(void *arg, int status);
	void	(*lost)(void *arg);
};
/*
 * Starts the spawner, `exe --spawner ...` (futured's own binary, or the
 * built one in unit tests); it holds lock_fd (the tasks lock) while it
 * lives.
 */
int		 spawn_init(int lock_fd, const char *exe);
/* Asks for a child; the answer comes through ops.  Returns its tag. */
uint64_t	 spawn_run(const struct spawn_cmd *, const struct spawn_ops *,
		    void *arg);
/* Ends a child's group: SIGTERM then SIGKILL after grace, or now. */
void		 spawn_stop(uint64_t tag, int now, double grace);
/*
 * Several nodes: unless called again before `at` (loop_mono), the
 * spawner ends every child at `at` and exits (a hung futured's tasks
 * die before its lease does).
 */
void		 spawn_fence(double at);
/* From the SIGCHLD reaper: the spawner itself may have died. */
void		 spawn_child_exited(pid_t, int status);
/* Children asked for and not yet exited. */
size_t		 spawn_count(void);
void		 spawn_free(void);

/* exec.c: child processes.  NULL when done was called at once. */
struct exec_proc *exec_start(const struct run_attempt *, const struct run_ops *,
		    void *arg);
/* Ends the attempt's group (SIGTERM, SIGKILL after the grace); done follows. */
void		 exec_stop(struct exec_proc *, int graceful);
/* Attempts started and not yet done (the --jobs limit). */
size_t		 exec_running(void);
/*
 * Recovery: ends the process group a started callback described in an
 * earlier futured, if it is still there (blocking).
 */
void		 exec_recover(json_t *state);
/* The kept stdout (which 1) or stderr (2); -1: no such attempt. */
int		 exec_output(struct exec_proc *, int which, const char **,
		    size_t *);

/* fetch.c: the http kind, libcurl's multi-socket API on the loop. */
int		 fetch_init(void);
void		 fetch_cleanup(void);
/* Applies cfg's http limits (after a reload). */
void		 fetch_configure(void);
/* NULL when done was called at once. */
struct fetch	*fetch_start(const struct run_attempt *, const struct run_ops *,
		    void *arg);
/* Aborts the transfer; done follows at once. */
void		 fetch_stop(struct fetch *);
/* Transfers under way (the --http-max limit). */
size_t		 fetch_running(void);

#endif
