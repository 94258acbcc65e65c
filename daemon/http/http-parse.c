/*
 * http-parse.c: HTTP/1.x requests read with http-parser (http-parse.h).
 *
 * Only what futured acts on is kept: the method, the path and query, the
 * headers of hp_kept, the body.  Limits are enforced as
 * early as the bytes allow: a Content-Length over the limit is refused at
 * HEAD, before any of the body is read, and a chunked body as soon as a
 * chunk header says it would pass the limit.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <http_parser.h>

#include "base/base.h"
#include "store/store.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "http/http-parse.h"

#define HP_FIELD_MAX	64		/* longer names are not ours */
#define HP_VALUE_MAX	8192		/* a kept header's value */
#define HP_URL_MAX	(64 * 1024)

/* The headers kept, in the order of struct http_head's fields. */
enum hp_header {
	HP_AUTHORIZATION, HP_COOKIE, HP_LAST_EVENT_ID, HP_ORIGIN, HP_HOST,
	HP_CONTENT_TYPE, HP_CSRF, HP_EXPECT, HP_NKEPT, HP_OTHER = HP_NKEPT
};
static const char *const hp_kept[HP_NKEPT] = {
	"authorization", "cookie", "last-event-id", "origin", "host",
	"content-type", "x-futured-csrf", "expect",
};

enum hp_phase {
	HP_READING,
	HP_AT_HEAD,		/* paused after the headers */
	HP_AT_DONE,		/* paused after the body */
	HP_FAILED,
};

struct http_parse {
	http_parser	 p;
	size_t		 max_body;
	enum hp_phase	 phase;
	int		 status;
	const char	*why;
	/* the request being read */
	char		*url;
	size_t		 url_len;
	char		 field[HP_FIELD_MAX + 1];
	size_t		 field_len;
	int		 in_value;	/* the last callback was a value */
	enum hp_header	 header;	/* what the current value is */
	char		*value;
	size_t		 value_len;
	char		*path;
	char		*query;
	char		*kept[HP_NKEPT];	/* the first of each */
	char		*body;
	size_t		 body_len, body_cap;
	struct http_head head;
};

static int
hp_fail(struct http_parse *ps, int status, const char *why)
{
	if (ps->status == 0) {
		ps->status = status;
		ps->why = why;
	}
	return -1;	/* any callback: an error, http-parser stops */
}

/* Appends to a buffer capped at max; -1 past the cap or without memory. */
static int
hp_append(char **buf, size_t *len, size_t max, const char *at, size_t n)
{
	char	*p;

	if (*len + n > max)
		return -1;
	if ((p = realloc(*buf, *len + n + 1)) == NULL)
		return -1;
	memcpy(p + *len, at, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return 0;
}

static void
hp_request_clear(struct http_parse *ps)
{
	int	i;

	free(ps->url);
	free(ps->value);
	free(ps->path);
	free(ps->query);
	free(ps->body);
	ps->url = ps->value = ps->path = ps->query = ps->body = NULL;
	for (i = 0; i < HP_NKEPT; i++) {
		free(ps->kept[i]);
		ps->kept[i] = NULL;
	}
	ps->url_len = ps->value_len = ps->field_len = 0;
	ps->body_len = ps->body_cap = 0;
	ps->in_value = 0;
	ps->header = HP_OTHER;
	memset(&ps->head, 0, sizeof ps->head);
	ps->head.content_length = -1;
}

static int
hp_message_begin(http_parser *p)
{
	hp_request_clear(p->data);
	return 0;
}

static int
hp_url(http_parser *p, const char *at, size_t n)
{
	struct http_parse	*ps = p->data;

	if (hp_append(&ps->url, &ps->url_len, HP_URL_MAX, at, n) == -1)
		return hp_fail(ps, 414, "request target too long");
	return 0;
}

/* The header whose value just ended. */
static void
hp_header_done(struct http_parse *ps)
{
	const char	*v = ps->value != NULL ? ps->value : "";

	if (ps->header == HP_EXPECT && strcasecmp(v, "100-continue") == 0)
		ps->head.expect_continue = 1;
	else if (ps->header < HP_NKEPT && ps->kept[ps->header] == NULL) {
		ps->kept[ps->header] = ps->value;
		ps->value = NULL;
	}
	free(ps->value);
	ps->value = NULL;
	ps->value_len = ps->field_len = 0;
	ps->header = HP_OTHER;
	ps->in_value = 0;
}

static int
hp_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_parse	*ps = p->data;

	if (ps->in_value)
		hp_header_done(ps);
	if (ps->field_len + n <= HP_FIELD_MAX)
		memcpy(ps->field + ps->field_len, at, n);
	ps->field_len += n;
	return 0;
}

