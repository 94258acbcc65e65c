/*
 * fp-text.c: JSON written as text.
 *
 * Answers that are mostly stored JSON (task objects, list pages) are
 * written here directly, so a stored column is copied once instead of
 * being parsed into a tree and dumped again.  Trees are written the way
 * jansson's compact encoder writes them, byte for byte, only faster.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

void
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

/*
 * The escapes jansson writes: quote, backslash, control characters.  The
 * rest is copied in runs: strings are valid UTF-8 already (jansson checked
 * them, or the caller did), so nothing needs decoding.
 */
void
fp_text_strn(struct fp_text *t, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const char		*run = s, *end = s + n;
	char			 esc[6];
	unsigned char		 c;

	fp_text_add(t, "\"", 1);
	for (; s < end; s++) {
		c = (unsigned char)*s;
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
fp_text_str(struct fp_text *t, const char *s)
{
	fp_text_strn(t, s, strlen(s));
}

/* Digits written by hand: snprintf was 3% of a batch of submits. */
void
fp_text_int(struct fp_text *t, int64_t v)
{
	char		 buf[24], *p = buf + sizeof buf;
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	fp_text_add(t, p, (size_t)(buf + sizeof buf - p));
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

/*
 * A real in the fewest significant digits (15 to 17) that read back as
 * exactly v: 0.1, not jansson's 0.10000000000000001; never like an
 * integer.  The decimal point is the C locale's: futured never calls
 * setlocale.
 */
void
fp_text_real(struct fp_text *t, double v)
{
	char	buf[40];
	int	n, digits = 15;

	if (!isfinite(v)) {
		fp_text_add(t, "null", 4);
		return;
	}
	while ((n = snprintf(buf, sizeof buf, "%.*g", digits, v)) > 0 &&
	    digits < 17 && strtod(buf, NULL) != v)
		digits++;
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

/* Deeper than jansson parses (2048): a tree that loops into itself. */
#define FP_TEXT_MAX_DEPTH	4096

static void	fp_text_tree(struct fp_text *, json_t *, int depth);

/* Indented text: a member's line starts at its depth. */
static void
fp_text_newline(struct fp_text *t, int depth)
{
	int	i;

	if (t->indent == 0)
		return;
	fp_text_add(t, "\n", 1);
	for (i = 0; i < depth * t->indent && !t->failed; i++)
		fp_text_add(t, " ", 1);
}

static void
fp_text_object(struct fp_text *t, json_t *v, int depth)
{
	void	*it;
	int	 first = 1;

	fp_text_add(t, "{", 1);
	for (it = json_object_iter(v); it != NULL && !t->failed;
	    it = json_object_iter_next(v, it)) {
		if (!first)
			fp_text_add(t, ",", 1);
		first = 0;
		fp_text_newline(t, depth + 1);
		/* a key may hold NUL (json_object_setn) */
		fp_text_strn(t, json_object_iter_key(it),
		    json_object_iter_key_len(it));
		fp_text_add(t, ": ", t->indent != 0 ? 2 : 1);
		fp_text_tree(t, json_object_iter_value(it), depth + 1);
	}
	if (!first)
		fp_text_newline(t, depth);
	fp_text_add(t, "}", 1);
}

static void
fp_text_array(struct fp_text *t, json_t *v, int depth)
{
	size_t	 i;
	json_t	*m;

	fp_text_add(t, "[", 1);
	json_array_foreach(v, i, m) {
		if (t->failed)
			break;
		if (i > 0)
			fp_text_add(t, ",", 1);
		fp_text_newline(t, depth + 1);
		fp_text_tree(t, m, depth + 1);
	}
	if (json_array_size(v) > 0)
		fp_text_newline(t, depth);
	fp_text_add(t, "]", 1);
}

/*
 * jansson's compact encoding, written here because json_dumps spends most
 * of its time elsewhere: it decodes every string's UTF-8 and keeps a table
 * of the containers it is in.
 */
static void
fp_text_tree(struct fp_text *t, json_t *v, int depth)
{
	if (t->failed)
		return;		/* a loop must not be walked on */
	if (depth > FP_TEXT_MAX_DEPTH) {
		t->failed = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		fp_text_object(t, v, depth);
		break;
	case JSON_ARRAY:
		fp_text_array(t, v, depth);
		break;
	case JSON_STRING:
		fp_text_strn(t, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fp_text_int(t, json_integer_value(v));
		break;
	case JSON_REAL:
		fp_text_real(t, json_real_value(v));
		break;
	case JSON_TRUE:
		fp_text_add(t, "true", 4);
		break;
	case JSON_FALSE:
		fp_text_add(t, "false", 5);
		break;
	default:
		fp_text_add(t, "null", 4);
		break;
	}
}

void
fp_text_json(struct fp_text *t, json_t *v)
{
	if (v == NULL)
		fp_text_add(t, "null", 4);
	else
		fp_text_tree(t, v, 0);
}

char *
fp_json_text(json_t *v)
{
	struct fp_text	t = { 0 };

	fp_text_json(&t, v);
	return fp_text_take(&t, NULL);
}

char *
fp_json_text_indented(json_t *v, int indent)
{
	struct fp_text	t = { 0 };

	t.indent = indent;
	fp_text_json(&t, v);
	return fp_text_take(&t, NULL);
}

const char *
fp_tail_lines(const char *s, size_t len, int n)
{
	size_t	i = len;

	if (i > 0 && s[i - 1] == '\n')
		i--;		/* ends the last line, starts none */
	while (i > 0) {
		if (s[i - 1] == '\n' && --n == 0)
			break;
		i--;
	}
	return s + i;
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
fp_text_shrink(struct fp_text *t)
{
	char	*p;

	if (t->failed || t->buf == NULL || t->cap == t->len + 1)
		return;
	if ((p = realloc(t->buf, t->len + 1)) != NULL) {
		t->buf = p;
		t->cap = t->len + 1;
	}
}

void
fp_text_clear(struct fp_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof *t);
}
