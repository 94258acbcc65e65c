/*
 * test_cron.c: base/cron.c: parse errors and their messages; next firings
 * in UTC worked out by hand; the corpus of real crontab lines
 * (cron-corpus.txt) against an oracle that steps minute by minute, in UTC
 * and in Europe/Paris away from its DST changes (the DST rules have their
 * own tests, in Paris and New York, since the oracle cannot know them);
 * zone names and offsets, and TZ left as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/base.h"

#ifndef CRON_CORPUS
#define CRON_CORPUS	"tests/unit/cron-corpus.txt"
#endif

#define CHAIN		25		/* firings compared per start */
#define UTC_SPAN	((int64_t)2 * 366 * 86400)
/* From 5 January or 6 July, 8 weeks stay clear of Paris's DST changes. */
#define PARIS_SPAN	((int64_t)56 * 86400)

/* "2026-12-06T10:07:00Z" to Unix seconds. */
static int64_t
at(const char *iso)
{
	struct tm	 tm = { 0 };

	if (sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		fail_msg("bad time in the test: %s", iso);
	tm.tm_year -= 1900;
	tm.tm_mon--;
	return (int64_t)timegm(&tm);
}

/* Unix seconds to ISO 8601 for messages; four buffers in rotation. */
static const char *
iso(int64_t t)
{
	static char	 buf[4][32];
	static int	 i;
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	i = (i + 1) % 4;
	if (t == -1)
		return "none";
	gmtime_r(&tt, &tm);
	strftime(buf[i], sizeof buf[i], "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf[i];
}

static struct cron *
parse_ok(const char *expr)
{
	struct cron	*c;
	char		 err[128];

	c = cron_parse(expr, err, sizeof err);
	if (c == NULL)
		fail_msg("\"%s\": %s", expr, err);
	return c;
}

/* ---- parsing ---------------------------------------------------------- */

static void
test_parse_errors(void **state)
{
	static const struct {
		const char	*expr;
		const char	*msg;
	} bad[] = {
		{ "", "5 fields expected, got 0" },
		{ "* * * *", "5 fields expected, got 4" },
		{ "* * * * * *", "5 fields expected, got 6" },
		{ "0 0 * * * /bin/true", "5 fields expected, got 6" },
		{ "60 * * * *", "field 1 (minute): 60 is out of range 0-59" },
		{ "0 24 * * *", "field 2 (hour): 24 is out of range 0-23" },
		{ "* * 0 * *", "field 3 (day of month): 0 is out of range 1-31" },
		{ "* * 32 * *", "field 3 (day of month): 32 is out of range" },
		{ "* * * 13 *", "field 4 (month): 13 is out of range 1-12" },
		{ "* * * * 8", "field 5 (day of week): 8 is out of range 0-7" },
		{ "99999999999 * * * *", "99999999999 is out of range 0-59" },
		{ "1-99 * * * *", "field 1 (minute): 99 is out of range" },
		{ "1,,2 * * * *", "field 1 (minute): empty item" },
		{ "1, * * * *", "field 1 (minute): empty item" },
		{ "* ,1 * * *", "field 2 (hour): empty item" },
		{ "x * * * *", "field 1 (minute): bad number \"x\"" },
		{ "* jan * * *", "field 2 (hour): bad number \"jan\"" },
		{ "* * * foo *", "field 4 (month): bad name \"foo\"" },
		{ "* * * * monday", "field 5 (day of week): bad name \"monday\"" },
		{ "* * * * mon-funday", "bad name \"funday\"" },
		{ "*/0 * * * *", "field 1 (minute): step 0 is out of range 1-60" },
		{ "1-30/0 * * * *", "step 0 is out of range" },
		{ "*/61 * * * *", "step 61 is out of range 1-60" },
		{ "* */25 * * *", "field 2 (hour): step 25 is out of range 1-24" },
		{ "*/x * * * *", "field 1 (minute): unexpected 'x'" },
		{ "*/ * * * *", "field 1 (minute): step expected" },
		{ "1- * * * *", "field 1 (minute): number expected" },
		{ "30-10 * * * *", "field 1 (minute): range \"30-10\" ends "
		    "before it starts" },
		{ "* * * * fri-mon", "field 5 (day of week): range" },
		{ "5x * * * *", "field 1 (minute): unexpected 'x' in \"5x\"" },
		{ "1-5/2/3 * * * *", "unexpected '/'" },
		{ "*-5 * * * *", "unexpected '-'" },
		{ "1-2-3 * * * *", "unexpected '-'" },
		{ "0 0 ? * *", "field 3 (day of month): '?' is not supported" },
		{ "0 0 * * ?", "field 5 (day of week): '?' is not supported" },
		{ "0 0 L * *", "field 3 (day of month): 'L' is not supported" },
		{ "0 0 15W * *", "field 3 (day of month): 'W' is not supported" },
		{ "0 0 LW * *", "'LW' is not supported" },
		{ "0 0 * * 5L", "field 5 (day of week): 'L' is not supported" },
		{ "0 0 * * 5#3", "field 5 (day of week): '#' is not supported" },
		{ "0 0 * * fri#3", "'#' is not supported" },
		{ "@reboot", "@reboot is not a schedule" },
		{ "@fortnightly", "unknown macro \"@fortnightly\"" },
		{ "@", "unknown macro" },
		{ "@daily 5", "unexpected text after @daily" },
	};
	struct cron	*c;
	char		 err[128], big[400];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		strcpy(err, "unset");
		c = cron_parse(bad[i].expr, err, sizeof err);
		if (c != NULL)
			fail_msg("\"%s\" parsed", bad[i].expr);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("\"%s\": \"%s\", not \"%s\"", bad[i].expr, err,
			    bad[i].msg);
	}
	/* the limit is 256 bytes, spaces included */
	memset(big, ' ', sizeof big);
	memcpy(big, "0 0 * * *", 9);
	big[256] = '\0';
	cron_free(parse_ok(big));
	big[256] = ' ';
	big[257] = '\0';
	assert_null(cron_parse(big, err, sizeof err));
	assert_non_null(strstr(err, "longer than 256 bytes"));
	/* no room for a message, or a short one: still NULL, no overflow */
	assert_null(cron_parse("0 24 * * *", NULL, 0));
	assert_null(cron_parse("0 24 * * *", err, 8));
	assert_int_equal(strlen(err), 7);
	assert_null(cron_parse(NULL, err, sizeof err));
}

static void
test_parse_forms(void **state)
{
	static const struct {
		const char	*a;
		const char	*b;	/* the same schedule */
	} same[] = {
		{ "  */15\t*  * * *\t ", "0,15,30,45 * * * *" },
		{ "0 9 * JAN-Mar MON-fri", "0 9 * 1-3 1-5" },
		{ "0 0 * * 7", "0 0 * * 0" },
		{ "0 0 * * sun", "0 0 * * 0" },
		{ "0 0 * * 5-7", "0 0 * * 0,5,6" },
		{ "0 0 * * 1/2", "0 0 * * 0,1,3,5" },	/* 1-7/2: 7 is Sunday */
		{ "10/20 * * * *", "10,30,50 * * * *" },
		{ "1-30/5 * * * *", "1,6,11,16,21,26 * * * *" },
		{ "@yearly", "0 0 1 1 *" },
		{ "@ANNUALLY", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" },
		{ "\t@weekly ", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" },
		{ "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};
	struct cron	*a, *b;
	int64_t		 t, ta, tb;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		a = parse_ok(same[i].a);
		b = parse_ok(same[i].b);
		t = at("2026-12-06T10:07:00Z");
		for (n = 0; n < 40; n++) {
			ta = cron_next(a, NULL, t);
			tb = cron_next(b, NULL, t);
			if (ta != tb)
				fail_msg("\"%s\" at %s, \"%s\" at %s",
				    same[i].a, iso(ta), same[i].b, iso(tb));
			t = ta;
		}
		cron_free(a);
		cron_free(b);
	}
}

static void
test_hourly(void **state)
{
	static const struct {
		const char	*expr;
		int		 hourly;
	} h[] = {
		{ "0 * * * *", 1 }, { "*/5 * * * *", 1 }, { "0 */2 * * *", 1 },
		{ "@hourly", 1 }, { "* * * * *", 1 }, { "30 2 * * *", 0 },
		{ "0 0-23 * * *", 0 }, { "0 1,2 * * *", 0 }, { "@daily", 0 },
		{ "0 2/2 * * *", 0 },
	};
	struct cron	*c;
	size_t		 i;

	for (i = 0; i < sizeof h / sizeof h[0]; i++) {
		c = parse_ok(h[i].expr);
		if (cron_hourly(c) != h[i].hourly)
			fail_msg("\"%s\": hourly %d", h[i].expr, cron_hourly(c));
		cron_free(c);
	}
}

/* ---- next firings worked out by hand ---------------------------------- */

struct chain {
	const char	*tz;
	const char	*expr;
	const char	*after;
	const char	*want[6];	/* each one after the one before */
};

static void
check_chain(const struct chain *ch)
{
	struct cron	*c = parse_ok(ch->expr);
	int64_t		 t = at(ch->after), got, want;
	int		 i;

	for (i = 0; i < 6 && ch->want[i] != NULL; i++) {
		want = strcmp(ch->want[i], "none") == 0 ? -1 : at(ch->want[i]);
		got = cron_next(c, ch->tz, t);
		if (got != want)
			fail_msg("\"%s\" in %s after %s: %s, not %s", ch->expr,
			    ch->tz != NULL ? ch->tz : "UTC", iso(t), iso(got),
			    iso(want));
		t = got;
	}
	cron_free(c);
}

static void
test_next_utc(void **state)
{
	/* 2026-12-05 is a Saturday, 2026-12-06 a Sunday */
	static const struct chain ch[] = {
		{ NULL, "*/15 * * * *", "2026-12-06T10:07:00Z",
		    { "2026-12-06T10:15:00Z", "2026-12-06T10:30:00Z",
		    "2026-12-06T10:45:00Z", "2026-12-06T11:00:00Z" } },
		{ "UTC", "* * * * *", "2026-12-06T10:07:30Z",
		    { "2026-12-06T10:08:00Z", "2026-12-06T10:09:00Z" } },
		{ NULL, "0 10 * * *", "2026-12-06T09:59:59Z",
		    { "2026-12-06T10:00:00Z", "2026-12-07T10:00:00Z" } },
		{ NULL, "0 9 * * mon-fri", "2026-12-05T12:00:00Z",
		    { "2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z",
		    "2026-12-09T09:00:00Z", "2026-12-10T09:00:00Z",
		    "2026-12-11T09:00:00Z", "2026-12-14T09:00:00Z" } },
		{ NULL, "0 0 29 2 *", "2026-12-06T10:07:00Z",
		    { "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z" } },
		/* 2100 is not a leap year */
		{ NULL, "0 0 29 2 *", "2097-01-01T00:00:00Z",
		    { "2104-02-29T00:00:00Z" } },
		/* the 13th or a Friday */
		{ NULL, "0 0 13 * 5", "2026-12-06T10:07:00Z",
		    { "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z",
		    "2026-12-18T00:00:00Z", "2026-12-25T00:00:00Z",
		    "2027-01-01T00:00:00Z", "2027-01-08T00:00:00Z" } },
		/* a February 29th or a Monday of February */
		{ NULL, "0 0 29 2 1", "2026-12-06T10:07:00Z",
		    { "2027-02-01T00:00:00Z", "2027-02-08T00:00:00Z" } },
		/* "*" first: an odd day that is also a Monday */
		{ NULL, "0 0 */2 * 1", "2026-12-06T10:07:00Z",
		    { "2026-12-07T00:00:00Z", "2026-12-21T00:00:00Z",
		    "2027-01-11T00:00:00Z" } },
		{ NULL, "0 0 */2 * *", "2026-12-06T10:07:00Z",
		    { "2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z" } },
		{ NULL, "@weekly", "2026-12-06T10:07:00Z",
		    { "2026-12-13T00:00:00Z", "2026-12-20T00:00:00Z" } },
		{ NULL, "0 0 * * 7", "2026-12-05T10:07:00Z",
		    { "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z" } },
		{ NULL, "5-55/10 * * * *", "2026-12-06T10:07:00Z",
		    { "2026-12-06T10:15:00Z", "2026-12-06T10:25:00Z",
		    "2026-12-06T10:35:00Z", "2026-12-06T10:45:00Z",
		    "2026-12-06T10:55:00Z", "2026-12-06T11:05:00Z" } },
		{ NULL, "0 0 31 * *", "2026-12-06T10:07:00Z",
		    { "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z",
		    "2027-03-31T00:00:00Z", "2027-05-31T00:00:00Z",
		    "2027-07-31T00:00:00Z", "2027-08-31T00:00:00Z" } },
		{ NULL, "@yearly", "2026-12-06T10:07:00Z",
		    { "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z" } },
		{ NULL, "0 0 1 1 *", "2026-12-31T23:59:59Z",
		    { "2027-01-01T00:00:00Z" } },
		{ NULL, "59 23 31 12 *", "2026-12-31T23:59:00Z",
		    { "2027-12-31T23:59:00Z" } },
		{ NULL, "0 0 30 2 *", "2026-12-06T10:07:00Z", { "none" } },
		{ NULL, "0 0 31 4,6,9,11 *", "2026-12-06T10:07:00Z",
		    { "none" } },
		{ NULL, "0 12 * jan-mar mon", "2026-12-06T10:07:00Z",
		    { "2027-01-04T12:00:00Z", "2027-01-11T12:00:00Z" } },
		{ "Etc/UTC", "30 2 * * *", "2026-03-28T12:00:00Z",
		    { "2026-03-29T02:30:00Z" } },
	};
	size_t	 i;

	for (i = 0; i < sizeof ch / sizeof ch[0]; i++)
		check_chain(&ch[i]);
}

static void
test_next_bounds(void **state)
{
	struct cron	*c = parse_ok("* * * * *");

	assert_int_equal(cron_next(c, "Mars/Olympus", 0), -1);
	assert_int_equal(cron_next(NULL, NULL, 0), -1);
	assert_int_equal(cron_next(c, NULL, INT64_MAX), -1);
	assert_int_equal(cron_next(c, NULL, INT64_MIN), -1);
	assert_int_equal(cron_next(c, NULL, -61), -60);
	assert_int_equal(cron_next(c, "Europe/Paris", 59), 60);
	cron_free(c);
}

/* Skipping whole months and days: 8 years cost a few hundred steps. */
static void
test_next_fast(void **state)
{
	struct cron	*never = parse_ok("0 0 30 2 *");
	struct cron	*leap = parse_ok("0 0 29 2 *");
	struct cron	*yearly = parse_ok("@yearly");
	struct cron	*often = parse_ok("*/5 * * * *");
	struct timespec	 a, b;
	int64_t		 t;
	double		 took;
	int		 i, n;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 200; i++) {
		assert_int_equal(cron_next(never, NULL, 1800000000 + i), -1);
		assert_int_equal(cron_next(never, "Europe/Paris", i), -1);
		assert_true(cron_next(leap, NULL, 1800000000 + i) > 0);
		for (t = 1800000000, n = 0; n < 8; n++)
			t = cron_next(yearly, i % 2 ? "Europe/Paris" : NULL, t);
		assert_true(t > 1800000000 + 7 * 365 * 86400);
		/* stops soon after the first firing, not at 8 years */
		assert_int_equal(cron_next(often, "Europe/Paris",
		    1800000000 + 300 * i), 1800000000 + 300 * i + 300);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	/* minute by minute would be 4 million steps a call: minutes in all */
	if (took > 2.0)
		fail_msg("3,200 searches took %.2f s", took);
	cron_free(often);
	cron_free(never);
	cron_free(leap);
	cron_free(yearly);
}

/* ---- the corpus against an oracle ------------------------------------- */

/*
 * The oracle reads a schedule its own way (strtok, strsep, atoi), into a
 * table of matching values per field, and steps minute by minute.
 */
struct oracle {
	unsigned char	 ok[5][61];
	int		 dom_star;
	int		 dow_star;
};

static int
oracle_value(const char *s, int field)
{
	static const char	 months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const char	 days[] = "sunmontuewedthufrisat";
	const char		*names = field == 3 ? months :
				    field == 4 ? days : NULL;
	int			 i;

	for (i = 0; names != NULL && names[3 * i] != '\0'; i++)
		if (strncasecmp(s, names + 3 * i, 3) == 0)
			return field == 3 ? i + 1 : i;
	return atoi(s);
}

static void
oracle_item(struct oracle *o, int f, char *item)
{
	static const int	 lo[5] = { 0, 0, 1, 1, 0 };
	static const int	 hi[5] = { 59, 23, 31, 12, 7 };
	char			*slash, *dash;
	int			 a, b, step = 1, v;

	if ((slash = strchr(item, '/')) != NULL) {
		*slash = '\0';
		step = atoi(slash + 1);
	}
	if (strcmp(item, "*") == 0) {
		a = lo[f];
		b = hi[f];
	} else if ((dash = strchr(item, '-')) != NULL) {
		*dash = '\0';
		a = oracle_value(item, f);
		b = oracle_value(dash + 1, f);
	} else {
		a = oracle_value(item, f);
		b = slash != NULL ? hi[f] : a;
	}
	assert_true(step >= 1 && a >= lo[f] && b <= hi[f]);
	for (v = a; v <= b; v += step)
		o->ok[f][v] = 1;
}

static void
oracle_compile(struct oracle *o, const char *expr)
{
	static const char *const	 macros[][2] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};
	char				 buf[300], *save, *field, *item;
	size_t				 i;
	int				 f = 0;

	memset(o, 0, sizeof *o);
	for (i = 0; i < sizeof macros / sizeof macros[0]; i++)
		if (strcmp(expr, macros[i][0]) == 0)
			expr = macros[i][1];
	snprintf(buf, sizeof buf, "%s", expr);
	for (field = strtok_r(buf, " \t", &save); field != NULL;
	    field = strtok_r(NULL, " \t", &save), f++) {
		assert_true(f < 5);
		if (f == 2)
			o->dom_star = field[0] == '*';
		if (f == 4)
			o->dow_star = field[0] == '*';
		while ((item = strsep(&field, ",")) != NULL)
			oracle_item(o, f, item);
	}
	assert_int_equal(f, 5);
	if (o->ok[4][7])
		o->ok[4][0] = 1;
}

static int
oracle_match(const struct oracle *o, const struct tm *tm)
{
	int	 dom = o->ok[2][tm->tm_mday], dow = o->ok[4][tm->tm_wday];

	if (!o->ok[0][tm->tm_min] || !o->ok[1][tm->tm_hour] ||
	    !o->ok[3][tm->tm_mon + 1])
		return 0;
	if (o->dom_star || o->dow_star)
		return dom && dow;
	return dom || dow;
}

static int
oracle_mdays(int y, int mon)
{
	static const int	 d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int			 leap = (y % 4 == 0 && y % 100 != 0) ||
				    y % 400 == 0;

	return d[mon] + (mon == 1 && leap);
}

/* One minute on in UTC, carrying by hand (a struct tm for its fields). */
static void
oracle_tick(struct tm *tm)
{
	if (++tm->tm_min < 60)
		return;
	tm->tm_min = 0;
	if (++tm->tm_hour < 24)
		return;
	tm->tm_hour = 0;
	tm->tm_wday = (tm->tm_wday + 1) % 7;
	if (++tm->tm_mday <= oracle_mdays(tm->tm_year + 1900, tm->tm_mon))
		return;
	tm->tm_mday = 1;
	if (++tm->tm_mon < 12)
		return;
	tm->tm_mon = 0;
	tm->tm_year++;
}

/*
 * The firings in (after, until], at most max of them.  In UTC the clock is
 * carried by hand; in a zone each instant goes through localtime_r, under
 * the TZ the caller set.
 */
static int
oracle_run(const struct oracle *o, int local, int64_t after, int64_t until,
    int64_t *out, int max)
{
	struct tm	 tm;
	time_t		 tt;
	int64_t		 t = (after / 60 + 1) * 60;
	int		 n = 0;

	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	for (; t <= until && n < max; t += 60) {
		if (local) {
			tt = (time_t)t;
			localtime_r(&tt, &tm);
		}
		if (oracle_match(o, &tm))
			out[n++] = t;
		if (!local)
			oracle_tick(&tm);
	}
	return n;
}

/* cron_next's chain from after: the oracle's firings, then none by until. */
static void
corpus_check(const char *expr, const char *tz, int64_t after, int64_t span)
{
	struct oracle	 o;
	struct cron	*c = parse_ok(expr);
	int64_t		 want[CHAIN], t = after, until = after + span;
	int		 i, n;

	oracle_compile(&o, expr);
	n = oracle_run(&o, tz != NULL, after, until, want, CHAIN);
	for (i = 0; i < n; i++) {
		t = cron_next(c, tz, t);
		if (t != want[i])
			fail_msg("\"%s\" in %s after %s: firing %d at %s, "
			    "the oracle's at %s", expr, tz ? tz : "UTC",
			    iso(after), i + 1, iso(t), iso(want[i]));
	}
	if (n < CHAIN) {
		t = cron_next(c, tz, t);
		if (t != -1 && t <= until)
			fail_msg("\"%s\" in %s after %s: a firing at %s the "
			    "oracle has not", expr, tz ? tz : "UTC", iso(after),
			    iso(t));
	}
	cron_free(c);
}

/* The corpus's schedules, NULL-terminated; the caller frees. */
static char **
corpus_read(void)
{
	FILE	*f = fopen(CRON_CORPUS, "r");
	char	 line[300], **list = NULL;
	size_t	 n = 0;

	if (f == NULL)
		fail_msg("%s: cannot open", CRON_CORPUS);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
			continue;
		list = realloc(list, (n + 2) * sizeof *list);
		assert_non_null(list);
		list[n++] = strdup(line);
		list[n] = NULL;
	}
	fclose(f);
	return list;
}

static void
corpus_free(char **list)
{
	size_t	 i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

static void
test_corpus_utc(void **state)
{
	static const char	*starts[] = { "2026-12-06T10:07:00Z",
	    "2024-02-28T23:59:30Z", "2027-12-31T23:30:00Z",
	    "1999-12-31T23:59:59Z", "2099-12-31T12:00:00Z" };
	char			**list = corpus_read();
	size_t			  i, j;

	for (i = 0; list[i] != NULL; i++)
		for (j = 0; j < sizeof starts / sizeof starts[0]; j++)
			corpus_check(list[i], NULL, at(starts[j]), UTC_SPAN);
	assert_true(i >= 60);
	corpus_free(list);
}

static void
test_corpus_paris(void **state)
{
	static const char	*starts[] = { "2026-01-05T08:07:00Z",
	    "2026-07-06T08:07:30Z" };
	char			**list = corpus_read();
	char			 *old = getenv("TZ");
	size_t			  i, j;

	old = old != NULL ? strdup(old) : NULL;
	setenv("TZ", ":Europe/Paris", 1);
	tzset();
	for (i = 0; list[i] != NULL; i++)
		for (j = 0; j < sizeof starts / sizeof starts[0]; j++)
			corpus_check(list[i], "Europe/Paris", at(starts[j]),
			    PARIS_SPAN);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	corpus_free(list);
}

/* ---- daylight saving time --------------------------------------------- */

static void
test_dst_paris(void **state)
{
	/*
	 * 2026-03-29 01:00Z: 02:00 CET becomes 03:00 CEST.
	 * 2026-10-25 01:00Z: 03:00 CEST becomes 02:00 CET.
	 */
	static const struct chain ch[] = {
		/* in the gap: at its end, 03:00 CEST, then as usual */
		{ "Europe/Paris", "30 2 * * *", "2026-03-28T12:00:00Z",
		    { "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" } },
		{ "Europe/Paris", "59 2 * * *", "2026-03-28T12:00:00Z",
		    { "2026-03-29T01:00:00Z" } },
		/* 01:50 CET; 02:00-02:45 collapse into 03:00 CEST */
		{ "Europe/Paris", "*/15 * * * *", "2026-03-29T00:50:00Z",
		    { "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z" } },
		{ "Europe/Paris", "*/15 * * * *", "2026-03-29T00:30:00Z",
		    { "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z",
		    "2026-03-29T01:15:00Z" } },
		{ "Europe/Paris", "0 * * * *", "2026-03-28T23:30:00Z",
		    { "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z",
		    "2026-03-29T02:00:00Z" } },
		/* the repeated hour: a daily job in the first pass only */
		{ "Europe/Paris", "30 2 * * *", "2026-10-24T12:00:00Z",
		    { "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" } },
		{ "Europe/Paris", "30 2 * * *", "2026-10-25T00:45:00Z",
		    { "2026-10-26T01:30:00Z" } },
		{ "Europe/Paris", "*/30 2 * * *", "2026-10-24T12:00:00Z",
		    { "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z",
		    "2026-10-26T01:00:00Z" } },
		/* an hourly one in both */
		{ "Europe/Paris", "30 * * * *", "2026-10-24T23:45:00Z",
		    { "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z",
		    "2026-10-25T02:30:00Z" } },
		{ "Europe/Paris", "30 * * * *", "2026-10-25T00:30:00Z",
		    { "2026-10-25T01:30:00Z" } },
		/* from 02:50 CEST: 02:30 CET is an earlier wall time */
		{ "Europe/Paris", "30 * * * *", "2026-10-25T00:50:00Z",
		    { "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z" } },
		/* 02:00 CET is found before 02:55 CEST, which comes first */
		{ "Europe/Paris", "*/5 * * * *", "2026-10-25T00:50:00Z",
		    { "2026-10-25T00:55:00Z", "2026-10-25T01:00:00Z",
		    "2026-10-25T01:05:00Z" } },
		{ "Europe/Paris", "0 */2 * * *", "2026-10-24T21:00:00Z",
		    { "2026-10-24T22:00:00Z", "2026-10-25T00:00:00Z",
		    "2026-10-25T01:00:00Z", "2026-10-25T03:00:00Z" } },
	};
	size_t	 i;

	for (i = 0; i < sizeof ch / sizeof ch[0]; i++)
		check_chain(&ch[i]);
}

static void
test_dst_new_york(void **state)
{
	/*
	 * 2026-03-08 07:00Z: 02:00 EST becomes 03:00 EDT.
	 * 2026-11-01 06:00Z: 02:00 EDT becomes 01:00 EST.
	 */
	static const struct chain ch[] = {
		{ "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z",
		    { "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z" } },
		{ "America/New_York", "0 * * * *", "2026-03-08T06:30:00Z",
		    { "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z" } },
		{ "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z",
		    { "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" } },
		{ "America/New_York", "0 * * * *", "2026-11-01T04:30:00Z",
		    { "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z",
		    "2026-11-01T07:00:00Z" } },
		{ "America/New_York", "0 * * * *", "2026-11-01T05:30:00Z",
		    { "2026-11-01T06:00:00Z" } },
		{ "America/New_York", "0 9 * * mon-fri", "2026-03-06T15:00:00Z",
		    { "2026-03-09T13:00:00Z", "2026-03-10T13:00:00Z" } },
	};
	size_t	 i;

	for (i = 0; i < sizeof ch / sizeof ch[0]; i++)
		check_chain(&ch[i]);
}

/* ---- zones ------------------------------------------------------------ */

static void
test_tz_valid(void **state)
{
	char	 long_name[80];

	assert_true(tz_valid("UTC"));
	assert_true(tz_valid("Europe/Paris"));
	assert_true(tz_valid("America/New_York"));
	assert_true(tz_valid("Etc/GMT+5"));
	assert_false(tz_valid("Mars/Olympus"));
	assert_false(tz_valid("../etc/passwd"));
	assert_false(tz_valid("Europe/../Europe/Paris"));
	assert_false(tz_valid("/etc/localtime"));
	assert_false(tz_valid(""));
	assert_false(tz_valid(NULL));
	assert_false(tz_valid("Europe"));		/* a directory */
	assert_false(tz_valid("Europe/Paris "));
	assert_false(tz_valid("zone.tab"));
	if (access("/usr/share/zoneinfo/leapseconds", F_OK) == 0)
		assert_false(tz_valid("leapseconds"));	/* not a zone file */
	memset(long_name, 'A', sizeof long_name);
	long_name[65] = '\0';
	assert_false(tz_valid(long_name));
}

static void
test_tz_offset(void **state)
{
	assert_int_equal(tz_offset("Europe/Paris",
	    at("2026-01-15T12:00:00Z")), 3600);
	assert_int_equal(tz_offset("Europe/Paris",
	    at("2026-07-15T12:00:00Z")), 7200);
	assert_int_equal(tz_offset("Europe/Paris",
	    at("2026-03-29T00:59:59Z")), 3600);
	assert_int_equal(tz_offset("Europe/Paris",
	    at("2026-03-29T01:00:00Z")), 7200);
	assert_int_equal(tz_offset("America/New_York",
	    at("2026-01-15T12:00:00Z")), -18000);
	assert_int_equal(tz_offset("America/New_York",
	    at("2026-07-15T12:00:00Z")), -14400);
	assert_int_equal(tz_offset("UTC", at("2026-07-15T12:00:00Z")), 0);
	assert_int_equal(tz_offset(NULL, 0), 0);
	assert_int_equal(tz_offset("Mars/Olympus", 0), 0);
}

/* TZ, and the zone glibc's localtime_r uses, are as they were. */
static void
test_tz_restored(void **state)
{
	struct cron	*c = parse_ok("30 2 * * *");
	struct tm	 tm;
	time_t		 now = (time_t)at("2026-07-15T12:00:00Z");

	setenv("TZ", ":Asia/Tokyo", 1);
	tzset();
	assert_int_not_equal(cron_next(c, "Europe/Paris", now), -1);
	assert_int_equal(tz_offset("America/New_York", now), -14400);
	assert_string_equal(getenv("TZ"), ":Asia/Tokyo");
	localtime_r(&now, &tm);
	assert_int_equal(tm.tm_gmtoff, 9 * 3600);

	unsetenv("TZ");
	assert_int_not_equal(cron_next(c, "America/New_York", now), -1);
	assert_int_equal(tz_offset("Europe/Paris", now), 7200);
	assert_null(getenv("TZ"));

	setenv("TZ", "", 1);
	assert_int_not_equal(cron_next(c, "Europe/Paris", now), -1);
	assert_string_equal(getenv("TZ"), "");
	tzset();
	localtime_r(&now, &tm);
	assert_int_equal(tm.tm_gmtoff, 0);
	unsetenv("TZ");
	tzset();
	cron_free(c);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_hourly),
		cmocka_unit_test(test_next_utc),
		cmocka_unit_test(test_next_bounds),
		cmocka_unit_test(test_next_fast),
		cmocka_unit_test(test_corpus_utc),
		cmocka_unit_test(test_corpus_paris),
		cmocka_unit_test(test_dst_paris),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_tz_valid),
		cmocka_unit_test(test_tz_offset),
		cmocka_unit_test(test_tz_restored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
