/*
 * fuzz_http.c: a libFuzzer target for futured's HTTP/1.x request reader,
 * daemon/http-parse.c on http-parser (issue #11, "Prove it, in CI").
 *
 * The input is what a client writes on a connection, from its first
 * byte; the first byte of the input is not sent but says how the rest is
 * cut, the way a socket cuts it: pieces of 1 to 64 bytes, of sizes drawn
 * from the byte's other bits, or all at once.  The events are followed as
 * daemon/http.c follows them: at HEAD the request may be refused (a path
 * other than / and /rpc, a method other than POST) and then nothing more
 * is read; at DONE the body is answered, then http_parse_next, unless
 * the connection is not kept alive; ERROR ends the connection.  The body
 * limit is small (4096) so that the 413 paths are reached.
 *
 * Besides what the sanitizers find: every byte is taken unless an event
 * stops the feed, a body is never over the limit, an error has a status
 * futured answers with, and the events, requests and bodies are the same
 * however the bytes are cut (the input is also fed whole, and compared),
 * up to an error in both or in neither.  Which error may differ: bytes
 * with two faults are refused for the one seen first, and http-parser
 * hands a header value over at the end of each read, so a value both
 * too long and invalid is 431 or 400 depending on the cut.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "http/http-parse.h"

#define FUZZ_MAX_BODY	4096
#define FUZZ_CUT_FLAGS	0x07	/* log2 of the piece size; 7: all at once */
#define FUZZ_CUT_RANDOM	0x08	/* piece sizes drawn, up to that size */
#define FUZZ_LENIENT	0x10	/* read on where http.c would refuse */

/* What a connection's bytes produced, whatever their cut. */
struct fuzz_outcome {
	int		heads;
	int		requests;
	int		status;		/* at ERROR, else 0 */
	int		stopped;	/* refused at HEAD or closed at DONE */
	uint64_t	hash;		/* of every HEAD and DONE and what it said */
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The daemon's own fatal paths (log.c): xmalloc.c calls them when memory
 * runs out.  Here that is a finding.
 */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

__attribute__((noreturn, format(printf, 1, 2)))
static void
fuzz_fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* FNV-1a over what an event said. */
static void
fuzz_hash(struct fuzz_outcome *o, const void *p, size_t n)
{
	const unsigned char	*s = p;

	if (o->hash == 0)
		o->hash = 0xcbf29ce484222325ULL;
	while (n-- > 0)
		o->hash = (o->hash ^ *s++) * 0x100000001b3ULL;
}

static void
fuzz_hash_str(struct fuzz_outcome *o, const char *s)
{
	fuzz_hash(o, s != NULL ? s : "(null)", s != NULL ? strlen(s) + 1 : 6);
}

static void
fuzz_hash_int(struct fuzz_outcome *o, int64_t v)
{
	fuzz_hash(o, &v, sizeof v);
}

/* http_conn_head: 1 when http.c would refuse the request. */
static int
fuzz_head(struct http_parse *ps, struct fuzz_outcome *o, int lenient)
{
	const struct http_head	*h = http_parse_head(ps);

	if (h->method == NULL || h->path == NULL)
		fuzz_fail("HEAD without a method or a path");
	if (h->content_length < -1 || h->content_length > FUZZ_MAX_BODY)
		fuzz_fail("HEAD with a Content-Length of %lld",
		    (long long)h->content_length);
	if (h->chunked && h->content_length != -1)
		fuzz_fail("HEAD both chunked and with a Content-Length");
	o->heads++;
	fuzz_hash_int(o, HTTP_PARSE_HEAD);
	fuzz_hash_str(o, h->method);
	fuzz_hash_str(o, h->path);
	fuzz_hash_str(o, h->authorization);
	fuzz_hash_int(o, h->is_post | h->is_head << 1 |
	    h->expect_continue << 2 | h->chunked << 3);
	fuzz_hash_int(o, h->content_length);
	if (lenient)
		return 0;
	return (strcmp(h->path, "/rpc") != 0 && strcmp(h->path, "/") != 0) ||
	    !h->is_post;
}

/* http_conn_dispatch and the answer's end: 1 when the connection closes. */
static int
fuzz_done(struct http_parse *ps, struct fuzz_outcome *o)
{
	const struct http_head	*h = http_parse_head(ps);
	const char		*body;
	size_t			 len;

	body = http_parse_body(ps, &len);
	if (body == NULL || len > FUZZ_MAX_BODY || body[len] != '\0')
		fuzz_fail("a body of %zu bytes (limit %d), or unterminated",
		    len, FUZZ_MAX_BODY);
	if (h->content_length >= 0 && (size_t)h->content_length != len)
		fuzz_fail("a body of %zu bytes, %lld declared", len,
		    (long long)h->content_length);
	o->requests++;
	fuzz_hash_int(o, HTTP_PARSE_DONE);
	fuzz_hash_int(o, h->keep_alive);
	fuzz_hash(o, body, len);
	fuzz_hash_int(o, (int64_t)len);
	if (!h->keep_alive)
		return 1;
	http_parse_next(ps);
	return 0;
}

static void
fuzz_error(struct http_parse *ps, struct fuzz_outcome *o)
{
	const char	*why = NULL;

	o->status = http_parse_status(ps, &why);
	if (why == NULL || *why == '\0')
		fuzz_fail("an error without a reason");
	switch (o->status) {
	case 400: case 405: case 413: case 414: case 431: case 501: case 503:
	case 505:
		break;
	default:
		fuzz_fail("an error of status %d (%s)", o->status, why);
	}
}

/* The next piece's size: xorshift over the seed, or fixed. */
static size_t
fuzz_piece(unsigned flags, uint32_t *seed)
{
	size_t	max = (size_t)1 << (flags & FUZZ_CUT_FLAGS);

	if (!(flags & FUZZ_CUT_RANDOM))
		return max;
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return 1 + *seed % max;
}

/* One connection: the bytes in pieces, the events as http.c takes them. */
static void
fuzz_connection(const char *buf, size_t len, unsigned flags,
    struct fuzz_outcome *o)
{
	struct http_parse	*ps = http_parse_create(FUZZ_MAX_BODY);
	enum http_parse_event	 ev;
	size_t			 off = 0, piece, used;
	uint32_t		 seed = flags | 0x9e3700;
	int			 idle = 0;

