/*
 * http-ui.c: the dashboard.  Its files (ui/, compiled in by
 * scripts/embed-assets.sh) under /ui; the login page and what it needs
 * under /login, the one place reached without a session; /logout.
 *
 * The dashboard is a page of static files that speaks JSON-RPC to /rpc
 * and reads /events like any client: nothing here knows about tasks.
 * Every page is sent with a Content-Security-Policy that allows only this
 * origin's scripts and styles, and no framing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store.h"
#include "rpc/rpc.h"
#include "http/http.h"
#include "http/http-parse.h"
#include "http/http-assets.h"

#define UI_HEADERS \
	"Content-Security-Policy: default-src 'self'; img-src 'self' data:; " \
	"style-src 'self'; script-src 'self'; connect-src 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n" \
	"X-Content-Type-Options: nosniff\r\n" \
	"Referrer-Policy: same-origin\r\n" \
	"X-Frame-Options: DENY\r\n" \
	"Cache-Control: no-cache\r\n"

/* Reached without a session: the login page and what it loads. */
static const char *const ui_public[] = {
	"login.html", "login.js", "app.css", "favicon.svg",
};

int
http_ui_path(const char *path)
{
	return strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0 ||
	    strncmp(path, "/login/", 7) == 0;
}

static const struct http_asset *
ui_asset(const char *name)
{
	size_t	i;

	for (i = 0; i < http_nassets; i++)
		if (strcmp(http_assets[i].name, name) == 0)
			return &http_assets[i];
	return NULL;
}

static void
ui_send(struct http_conn *c, const struct http_asset *a)
{
	http_respond(c, 200, a->type, UI_HEADERS, (const char *)a->data,
	    a->len);
}

static void
ui_not_found(struct http_conn *c)
{
	static const char	body[] = "{\"status\":404,\"error\":\"Not Found\","
	    "\"reason\":\"no such file of the dashboard\"}";

	http_respond(c, 404, "application/json", NULL, body, strlen(body));
}

static void
ui_redirect(struct http_conn *c, const char *to, const char *cookie)
{
	char	*extra;

	xasprintf(&extra, "Location: %s\r\nCache-Control: no-store\r\n%s",
	    to, cookie != NULL ? cookie : "");
	http_respond(c, 303, "text/plain; charset=utf-8", extra, "", 0);
	free(extra);
}

/* What the page needs to know of its session: GET /ui/session. */
static void
ui_session(struct http_conn *c)
{
	const struct http_head	*h = http_conn_head_of(c);
	struct http_session	*s = http_session_find(h->cookie);
	json_t			*j;
	char			*body;

	j = json_pack("{s:s,s:b,s:s,s:b}", "csrf", s != NULL ?
	    http_session_csrf(s) : "", "read_only", cfg.ui_read_only &&
	    !http_conn_trusted(c), "version", FUTURED_VERSION, "session",
	    s != NULL);
	body = fp_json_text(xjson(j));
	json_decref(j);
	if (body == NULL)
		fatalx("%s: out of memory", __func__);
	http_respond(c, 200, "application/json", "Cache-Control: no-store\r\n",
	    body, strlen(body));
	free(body);
}

void
http_ui_serve(struct http_conn *c)
{
	const char		*path = http_conn_head_of(c)->path;
	const struct http_asset	*a;
	size_t			 i;

	if (strncmp(path, "/login/", 7) == 0) {
		for (i = 0; i < sizeof ui_public / sizeof ui_public[0]; i++)
			if (strcmp(path + 7, ui_public[i]) == 0 &&
			    (a = ui_asset(ui_public[i])) != NULL) {
				ui_send(c, a);
				return;
			}
		ui_not_found(c);
		return;
	}
	if (strcmp(path, "/ui") == 0 || strcmp(path, "/ui/") == 0)
		path = "/ui/index.html";
	if (strcmp(path, "/ui/session") == 0)
		ui_session(c);
	else if ((a = ui_asset(path + 4)) != NULL)
		ui_send(c, a);
	else
		ui_not_found(c);
}

