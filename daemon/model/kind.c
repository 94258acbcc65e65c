/* kind.c: the table of kinds (model.h's struct kind). */
#include <limits.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "run/run.h"
#include "model/model.h"

const struct kind *const kinds[KIND_COUNT + 1] = {
	&kind_exec, &kind_sleep, &kind_http, &kind_future, &kind_group,
	NULL,
};

/* The room of a kind no runner limits: sleep, future, group. */
int
kind_room_any(void)
{
	return INT_MAX;
}

const struct kind *
kind_find(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && kinds[i] != NULL; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

int
kind_index(const struct kind *k)
{
	int	i;

	for (i = 0; kinds[i] != NULL; i++)
		if (kinds[i] == k)
			return i;
	fatalx("%s: not a kind of the table", __func__);
}
