/*
 * ctl-conn.c: JSON-RPC calls to futured over HTTP, with libcurl.
 *
 * One easy handle serves every call of an invocation, so `run` and `wait`
 * poll over one persistent connection.  Every way a call can fail short of
 * an answer ends in exactly one line on stderr and CTL_EXIT_CONN.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define CTL_CONNECT_TIMEOUT	10L
#define CTL_TOKEN_MAX		4096

struct ctl_conn {
	CURL			*curl;
	struct curl_slist	*headers;
	char			*where;		/* socket path or URL */
	char			*url;		/* what we POST to */
	int			 has_token;
	json_int_t		 next_id;
	char			*buf;		/* the answer's body */
	size_t			 len;
	size_t			 size;
	char			 errbuf[CURL_ERROR_SIZE];
};

static int
ctl_oom(void)
{
	fprintf(stderr, "futurectl: out of memory\n");
	return CTL_EXIT_CONN;
}

/* The daemon's default state dir (see DESIGN.md); new string or NULL. */
static char *
ctl_state_dir(void)
{
	const char	*s;
	struct passwd	*pw;
	char		*dir = NULL;

	/* systemd separates several StateDirectory= entries with ':'. */
	if ((s = getenv("STATE_DIRECTORY")) != NULL && *s != '\0')
		return strndup(s, strcspn(s, ":"));
	if (geteuid() == 0)
		return strdup("/var/lib/futured");
	/* The XDG spec says to ignore a relative XDG_STATE_HOME. */
	if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/') {
		if (asprintf(&dir, "%s/futured", s) == -1)
			return NULL;
		return dir;
	}
	if ((s = getenv("HOME")) == NULL || *s == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		s = pw->pw_dir;
	}
	if (asprintf(&dir, "%s/.local/state/futured", s) == -1)
		return NULL;
	return dir;
}

static char *
ctl_state_file(const char *name)
{
	char	*dir, *path = NULL;

	if ((dir = ctl_state_dir()) == NULL)
		return NULL;
	if (asprintf(&path, "%s/%s", dir, name) == -1)
		path = NULL;
	free(dir);
	return path;
}

/* --socket, else $FUTURED_SOCKET, else the state dir's futured.sock. */
static char *
ctl_socket_path(struct ctl *ctx)
{
	const char	*s;

	if (ctx->socket_path != NULL)
		return strdup(ctx->socket_path);
	if ((s = getenv("FUTURED_SOCKET")) != NULL && *s != '\0')
		return strdup(s);
	return ctl_state_file("futured.sock");
}

/* POST to URL as given when it names a path, else to URL/rpc. */
static char *
ctl_rpc_url(const char *url)
{
	const char	*host = strstr(url, "://"), *path;
	char		*out = NULL;
	size_t		 len = strlen(url);

	host = host != NULL ? host + 3 : url;
	path = strchr(host, '/');
	if (path != NULL && path[1] != '\0')
		return strdup(url);
	if (path != NULL)
		len--;
	if (asprintf(&out, "%.*s/rpc", (int)len, url) == -1)
		return NULL;
	return out;
}

/* Reads the token, strips trailing white space; *header is new. */
static int
ctl_token_read(const char *file, char **header)
{
	char	 buf[CTL_TOKEN_MAX];
	FILE	*f;
	size_t	 n, i;

	if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "futurectl: cannot read token file %s: %s\n",
		    file, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (i = 0; i < n; i++)
		if (iscntrl((unsigned char)buf[i]))
			break;
	if (n == 0 || i < n) {
		fprintf(stderr, "futurectl: token file %s holds no usable "
		    "token\n", file);
		return CTL_EXIT_USAGE;
	}
	if (asprintf(header, "Authorization: Bearer %s", buf) == -1)
		return ctl_oom();
	return 0;
}

/*
 * The Authorization header for --url: from --token-file, else from the
 * default state dir's token when we can read it (a local user of a local
 * daemon), else none and the daemon will answer 401.
 */
static int
ctl_token_header(struct ctl *ctx, char **header)
{
	char	*file;
	int	 rc = 0;

	*header = NULL;
	if (ctx->token_file != NULL)
		return ctl_token_read(ctx->token_file, header);
	if ((file = ctl_state_file("token")) == NULL)
		return 0;
	if (access(file, R_OK) == 0)
		rc = ctl_token_read(file, header);
	free(file);
	return rc;
}

static size_t
ctl_conn_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct ctl_conn	*c = arg;
	size_t		 len = size * n, want;
	char		*p;

	if (c->len + len > c->size) {
		want = c->size != 0 ? c->size : 16384;
		while (want < c->len + len)
			want *= 2;
		if ((p = realloc(c->buf, want)) == NULL)
			return 0;	/* curl fails with CURLE_WRITE_ERROR */
		c->buf = p;
		c->size = want;
	}
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return len;
}

