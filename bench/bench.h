/*
 * bench.h: helpers shared by the load generators and floors in bench/:
 * clocks, latency samples and their percentiles, fatal errors.  Header-only
 * (static functions) so each program stays one file.
 */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds since the epoch (to compare with timestamps futured records). */
static inline double
bench_wall(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
bench_die(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (fmt[0] != '\0' && fmt[strlen(fmt) - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
	exit(1);
}

static inline void *
bench_alloc(size_t n)
{
	void	*p = calloc(1, n == 0 ? 1 : n);

	if (p == NULL)
		bench_die("out of memory");
	return p;
}

/* A growing array of samples (seconds). */
struct bench_samples {
	double	*v;
	size_t	 n, cap;
};

static inline void
bench_sample_add(struct bench_samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		if (s->v == NULL)
			bench_die("out of memory");
	}
	s->v[s->n++] = x;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100, nearest rank) of sorted samples, or 0. */
static inline double
bench_pct(const struct bench_samples *s, double p)
{
	size_t	i;

	if (s->n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)s->n + 0.5);
	if (i > 0)
		i--;
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i];
}

/* Sorts the samples and prints "PREFIX_p50_ms=… p90 p99 max" as key=value. */
static inline void
bench_print_pcts(const char *prefix, struct bench_samples *s)
{
	qsort(s->v, s->n, sizeof *s->v, bench_cmp_double);
	printf(" %s_p50_ms=%.3f %s_p90_ms=%.3f %s_p99_ms=%.3f %s_min_ms=%.3f"
	    " %s_max_ms=%.3f", prefix, bench_pct(s, 50) * 1e3, prefix,
	    bench_pct(s, 90) * 1e3, prefix, bench_pct(s, 99) * 1e3, prefix,
	    s->n ? s->v[0] * 1e3 : 0, prefix, s->n ? s->v[s->n - 1] * 1e3 : 0);
}

#endif