static int
hp_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_parse	*ps = p->data;
	int			 i;

	if (!ps->in_value) {
		ps->in_value = 1;
		if (ps->field_len <= HP_FIELD_MAX) {
			ps->field[ps->field_len] = '\0';
			for (i = 0; i < HP_NKEPT; i++)
				if (strcasecmp(ps->field, hp_kept[i]) == 0)
					ps->header = (enum hp_header)i;
		}
	}
	if (ps->header != HP_OTHER && hp_append(&ps->value, &ps->value_len,
	    HP_VALUE_MAX, at, n) == -1)
		return hp_fail(ps, 431, "header value too long");
	return 0;
}

/* The path and query of the request target, without the fragment. */
static int
hp_path(struct http_parse *ps)
{
	struct http_parser_url	u;

	http_parser_url_init(&u);
	if (ps->url == NULL || http_parser_parse_url(ps->url, ps->url_len,
	    0, &u) != 0)
		return -1;
	if (!(u.field_set & (1 << UF_PATH)))
		ps->path = strdup("/");
	else
		ps->path = strndup(ps->url + u.field_data[UF_PATH].off,
		    u.field_data[UF_PATH].len);
	if (u.field_set & (1 << UF_QUERY))
		ps->query = strndup(ps->url + u.field_data[UF_QUERY].off,
		    u.field_data[UF_QUERY].len);
	else
		ps->query = strdup("");
	return ps->path != NULL && ps->query != NULL ? 0 : -1;
}