static struct curl_slist *
ctl_conn_headers(const char *auth)
{
	/* "Expect:": a body over 1 KiB would otherwise wait for a 100. */
	const char		*h[] = { "Content-Type: application/json",
				    "Expect:", auth };
	struct curl_slist	*l = NULL, *n;
	size_t			 i;

	for (i = 0; i < sizeof h / sizeof h[0] && h[i] != NULL; i++) {
		if ((n = curl_slist_append(l, h[i])) == NULL) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

/* Where to connect: fills c->where, c->url and the headers. */
static int
ctl_conn_target(struct ctl *ctx, struct ctl_conn *c)
{
	char	*auth = NULL;
	int	 rc;

	if (ctx->url != NULL) {
		if ((rc = ctl_token_header(ctx, &auth)) != 0)
			return rc;
		c->where = strdup(ctx->url);
		c->url = ctl_rpc_url(ctx->url);
	} else {
		if ((c->where = ctl_socket_path(ctx)) == NULL) {
			fprintf(stderr, "futurectl: no socket: give "
			    "--socket or set FUTURED_SOCKET\n");
			return CTL_EXIT_USAGE;
		}
		c->url = strdup("http://localhost/rpc");
	}
	c->has_token = auth != NULL;
	c->headers = ctl_conn_headers(auth);
	free(auth);
	if (c->where == NULL || c->url == NULL || c->headers == NULL)
		return ctl_oom();
	return 0;
}

static void
ctl_conn_options(struct ctl *ctx, struct ctl_conn *c)
{
	CURL	*h = c->curl;

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	if (ctx->url == NULL)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->where);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
	    CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
	/* futurectl talks to futured directly, whatever http_proxy says. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "futurectl/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ctl_conn_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CTL_CONNECT_TIMEOUT);
	/* Above the longest wait we ask for, so a hang cannot be forever. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT,
	    (long)CTL_POLL_MAX + CTL_HTTP_SLACK);
}

/* Makes ctx->conn on the first call; on failure it is freed by main. */
static int
ctl_conn_get(struct ctl *ctx, struct ctl_conn **out)
{
	struct ctl_conn	*c;
	int		 rc;

	if (ctx->conn == NULL) {
		if ((c = calloc(1, sizeof *c)) == NULL)
			return ctl_oom();
		ctx->conn = c;
		c->next_id = 1;
		if ((rc = ctl_conn_target(ctx, c)) != 0)
			return rc;
		if ((c->curl = curl_easy_init()) == NULL)
			return ctl_oom();
		ctl_conn_options(ctx, c);
	}
	if (ctx->conn->curl == NULL)
		return CTL_EXIT_CONN;	/* setting up failed before */
	*out = ctx->conn;
	return 0;
}

void
ctl_conn_free(struct ctl_conn *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->where);
	free(c->url);
	free(c->buf);
	free(c);
}

static int
ctl_curl_error(struct ctl_conn *c, CURLcode cc)
{
	const char	*why = c->errbuf[0] != '\0' ? c->errbuf :
			    curl_easy_strerror(cc);
	long		 err = 0;

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &err);
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
		fprintf(stderr, "futurectl: cannot reach futured at %s: %s%s\n",
		    c->where, err != 0 ? strerror((int)err) : why,
		    err == ENOENT || err == ECONNREFUSED || err == 0 ?
		    " (is futured running?)" : "");
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		fprintf(stderr, "futurectl: futured at %s did not answer in "
		    "time: %s\n", c->where, why);
	else
		fprintf(stderr, "futurectl: talking to futured at %s: %s\n",
		    c->where, why);
	return CTL_EXIT_CONN;
}

static int
ctl_status_error(struct ctl_conn *c, long status)
{
	if (status == 401 && c->has_token)
		fprintf(stderr, "futurectl: futured at %s refused the token "
		    "(HTTP 401): check --token-file\n", c->where);
	else if (status == 401)
		fprintf(stderr, "futurectl: futured at %s wants a token "
		    "(HTTP 401): give --token-file\n", c->where);
	else
		fprintf(stderr, "futurectl: futured at %s answered HTTP "
		    "%ld%s\n", c->where, status,
		    status == 503 ? " (busy; try again)" :
		    status == 413 ? " (request too large)" : "");
	return CTL_EXIT_CONN;
}

