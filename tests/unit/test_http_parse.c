/*
 * test_http_parse.c: http-parse.c, the request reader of the HTTP
 * transport (issue #11): events in order, whatever the split of the bytes
 * (whole, one byte at a time, every cut in two), pipelining, chunked
 * bodies, and each refusal with its status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"
#include "http/http-parse.h"

#define MAX_BODY	1024

/* What one connection's bytes produced. */
struct outcome {
	int	 heads, requests;
	char	 paths[4][32];
	char	 bodies[4][MAX_BODY + 1];
	int	 keep_alive[4];
	int	 expect_continue;
	char	 authorization[64];
	int	 status;	/* at ERROR, else 0 */
};

/* Feeds buf in pieces of at most step bytes (0: whole), like a socket. */
static void
run(const char *buf, size_t len, size_t step, struct outcome *o)
{
	struct http_parse	*ps = http_parse_create(MAX_BODY);
	enum http_parse_event	 ev;
	const struct http_head	*h;
	const char		*why, *b;
	size_t			 off = 0, piece, used, blen;

	memset(o, 0, sizeof *o);
	while (off < len && o->status == 0) {
		piece = step == 0 || len - off < step ? len - off : step;
		ev = http_parse_feed(ps, buf + off, piece, &used);
		off += used;
		h = http_parse_head(ps);
		switch (ev) {
		case HTTP_PARSE_HEAD:
			snprintf(o->paths[o->heads % 4], 32, "%s", h->path);
			o->expect_continue |= h->expect_continue;
			if (h->authorization != NULL)
				snprintf(o->authorization, 64, "%s",
				    h->authorization);
			o->heads++;
			break;
		case HTTP_PARSE_DONE:
			b = http_parse_body(ps, &blen);
			snprintf(o->bodies[o->requests % 4], MAX_BODY + 1,
			    "%.*s", (int)blen, b);
			o->keep_alive[o->requests % 4] = h->keep_alive;
			o->requests++;
			http_parse_next(ps);
			break;
		case HTTP_PARSE_ERROR:
			o->status = http_parse_status(ps, &why);
			assert_non_null(why);
			break;
		case HTTP_PARSE_MORE:
			assert_int_equal(used, piece);
			break;
		}
	}
	http_parse_free(ps);
}

/* The same outcome however the bytes are cut. */
static void
run_all_cuts(const char *buf, struct outcome *want)
{
	struct outcome	o;
	size_t		len = strlen(buf), step;

	run(buf, len, 0, want);
	for (step = 1; step <= len; step++) {
		run(buf, len, step, &o);
		assert_int_equal(o.requests, want->requests);
		assert_int_equal(o.heads, want->heads);
		assert_int_equal(o.status, want->status);
		assert_string_equal(o.bodies[0], want->bodies[0]);
		assert_string_equal(o.bodies[1], want->bodies[1]);
	}
}

static void
test_one_request(void **state)
{
	struct outcome	o;

	run_all_cuts("POST /rpc?x=1 HTTP/1.1\r\nHost: x\r\nAuthorization: "
	    "Bearer abc\r\nContent-Length: 5\r\n\r\nhello", &o);
	assert_int_equal(o.requests, 1);
	assert_string_equal(o.paths[0], "/rpc");
	assert_string_equal(o.bodies[0], "hello");
	assert_string_equal(o.authorization, "Bearer abc");
	assert_true(o.keep_alive[0]);
}

static void
test_pipelined(void **state)
{
	struct outcome	o;

	run_all_cuts("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
	    "GET /x HTTP/1.1\r\n\r\n"
	    "POST /rpc HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", &o);
	assert_int_equal(o.heads, 3);
	assert_int_equal(o.requests, 3);
	assert_string_equal(o.paths[1], "/x");
	assert_string_equal(o.bodies[2], "abc");
	assert_false(o.keep_alive[2]);	/* HTTP/1.0 without keep-alive */
}

static void
test_chunked(void **state)
{
	struct outcome	o;

	run_all_cuts("POST /rpc HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Expect: 100-continue\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
	    &o);
	assert_int_equal(o.requests, 1);
	assert_string_equal(o.bodies[0], "abcde");
	assert_true(o.expect_continue);
}

static void
expect_status(const char *req, int status)
{
	struct outcome	o;

	run_all_cuts(req, &o);
	assert_int_equal(o.status, status);
	assert_int_equal(o.requests, 0);
}

static void
test_refusals(void **state)
{
	char	big[200000];

	/* over the limit at HEAD, before any body byte */
	expect_status("POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999"
	    "\r\n\r\n", 413);
	expect_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "401\r\n", 413);
	expect_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "ffffffffffffffffff\r\n", 413);
	expect_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	expect_status("FOO / HTTP/1.1\r\n\r\n", 501);
	/* http-parser would take no body after CONNECT (the fuzzer's find) */
	expect_status("CONNECT h:443 HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
	    "abcd", 405);
	expect_status("POST / HTTP/2.0\r\n\r\n", 505);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "POST / HTTP/1.1\r\nX: ", 20);
	expect_status(big, 431);
}

/* A chunked body exactly at the limit is fine; one byte more is not. */
static void
test_chunked_limit(void **state)
{
	char		req[2 * MAX_BODY];
	struct outcome	o;
	int		n;

	n = snprintf(req, sizeof req, "POST / HTTP/1.1\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n%x\r\n", MAX_BODY);
	memset(req + n, 'b', MAX_BODY);
	strcpy(req + n + MAX_BODY, "\r\n0\r\n\r\n");
	run(req, strlen(req), 0, &o);
	assert_int_equal(o.requests, 1);
	assert_int_equal(strlen(o.bodies[0]), MAX_BODY);
	strcpy(req + n + MAX_BODY, "\r\n1\r\nc\r\n0\r\n\r\n");
	run(req, strlen(req), 7, &o);
	assert_int_equal(o.status, 413);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_request),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_chunked_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