static int
hp_headers_complete(http_parser *p)
{
	struct http_parse	*ps = p->data;
	struct http_head	*h = &ps->head;

	if (ps->in_value)
		hp_header_done(ps);
	if (p->http_major != 1)
		return hp_fail(ps, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	/* http-parser reads no body after CONNECT: the bytes are a tunnel's */
	if (p->method == HTTP_CONNECT)
		return hp_fail(ps, 405, "CONNECT is not served");
	if (hp_path(ps) == -1)
		return hp_fail(ps, 400, "invalid request target");
	h->method = http_method_str((enum http_method)p->method);
	h->is_post = p->method == HTTP_POST;
	h->is_head = p->method == HTTP_HEAD;
	h->is_get = p->method == HTTP_GET || p->method == HTTP_HEAD;
	h->path = ps->path;
	h->query = ps->query;
	h->authorization = ps->kept[HP_AUTHORIZATION];
	h->cookie = ps->kept[HP_COOKIE];
	h->last_event_id = ps->kept[HP_LAST_EVENT_ID];
	h->origin = ps->kept[HP_ORIGIN];
	h->host = ps->kept[HP_HOST];
	h->content_type = ps->kept[HP_CONTENT_TYPE];
	h->csrf = ps->kept[HP_CSRF];
	h->chunked = (p->flags & F_CHUNKED) != 0;
	/* past INT64_MAX it is over any limit anyway */
	if (p->flags & F_CONTENTLENGTH)
		h->content_length = p->content_length > INT64_MAX ? INT64_MAX :
		    (int64_t)p->content_length;
	ps->phase = HP_AT_HEAD;
	http_parser_pause(p, 1);
	return 0;
}

static int
hp_chunk_header(http_parser *p)
{
	struct http_parse	*ps = p->data;

	if (p->content_length > ps->max_body - ps->body_len)
		return hp_fail(ps, 413, "body over the limit");
	return 0;
}

static int
hp_body(http_parser *p, const char *at, size_t n)
{
	struct http_parse	*ps = p->data;
	size_t			 cap;
	char			*b;

	if (n > ps->max_body - ps->body_len)
		return hp_fail(ps, 413, "body over the limit");
	if (ps->body_len + n > ps->body_cap) {
		/* a declared length is allocated once */
		cap = ps->head.content_length > 0 ?
		    (size_t)ps->head.content_length : ps->body_cap * 2 + n;
		if (cap < ps->body_len + n)
			cap = ps->body_len + n;
		if ((b = realloc(ps->body, cap + 1)) == NULL)
			return hp_fail(ps, 503, "out of memory for the body");
		ps->body = b;
		ps->body_cap = cap;
	}
	memcpy(ps->body + ps->body_len, at, n);
	ps->body_len += n;
	return 0;
}

static int
hp_message_complete(http_parser *p)
{
	struct http_parse	*ps = p->data;

	ps->head.keep_alive = http_should_keep_alive(p) && !p->upgrade;
	ps->phase = HP_AT_DONE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings hp_settings = {
	.on_message_begin = hp_message_begin,
	.on_url = hp_url,
	.on_header_field = hp_header_field,
	.on_header_value = hp_header_value,
	.on_headers_complete = hp_headers_complete,
	.on_chunk_header = hp_chunk_header,
	.on_body = hp_body,
	.on_message_complete = hp_message_complete,
};

struct http_parse *
http_parse_create(size_t max_body)
{
	struct http_parse	*ps = xcalloc(1, sizeof *ps);

	http_parser_init(&ps->p, HTTP_REQUEST);
	ps->p.data = ps;
	ps->max_body = max_body;
	ps->head.content_length = -1;
	return ps;
}

void
http_parse_free(struct http_parse *ps)
{
	if (ps == NULL)
		return;
	hp_request_clear(ps);
	free(ps);
}

/* Why http-parser stopped, as an HTTP status. */
static void
hp_error(struct http_parse *ps, const char *buf, size_t len, size_t used)
{
	enum http_errno	e = HTTP_PARSER_ERRNO(&ps->p);

	ps->phase = HP_FAILED;
	if (ps->status != 0)
		return;		/* a callback said why */
	if (e == HPE_INVALID_METHOD)
		hp_fail(ps, 501, "unknown method");
	else if (e == HPE_HEADER_OVERFLOW)
		hp_fail(ps, 431, "headers too large");
	else if (e == HPE_INVALID_CONTENT_LENGTH && used < len &&
	    isxdigit((unsigned char)buf[used]))
		/* a length (or chunk size) past 2^64: over any limit */
		hp_fail(ps, 413, "body over the limit");
	else
		hp_fail(ps, 400, http_errno_description(e));
}

enum http_parse_event
http_parse_feed(struct http_parse *ps, const char *buf, size_t len,
    size_t *used)
{
	enum hp_phase	was;

	*used = 0;
	if (ps->phase == HP_FAILED)
		return HTTP_PARSE_ERROR;
	if (ps->phase == HP_AT_DONE)
		return HTTP_PARSE_DONE;		/* http_parse_next first */
	if (ps->phase == HP_AT_HEAD) {
		ps->phase = HP_READING;
		http_parser_pause(&ps->p, 0);
	}
	if (len == 0)
		return HTTP_PARSE_MORE;
	*used = http_parser_execute(&ps->p, &hp_settings, buf, len);
	if (HTTP_PARSER_ERRNO(&ps->p) != HPE_PAUSED) {
		/*
		 * An Upgrade request is answered like any other (and the
		 * connection closed after it: keep_alive is 0).
		 */
		if (HTTP_PARSER_ERRNO(&ps->p) != HPE_OK) {
			hp_error(ps, buf, len, *used);
			return HTTP_PARSE_ERROR;
		}
		return HTTP_PARSE_MORE;
	}
	was = ps->phase;
	if (was == HP_AT_HEAD && ps->head.content_length >= 0 &&
	    (uint64_t)ps->head.content_length > ps->max_body) {
		ps->phase = HP_FAILED;
		hp_fail(ps, 413, "body over the limit");
		return HTTP_PARSE_ERROR;
	}
	if (was == HP_AT_DONE && ps->body != NULL)
		ps->body[ps->body_len] = '\0';
	return was == HP_AT_HEAD ? HTTP_PARSE_HEAD : HTTP_PARSE_DONE;
}

const struct http_head *
http_parse_head(const struct http_parse *ps)
{
	return &ps->head;
}

const char *
http_parse_body(const struct http_parse *ps, size_t *len)
{
	*len = ps->body_len;
	return ps->body != NULL ? ps->body : "";
}

int
http_parse_status(const struct http_parse *ps, const char **why)
{
	*why = ps->why != NULL ? ps->why : "bad request";
	return ps->status != 0 ? ps->status : 400;
}

void
http_parse_next(struct http_parse *ps)
{
	if (ps->phase != HP_AT_DONE)
		return;
	hp_request_clear(ps);
	ps->phase = HP_READING;
	http_parser_pause(&ps->p, 0);
}
