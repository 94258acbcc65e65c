/*
 * fuzz_yield.c: a libFuzzer target for the yield pipe of exec tasks, fd 3
 * (issue #11, "Prove it, in CI").
 *
 * A task's program writes what it likes on fd 3: one JSON value a line is
 * the contract, but nothing holds it to that.  proto/fp-yield.c is what
 * exec.c and stream.c run on those bytes: fp_yield_feed as reads deliver
 * them, fp_yield_end when the pipe closes, and fp_yield_value on each
 * line.  The first byte of the input is not written but says how the rest
 * arrives: in reads of 1 to 128 bytes (fixed, or drawn from its bits) or
 * all at once; with its top two bits set, the first line is lengthened
 * to just under, at or just past FP_YIELD_MAX_LINE (1 MiB), so that both
 * sides of the limit are reached: a line kept, a line dropped.
 *
 * Besides what the sanitizers find, the lines that come out must be those
 * of a plain split of the bytes at each newline, in order, however the
 * reads cut them: a line over the limit reported once and dropped, an
 * empty line kept, a last line without its newline kept; each line gives
 * a value or a YieldDecodeError, and a value is written as jansson would.
 * Only the first 256 lines, of up to 64 KiB, are decoded: decoding a
 * megabyte is jansson's time more than ours.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-methods.h"

#define FUZZ_CUT_FLAGS	0x07	/* log2 of a read's size; 7: all at once */
#define FUZZ_CUT_RANDOM	0x08	/* read sizes drawn, up to that size */
#define FUZZ_LONG	0xc0	/* both set: a first line of about 1 MiB */
#define FUZZ_LONG_READ	262144	/* the pipe's reads then */
#define FUZZ_DECODE_MAX	65536	/* longer lines: jansson's time, not ours */
#define FUZZ_DECODE_LINES	256	/* lines decoded; the rest only split */

/* The whole of what was written, and how far its lines have come out. */
struct fuzz_pipe {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	size_t		 lines;
	size_t		 dropped;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The next line of a plain split at pos: its length, and if it ended. */
static size_t
fuzz_next_line(struct fuzz_pipe *p, int *ended)
{
	const char	*nl = memchr(p->buf + p->pos, '\n', p->len - p->pos);

	*ended = nl != NULL;
	return nl != NULL ? (size_t)(nl - (p->buf + p->pos)) : p->len - p->pos;
}

static void
fuzz_skip_line(struct fuzz_pipe *p, size_t n, int ended)
{
	p->pos += n + (ended ? 1 : 0);
}

/* What exec.c does with a line: the item it stores, or the error. */
static void
fuzz_item(const char *line, size_t len)
{
	const char	*type;
	json_t		*v, *error;

	v = fp_yield_value(line, len, &error);
	if (v != NULL) {
		if (error != NULL)
			fuzz_fail("a line gave a value and an error");
		fuzz_text_like_jansson(v);
		json_decref(v);
		return;
	}
	if (error == NULL)
		fuzz_fail("a line gave neither a value nor an error");
	type = json_string_value(json_object_get(error, "type"));
	if (type == NULL || strcmp(type, "YieldDecodeError") != 0 ||
	    !json_is_string(json_object_get(error,
	    "message")) || !json_is_string(json_object_get(error, "line")) ||
	    !fp_utf8_valid(json_string_value(json_object_get(error, "line")),
	    json_string_length(json_object_get(error, "line"))))
		fuzz_fail("a YieldDecodeError not as documented");
	fuzz_text_like_jansson(error);
	json_decref(error);
}

static void
fuzz_line_cb(void *arg, const char *line, size_t len)
{
	struct fuzz_pipe	*p = arg;
	size_t			 n;
	int			 ended;

	if (p->pos >= p->len)
		fuzz_fail("a line after the last");
	n = fuzz_next_line(p, &ended);
	if (n > FP_YIELD_MAX_LINE)
		fuzz_fail("a line of %zu bytes came out", n);
	if (len != n || memcmp(line, p->buf + p->pos, n) != 0)
		fuzz_fail("line %zu: %zu bytes, not the %zu written", p->lines,
		    len, n);
	if (memchr(line, '\n', len) != NULL)
		fuzz_fail("a line holding a newline");
	fuzz_skip_line(p, n, ended);
	p->lines++;
	if (len <= FUZZ_DECODE_MAX && p->lines <= FUZZ_DECODE_LINES)
		fuzz_item(line, len);
}

static void
fuzz_too_long_cb(void *arg)
{
	struct fuzz_pipe	*p = arg;
	size_t			 n;
	int			 ended;

	if (p->pos >= p->len)
		fuzz_fail("a line dropped after the last");
	n = fuzz_next_line(p, &ended);
	if (n <= FP_YIELD_MAX_LINE)
		fuzz_fail("a line of %zu bytes dropped", n);
	fuzz_skip_line(p, n, ended);
	p->dropped++;
}

static const struct fp_yield_cbs fuzz_cbs = {
	.line = fuzz_line_cb,
	.too_long = fuzz_too_long_cb,
};

static size_t
fuzz_read_size(unsigned flags, uint32_t *seed)
{
	size_t	max = (size_t)1 << (flags & FUZZ_CUT_FLAGS);

	if (!(flags & FUZZ_CUT_RANDOM))
		return max;
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return 1 + *seed % max;
}

/*
 * The rest of the input with its first line lengthened with 'x' to the
 * limit less one, the limit, or one or two past it (flags' low bits).
 */
static char *
fuzz_long(const char *in, size_t n, unsigned flags, size_t *len)
{
	const char	*nl = memchr(in, '\n', n);
	size_t		 first = nl != NULL ? (size_t)(nl - in) : n, fill = 0;
	size_t		 want = FP_YIELD_MAX_LINE - 1 + (flags & 3);
	char		*buf;

	if (want > first)
		fill = want - first;
	if ((buf = malloc(n + fill + 1)) == NULL)
		fuzz_fail("out of memory");
	memcpy(buf, in, first);
	memset(buf + first, 'x', fill);
	memcpy(buf + first + fill, in + first, n - first);
	*len = n + fill;
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_yield		 y = { 0 };
	struct fuzz_pipe	 p = { 0 };
	unsigned		 flags;
	uint32_t		 seed;
	char			*copy = NULL;
	size_t			 off, n;

	if (size < 1)
		return 0;
	flags = data[0];
	seed = flags | 0x9e3700;
	p.buf = (const char *)data + 1;
	p.len = size - 1;
	if ((flags & FUZZ_LONG) == FUZZ_LONG)
		p.buf = copy = fuzz_long(p.buf, p.len, flags, &p.len);
	for (off = 0; off < p.len; off += n) {
		if (copy != NULL)
			n = FUZZ_LONG_READ - (flags & FUZZ_CUT_RANDOM ?
			    fuzz_read_size(flags, &seed) : 0);
		else if ((flags & FUZZ_CUT_FLAGS) == FUZZ_CUT_FLAGS)
			n = p.len;
		else
			n = fuzz_read_size(flags, &seed);
		if (n > p.len - off)
			n = p.len - off;
		if (fp_yield_feed(&y, p.buf + off, n, &fuzz_cbs, &p) == -1)
			fuzz_fail("out of memory");
	}
	fp_yield_end(&y, &fuzz_cbs, &p);
	if (y.buf != NULL || y.len != 0 || y.skipping)
		fuzz_fail("fp_yield_end left a line behind");
	if (p.pos != p.len)
		fuzz_fail("%zu of %zu bytes came out as lines (%zu lines, "
		    "%zu dropped)", p.pos, p.len, p.lines, p.dropped);
	free(copy);
	return 0;
}
