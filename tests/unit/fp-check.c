/*
 * fp-check.c: what the proto unit tests share: a counting jansson
 * allocator with a per-test leak check, and JSON written with ' for ".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "fp-check.h"

size_t	live, live_before;

void *
count_malloc(size_t n)
{
	void	*p = malloc(n);

	if (p != NULL)
		live++;
	return p;
}

void
count_free(void *p)
{
	if (p != NULL)
		live--;
	free(p);
}

int
leak_setup(void **state)
{
	live_before = live;
	return 0;
}

int
leak_teardown(void **state)
{
	if (live != live_before) {
		/* Also seen after a failed assertion skipped the frees. */
		print_error("leak check: %ld jansson allocation(s) still "
		    "live\n", (long)live - (long)live_before);
		return -1;
	}
	return 0;
}

/* Parses test JSON written with ' for " (any value, NUL allowed). */
json_t *
js(const char *text)
{
	char		 buf[4096];
	json_error_t	 e;
	json_t		*j;
	size_t		 i;

	assert_true(strlen(text) < sizeof buf);
	for (i = 0; text[i] != '\0'; i++)
		buf[i] = text[i] == '\'' ? '"' : text[i];
	buf[i] = '\0';
	j = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

/* Fails unless actual equals the JSON text (types included: 1 != 1.0). */
void
json_check(json_t *actual, const char *text, const char *file, int line)
{
	json_t	*want = js(text);
	char	*a;
	int	 eq = json_equal(actual, want);

	json_decref(want);
	if (eq)
		return;
	a = actual != NULL ? json_dumps(actual, JSON_SORT_KEYS |
	    JSON_ENCODE_ANY) : NULL;
	print_error("got  %s\nwant %s\n", a != NULL ? a : "(NULL)", text);
	count_free(a);		/* json_dumps allocates with jansson */
	_fail(file, line);
}
