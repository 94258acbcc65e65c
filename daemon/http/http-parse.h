/*
 * http-parse.h: the requests of one HTTP/1.x connection, read with
 * http-parser.  Bytes go in, requests come out; nothing here touches a
 * socket, so the fuzzer (tests/fuzz/fuzz_http.c) drives exactly what the
 * daemon runs.
 *
 * http_parse_feed stops at each event: HEAD once a request's headers are
 * complete (the caller may refuse it before its body is read), DONE once
 * its body is complete, ERROR when the bytes are not an acceptable
 * request (status and reason say why; the connection must close after
 * the answer).  After DONE the caller answers, then calls
 * http_parse_next before feeding the bytes that follow.
 */
#ifndef FUTURED_HTTP_PARSE_H
#define FUTURED_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum http_parse_event {
	HTTP_PARSE_MORE,	/* every byte taken: feed more */
	HTTP_PARSE_HEAD,
	HTTP_PARSE_DONE,
	HTTP_PARSE_ERROR,
};

/* What a request said, valid from HEAD until http_parse_next. */
struct http_head {
	const char	*method;	/* "POST", "GET"... */
	int		 is_post;
	int		 is_head;	/* HEAD: the answer has no body */
	int		 is_get;	/* GET or HEAD */
	const char	*path;		/* of the request target, no query */
	const char	*query;		/* after '?', undecoded; "" if none */
	/* the first of each header's value, or NULL */
	const char	*authorization;
	const char	*cookie;
	const char	*last_event_id;
	const char	*origin;
	const char	*host;
	const char	*content_type;
	const char	*csrf;		/* X-Futured-CSRF */
	int		 expect_continue; /* Expect: 100-continue */
	int		 chunked;
	int64_t		 content_length; /* -1: none given (chunked or empty) */
	int		 keep_alive;	/* valid at DONE */
};

struct http_parse;

/* max_body: bytes of body accepted (413 above). */
struct http_parse *http_parse_create(size_t max_body);
void		 http_parse_free(struct http_parse *);
/*
 * Reads from buf until an event; *used says how many bytes it took (the
 * rest is fed again, after the event is handled).
 */
enum http_parse_event http_parse_feed(struct http_parse *, const char *buf,
		    size_t len, size_t *used);
const struct http_head *http_parse_head(const struct http_parse *);
/* The body, valid at DONE until http_parse_next. */
const char	*http_parse_body(const struct http_parse *, size_t *len);
/* At ERROR: the HTTP status (400, 413, 431, 501, 505) and why. */
int		 http_parse_status(const struct http_parse *, const char **why);
/* Ready for the next request of the connection. */
void		 http_parse_next(struct http_parse *);

#endif