/* The value of name in a form body or query (undecoded); *len its length. */
static const char *
ui_form_value(const char *form, size_t form_len, const char *name,
    size_t *len)
{
	const char	*p = form, *end = form + form_len, *amp;
	size_t		 n = strlen(name);

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - p) > n && strncmp(p, name, n) == 0 &&
		    p[n] == '=') {
			*len = (size_t)(amp - p - (ptrdiff_t)n - 1);
			return p + n + 1;
		}
		p = amp + 1;
	}
	return NULL;
}

/* A form POSTed from this origin (or with no Origin: not a browser's). */
static int
ui_same_origin(const struct http_head *h)
{
	char	*want;
	int	 ok;

	if (h->origin == NULL)
		return 1;
	if (h->host == NULL)
		return 0;
	xasprintf(&want, "http://%s", h->host);
	ok = strcmp(want, h->origin) == 0;
	free(want);
	return ok;
}

/* Form values are %-encoded: the token is hex, a code too; '%' refused. */
static void
ui_login_post(struct http_conn *c, const struct http_head *h)
{
	const char		*body, *tok;
	struct http_session	*s;
	size_t			 len, tlen;
	char			*cookie;

	body = http_conn_body(c, &len);
	if ((tok = ui_form_value(body, len, "token", &tlen)) == NULL ||
	    memchr(tok, '%', tlen) != NULL ||
	    !http_server_token_is(tok, tlen)) {
		log_info("dashboard: a login with a wrong token");
		ui_redirect(c, "/login?error=token", NULL);
		return;
	}
	s = http_session_new();
	cookie = http_session_cookie(s);
	ui_redirect(c, "/ui/", cookie);
	free(cookie);
}

static void
ui_login_code(struct http_conn *c, const struct http_head *h)
{
	const char		*code;
	struct http_session	*s;
	size_t			 len;
	char			*cookie;

	code = ui_form_value(h->query, strlen(h->query), "code", &len);
	if (code == NULL || (s = http_session_login(code, len)) == NULL) {
		ui_redirect(c, "/login?error=code", NULL);
		return;
	}
	cookie = http_session_cookie(s);
	ui_redirect(c, "/ui/", cookie);
	free(cookie);
}

void
http_login_serve(struct http_conn *c)
{
	const struct http_head	*h = http_conn_head_of(c);
	static const char	 forbidden[] = "{\"status\":403,\"error\":"
	    "\"Forbidden\",\"reason\":\"a form of another origin\"}";
	static const char	 use_post[] = "{\"status\":405,\"error\":"
	    "\"Method Not Allowed\",\"reason\":\"use POST\"}";
	size_t			 len;

	if (strcmp(h->path, "/login") == 0 && h->is_get) {
		if (ui_form_value(h->query, strlen(h->query), "code", &len) !=
		    NULL)
			ui_login_code(c, h);
		else
			ui_send(c, ui_asset("login.html"));
	} else if (strncmp(h->path, "/login/", 7) == 0 && h->is_get)
		http_ui_serve(c);
	else if (!h->is_post && strncmp(h->path, "/ui", 3) != 0)
		http_respond(c, 405, "application/json", "Allow: POST\r\n",
		    use_post, strlen(use_post));
	else if (strncmp(h->path, "/ui", 3) == 0)
		ui_redirect(c, "/login", NULL);	/* no session */
	else if (!ui_same_origin(h))
		http_respond(c, 403, "application/json", NULL, forbidden,
		    strlen(forbidden));
	else if (strcmp(h->path, "/login") == 0)
		ui_login_post(c, h);
	else {
		http_session_end(http_session_find(h->cookie));
		ui_redirect(c, "/login", http_session_cookie_clear());
	}
}

/* ui.login: a one-time code, and the links that use it. */
json_t *
http_ui_login_link(void)
{
	json_t		*urls = http_server_urls(), *u;
	const char	*code;
	char		*path, *url, at[FP_TIME_LEN];
	double		 ttl;
	size_t		 i;

	code = http_session_code(&ttl);
	xasprintf(&path, "/login?code=%s", code);
	json_array_foreach(urls, i, u) {
		xasprintf(&url, "%s%s", json_string_value(u), path);
		json_array_set_new(urls, i, json_string(url));
		free(url);
	}
	u = xjson(json_pack("{s:s,s:s,s:o,s:s}", "code", code, "path", path,
	    "urls", urls, "expires_at", fp_time_format(loop_now() + ttl, at)));
	free(path);
	return u;
}
