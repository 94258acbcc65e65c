/* fp-check.h: shared helpers of the proto unit tests (fp-check.c). */
#ifndef FP_CHECK_H
#define FP_CHECK_H

#include <jansson.h>

extern size_t	live, live_before;	/* jansson allocations */

/* json_set_alloc_funcs(count_malloc, count_free) in main(). */
void	*count_malloc(size_t);
void	 count_free(void *);
/* cmocka setup/teardown: the teardown fails a test that leaked. */
int	 leak_setup(void **);
int	 leak_teardown(void **);
/* Parses test JSON written with ' for " (any value, NUL allowed). */
json_t	*js(const char *);
/* Fails unless actual equals the JSON text (types included: 1 != 1.0). */
void	 json_check(json_t *actual, const char *text, const char *file,
	    int line);
#define assert_json(actual, text) json_check((actual), (text), __FILE__, \
	__LINE__)

#endif
