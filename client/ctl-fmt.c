/*
 * ctl-fmt.c: parsing command-line values and formatting what we print:
 * durations, relative times, commands, exceptions, tables.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define CTL_KEY_WIDTH	12
#define CTL_TABLE_COLS	16
#define CTL_SHELL_SAFE	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_-+=./:,@%^"

double
ctl_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
ctl_parse_int(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
ctl_parse_id(const char *s, json_int_t *id)
{
	long long	v;

	if (ctl_parse_int(s, 1, FP_ID_LIMIT - 1, &v) == -1)
		return -1;
	*id = (json_int_t)v;
	return 0;
}

int
ctl_parse_seconds(const char *s, double *out)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(d) || d < 0)
		return -1;
	switch (*end) {		/* 90, 90s, 1.5m, 2h, 7d */
	case 'd':
		d *= 24;
		/* FALLTHROUGH */
	case 'h':
		d *= 60;
		/* FALLTHROUGH */
	case 'm':
		d *= 60;
		/* FALLTHROUGH */
	case 's':
		end++;
		break;
	}
	if (*end != '\0')
		return -1;
	*out = d;
	return 0;
}

int
ctl_parse_pair(const char *s, int sep, json_t *obj)
{
	const char	*eq = strchr(s, sep), *v;
	char		*k;
	int		 rc;

	if (eq == NULL || eq == s)
		return -1;
	if ((k = strndup(s, eq - s)) == NULL)
		return -1;
	for (v = eq + 1; sep == ':' && *v == ' '; v++)
		;		/* "Name: value", as curl -H takes it */
	rc = json_object_set_new(obj, k, json_string(v));
	free(k);
	return rc;
}

double
ctl_task_time(json_t *task, const char *field)
{
	const char	*s = json_string_value(json_object_get(task, field));
	double		 t;

	if (s == NULL || fp_time_parse(s, &t) == -1)
		return 0;
	return t;
}

