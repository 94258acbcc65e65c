/*
 * store-check.h: what the store tests share: a stand-in for the model's
 * tasks (plain rows behind store_task_ops: the store never sees a task),
 * and waits for answers that a backend may give in a later turn.
 */
#ifndef STORE_CHECK_H
#define STORE_CHECK_H

#include "base/base.h"
#include "store/store.h"

/* A task as the model would hand it to the store. */
struct obj {
	int		 refs;
	struct store_row r;	/* its JSON columns point at the fields below */
	char		*key;
	json_t		*spec, *labels, *result, *exception, *state;
};

extern const struct store_task_ops obj_ops;

/* Opens a fresh store (the backend under test) / the same one again. */
void	 sc_fresh(void);
void	 sc_reopen(void);
const char *sc_url(void);
/* The PostgreSQL schema the tests use (FUTURED_TEST_PG set). */
const char *sc_schema(void);
/* A pending task of kind (exec or sleep) with key (may be NULL), inserted. */
struct obj *obj_new(const char *kind, const char *key);
void	 obj_update(struct obj *);
void	 obj_unref(struct obj *);
/* Runs one turn of the loop, waiting up to 10 ms for something to do. */
void	 sc_turn(void);
/* Runs the loop until *done is set (answers that come later). */
void	 sc_wait(int *done);
/* The client's view of task id, parsed; NULL when there is none. */
json_t	*sc_task(int64_t id);
/* The state of id, -1 when there is none. */
int	 sc_state(int64_t id);
/* A task.list page, parsed. */
json_t	*sc_list(const struct fp_list *);
/* A store_done_cb's answer: sc_status_cb sets it, sc_wait waits for it. */
struct sc_status {
	int	done;
	int	status;
};
void	 sc_status_cb(void *arg, int status);
/* Store calls that answer through callbacks, as plain values. */
int	 sc_flush(void);
/* Several nodes: claims every task that may start, as the model would. */
void	 sc_claim_all(void);
/* Closes the store, removes its files. */
int	 sc_cleanup(void);

#endif
