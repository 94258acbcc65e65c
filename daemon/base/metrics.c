/*
 * metrics.c: counters, gauges and histograms with labels, written in
 * Prometheus' text exposition format (version 0.0.4).
 *
 * Any layer counts what it owns (a family is made once, at start); the
 * http layer writes them all on GET /metrics.  A family's series are
 * found by their label values in a hash table.  Label values come from
 * clients (queue names), so a family holds at most METRIC_SERIES_MAX
 * series: past it, new ones are counted under the value "_overflow", and
 * memory stays bounded however many names a daemon sees.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define METRIC_SERIES_MAX	4096
#define METRIC_LABELS_MAX	4
#define METRIC_OVERFLOW		"_overflow"
#define METRIC_KEY_MAX		1024

struct metric_series {
	char		*key;		/* the values joined by '\037' */
	char		*values[METRIC_LABELS_MAX];
	double		 value;		/* counter, gauge; histogram: sum */
	uint64_t	*counts;	/* histogram: per bucket, then +Inf */
};

struct metric {
	enum metric_type	 type;
	char			*name;
	char			*help;
	char			*labels[METRIC_LABELS_MAX];
	int			 nlabels;
	const double		*buckets;	/* histogram's upper bounds */
	int			 nbuckets;
	struct metric_series	**series;	/* in order of creation */
	size_t			 nseries, cap;
	size_t			*slots;		/* hash: index + 1, 0 empty */
	size_t			 nslots;
	int			 overflowed;
	struct metric		*next;
};

static struct metric	*metrics_head, **metrics_tail = &metrics_head;

/* Seconds, from a tenth of a millisecond to a minute. */
const double metric_buckets_seconds[METRIC_BUCKETS_SECONDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
/* Seconds, from a millisecond to a day: waiting and running tasks. */
const double metric_buckets_task_seconds[METRIC_BUCKETS_TASK_SECONDS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900,
	3600, 21600, 86400,
};

struct metric *
metric_new(enum metric_type type, const char *name, const char *help,
    const char *labels, const double *buckets, int nbuckets)
{
	struct metric	*m = xcalloc(1, sizeof *m);
	char		*list, *p, *l;

	m->type = type;
	m->name = xstrdup(name);
	m->help = xstrdup(help);
	m->buckets = buckets;
	m->nbuckets = nbuckets;
	if (labels != NULL) {
		list = p = xstrdup(labels);
		while ((l = strsep(&p, ",")) != NULL) {
			if (m->nlabels == METRIC_LABELS_MAX)
				fatalx("%s: too many labels", name);
			m->labels[m->nlabels++] = xstrdup(l);
		}
		free(list);
	}
	*metrics_tail = m;
	metrics_tail = &m->next;
	return m;
}

static uint64_t
metric_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/*
 * The values joined by '\037' into buf (METRIC_KEY_MAX bytes), so that
 * finding a series allocates nothing; -1 when they do not fit.
 */
static int
metric_key(const struct metric *m, const char *const *values, char *buf)
{
	size_t	len = 0, n;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < m->nlabels; i++) {
		n = values[i] != NULL ? strlen(values[i]) : 0;
		if (len + n + 2 > METRIC_KEY_MAX)
			return -1;
		if (i > 0)
			buf[len++] = '\037';
		memcpy(buf + len, values[i] != NULL ? values[i] : "", n);
		len += n;
		buf[len] = '\0';
	}
	return 0;
}

static void
metric_index(struct metric *m, size_t i)
{
	size_t	s = metric_hash(m->series[i]->key) & (m->nslots - 1);

	while (m->slots[s] != 0)
		s = (s + 1) & (m->nslots - 1);
	m->slots[s] = i + 1;
}

static void
metric_grow(struct metric *m)
{
	size_t	i;

	if (m->nseries == m->cap) {
		m->cap = m->cap == 0 ? 8 : m->cap * 2;
		m->series = xreallocarray(m->series, m->cap, sizeof *m->series);
	}
	if ((m->nseries + 1) * 2 <= m->nslots)
		return;
	free(m->slots);
	m->nslots = m->nslots == 0 ? 16 : m->nslots * 2;
	m->slots = xcalloc(m->nslots, sizeof *m->slots);
	for (i = 0; i < m->nseries; i++)
		metric_index(m, i);
}

static struct metric_series *
metric_lookup(struct metric *m, const char *key)
{
	size_t	s;

	if (m->nslots == 0)
		return NULL;
	s = metric_hash(key) & (m->nslots - 1);
	for (; m->slots[s] != 0; s = (s + 1) & (m->nslots - 1))
		if (strcmp(m->series[m->slots[s] - 1]->key, key) == 0)
			return m->series[m->slots[s] - 1];
	return NULL;
}

/* The series of these values, made when new (or the overflow series). */
static struct metric_series *
metric_series(struct metric *m, const char *const *values)
{
	static const char *const overflow[METRIC_LABELS_MAX] = {
		METRIC_OVERFLOW, METRIC_OVERFLOW, METRIC_OVERFLOW,
		METRIC_OVERFLOW,
	};
	struct metric_series	*s;
	char			 key[METRIC_KEY_MAX];
	int			 i;

	if (metric_key(m, values, key) == -1)
		return metric_series(m, overflow);	/* names are shorter */
	if ((s = metric_lookup(m, key)) != NULL)
		return s;
	if (m->nseries >= METRIC_SERIES_MAX && values != overflow) {
		if (!m->overflowed)
			log_warnx("metrics: %s has %d series; new ones are "
			    "counted as %s", m->name, METRIC_SERIES_MAX,
			    METRIC_OVERFLOW);
		m->overflowed = 1;
		return metric_series(m, overflow);
	}
	s = xcalloc(1, sizeof *s);
	s->key = xstrdup(key);
	for (i = 0; i < m->nlabels; i++)
		s->values[i] = xstrdup(values[i] != NULL ? values[i] : "");
	if (m->type == METRIC_HISTOGRAM)
		s->counts = xcalloc((size_t)m->nbuckets + 1, sizeof *s->counts);
	metric_grow(m);
	m->series[m->nseries++] = s;
	metric_index(m, m->nseries - 1);
	return s;
}

