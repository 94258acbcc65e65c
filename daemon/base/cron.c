/*
 * cron.c: 5-field cron expressions and their next firing in a time zone.
 *
 * Syntax, as Vixie cron and cronie read it: "minute hour day-of-month month
 * day-of-week", each field a comma list of "*", "N" or "A-B", each with an
 * optional "/STEP" ("A/STEP" is "A-max/STEP"); months and days of the week
 * by number or by three-letter name; 0 and 7 are Sunday.  A day matches
 * when either day field does if both are restricted, and only by the
 * restricted one when the other starts with "*".  The @ macros expand to
 * fields.  Quartz's "?", "L", "W" and "#" are refused, not half-supported.
 *
 * Time zones and daylight saving time.  The fields match the wall clock in
 * the zone.  cron_next() walks the matching wall times in order, as
 * zone-free seconds, and turns each into the instants that show it:
 *   - one instant: that instant;
 *   - two instants (clocks went back, the hour happens twice): both when
 *     the hour field follows the clock ("*", with or without a step:
 *     cron_hourly()), so an hourly job runs in each pass; otherwise only
 *     the first, so a job at 02:30 every day runs once that day;
 *   - no instant (clocks went forward, the wall time is skipped): the
 *     instant of the change, the end of the gap, so the 02:30 job still
 *     runs that day, at 03:00, and the gap's firings collapse into one.
 * The answer is the smallest instant after `after`.  Instants do not come
 * in the order of their wall times around a repeated hour, so the walk
 * starts at the wall time of `after` less 3 hours, lest the second pass of
 * the hour be skipped, and goes on to 3 hours of wall time past the best
 * instant found: no later wall time can show an earlier instant.  It skips
 * whole months, days and hours that cannot match, so a yearly schedule
 * costs a few hundred steps over the 8 years it looks ahead.
 *
 * The UTC offsets come from glibc (TZ, tzset, localtime_r's tm_gmtoff) and
 * the calendar arithmetic on wall times is done here, without a zone.  Each
 * public call loads its zone once and puts TZ and glibc's zone back before
 * returning: log.c's localtime_r would otherwise stamp lines in the cron
 * zone, as localtime_r does not look at TZ again.  Changing TZ is why
 * these calls are for a single-threaded process, which futured is.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

#define CRON_EXPR_MAX	256
#define CRON_FIELDS	5
#define CRON_EARLY	(3 * 3600)
#define CRON_HORIZON	((int64_t)(8 * 366 + 1) * 86400)
/* Far enough for any schedule, near enough that no arithmetic overflows. */
#define CRON_T_LIMIT	((int64_t)1 << 40)

#define TZ_DIR		"/usr/share/zoneinfo/"
#define TZ_NAME_MAX	64
#define TZ_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_+-/"

enum { CRON_MIN, CRON_HOUR, CRON_DOM, CRON_MON, CRON_DOW };

struct cron {
	uint64_t	 bits[CRON_FIELDS];	/* bit v set: value v matches */
	int		 dom_star;	/* the field's text starts with '*' */
	int		 dow_star;
	int		 hourly;	/* the hour field is "*", maybe stepped */
};

static const char *const cron_months[] = { "jan", "feb", "mar", "apr",
	"may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const cron_wdays[] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat", NULL };

static const struct cron_field {
	const char		 *name;
	int			  min;
	int			  max;
	const char *const	 *names;
	int			  first;	/* the value of names[0] */
} cron_fields[CRON_FIELDS] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },
	{ "month", 1, 12, cron_months, 1 },
	{ "day of week", 0, 7, cron_wdays, 0 },
};

static const struct {
	const char	*name;
	const char	*fields;
} cron_macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct cron_parser {
	char		*err;
	size_t		 errlen;
	int		 field;		/* index into cron_fields */
	const char	*item;		/* the item being read, for messages */
	size_t		 itemlen;
};

/* The zone glibc holds for this call ("": none), so tzset runs once. */
static char	zone_loaded[TZ_NAME_MAX + 1];

struct zone_saved {
	char	*tz;			/* TZ as the call found it, or NULL */
};

