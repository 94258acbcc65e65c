/*
 * store-backend.h: what a database must do for the store (store.c): a
 * table of operations over rows, one file a backend (store-sqlite.c),
 * picked by the scheme of --store's URL.  Nothing here knows a task in
 * memory.
 *
 * Writes happen inside the transaction begin() opened and commit() ends;
 * a write returns -1 when it failed (the store then dooms the turn), and a
 * backend that cannot tell yet reports the failure at the commit.  Reads
 * and the commit answer through callbacks, at once or later.  A backend
 * logs its own errors, once.
 */
#ifndef FUTURED_STORE_BACKEND_H
#define FUTURED_STORE_BACKEND_H

#include "store/store.h"

struct store_backend;

struct store_backend_ops {
	const char	*scheme;	/* "sqlite" in "sqlite:PATH" */
	/* Counted by count() for each daemon.info: other nodes change it. */
	int		 live_counts;
	/* url: the whole --store URL; schema: where the tables live. */
	int	(*open)(const char *url, const char *schema, int sync_full,
		    struct store_backend **);
	void	(*close)(struct store_backend *);
	int	(*schema_version)(struct store_backend *);
	/* The highest id ever handed out (none is handed out twice). */
	int	(*last_id)(struct store_backend *, int64_t *);
	/* Or: the next id, from the database (several nodes); -1: none. */
	int64_t	(*next_id)(struct store_backend *);
	/* Tasks per state, failed ones never retrieved: a full count. */
	void	(*count)(struct store_backend *, int64_t states[FP_STATE_COUNT],
		    int64_t *unretrieved, store_done_cb *, void *);
	/* Blocks until every answer asked for has come (NULL: at once). */
	void	(*drain)(struct store_backend *);

	int	(*begin)(struct store_backend *);
	void	(*commit)(struct store_backend *, store_done_cb *, void *);
	void	(*rollback)(struct store_backend *);

	int	(*insert)(struct store_backend *, const struct store_row *);
	/* *old: the state the row had, -1 when the backend cannot tell. */
	int	(*update)(struct store_backend *, const struct store_row *,
		    int *old);
	/* *changed: 1 when a failed task became retrieved. */
	int	(*retrieved)(struct store_backend *, int64_t id, int *changed);
	int	(*item_add)(struct store_backend *, int64_t id, int64_t seq,
		    json_t *value, json_t *error);
	int	(*overflow_set)(struct store_backend *, int64_t id);
	int	(*queue_save)(struct store_backend *, const char *name,
		    int concurrency, int paused);

	void	(*write)(struct store_backend *, int64_t id, struct fp_text *,
		    store_done_cb *, void *);
	void	(*get)(struct store_backend *, int64_t id, store_row_cb *,
		    void *);
	void	(*states)(struct store_backend *, const int64_t *ids, size_t n,
		    int *states, store_done_cb *, void *);
	void	(*by_key)(struct store_backend *, const char *key,
		    store_key_cb *, void *);
	void	(*list)(struct store_backend *, const struct fp_list *,
		    struct fp_text *, store_done_cb *, void *);
	void	(*items)(struct store_backend *, int64_t id, int64_t from,
		    int limit, store_items_cb *, void *);
	void	(*next_seq)(struct store_backend *, int64_t id, store_next_cb *,
		    void *);
	void	(*children)(struct store_backend *, int64_t id, store_row_cb *,
		    store_done_cb *, void *);
	void	(*load)(struct store_backend *, store_row_cb *, store_done_cb *,
		    void *);
	void	(*queues)(struct store_backend *, store_queue_cb *,
		    store_done_cb *, void *);
	/*
	 * Schedules (in the transaction): version 0 inserts the row at
	 * version 1, else the row must be at version and goes to version + 1
	 * (def NULL: kept); done(arg, STORE_NONE) when the name is taken,
	 * or the row is gone or at another version.
	 */
	void	(*schedule_put)(struct store_backend *, const char *name,
		    json_t *def, json_t *state, int64_t version,
		    store_done_cb *, void *);
	void	(*schedule_delete)(struct store_backend *, const char *name,
		    int64_t version, store_done_cb *, void *);
	void	(*schedules)(struct store_backend *, store_schedule_cb *,
		    store_done_cb *, void *);
	/* Several nodes: 1 when this one claims the tasks with limits. */
	int	(*limits_node)(struct store_backend *);
	/* Rate limits: starts 0 deletes. */
	int	(*rate_save)(struct store_backend *, const char *name,
		    double starts, double per, double burst);
	void	(*rates)(struct store_backend *, store_rate_cb *,
		    store_done_cb *, void *);
	/*
	 * Deletes up to limit finished tasks that sel selects, oldest
	 * finished first (in the transaction); deleted(arg, STORE_OK, row)
	 * for each (its state, retrieved flag, kind and exception filled),
	 * then done(arg, n).
	 */
	void	(*purge)(struct store_backend *, const struct store_select *sel,
		    int limit, store_row_cb *deleted, void (*done)(void *, int),
		    void *);

	/*
	 * Several nodes on one database (store.h's store_claim and the
	 * rest); NULL in a backend that one futured has alone.  Notifications
	 * from the other nodes come up through store_event.
	 */
	void	(*claim)(struct store_backend *, const char *kind, int limit,
		    double now, int limited, store_row_cb *, store_done_cb *,
		    void *);
	void	(*next_start)(struct store_backend *, double now, double *at,
		    store_done_cb *, void *);
	void	(*renew)(struct store_backend *, store_done_cb *, void *);
	void	(*adopt)(struct store_backend *, int limit, store_row_cb *,
		    store_done_cb *, void *);
	void	(*release)(struct store_backend *, int64_t id,
		    store_done_cb *, void *);
	void	(*nodes)(struct store_backend *, store_nodes_cb *, void *);
	void	(*finish_free)(struct store_backend *, int64_t id, int state,
		    json_t *result, json_t *exception, double at,
		    store_done_cb *, void *);
	void	(*finish_ask)(struct store_backend *, int64_t id, json_t *asked,
		    store_done_cb *, void *);
	void	(*child_ended)(struct store_backend *, int64_t parent);
	void	(*cancels)(struct store_backend *, store_done_cb *, void *);
	void	(*close_free)(struct store_backend *, int64_t id, json_t *mark,
		    json_t *result, json_t *exception, store_done_cb *, void *);
	/* Unfinished tasks of a queue on every node. */
	void	(*queue_busy)(struct store_backend *, const char *name,
		    store_busy_cb *, void *);
	void	(*queue_stats)(struct store_backend *, double now,
		    store_queue_stats_cb *, store_done_cb *, void *);
	/* A write, fenced like updates: only the node running attempt. */
	int	(*output_add)(struct store_backend *, int64_t id, int attempt,
		    int which, int64_t off, const char *data, size_t len);
	void	(*output_read)(struct store_backend *, int64_t id, int which,
		    int64_t from, store_output_cb *, void *);
};

/* store.c, for the backends: what the other nodes said. */
void		 store_event(enum store_event, int64_t id, int state,
		    json_t *asked);

extern const struct store_backend_ops store_sqlite_ops;
/*
 * store-sqlite-vfs.c: the VFS that writes a commit's WAL frames at once,
 * and a new WAL's blocks (zeros) up to STORE_WAL_AHEAD bytes ahead
 */
const char	*store_sqlite_vfs(void);
#define STORE_WAL_AHEAD	(5 * 1024 * 1024)	/* 1000 4 KiB pages, a batch */
extern const struct store_backend_ops store_pg_ops;

#endif
