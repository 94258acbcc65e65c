/* idmap.c: a map of task id -> pointer (open addressing, linear probing). */
#include <stdlib.h>

#include "base/base.h"

struct idmap_slot {
	int64_t	 id;		/* 0: empty, -1: deleted */
	void	*value;
};

struct idmap {
	struct idmap_slot	*slots;
	size_t			 cap;	/* a power of two */
	size_t			 count;
	size_t			 used;	/* count + deleted */
};

#define IDMAP_DELETED	(-1)

static size_t
idmap_hash(int64_t id, size_t cap)
{
	uint64_t	h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (cap - 1);
}

struct idmap *
idmap_create(void)
{
	struct idmap	*m = xcalloc(1, sizeof *m);

	m->cap = 64;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	return m;
}

void
idmap_free(struct idmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static struct idmap_slot *
idmap_slot(struct idmap *m, int64_t id, int for_insert)
{
	struct idmap_slot	*s, *tomb = NULL;
	size_t			 i = idmap_hash(id, m->cap);

	for (;; i = (i + 1) & (m->cap - 1)) {
		s = &m->slots[i];
		if (s->id == id)
			return s;
		if (s->id == IDMAP_DELETED && tomb == NULL)
			tomb = s;
		if (s->id == 0)
			return for_insert ? (tomb != NULL ? tomb : s) : NULL;
	}
}

static void
idmap_grow(struct idmap *m)
{
	struct idmap_slot	*old = m->slots;
	size_t			 i, oldcap = m->cap;

	if (m->count * 2 >= m->cap)
		m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	m->count = m->used = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].id > 0)
			idmap_put(m, old[i].id, old[i].value);
	free(old);
}

void *
idmap_get(struct idmap *m, int64_t id)
{
	struct idmap_slot	*s = idmap_slot(m, id, 0);

	return s != NULL ? s->value : NULL;
}

void
idmap_put(struct idmap *m, int64_t id, void *value)
{
	struct idmap_slot	*s;

	if ((m->used + 1) * 4 >= m->cap * 3)
		idmap_grow(m);
	s = idmap_slot(m, id, 1);
	if (s->id != id) {
		if (s->id == 0)
			m->used++;
		m->count++;
		s->id = id;
	}
	s->value = value;
}

void *
idmap_remove(struct idmap *m, int64_t id)
{
	struct idmap_slot	*s = idmap_slot(m, id, 0);
	void			*v;

	if (s == NULL)
		return NULL;
	v = s->value;
	s->id = IDMAP_DELETED;
	s->value = NULL;
	m->count--;
	return v;
}

size_t
idmap_count(struct idmap *m)
{
	return m->count;
}

void
idmap_foreach(struct idmap *m, void (*cb)(int64_t, void *, void *), void *arg)
{
	size_t	i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].id > 0)
			cb(m->slots[i].id, m->slots[i].value, arg);
}
