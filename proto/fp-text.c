/*
 * fp-text.c: JSON written as text.
 *
 * Answers that are mostly stored JSON (task objects, list pages) are
 * written here directly, so a stored column is copied once instead of
 * being parsed into a tree and dumped again.  Values that only exist as
 * trees go through jansson's own encoder, so both paths print the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void
fp_text_reserve(struct fp_text *t, size_t n)
{
	size_t	 cap;
	char	*p;

	if (t->failed || t->cap - t->len >= n + 1)
		return;
	cap = t->cap > 0 ? t->cap : 256;
	while (cap - t->len < n + 1) {
		if (cap > SIZE_MAX / 2) {
			t->failed = 1;
			return;
		}
		cap *= 2;
	}
	if ((p = realloc(t->buf, cap)) == NULL) {
		t->failed = 1;
		return;
	}
	t->buf = p;
	t->cap = cap;
}

void
fp_text_add(struct fp_text *t, const char *s, size_t n)
{
	fp_text_reserve(t, n);
	if (t->failed)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void
fp_text_cstr(struct fp_text *t, const char *s)
{
	fp_text_add(t, s, strlen(s));
}

/* The escapes jansson writes: quote, backslash, control characters. */
void
fp_text_str(struct fp_text *t, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const char		*run = s;
	char			 esc[6];
	unsigned char		 c;

	fp_text_add(t, "\"", 1);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fp_text_add(t, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': case '\\': esc[1] = (char)c; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			fp_text_add(t, esc, 6);
			continue;
		}
		fp_text_add(t, esc, 2);
	}
	fp_text_add(t, run, (size_t)(s - run));
	fp_text_add(t, "\"", 1);
}

void
fp_text_int(struct fp_text *t, int64_t v)
{
	char	buf[24];
	int	n = snprintf(buf, sizeof buf, "%lld", (long long)v);

	fp_text_add(t, buf, (size_t)n);
}

/* An exponent as jansson writes it: "e300", "e-5" (no '+', no leading 0). */
static int
fp_text_exponent(char *buf, int n)
{
	char	*e = strchr(buf, 'e'), *d, *z;

	if (e == NULL)
		return n;
	d = e + 1;
	if (*d == '-')
		d++;
	for (z = d; *z == '+' || (*z == '0' && z[1] != '\0'); z++)
		continue;
	if (e[1] == '+')
		d = e + 1;
	memmove(d, z, strlen(z) + 1);
	return (int)strlen(buf);
}

/* As jansson prints a real: 17 significant digits, never like an integer. */
void
fp_text_real(struct fp_text *t, double v)
{
	char	buf[40];
	int	n;

	if (!isfinite(v)) {
		fp_text_add(t, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof buf, "%.17g", v);
	if (strpbrk(buf, ".e") == NULL) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	n = fp_text_exponent(buf, n);
	fp_text_add(t, buf, (size_t)n);
}

void
fp_text_time(struct fp_text *t, double v)
{
	char	buf[FP_TIME_LEN];

	if (v <= 0 || *fp_time_format(v, buf) == '\0') {
		fp_text_add(t, "null", 4);
		return;
	}
	fp_text_add(t, "\"", 1);
	fp_text_cstr(t, buf);
	fp_text_add(t, "\"", 1);
}

static int
fp_text_dump_cb(const char *s, size_t n, void *arg)
{
	struct fp_text	*t = arg;

	fp_text_add(t, s, n);
	return t->failed ? -1 : 0;
}

void
fp_text_json(struct fp_text *t, json_t *v)
{
	if (v == NULL) {
		fp_text_add(t, "null", 4);
		return;
	}
	if (json_dump_callback(v, fp_text_dump_cb, t,
	    JSON_COMPACT | JSON_ENCODE_ANY) == -1)
		t->failed = 1;
}

void
fp_text_value(struct fp_text *t, const struct fp_value *v)
{
	if (v->text != NULL)
		fp_text_cstr(t, v->text);
	else
		fp_text_json(t, v->json);
}

char *
fp_text_take(struct fp_text *t, size_t *len)
{
	char	*s;

	fp_text_reserve(t, 0);	/* "" is a text too */
	s = t->buf;
	if (t->failed) {
		free(s);
		s = NULL;
	} else
		s[t->len] = '\0';
	if (len != NULL)
		*len = s != NULL ? t->len : 0;
	memset(t, 0, sizeof *t);
	return s;
}

void
fp_text_clear(struct fp_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof *t);
}
