/*
 * watch.c: callbacks waiting for a task to finish.
 *
 * Long-polls and dependent tasks register here.  task.c fires a task's
 * watches once its final state has committed, so nobody is told of a
 * result that a crash could still take back.
 *
 * A task with thousands of waiters is answered in slices: a slice's
 * answers are written out before the next slice is built, so the first
 * waiters hear at once instead of after the last answer is built.
 */
#include <sys/queue.h>
#include <stdlib.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

struct watch_list;

struct watch {
	int64_t			 id;
	enum watch_event	 event;
	watch_cb		*cb;
	void			*arg;
	struct watch_list	*list;
	TAILQ_ENTRY(watch)	 entry;
};

#define WATCH_SLICE	256	/* callbacks per loop turn for one list */
/*
 * Not 0: libevent runs a zero timeout in the same pass, before the
 * sockets' writes; any timer waits for the next poll.
 */
#define WATCH_RESUME	1e-5

struct watch_list {
	TAILQ_HEAD(, watch)	 head;
	int			 firing;	/* detached from the map */
	int64_t			 id;		/* while firing: what fired */
	enum fp_state		 state;
	TAILQ_ENTRY(watch_list)	 entry;		/* in watch_firing */
};

static struct idmap	*watch_maps[WATCH_EVENTS];
static size_t		 watch_total;
/* Lists fired but not yet through, and whether a turn will resume them. */
static TAILQ_HEAD(, watch_list) watch_firing =
    TAILQ_HEAD_INITIALIZER(watch_firing);
static int		 watch_resume_armed;

static void	watch_resume(void *);

struct watch *
watch_add(int64_t id, enum watch_event ev, watch_cb *cb, void *arg)
{
	struct watch_list	*l;
	struct watch		*w;

	if (watch_maps[ev] == NULL)
		watch_maps[ev] = idmap_create();
	if ((l = idmap_get(watch_maps[ev], id)) == NULL) {
		l = xcalloc(1, sizeof *l);
		TAILQ_INIT(&l->head);
		idmap_put(watch_maps[ev], id, l);
	}
	w = xcalloc(1, sizeof *w);
	w->id = id;
	w->event = ev;
	w->cb = cb;
	w->arg = arg;
	w->list = l;
	TAILQ_INSERT_TAIL(&l->head, w, entry);
	watch_total++;
	return w;
}

void
watch_remove(struct watch *w)
{
	struct watch_list	*l;

	if (w == NULL)
		return;
	l = w->list;
	TAILQ_REMOVE(&l->head, w, entry);
	watch_total--;
	if (TAILQ_EMPTY(&l->head) && !l->firing) {
		idmap_remove(watch_maps[w->event], w->id);
		free(l);
	}
	free(w);
}

/* Runs up to WATCH_SLICE callbacks of l; 1 when l is through (freed). */
static int
watch_run_slice(struct watch_list *l)
{
	struct watch	*w;
	watch_cb	*cb;
	void		*arg;
	int		 n;

	for (n = 0; n < WATCH_SLICE; n++) {
		if ((w = TAILQ_FIRST(&l->head)) == NULL) {
			free(l);
			return 1;
		}
		cb = w->cb;
		arg = w->arg;
		TAILQ_REMOVE(&l->head, w, entry);
		watch_total--;
		free(w);
		cb(l->id, l->state, arg);	/* may remove other watches of l */
	}
	if (TAILQ_EMPTY(&l->head)) {
		free(l);
		return 1;
	}
	return 0;
}

/* A later turn, after the loop has written what the last slice queued. */
static void
watch_resume_later(void)
{
	if (!watch_resume_armed) {
		watch_resume_armed = 1;
		loop_after(WATCH_RESUME, watch_resume, NULL);
	}
}

static void
watch_resume(void *arg)
{
	TAILQ_HEAD(, watch_list) now = TAILQ_HEAD_INITIALIZER(now);
	struct watch_list	*l;

	/* One slice each per turn, even for lists fired meanwhile. */
	watch_resume_armed = 0;
	TAILQ_CONCAT(&now, &watch_firing, entry);
	while ((l = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, l, entry);
		if (!watch_run_slice(l))
			TAILQ_INSERT_TAIL(&watch_firing, l, entry);
	}
	if (!TAILQ_EMPTY(&watch_firing))
		watch_resume_later();
}

void
watch_fire(int64_t id, enum watch_event ev, enum fp_state st)
{
	struct watch_list	*l;

	if (watch_maps[ev] == NULL ||
	    (l = idmap_remove(watch_maps[ev], id)) == NULL)
		return;
	l->firing = 1;
	l->id = id;
	l->state = st;
	if (!watch_run_slice(l)) {
		TAILQ_INSERT_TAIL(&watch_firing, l, entry);
		watch_resume_later();
	}
}

struct watch_ids {
	void	(*cb)(int64_t, void *);
	void	*arg;
};

static void
watch_ids_one(int64_t id, void *list, void *arg)
{
	struct watch_ids	*wi = arg;

	wi->cb(id, wi->arg);
}

void
watch_ids(enum watch_event ev, void (*cb)(int64_t, void *), void *arg)
{
	struct watch_ids	wi = { cb, arg };

	if (watch_maps[ev] != NULL)
		idmap_foreach(watch_maps[ev], watch_ids_one, &wi);
}

size_t
watch_count(void)
{
	return watch_total;
}

void
watch_free_all(void)
{
	struct watch_list	*l;
	struct watch		*w;
	int			 i;

	while ((l = TAILQ_FIRST(&watch_firing)) != NULL) {
		TAILQ_REMOVE(&watch_firing, l, entry);
		while ((w = TAILQ_FIRST(&l->head)) != NULL) {
			TAILQ_REMOVE(&l->head, w, entry);
			watch_total--;
			free(w);
		}
		free(l);
	}

	for (i = 0; i < WATCH_EVENTS; i++) {
		idmap_free(watch_maps[i]);
		watch_maps[i] = NULL;
	}
}