	memset(o, 0, sizeof *o);
	while (off < len && o->status == 0 && !o->stopped) {
		piece = (flags & FUZZ_CUT_FLAGS) == FUZZ_CUT_FLAGS ? len - off :
		    fuzz_piece(flags, &seed);
		if (piece > len - off)
			piece = len - off;
		ev = http_parse_feed(ps, buf + off, piece, &used);
		if (used > piece)
			fuzz_fail("took %zu bytes of %zu", used, piece);
		off += used;
		/* an event may take nothing, but not twice in a row */
		if (used == 0 && ++idle > 2)
			fuzz_fail("no progress at byte %zu (event %d)", off, ev);
		if (used > 0)
			idle = 0;
		switch (ev) {
		case HTTP_PARSE_MORE:
			if (used != piece)
				fuzz_fail("MORE after %zu bytes of %zu", used,
				    piece);
			break;
		case HTTP_PARSE_HEAD:
			o->stopped = fuzz_head(ps, o, flags & FUZZ_LENIENT);
			break;
		case HTTP_PARSE_DONE:
			o->stopped = fuzz_done(ps, o);
			break;
		case HTTP_PARSE_ERROR:
			fuzz_error(ps, o);
			break;
		}
	}
	http_parse_free(ps);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_outcome	 cut, whole;
	const char		*buf = (const char *)data + 1;
	unsigned		 flags;

	if (size < 1)
		return 0;
	flags = data[0];
	fuzz_connection(buf, size - 1, flags, &cut);
	fuzz_connection(buf, size - 1, flags | FUZZ_CUT_FLAGS, &whole);
	if (cut.heads != whole.heads || cut.requests != whole.requests ||
	    (cut.status == 0) != (whole.status == 0) ||
	    cut.stopped != whole.stopped || cut.hash != whole.hash)
		fuzz_fail("cut (flags %#x): %d heads, %d requests, status %d; "
		    "whole: %d heads, %d requests, status %d", flags, cut.heads,
		    cut.requests, cut.status, whole.heads, whole.requests,
		    whole.status);
	return 0;
}