void
metric_add(struct metric *m, const char *const *values, double by)
{
	if (m == NULL)		/* its module was not started */
		return;
	metric_series(m, values)->value += by;
}

void
metric_set(struct metric *m, const char *const *values, double v)
{
	if (m == NULL)		/* its module was not started */
		return;
	metric_series(m, values)->value = v;
}

void
metric_observe(struct metric *m, const char *const *values, double v)
{
	struct metric_series	*s;
	int			 i;

	if (m == NULL)
		return;
	s = metric_series(m, values);
	for (i = 0; i < m->nbuckets && v > m->buckets[i]; i++)
		;
	s->counts[i]++;
	s->value += v;
}

static void
metric_series_free(struct metric_series *s, int nlabels)
{
	int	i;

	for (i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s->counts);
	free(s->key);
	free(s);
}

/* Forgets every series (gauges set afresh at each scrape). */
void
metric_reset(struct metric *m)
{
	size_t	i;

	for (i = 0; i < m->nseries; i++)
		metric_series_free(m->series[i], m->nlabels);
	m->nseries = 0;
	if (m->slots != NULL)
		memset(m->slots, 0, m->nslots * sizeof *m->slots);
}

/* A sample's value: integers without a point, else the shortest form. */
static void
metric_number(struct fp_text *t, double v)
{
	char	buf[64];

	if (isinf(v))
		fp_text_cstr(t, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		fp_text_cstr(t, "NaN");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(buf, sizeof buf, "%.0f", v);
		fp_text_cstr(t, buf);
	} else
		fp_text_real(t, v);
}

/* A label value, escaped as the format says (\\, \", \n). */
static void
metric_label_value(struct fp_text *t, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fp_text_cstr(t, "\\\\");
		else if (*v == '"')
			fp_text_cstr(t, "\\\"");
		else if (*v == '\n')
			fp_text_cstr(t, "\\n");
		else
			fp_text_add(t, v, 1);
	}
}

/* name{labels[,le="bound"]} value */
static void
metric_sample(struct fp_text *t, const struct metric *m,
    const struct metric_series *s, const char *suffix, const char *le,
    double v)
{
	int	i;

	fp_text_cstr(t, m->name);
	fp_text_cstr(t, suffix);
	if (m->nlabels > 0 || le != NULL) {
		fp_text_add(t, "{", 1);
		for (i = 0; i < m->nlabels; i++) {
			if (i > 0)
				fp_text_add(t, ",", 1);
			fp_text_cstr(t, m->labels[i]);
			fp_text_cstr(t, "=\"");
			metric_label_value(t, s->values[i]);
			fp_text_add(t, "\"", 1);
		}
		if (le != NULL) {
			fp_text_cstr(t, m->nlabels > 0 ? ",le=\"" : "le=\"");
			fp_text_cstr(t, le);
			fp_text_add(t, "\"", 1);
		}
		fp_text_add(t, "}", 1);
	}
	fp_text_add(t, " ", 1);
	metric_number(t, v);
	fp_text_add(t, "\n", 1);
}

static void
metric_write_histogram(struct fp_text *t, const struct metric *m,
    const struct metric_series *s)
{
	struct fp_text	le = { 0 };
	uint64_t	cum = 0;
	int		i;

	for (i = 0; i <= m->nbuckets; i++) {
		cum += s->counts[i];
		le.len = 0;
		if (i < m->nbuckets)
			metric_number(&le, m->buckets[i]);
		else
			fp_text_cstr(&le, "+Inf");
		fp_text_add(&le, "", 1);
		metric_sample(t, m, s, "_bucket", le.buf, (double)cum);
	}
	fp_text_clear(&le);
	metric_sample(t, m, s, "_sum", NULL, s->value);
	metric_sample(t, m, s, "_count", NULL, (double)cum);
}

static const char *
metric_type_name(enum metric_type type)
{
	return type == METRIC_COUNTER ? "counter" : type == METRIC_GAUGE ?
	    "gauge" : "histogram";
}

/* Every family, in the order they were made. */
void
metrics_write(struct fp_text *t)
{
	const struct metric	*m;
	size_t			 i;

	for (m = metrics_head; m != NULL; m = m->next) {
		fp_text_cstr(t, "# HELP ");
		fp_text_cstr(t, m->name);
		fp_text_add(t, " ", 1);
		fp_text_cstr(t, m->help);
		fp_text_cstr(t, "\n# TYPE ");
		fp_text_cstr(t, m->name);
		fp_text_add(t, " ", 1);
		fp_text_cstr(t, metric_type_name(m->type));
		fp_text_add(t, "\n", 1);
		for (i = 0; i < m->nseries; i++) {
			if (m->type == METRIC_HISTOGRAM)
				metric_write_histogram(t, m, m->series[i]);
			else
				metric_sample(t, m, m->series[i], "", NULL,
				    m->series[i]->value);
		}
	}
}

void
metrics_free(void)
{
	struct metric	*m;
	int		 i;

	while ((m = metrics_head) != NULL) {
		metrics_head = m->next;
		metric_reset(m);
		for (i = 0; i < m->nlabels; i++)
			free(m->labels[i]);
		free(m->series);
		free(m->slots);
		free(m->name);
		free(m->help);
		free(m);
	}
	metrics_tail = &metrics_head;
}
