/*
 * http-session.c: the dashboard's sessions and one-time login codes.
 *
 * A browser cannot send the bearer token, so a session cookie stands for
 * it: `futurectl ui` (ui.login, asked over the Unix socket or with the
 * token) gets a code that is good once and for HTTP_CODE_TTL seconds;
 * GET /login?code=CODE exchanges it for a session, as a POST of the token
 * from the login form does.  A session has its own CSRF token, which the
 * dashboard sends in X-Futured-CSRF with every call: another site can make
 * a browser send the cookie (SameSite=Strict already stops that in current
 * browsers) but cannot read or send that header.
 *
 * Sessions live in memory: a restart logs every browser out.  At most
 * HTTP_SESSIONS_MAX; the least recently used goes first.
 */
#include <sys/queue.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "rpc/rpc.h"
#include "http/http.h"

#define HTTP_SECRET_BYTES	24
#define HTTP_SECRET_LEN		(2 * HTTP_SECRET_BYTES)
#define HTTP_CODE_TTL		120.0
#define HTTP_CODES_MAX		16
#define HTTP_SESSIONS_MAX	64
#define HTTP_SESSION_IDLE	(12 * 3600.0)
#define HTTP_SESSION_COOKIE	"futured_session"

struct http_session {
	char			 id[HTTP_SECRET_LEN + 1];
	char			 csrf[HTTP_SECRET_LEN + 1];
	double			 used;		/* monotonic */
	TAILQ_ENTRY(http_session) entry;	/* most recent first */
};

struct http_code {
	char	 code[HTTP_SECRET_LEN + 1];
	double	 expires;			/* monotonic; 0: free */
};

static TAILQ_HEAD(http_sessions, http_session) http_sessions =
    TAILQ_HEAD_INITIALIZER(http_sessions);
static size_t			 http_nsessions;
static struct http_code		 http_codes[HTTP_CODES_MAX];

static void
http_secret(char out[HTTP_SECRET_LEN + 1])
{
	unsigned char	raw[HTTP_SECRET_BYTES];
	size_t		i;

	if (getrandom(raw, sizeof raw, 0) != sizeof raw)
		fatal("getrandom");
	for (i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* ---- login codes ---- */

const char *
http_session_code(double *expires_in)
{
	struct http_code	*slot = &http_codes[0];
	double			 now = loop_mono();
	int			 i;

	/* a free or expired slot, else the one nearest its end */
	for (i = 0; i < HTTP_CODES_MAX; i++) {
		if (http_codes[i].expires <= now) {
			slot = &http_codes[i];
			break;
		}
		if (http_codes[i].expires < slot->expires)
			slot = &http_codes[i];
	}
	http_secret(slot->code);
	slot->expires = now + HTTP_CODE_TTL;
	*expires_in = HTTP_CODE_TTL;
	return slot->code;
}

/* Is code a live login code? It is used up. */
static int
http_session_code_take(const char *code, size_t len)
{
	double	now = loop_mono();
	int	i, found = 0;

	for (i = 0; i < HTTP_CODES_MAX; i++)
		if (http_codes[i].expires > now &&
		    secret_equal(http_codes[i].code, code, len)) {
			http_codes[i].expires = 0;
			found = 1;
		}
	return found;
}

/* ---- sessions ---- */

static void
http_session_free(struct http_session *s)
{
	TAILQ_REMOVE(&http_sessions, s, entry);
	http_nsessions--;
	free(s);
}

struct http_session *
http_session_new(void)
{
	struct http_session	*s;

	if (http_nsessions == HTTP_SESSIONS_MAX)
		http_session_free(TAILQ_LAST(&http_sessions, http_sessions));
	s = xcalloc(1, sizeof *s);
	http_secret(s->id);
	http_secret(s->csrf);
	s->used = loop_mono();
	TAILQ_INSERT_HEAD(&http_sessions, s, entry);
	http_nsessions++;
	return s;
}

/* A session for a login code (used up), or NULL. */
struct http_session *
http_session_login(const char *code, size_t len)
{
	if (!http_session_code_take(code, len))
		return NULL;
	return http_session_new();
}

/* The value of cookie name in a Cookie header; *len its length. */
static const char *
http_cookie_value(const char *header, const char *name, size_t *len)
{
	const char	*p = header;
	size_t		 n = strlen(name);

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t;");
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			p += n + 1;
			*len = strcspn(p, "; \t");
			return p;
		}
		p = strchr(p, ';');
	}
	return NULL;
}

/* The live session a Cookie header names, or NULL. */
struct http_session *
http_session_find(const char *cookie)
{
	struct http_session	*s;
	const char		*v;
	size_t			 len;
	double			 now = loop_mono();

	if (cookie == NULL ||
	    (v = http_cookie_value(cookie, HTTP_SESSION_COOKIE, &len)) == NULL)
		return NULL;
	TAILQ_FOREACH(s, &http_sessions, entry) {
		if (!secret_equal(s->id, v, len))
			continue;
		if (now - s->used > HTTP_SESSION_IDLE) {
			http_session_free(s);
			return NULL;
		}
		s->used = now;
		TAILQ_REMOVE(&http_sessions, s, entry);
		TAILQ_INSERT_HEAD(&http_sessions, s, entry);
		return s;
	}
	return NULL;
}

int
http_session_csrf_ok(const struct http_session *s, const char *header)
{
	return header != NULL &&
	    secret_equal(s->csrf, header, strlen(header));
}

const char *
http_session_csrf(const struct http_session *s)
{
	return s->csrf;
}

/* The Set-Cookie header line that gives s to the browser. */
char *
http_session_cookie(const struct http_session *s)
{
	char	*h;

	xasprintf(&h, "Set-Cookie: " HTTP_SESSION_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d\r\n", s->id,
	    (int)HTTP_SESSION_IDLE);
	return h;
}

/* The header line that makes the browser forget its session. */
const char *
http_session_cookie_clear(void)
{
	return "Set-Cookie: " HTTP_SESSION_COOKIE "=; Path=/; HttpOnly; "
	    "SameSite=Strict; Max-Age=0\r\n";
}

void
http_session_end(struct http_session *s)
{
	if (s != NULL)
		http_session_free(s);
}

void
http_session_free_all(void)
{
	struct http_session	*s;

	while ((s = TAILQ_FIRST(&http_sessions)) != NULL)
		http_session_free(s);
	memset(http_codes, 0, sizeof http_codes);
}
