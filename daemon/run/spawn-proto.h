/*
 * spawn-proto.h: the messages between futured (spawn.c) and its spawner
 * process (spawner.c), over a Unix stream socket pair.
 *
 * futured -> spawner: a struct spawn_req, then len bytes of payload.  A
 * SPAWN_RUN carries the child's four descriptors (stdin, stdout, stderr,
 * the yield pipe) as SCM_RIGHTS on its first bytes; its payload is argc
 * and envc (uint32 each) then NUL-terminated strings: cwd ("" none), the
 * task's PATH ("" none: futured's own), argv..., envp....
 *
 * SPAWN_FENCE (several nodes): futured's lease must be renewed by then;
 * if futured does not say so again in time (it hangs, it is stopped), the
 * spawner ends every child with SIGKILL and exits, before another node
 * may adopt the tasks.
 *
 * spawner -> futured: struct spawn_rep, fixed size.  For each SPAWN_RUN
 * exactly one SPAWN_STARTED or SPAWN_FAILED; after SPAWN_STARTED exactly
 * one SPAWN_EXITED, sent once the child has exited and no process of its
 * group is left.
 */
#ifndef FUTURED_SPAWN_PROTO_H
#define FUTURED_SPAWN_PROTO_H

#include <stdint.h>

#define SPAWN_FD	3	/* the socket, in the spawner */
#define SPAWN_LOCK_FD	4	/* the tasks lock it holds while it lives */
#define SPAWN_MAX_PAYLOAD (256u * 1024 * 1024)

enum spawn_type {
	SPAWN_RUN = 1,		/* req: start a child */
	SPAWN_STOP,		/* req: end a child's group */
	SPAWN_STARTED,		/* rep: value = pid */
	SPAWN_FAILED,		/* rep: value = errno, what = enum spawn_what */
	SPAWN_EXITED,		/* rep: value = wait status of the child */
	SPAWN_FENCE,		/* req: unless told again within grace_ms,
				 * end every child at once and exit */
};

enum spawn_what {
	SPAWN_WHAT_EXEC,	/* the program */
	SPAWN_WHAT_CWD,		/* the directory */
	SPAWN_WHAT_FORK,	/* the spawner could not fork */
};

struct spawn_req {
	uint32_t	type;
	uint32_t	len;		/* payload bytes that follow */
	uint64_t	tag;		/* futured's name for the child */
	uint32_t	grace_ms;	/* SPAWN_STOP: SIGTERM, SIGKILL after */
	uint32_t	now;		/* SPAWN_STOP: SIGKILL at once */
};

struct spawn_rep {
	uint32_t	type;
	int32_t		value;
	uint64_t	tag;
	uint64_t	start_time;	/* SPAWN_STARTED: /proc ticks */
	int32_t		what;
	int32_t		pad;
};

#endif