char *
ctl_fmt_duration(double d, char *buf, size_t len)
{
	long long	s;

	if (d < 0 || !isfinite(d))
		d = 0;
	s = (long long)d;
	if (d < 1)
		snprintf(buf, len, "%dms", (int)(d * 1000));
	else if (d < 10)
		snprintf(buf, len, "%.1fs", d);
	else if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

char *
ctl_fmt_ago(double t, char *buf, size_t len)
{
	char	d[32];
	double	now = ctl_now();

	if (t > now + 0.5)
		snprintf(buf, len, "in %s", ctl_fmt_duration(t - now, d,
		    sizeof d));
	else
		snprintf(buf, len, "%s ago", ctl_fmt_duration(now - t, d,
		    sizeof d));
	return buf;
}

char *
ctl_fmt_task_duration(json_t *task, char *buf, size_t len)
{
	double	started = ctl_task_time(task, "started_at");
	double	finished = ctl_task_time(task, "finished_at");

	if (started <= 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	return ctl_fmt_duration((finished > 0 ? finished : ctl_now()) -
	    started, buf, len);
}

/* Writes s so that a shell would read it back as one word. */
static void
ctl_quote(FILE *f, const char *s)
{
	if (*s != '\0' && strspn(s, CTL_SHELL_SAFE) == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void
ctl_fmt_spec(FILE *f, json_t *spec)
{
	const char	*kind = json_string_value(json_object_get(spec,
			    "kind"));
	const char	*shell = json_string_value(json_object_get(spec,
			    "shell"));
	json_t		*argv = json_object_get(spec, "argv"), *v;
	const char	*method;
	size_t		 i;

	if (kind == NULL)
		kind = "?";
	if (strcmp(kind, FP_KIND_EXEC) == 0 && json_is_array(argv)) {
		json_array_foreach(argv, i, v) {
			if (i > 0)
				fputc(' ', f);
			ctl_quote(f, json_is_string(v) ? json_string_value(v) :
			    "?");
		}
	} else if (strcmp(kind, FP_KIND_EXEC) == 0)
		fputs(shell != NULL ? shell : "?", f);
	else if (strcmp(kind, FP_KIND_SLEEP) == 0)
		fprintf(f, "sleep %g", json_number_value(json_object_get(spec,
		    "seconds")));
	else if (json_is_string(json_object_get(spec, "url"))) {
		method = json_string_value(json_object_get(spec, "method"));
		fprintf(f, "%s %s", method != NULL ? method : "GET",
		    json_string_value(json_object_get(spec, "url")));
	} else
		fputs(kind, f);
}

char *
ctl_fmt_command(json_t *spec)
{
	FILE	*f;
	char	*buf = NULL, *p;
	size_t	 len = 0;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	ctl_fmt_spec(f, spec);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	/* One line: a multi-line shell script would break the table. */
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

void
ctl_print_exception(FILE *f, json_t *exc)
{
	const char	*type = json_string_value(json_object_get(exc,
			    "type"));
	const char	*msg = json_string_value(json_object_get(exc,
			    "message"));
	json_t		*tail = json_object_get(exc, "stderr_tail");
	const char	*s, *from, *nl;

	if (exc == NULL || json_is_null(exc)) {
		fputs("none\n", f);
		return;
	}
	fprintf(f, "%s%s%s: %s\n", ctl_color(f, CTL_RED),
	    type != NULL ? type : "Exception", ctl_color(f, CTL_PLAIN),
	    msg != NULL ? msg : "");
	if (json_string_length(tail) == 0)
		return;
	s = json_string_value(tail);
	fprintf(f, "  stderr, last lines:\n");
	for (from = fp_tail_lines(s, json_string_length(tail),
	    CTL_TAIL_LINES); *from != '\0'; from = nl + (*nl != '\0')) {
		nl = from + strcspn(from, "\n");
		fprintf(f, "  | %.*s\n", (int)(nl - from), from);
	}
}

void
ctl_print_json(json_t *j, int indent)
{
	char	*s = indent ? fp_json_text_indented(j, 2) : fp_json_text(j);

	if (s != NULL) {
		fputs(s, stdout);
		free(s);
	}
	putchar('\n');
}

void
ctl_print_key(const char *key)
{
	int	pad = CTL_KEY_WIDTH - (int)strlen(key);

	printf("%s:%*s", key, pad > 1 ? pad : 1, "");
}

void
ctl_print_kv(const char *key, const char *fmt, ...)
{
	va_list	ap;

	ctl_print_key(key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
ctl_write_string(FILE *f, json_t *s)
{
	if (json_is_string(s))
		fwrite(json_string_value(s), 1, json_string_length(s), f);
}

int
ctl_term_width(void)
{
	struct winsize	ws;

	if (!isatty(STDOUT_FILENO) ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

/* ---- tables ---- */

struct ctl_table {
	size_t	  ncols;
	size_t	  nrows;
	size_t	  cap;
	char	**cells;	/* nrows * ncols, owned */
};

struct ctl_table *
ctl_table_create(size_t ncols)
{
	struct ctl_table	*t;

	if (ncols == 0 || ncols > CTL_TABLE_COLS)
		return NULL;
	if ((t = calloc(1, sizeof *t)) != NULL)
		t->ncols = ncols;
	return t;
}

void
ctl_table_add(struct ctl_table *t, const char *const *row)
{
	char	**cells;
	size_t	  i, base;

	if (t->nrows == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 64;
		cells = reallocarray(t->cells, t->cap,
		    t->ncols * sizeof *cells);
		if (cells == NULL) {
			t->cap = t->nrows;
			return;
		}
		t->cells = cells;
	}
	base = t->nrows++ * t->ncols;
	for (i = 0; i < t->ncols; i++)
		t->cells[base + i] = strdup(row[i] != NULL ? row[i] : "");
}

size_t
ctl_width(const char *s)
{
	size_t	n = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\033' && s[1] == '[') {
			s += 1 + strspn(s + 2, "0123456789;") + (s[2 +
			    strspn(s + 2, "0123456789;")] == 'm');
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

void
ctl_put_cut(FILE *f, const char *s, size_t max)
{
	size_t	n = 0, i;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == max)
			break;
	}
	fwrite(s, 1, i, f);
}

void
ctl_table_print(struct ctl_table *t, FILE *f, int width)
{
	size_t	w[CTL_TABLE_COLS] = { 0 }, r, c, used = 0;
	char	*cell;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if (ctl_width(t->cells[r * t->ncols + c]) > w[c])
				w[c] = ctl_width(t->cells[r * t->ncols + c]);
	for (c = 0; c + 1 < t->ncols; c++)
		used += w[c] + 2;
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			cell = t->cells[r * t->ncols + c];
			if (cell == NULL)
				cell = "";
			if (c + 1 < t->ncols)
				fprintf(f, "%s%*s", cell, (int)(w[c] + 2 -
				    ctl_width(cell)), "");
			else if (width > 0 && (size_t)width > used)
				ctl_put_cut(f, cell, width - used);
			else
				fputs(cell, f);
		}
		fputc('\n', f);
	}
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Decodes standard base64 onto f (what an http result's binary body is). */
void
ctl_write_base64(FILE *f, const char *s)
{
	static const char	 abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int		 acc = 0;
	int			 bits = 0;
	const char		*p;

	for (; s != NULL && *s != '\0' && *s != '='; s++) {
		if ((p = strchr(abc, *s)) == NULL)
			continue;
		acc = (acc << 6) | (unsigned int)(p - abc);
		if ((bits += 6) >= 8) {
			bits -= 8;
			fputc((int)((acc >> bits) & 0xff), f);
		}
	}
}

/* Whether a progress line is on stderr now, to be cleared first. */
static int	ctl_progress_shown;

int
ctl_progress_wanted(void)
{
	static int	tty = -1;

	if (tty == -1)
		tty = isatty(STDERR_FILENO);
	return tty;
}

void
ctl_progress(const char *fmt, ...)
{
	va_list	ap;

	if (!ctl_progress_wanted())
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	ctl_progress_shown = 1;
}

void
ctl_progress_clear(void)
{
	if (!ctl_progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	ctl_progress_shown = 0;
}

/* --color: CTL_COLOR_AUTO, _ALWAYS or _NEVER. */
static int	ctl_color_mode = CTL_COLOR_AUTO;

void
ctl_color_set(int mode)
{
	ctl_color_mode = mode;
}

/*
 * The escape that starts colour c on f, or "" when f shows none: auto
 * colours a terminal unless NO_COLOR is set (no-color.org) or TERM is
 * dumb.
 */
const char *
ctl_color(FILE *f, enum ctl_color c)
{
	static const char *const esc[] = {
		[CTL_PLAIN] = "\033[0m", [CTL_RED] = "\033[31m",
		[CTL_GREEN] = "\033[32m", [CTL_YELLOW] = "\033[33m",
		[CTL_BLUE] = "\033[34m", [CTL_DIM] = "\033[2m",
	};
	const char	*nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (ctl_color_mode == CTL_COLOR_NEVER)
		return "";
	if (ctl_color_mode == CTL_COLOR_AUTO && (!isatty(fileno(f)) ||
	    (nc != NULL && *nc != '\0') || term == NULL ||
	    strcmp(term, "dumb") == 0))
		return "";
	return esc[c];
}

enum ctl_color
ctl_state_color(const char *state)
{
	if (state == NULL)
		return CTL_PLAIN;
	if (strcmp(state, "succeeded") == 0)
		return CTL_GREEN;
	if (strcmp(state, "failed") == 0)
		return CTL_RED;
	if (strcmp(state, "cancelled") == 0)
		return CTL_YELLOW;
	if (strcmp(state, "running") == 0)
		return CTL_BLUE;
	return CTL_DIM;
}
