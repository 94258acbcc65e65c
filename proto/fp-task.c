/* fp-task.c: task and exception objects, states, timestamps, UTF-8. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

static const char *const fp_state_names[FP_STATE_COUNT] = {
	"pending", "running", "succeeded", "failed", "cancelled",
};

const char *
fp_state_name(enum fp_state st)
{
	if ((unsigned)st >= FP_STATE_COUNT)
		return "unknown";
	return fp_state_names[st];
}

int
fp_state_parse(const char *s, enum fp_state *st)
{
	int	i;

	for (i = 0; i < FP_STATE_COUNT; i++) {
		if (strcmp(s, fp_state_names[i]) == 0) {
			*st = (enum fp_state)i;
			return 0;
		}
	}
	return -1;
}

int
fp_state_done(enum fp_state st)
{
	return st == FP_SUCCEEDED || st == FP_FAILED || st == FP_CANCELLED;
}

static int
fp_value_set(const struct fp_value *v)
{
	return v->text != NULL || v->json != NULL;
}

/* An array with members ("[]" and an empty tree are not shown). */
static int
fp_value_nonempty(const struct fp_value *v)
{
	if (v->text != NULL)
		return strcmp(v->text, "[]") != 0 && strcmp(v->text, "") != 0;
	return json_array_size(v->json) > 0;
}

/* ,"name": */
static void
fp_task_key(struct fp_text *o, const char *name)
{
	fp_text_add(o, ",\"", 2);
	fp_text_cstr(o, name);
	fp_text_add(o, "\":", 2);
}

/* The members every task has, in DESIGN.md's order. */
static void
fp_task_write_base(struct fp_text *o, const struct fp_task *t)
{
	fp_text_add(o, "{\"id\":", 6);
	fp_text_int(o, t->id);
	fp_task_key(o, "kind");
	fp_text_str(o, t->kind);
	fp_task_key(o, "state");
	fp_text_str(o, fp_state_name(t->state));
	fp_task_key(o, "queue");
	fp_text_str(o, t->queue);
	fp_task_key(o, "priority");
	fp_text_int(o, t->priority);
	fp_task_key(o, "key");
	if (t->key != NULL)
		fp_text_str(o, t->key);
	else
		fp_text_add(o, "null", 4);
	fp_task_key(o, "spec");
	fp_text_value(o, &t->spec);
	fp_task_key(o, "labels");
	if (fp_value_set(&t->labels))
		fp_text_value(o, &t->labels);
	else
		fp_text_add(o, "{}", 2);
	fp_task_key(o, "attempt");
	fp_text_int(o, t->attempt);
	fp_task_key(o, "max_retries");
	fp_text_int(o, t->max_retries);
	fp_task_key(o, "created_at");
	fp_text_time(o, t->created_at);
	fp_task_key(o, "started_at");
	fp_text_time(o, t->started_at);
	fp_task_key(o, "finished_at");
	fp_text_time(o, t->finished_at);
}

void
fp_task_write(struct fp_text *o, const struct fp_task *t)
{
	fp_task_write_base(o, t);
	if (t->state == FP_SUCCEEDED && fp_value_set(&t->result)) {
		fp_task_key(o, "result");
		fp_text_value(o, &t->result);
	}
	if (t->state == FP_FAILED && fp_value_set(&t->exception)) {
		fp_task_key(o, "exception");
		fp_text_value(o, &t->exception);
		fp_task_key(o, "retrieved");
		fp_text_cstr(o, t->retrieved ? "true" : "false");
	}
	/* a cancel with a message (asyncio's cancel(msg)) */
	if (t->state == FP_CANCELLED && fp_value_set(&t->exception)) {
		fp_task_key(o, "exception");
		fp_text_value(o, &t->exception);
	}
	if (t->parent > 0) {
		fp_task_key(o, "parent");
		fp_text_int(o, t->parent);
	}
	if (t->waiting) {
		fp_task_key(o, "waiting_for_children");
		fp_text_cstr(o, "true");
	}
	if (fp_value_set(&t->limits)) {
		fp_task_key(o, "limits");
		fp_text_value(o, &t->limits);
	}
	if (t->waiting_for != NULL) {
		fp_task_key(o, "waiting_for");
		fp_text_json(o, t->waiting_for);
	}
	if (t->child_policy != FP_CHILD_WAIT) {
		fp_task_key(o, "child_policy");
		fp_text_str(o, fp_child_policy_name(t->child_policy));
	}
	if (fp_value_nonempty(&t->after)) {
		fp_task_key(o, "after");
		fp_text_value(o, &t->after);
	}
	if (t->not_before > 0) {
		fp_task_key(o, "not_before");
		fp_text_time(o, t->not_before);
	}
	if (t->timeout > 0) {
		fp_task_key(o, "timeout");
		fp_text_real(o, t->timeout);
	}
	if (fp_value_nonempty(&t->attempts)) {
		fp_task_key(o, "attempts");
		fp_text_value(o, &t->attempts);
	}
	fp_text_add(o, "}", 1);
}

