/*
 * fp-yield.c: the yield pipe of an exec task (fd 3), an async generator's
 * wire: each line is one JSON value.  Bytes go in as they arrive; whole
 * lines come out through a callback.  A line longer than FP_YIELD_MAX_LINE
 * is dropped up to its newline and reported once.  Pure, so the fuzzer
 * (tests/fuzz/fuzz_yield.c) runs exactly this.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int
fp_yield_feed(struct fp_yield *y, const char *data, size_t n,
    const struct fp_yield_cbs *cbs, void *arg)
{
	const char	*nl;
	size_t		 chunk;
	char		*b;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		chunk = nl != NULL ? (size_t)(nl - data) : n;
		if (!y->skipping && y->len + chunk > FP_YIELD_MAX_LINE) {
			cbs->too_long(arg);
			y->skipping = 1;
			y->len = 0;
		}
		if (!y->skipping) {
			if ((b = realloc(y->buf, y->len + chunk + 1)) == NULL)
				return -1;
			y->buf = b;
			memcpy(y->buf + y->len, data, chunk);
			y->len += chunk;
		}
		if (nl == NULL)
			return 0;
		if (!y->skipping)
			cbs->line(arg, y->buf != NULL ? y->buf : "", y->len);
		y->len = 0;
		y->skipping = 0;
		data += chunk + 1;
		n -= chunk + 1;
	}
	return 0;
}

void
fp_yield_end(struct fp_yield *y, const struct fp_yield_cbs *cbs, void *arg)
{
	if (y->len > 0 && !y->skipping)
		cbs->line(arg, y->buf, y->len);
	fp_yield_clear(y);
}

void
fp_yield_clear(struct fp_yield *y)
{
	free(y->buf);
	memset(y, 0, sizeof *y);
}

json_t *
fp_yield_value(const char *line, size_t len, json_t **error)
{
	json_error_t	 err;
	json_t		*v, *shown, *msg;

	*error = NULL;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if ((v = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &err)) != NULL)
		return v;
	/* jansson's "near '...'" may end inside a UTF-8 sequence */
	shown = fp_string_from_bytes(line, len < 256 ? len : 256);
	msg = fp_string_from_bytes(err.text, strlen(err.text));
	if (shown != NULL && msg != NULL)
		*error = json_pack("{s:s,s:O,s:O}", "type", "YieldDecodeError",
		    "message", msg, "line", shown);
	json_decref(shown);
	json_decref(msg);
	return NULL;
}