static int __attribute__((format(printf, 2, 3)))
cron_error(struct cron_parser *p, const char *fmt, ...)
{
	const struct cron_field	*f = &cron_fields[p->field];
	va_list			 ap;
	int			 n;

	if (p->err == NULL || p->errlen == 0)
		return -1;
	n = snprintf(p->err, p->errlen, "field %d (%s): ", p->field + 1,
	    f->name);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* An error about the whole expression, not one field. */
static struct cron * __attribute__((format(printf, 3, 4)))
cron_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

static int
cron_unexpected(struct cron_parser *p, const char *s)
{
	if (*s != '\0' && strchr("?#LlWw", *s) != NULL)
		return cron_error(p, "'%c' is not supported", toupper(
		    (unsigned char)*s));
	if (!isprint((unsigned char)*s))
		return cron_error(p, "unexpected byte 0x%02x in \"%.*s\"",
		    (unsigned char)*s, (int)p->itemlen, p->item);
	return cron_error(p, "unexpected '%c' in \"%.*s\"", *s,
	    (int)p->itemlen, p->item);
}

/* Reads digits; saturates so that "99999999999" is merely out of range. */
static int
cron_digits(const char **sp, const char *end, int *v)
{
	const char	*s = *sp;

	*v = 0;
	while (s < end && isdigit((unsigned char)*s)) {
		if (*v < 100000)
			*v = *v * 10 + (*s - '0');
		s++;
	}
	if (s == *sp)
		return -1;
	*sp = s;
	return 0;
}

static int
cron_name(struct cron_parser *p, const char **sp, const char *end, int *v)
{
	const struct cron_field	*f = &cron_fields[p->field];
	const char		*s = *sp;
	size_t			 len, i;

	while (s < end && isalpha((unsigned char)*s))
		s++;
	len = s - *sp;
	for (i = 0; f->names != NULL && f->names[i] != NULL; i++) {
		if (len == 3 && strncasecmp(*sp, f->names[i], 3) == 0) {
			*v = f->first + (int)i;
			*sp = s;
			return 0;
		}
	}
	if (len <= 2 && strspn(*sp, "LlWw") >= len)
		return cron_error(p, "'%.*s' is not supported", (int)len, *sp);
	return cron_error(p, "bad %s \"%.*s\"", f->names != NULL ? "name" :
	    "number", (int)len, *sp);
}

/* A number or name within the field's range. */
static int
cron_value(struct cron_parser *p, const char **sp, const char *end, int *v)
{
	const struct cron_field	*f = &cron_fields[p->field];
	const char		*s = *sp;

	if (s < end && isalpha((unsigned char)*s))
		return cron_name(p, sp, end, v);
	if (cron_digits(sp, end, v) == -1) {
		if (s < end)
			return cron_unexpected(p, s);
		return cron_error(p, "number expected after \"%.*s\"",
		    (int)p->itemlen, p->item);
	}
	if (*v < f->min || *v > f->max)
		return cron_error(p, "%.*s is out of range %d-%d",
		    (int)(*sp - s), s, f->min, f->max);
	return 0;
}

static int
cron_step(struct cron_parser *p, const char **sp, const char *end, int *step)
{
	const struct cron_field	*f = &cron_fields[p->field];
	const char		*s = *sp;
	int			 range = f->max - f->min + 1;

	if (cron_digits(sp, end, step) == -1) {
		if (s < end)
			return cron_unexpected(p, s);
		return cron_error(p, "step expected after \"%.*s\"",
		    (int)p->itemlen, p->item);
	}
	if (*step < 1 || *step > range)
		return cron_error(p, "step %.*s is out of range 1-%d",
		    (int)(*sp - s), s, range);
	return 0;
}

/* One item of a comma list: "*", "N" or "A-B", then maybe "/STEP". */
static int
cron_item(struct cron_parser *p, struct cron *c, const char *s, size_t len)
{
	const struct cron_field	*f = &cron_fields[p->field];
	const char		*end = s + len;
	int			 lo, hi, step = 1, v;

	p->item = s;
	p->itemlen = len;
	if (*s == '*') {
		lo = f->min;
		hi = f->max;
		s++;
	} else {
		if (cron_value(p, &s, end, &lo) == -1)
			return -1;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			if (cron_value(p, &s, end, &hi) == -1)
				return -1;
			if (lo > hi)
				return cron_error(p, "range \"%.*s\" ends "
				    "before it starts", (int)len, p->item);
		} else if (s < end && *s == '/')
			hi = f->max;
	}
	if (s < end && *s == '/') {
		s++;
		if (cron_step(p, &s, end, &step) == -1)
			return -1;
	}
	if (s < end)
		return cron_unexpected(p, s);
	for (v = lo; v <= hi; v += step)
		c->bits[p->field] |= (uint64_t)1 << v;
	return 0;
}