/* POSTs req; *resp is the parsed answer, or NULL for an empty body. */
static int
ctl_post(struct ctl_conn *c, json_t *req, json_t **resp)
{
	json_error_t	 jerr;
	CURLcode	 cc;
	char		*body;
	long		 status = 0;

	*resp = NULL;
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		return ctl_oom();
	c->len = 0;
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	cc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	free(body);
	if (cc != CURLE_OK)
		return ctl_curl_error(c, cc);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return ctl_status_error(c, status);
	if (c->len == 0)
		return 0;
	/* A task's output may hold NUL bytes (\u0000 in its strings). */
	if ((*resp = json_loadb(c->buf, c->len, JSON_ALLOW_NUL, &jerr)) == NULL) {
		fprintf(stderr, "futurectl: futured at %s answered with bad "
		    "JSON: %s\n", c->where, jerr.text);
		return CTL_EXIT_CONN;
	}
	return 0;
}

int
ctl_call(struct ctl *ctx, const char *method, json_t *params,
    struct ctl_reply *r)
{
	struct ctl_conn	*c;
	json_t		*req;
	int		 rc;

	memset(r, 0, sizeof *r);
	if ((rc = ctl_conn_get(ctx, &c)) != 0) {
		json_decref(params);
		return rc;
	}
	if ((req = fp_request_create(method, params, c->next_id++)) == NULL)
		return ctl_oom();
	rc = ctl_post(c, req, &r->resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	switch (fp_response_parse(r->resp, &r->result, &r->code, &r->message,
	    &r->data)) {
	case 0:
		return 0;
	case 1:
		return CTL_REPLY_ERROR;
	}
	fprintf(stderr, "futurectl: futured at %s did not answer with a "
	    "JSON-RPC response\n", c->where);
	return CTL_EXIT_CONN;
}

int
ctl_call_ok(struct ctl *ctx, const char *method, json_t *params,
    struct ctl_reply *r)
{
	int	rc;

	if ((rc = ctl_call(ctx, method, params, r)) == CTL_REPLY_ERROR)
		return ctl_reply_error(ctx, r);
	return rc;
}

int
ctl_notify(struct ctl *ctx, const char *method, json_t *params)
{
	struct ctl_reply	 r;
	struct ctl_conn		*c;
	json_t			*req;
	int			 rc;

	if ((rc = ctl_conn_get(ctx, &c)) != 0) {
		json_decref(params);
		return rc;
	}
	if ((req = fp_request_create(method, params, -1)) == NULL)
		return ctl_oom();
	memset(&r, 0, sizeof r);
	rc = ctl_post(c, req, &r.resp);
	json_decref(req);
	/* Only a request the daemon could not even read gets an answer. */
	if (rc == 0 && r.resp != NULL && fp_response_parse(r.resp, &r.result,
	    &r.code, &r.message, &r.data) == 1)
		rc = ctl_reply_error(ctx, &r);
	ctl_reply_clear(&r);
	return rc;
}

void
ctl_reply_clear(struct ctl_reply *r)
{
	json_decref(r->resp);
	memset(r, 0, sizeof *r);
}

/* The exit status of an error answer. */
static int
ctl_error_status(int code)
{
	switch (code) {
	case FP_ERR_TASK_FAILED:
		return CTL_EXIT_FAILED;
	case FP_ERR_TASK_CANCELLED:
		return CTL_EXIT_CANCELLED;
	case FP_ERR_TASK_NOT_DONE:
		return CTL_EXIT_TIMEOUT;
	}
	return CTL_EXIT_REFUSED;
}

/* "NAME[: message][: data]", data compact. */
static void
ctl_reply_generic(const struct ctl_reply *r)
{
	const char	*name = fp_error_message(r->code);
	const char	*msg = r->message;
	char		*data = NULL;

	if (strcmp(name, "ServerError") == 0 && msg != NULL)
		name = msg;
	if (msg != NULL && strcmp(msg, name) == 0)
		msg = NULL;
	if (r->data != NULL && !(json_is_object(r->data) &&
	    json_object_size(r->data) == 0))
		data = json_dumps(r->data, JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(stderr, "futurectl: %s%s%s%s%s\n", name,
	    msg != NULL ? ": " : "", msg != NULL ? msg : "",
	    data != NULL ? ": " : "", data != NULL ? data : "");
	free(data);
}

int
ctl_reply_error(struct ctl *ctx, const struct ctl_reply *r)
{
	json_int_t	 id = json_integer_value(json_object_get(r->data,
			    "id"));
	const char	*state = json_string_value(json_object_get(r->data,
			    "state"));

	if (id > 0 && r->code == FP_ERR_TASK_FAILED) {
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT
		    " failed: ", id);
		ctl_print_exception(stderr, json_object_get(r->data,
		    "exception"));
	} else if (id > 0 && r->code == FP_ERR_TASK_CANCELLED)
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT
		    " was cancelled\n", id);
	else if (id > 0 && r->code == FP_ERR_TASK_NOT_DONE)
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT
		    " is not done (%s)\n", id, state != NULL ? state :
		    "unfinished");
	else
		ctl_reply_generic(r);
	return ctl_error_status(r->code);
}
