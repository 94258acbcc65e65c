/*
 * watch.c: callbacks waiting for a task to finish.
 *
 * Long-polls and dependent tasks register here.  task.c fires a task's
 * watches once its final state has committed, so nobody is told of a
 * result that a crash could still take back.
 */
#include <sys/queue.h>
#include <stdlib.h>

#include "futured.h"

struct watch_list;

struct watch {
	int64_t			 id;
	enum watch_event	 event;
	watch_cb		*cb;
	void			*arg;
	struct watch_list	*list;
	TAILQ_ENTRY(watch)	 entry;
};

struct watch_list {
	TAILQ_HEAD(, watch)	 head;
	int			 firing;	/* detached from the map */
};

static struct idmap	*watch_maps[WATCH_EVENTS];
static size_t		 watch_total;

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

void
watch_fire(int64_t id, enum watch_event ev, enum fp_state st)
{
	struct watch_list	*l;
	struct watch		*w;
	watch_cb		*cb;
	void			*arg;

	if (watch_maps[ev] == NULL ||
	    (l = idmap_remove(watch_maps[ev], id)) == NULL)
		return;
	l->firing = 1;
	while ((w = TAILQ_FIRST(&l->head)) != NULL) {
		cb = w->cb;
		arg = w->arg;
		TAILQ_REMOVE(&l->head, w, entry);
		watch_total--;
		free(w);
		cb(id, st, arg);	/* may remove other watches of l */
	}
	free(l);
}

size_t
watch_count(void)
{
	return watch_total;
}

void
watch_free_all(void)
{
	int	i;

	for (i = 0; i < WATCH_EVENTS; i++) {
		idmap_free(watch_maps[i]);
		watch_maps[i] = NULL;
	}
}