static int
cron_field(struct cron_parser *p, struct cron *c, const char *s, size_t len)
{
	const char	*end = s + len, *comma;

	for (;;) {
		comma = memchr(s, ',', end - s);
		if (comma == NULL)
			comma = end;
		if (comma == s)
			return cron_error(p, "empty item");
		if (cron_item(p, c, s, comma - s) == -1)
			return -1;
		if (comma == end)
			return 0;
		s = comma + 1;
	}
}

/* Splits at spaces and tabs; returns how many fields, storing up to max. */
static int
cron_split(const char *s, const char **f, size_t *len, int max)
{
	int	 n = 0;
	size_t	 l;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return n;
		l = strcspn(s, " \t");
		if (n < max) {
			f[n] = s;
			len[n] = l;
		}
		n++;
		s += l;
	}
}

static struct cron *
cron_parse_fields(const char *expr, char *err, size_t errlen)
{
	struct cron_parser	 p = { err, errlen, 0, NULL, 0 };
	struct cron		*c;
	const char		*f[CRON_FIELDS];
	size_t			 len[CRON_FIELDS];
	int			 n;

	n = cron_split(expr, f, len, CRON_FIELDS);
	if (n != CRON_FIELDS)
		return cron_fail(err, errlen, "%d fields expected, got %d",
		    CRON_FIELDS, n);
	c = xcalloc(1, sizeof *c);
	for (p.field = 0; p.field < CRON_FIELDS; p.field++) {
		if (cron_field(&p, c, f[p.field], len[p.field]) == -1) {
			free(c);
			return NULL;
		}
	}
	if (c->bits[CRON_DOW] & (1 << 7))
		c->bits[CRON_DOW] |= 1;
	c->dom_star = *f[CRON_DOM] == '*';
	c->dow_star = *f[CRON_DOW] == '*';
	c->hourly = *f[CRON_HOUR] == '*' && (len[CRON_HOUR] == 1 ||
	    (f[CRON_HOUR][1] == '/' &&
	    memchr(f[CRON_HOUR], ',', len[CRON_HOUR]) == NULL));
	return c;
}

static struct cron *
cron_parse_macro(const char *s, char *err, size_t errlen)
{
	size_t	 len = strcspn(s, " \t"), i;

	if (s[len + strspn(s + len, " \t")] != '\0')
		return cron_fail(err, errlen, "unexpected text after %.*s",
		    (int)len, s);
	if (len == 7 && strncasecmp(s, "@reboot", len) == 0)
		return cron_fail(err, errlen, "@reboot is not a schedule");
	for (i = 0; i < sizeof cron_macros / sizeof cron_macros[0]; i++) {
		if (strlen(cron_macros[i].name) == len &&
		    strncasecmp(s, cron_macros[i].name, len) == 0)
			return cron_parse_fields(cron_macros[i].fields, err,
			    errlen);
	}
	return cron_fail(err, errlen, "unknown macro \"%.*s\"", (int)len, s);
}

struct cron *
cron_parse(const char *expr, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		*err = '\0';
	if (expr == NULL)
		return cron_fail(err, errlen, "no expression");
	if (strnlen(expr, CRON_EXPR_MAX + 1) > CRON_EXPR_MAX)
		return cron_fail(err, errlen, "expression longer than %d bytes",
		    CRON_EXPR_MAX);
	expr += strspn(expr, " \t");
	if (*expr == '@')
		return cron_parse_macro(expr, err, errlen);
	return cron_parse_fields(expr, err, errlen);
}