json_t *
fp_exception_create(const char *type, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_pack("{s:s,s:o}", "type", type, "message",
	    fp_string_from_bytes(msg, strlen(msg)));
}

/* v as exactly n decimal digits, zero-padded (0 <= v < 10^n). */
static void
fp_digits_put(char *p, int v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * The daemon formats the same instant many times in a row (every task of a
 * batch is created, started and finished at the loop's now), so the last
 * answer is kept.  Single-threaded users only, like the rest of proto/.
 */
char *
fp_time_format(double t, char buf[FP_TIME_LEN])
{
	static long long	 last_total = -1;
	static char		 last[FP_TIME_LEN];
	struct tm		 tm;
	time_t			 secs;
	long long		 total;

	buf[0] = '\0';
	if (t <= 0 || !isfinite(t))
		return buf;
	/* Round to the millisecond first, so parse(format(t)) == t. */
	total = llround(t * 1000);
	if (total != last_total) {
		secs = (time_t)(total / 1000);
		if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999)
			return buf;
		/* snprintf was a tenth of a task.list page's time */
		fp_digits_put(last, tm.tm_year + 1900, 4);
		last[4] = '-';
		fp_digits_put(last + 5, tm.tm_mon + 1, 2);
		last[7] = '-';
		fp_digits_put(last + 8, tm.tm_mday, 2);
		last[10] = 'T';
		fp_digits_put(last + 11, tm.tm_hour, 2);
		last[13] = ':';
		fp_digits_put(last + 14, tm.tm_min, 2);
		last[16] = ':';
		fp_digits_put(last + 17, tm.tm_sec, 2);
		last[19] = '.';
		fp_digits_put(last + 20, (int)(total % 1000), 3);
		memcpy(last + 23, "Z", 2);
		last_total = total;
	}
	memcpy(buf, last, FP_TIME_LEN);
	return buf;
}

/* Reads exactly n digits. */
static int
fp_digits(const char **s, int n, int *out)
{
	int	v = 0;

	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (*(*s)++ - '0');
	}
	*out = v;
	return 0;
}

static int
fp_expect(const char **s, const char *set)
{
	if (**s == '\0' || strchr(set, **s) == NULL)
		return -1;
	(*s)++;
	return 0;
}

static int
fp_offset_parse(const char *s, int *offset)
{
	int	sign, hh, mm;

	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		*offset = 0;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if (fp_digits(&s, 2, &hh) == -1 || fp_expect(&s, ":") == -1 ||
	    fp_digits(&s, 2, &mm) == -1 || *s != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600 + mm * 60);
	return 0;
}

static int
fp_days_in_month(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };
	int	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[mo - 1] + (mo == 2 && leap);
}

int
fp_time_parse(const char *s, double *out)
{
	struct tm	tm;
	double		frac = 0, scale = 0.1;
	int		y, mo, d, h, mi, sec, offset;

	if (fp_digits(&s, 4, &y) == -1 || fp_expect(&s, "-") == -1 ||
	    fp_digits(&s, 2, &mo) == -1 || fp_expect(&s, "-") == -1 ||
	    fp_digits(&s, 2, &d) == -1 || fp_expect(&s, "Tt ") == -1 ||
	    fp_digits(&s, 2, &h) == -1 || fp_expect(&s, ":") == -1 ||
	    fp_digits(&s, 2, &mi) == -1 || fp_expect(&s, ":") == -1 ||
	    fp_digits(&s, 2, &sec) == -1)
		return -1;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return -1;	/* RFC 3339: at least one digit */
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (fp_offset_parse(s, &offset) == -1)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > fp_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (double)timegm(&tm) - offset + frac;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
fp_utf8_seq(const unsigned char *s, size_t n)
{
	size_t		len, i;
	unsigned int	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

json_t *
fp_string_from_bytes(const char *buf, size_t n)
{
	const unsigned char	*s = (const unsigned char *)buf;
	char			*out;
	size_t			 i = 0, o = 0, len;
	json_t			*j;

	if ((out = malloc(n * 3 + 1)) == NULL)
		return NULL;
	while (i < n) {
		if ((len = fp_utf8_seq(s + i, n - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	j = json_stringn_nocheck(out, o);
	free(out);
	return j;
}

int
fp_utf8_valid(const char *buf, size_t n)
{
	size_t	i = 0, len;

	while (i < n) {
		if ((len = fp_utf8_seq((const unsigned char *)buf + i, n - i))
		    == 0)
			return 0;
		i += len;
	}
	return 1;
}

json_t *
fp_base64(const char *buf, size_t n)
{
	static const char	 abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*s = (const unsigned char *)buf;
	char			*out;
	size_t			 i, o = 0;
	uint32_t		 v;
	json_t			*j;

	if ((out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = abc[v & 63];
	}
	if (i < n) {
		v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	j = json_stringn(out, o);
	free(out);
	return j;
}
