/*
 * test_metrics.c: base/metrics.c's text format (what promtool reads):
 * families in order, HELP and TYPE lines, label values escaped, histogram
 * buckets cumulative with +Inf, _sum and _count, integers without a point,
 * and the series cap of a family (new label values counted as _overflow).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"

static char *
render(void)
{
	struct fp_text	t = { 0 };

	metrics_write(&t);
	fp_text_add(&t, "", 1);
	assert_false(t.failed);
	return t.buf;
}

static void
assert_has(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("no \"%s\" in:\n%s", line, text);
}

static int
teardown(void **state)
{
	metrics_free();
	return 0;
}

static void
test_counter_and_gauge(void **state)
{
	struct metric	*c, *g;
	const char	*v[2] = { "exec", "default" };
	char		*s;

	c = metric_new(METRIC_COUNTER, "t_done_total", "Done things",
	    "kind,queue", NULL, 0);
	g = metric_new(METRIC_GAUGE, "t_level", "A level", NULL, NULL, 0);
	metric_add(c, v, 1);
	metric_add(c, v, 2);
	v[1] = "other";
	metric_add(c, v, 1);
	metric_set(g, NULL, 0.25);
	s = render();
	assert_string_equal(s,
	    "# HELP t_done_total Done things\n"
	    "# TYPE t_done_total counter\n"
	    "t_done_total{kind=\"exec\",queue=\"default\"} 3\n"
	    "t_done_total{kind=\"exec\",queue=\"other\"} 1\n"
	    "# HELP t_level A level\n"
	    "# TYPE t_level gauge\n"
	    "t_level 0.25\n");
	free(s);
	metric_reset(c);
	s = render();
	assert_null(strstr(s, "t_done_total{"));
	assert_has(s, "# TYPE t_done_total counter\n");
	free(s);
}

static void
test_escaping(void **state)
{
	struct metric	*g;
	const char	*v[1] = { "a\"b\\c\nd" };
	char		*s;

	g = metric_new(METRIC_GAUGE, "t_odd", "Odd", "name", NULL, 0);
	metric_set(g, v, 1);
	s = render();
	assert_has(s, "t_odd{name=\"a\\\"b\\\\c\\nd\"} 1\n");
	free(s);
}

static void
test_histogram(void **state)
{
	static const double	 b[3] = { 0.1, 1, 10 };
	struct metric		*h;
	char			*s;

	h = metric_new(METRIC_HISTOGRAM, "t_secs", "Seconds", NULL, b, 3);
	metric_observe(h, NULL, 0.05);
	metric_observe(h, NULL, 0.1);		/* le is inclusive */
	metric_observe(h, NULL, 5);
	metric_observe(h, NULL, 100);
	s = render();
	assert_has(s, "t_secs_bucket{le=\"0.1\"} 2\n"
	    "t_secs_bucket{le=\"1\"} 2\n"
	    "t_secs_bucket{le=\"10\"} 3\n"
	    "t_secs_bucket{le=\"+Inf\"} 4\n"
	    "t_secs_sum 105.15\n"
	    "t_secs_count 4\n");
	free(s);
}

static void
test_series_cap(void **state)
{
	struct metric	*c;
	char		 name[32], *s;
	const char	*v[1] = { name };
	int		 i;

	c = metric_new(METRIC_COUNTER, "t_many_total", "Many", "queue", NULL,
	    0);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "q%d", i);
		metric_add(c, v, 1);
	}
	/* a value seen before the cap still counts on its own */
	snprintf(name, sizeof name, "q7");
	metric_add(c, v, 1);
	s = render();
	assert_has(s, "t_many_total{queue=\"q7\"} 2\n");
	assert_has(s, "t_many_total{queue=\"_overflow\"} 904\n");
	assert_null(strstr(s, "queue=\"q4999\""));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_counter_and_gauge, teardown),
		cmocka_unit_test_teardown(test_escaping, teardown),
		cmocka_unit_test_teardown(test_histogram, teardown),
		cmocka_unit_test_teardown(test_series_cap, teardown),
	};

	log_init(LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
