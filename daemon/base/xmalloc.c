/* xmalloc.c: allocation that cannot fail; running out of memory is fatal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("calloc %zu x %zu", n, size);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xreallocarray: %zu x %zu overflows", n, size);
	if ((p = realloc(old, n * size == 0 ? 1 : n * size)) == NULL)
		fatal("realloc %zu x %zu", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("vasprintf");
	return n;
}

json_t *
xjson(json_t *j)
{
	if (j == NULL)
		fatalx("out of memory building JSON");
	return j;
}

/* Compares in time independent of where the strings differ. */
int
secret_equal(const char *want, const char *given, size_t given_len)
{
	size_t		n = strlen(want), i;
	unsigned char	diff = n != given_len;

	for (i = 0; i < n; i++)
		diff |= (unsigned char)(i < given_len ? given[i] : 0) ^
		    (unsigned char)want[i];
	return diff == 0;
}