void
cron_free(struct cron *c)
{
	free(c);
}

int
cron_hourly(const struct cron *c)
{
	return c->hourly;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (days_from_civil). */
static int64_t
cron_days(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of cron_days (civil_from_days). */
static void
cron_civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
cron_mdays(int64_t y, int m)
{
	static const int	 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int64_t
cron_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The lowest set bit at or above from, or -1. */
static int
cron_bit_from(uint64_t bits, int from)
{
	if (from > 63 || (bits >> from) == 0)
		return -1;
	return from + __builtin_ctzll(bits >> from);
}

static int
cron_day_ok(const struct cron *c, int64_t y, int m, int d)
{
	int64_t	 wd = cron_days(y, m, d) % 7;
	int	 dom, dow;

	wd = (wd + 11) % 7;		/* 1970-01-01 was a Thursday */
	dom = (c->bits[CRON_DOM] >> d) & 1;
	dow = (c->bits[CRON_DOW] >> wd) & 1;
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/* The first matching hour and minute at or after *hh:*mm in a day. */
static int
cron_time_from(const struct cron *c, int *hh, int *mm)
{
	int	 h = *hh, m = *mm;

	while ((h = cron_bit_from(c->bits[CRON_HOUR], h)) != -1) {
		if (h != *hh)
			m = 0;
		if ((m = cron_bit_from(c->bits[CRON_MIN], m)) != -1) {
			*hh = h;
			*mm = m;
			return 0;
		}
		h++;
		m = 0;
	}
	return -1;
}

/*
 * The first matching wall time at or after w (zone-free seconds), or -1
 * past limit.  Whole months and days that cannot match are skipped.
 */
static int64_t
cron_wall_next(const struct cron *c, int64_t w, int64_t limit)
{
	int64_t	 days, y, t;
	int	 m, d, hh, mm, sod;

	w = cron_floordiv(w + 59, 60) * 60;	/* the next whole minute */
	days = cron_floordiv(w, 86400);
	sod = (int)(w - days * 86400);
	cron_civil(days, &y, &m, &d);
	hh = sod / 3600;
	mm = sod / 60 % 60;
	for (;;) {
		days = cron_days(y, m, d);
		if (days * 86400 > limit)
			return -1;
		if (d > cron_mdays(y, m) || !((c->bits[CRON_MON] >> m) & 1)) {
			d = 1;
			hh = mm = 0;
			if (++m > 12) {
				m = 1;
				y++;
			}
			continue;
		}
		if (cron_day_ok(c, y, m, d) &&
		    cron_time_from(c, &hh, &mm) == 0) {
			t = days * 86400 + hh * 3600 + mm * 60;
			return t > limit ? -1 : t;
		}
		d++;
		hh = mm = 0;
	}
}

static void
zone_save(struct zone_saved *s)
{
	const char	*tz = getenv("TZ");

	s->tz = tz != NULL ? xstrdup(tz) : NULL;
}

/* Puts TZ back, and glibc's zone with it if this call changed it. */
static void
zone_restore(struct zone_saved *s)
{
	if (s->tz != NULL)
		setenv("TZ", s->tz, 1);
	else
		unsetenv("TZ");
	if (zone_loaded[0] != '\0') {
		tzset();
		zone_loaded[0] = '\0';
	}
	free(s->tz);
	s->tz = NULL;
}

/*
 * The UTC offset of tz (NULL: UTC, else checked by tz_valid) at instant t.
 * TZ names the file by its full path, so that TZDIR cannot make glibc read
 * another file than the one tz_valid looked at.
 */
static long
zone_offset(const char *tz, int64_t t)
{
	char		 buf[sizeof ":" TZ_DIR + TZ_NAME_MAX];
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (tz == NULL)
		return 0;
	if (strcmp(zone_loaded, tz) != 0) {
		snprintf(buf, sizeof buf, ":%s%s", TZ_DIR, tz);
		setenv("TZ", buf, 1);
		tzset();
		snprintf(zone_loaded, sizeof zone_loaded, "%s", tz);
	}
	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* The first instant in (lo, hi] whose offset is not lo's, to the second. */
static int64_t
zone_change(const char *tz, int64_t lo, int64_t hi)
{
	long	 off = zone_offset(tz, lo);
	int64_t	 mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (zone_offset(tz, mid) == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * The instants showing wall time w, earliest first; see the top of the
 * file.  The offsets a day either side are the two a change can be
 * between (a zone changing twice within a day is not handled).
 */
static int
cron_instants(const struct cron *c, const char *tz, int64_t w, int64_t t[2])
{
	long	 early, late;
	int	 n = 0;

	early = zone_offset(tz, w - 86400);
	late = zone_offset(tz, w + 86400);
	if (early == late) {
		t[0] = w - early;
		return 1;
	}
	/* only when clocks went back (early > late) can both hold */
	if (zone_offset(tz, w - early) == early)
		t[n++] = w - early;
	if (zone_offset(tz, w - late) == late)
		t[n++] = w - late;
	if (n == 2 && !c->hourly)
		n = 1;
	if (n == 0)
		t[n++] = zone_change(tz, w - 86400, w + 86400);
	return n;
}

static int64_t
cron_search(const struct cron *c, const char *tz, int64_t after)
{
	int64_t	 w, limit, stop, best = -1, t[2];
	int	 i, n;

	w = after - CRON_EARLY;
	w += zone_offset(tz, w);
	limit = after + zone_offset(tz, after) + CRON_HORIZON;
	while ((w = cron_wall_next(c, w, limit)) != -1) {
		n = cron_instants(c, tz, w, t);
		for (i = 0; i < n; i++) {
			if (t[i] <= after || (best != -1 && t[i] >= best))
				continue;
			best = t[i];
			/* later wall times cannot show an earlier instant */
			stop = best + zone_offset(tz, best) + CRON_EARLY;
			if (stop < limit)
				limit = stop;
		}
		w += 60;
	}
	return best;
}

int64_t
cron_next(const struct cron *c, const char *tz, int64_t after)
{
	struct zone_saved	 saved;
	int64_t			 t;

	if (tz != NULL && strcmp(tz, "UTC") == 0)
		tz = NULL;
	if (c == NULL || (tz != NULL && !tz_valid(tz)))
		return -1;
	if (after < -CRON_T_LIMIT || after > CRON_T_LIMIT)
		return -1;
	zone_save(&saved);
	t = cron_search(c, tz, after);
	zone_restore(&saved);
	return t;
}

/* The file starts "TZif": a zone, not zone.tab or leapseconds. */
static int
tz_file(const char *path)
{
	struct stat	 st;
	char		 magic[4];
	int		 fd, ok;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
	    memcmp(magic, "TZif", sizeof magic) == 0;
	close(fd);
	return ok;
}

int
tz_valid(const char *tz)
{
	char	 path[sizeof TZ_DIR + TZ_NAME_MAX];
	size_t	 len;

	if (tz == NULL)
		return 0;
	if (strcmp(tz, "UTC") == 0)
		return 1;
	len = strlen(tz);
	/* The character set has no '.', so no "..": kept for the reader. */
	if (len == 0 || len > TZ_NAME_MAX || tz[0] == '/' ||
	    strstr(tz, "..") != NULL || strspn(tz, TZ_CHARS) != len)
		return 0;
	snprintf(path, sizeof path, "%s%s", TZ_DIR, tz);
	return tz_file(path);
}

long
tz_offset(const char *tz, int64_t t)
{
	struct zone_saved	 saved;
	long			 off;

	if (tz == NULL || strcmp(tz, "UTC") == 0 || !tz_valid(tz))
		return 0;
	if (t < -CRON_T_LIMIT || t > CRON_T_LIMIT)
		return 0;
	zone_save(&saved);
	off = zone_offset(tz, t);
	zone_restore(&saved);
	return off;
}
