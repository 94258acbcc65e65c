/*
 * ctl-conn.c: JSON-RPC calls to futured over HTTP (ctl-http.c).
 *
 * One connection serves every call of an invocation, so `run` and `wait`
 * poll over one persistent connection.  Every way a call can fail short of
 * an answer ends in exactly one line on stderr and CTL_EXIT_CONN.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ctl.h"

#define CTL_CONNECT_TIMEOUT	10.0
#define CTL_TOKEN_MAX		4096

struct ctl_conn {
	struct ctl_http		*http;
	char			*where;		/* socket path or URL */
	const char		*token_from;	/* NULL: no token */
	int			 unix_socket;	/* else TCP */
	json_int_t		 next_id;
};

static int
ctl_oom(void)
{
	fprintf(stderr, "futurectl: out of memory\n");
	return CTL_EXIT_CONN;
}

static char *
ctl_state_file(const char *name)
{
	char	*dir, *path = NULL;

	if ((dir = fp_state_dir_default()) == NULL)
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

/*
 * --url, else $FUTURED_URL unless --socket or $FUTURED_SOCKET names a
 * socket (a task of a futured that also listens on TCP has both set);
 * NULL for a socket.
 */
const char *
ctl_conn_url(const struct ctl *ctx)
{
	const char	*s;

	if (ctx->url != NULL || ctx->socket_path != NULL)
		return ctx->url;
	if ((s = getenv("FUTURED_SOCKET")) != NULL && *s != '\0')
		return NULL;
	if ((s = getenv("FUTURED_URL")) != NULL && *s != '\0')
		return s;
	return NULL;
}

/*
 * The header for token (from, e.g. "token file F", names it), trailing
 * white space stripped; *header is new.  A control character would end
 * the header line early, so it makes the token unusable.
 */
static int
ctl_token_make(const char *token, const char *from, char **header)
{
	size_t	n = strlen(token), i;

	while (n > 0 && isspace((unsigned char)token[n - 1]))
		n--;
	for (i = 0; i < n; i++)
		if (iscntrl((unsigned char)token[i]))
			break;
	if (n == 0 || i < n || n >= CTL_TOKEN_MAX) {
		fprintf(stderr, "futurectl: %s holds no usable token\n", from);
		return CTL_EXIT_USAGE;
	}
	if (asprintf(header, "Authorization: Bearer %.*s", (int)n, token) == -1)
		return ctl_oom();
	return 0;
}

/* Reads the token of file; *header is new. */
static int
ctl_token_read(const char *file, char **header)
{
	char	 buf[CTL_TOKEN_MAX], *from;
	FILE	*f;
	size_t	 n;
	int	 rc;

	if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "futurectl: cannot read token file %s: %s\n",
		    file, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) < n)
		buf[0] = '\0';		/* a NUL byte: no usable token */
	if (asprintf(&from, "token file %s", file) == -1)
		return ctl_oom();
	rc = ctl_token_make(buf, from, header);
	free(from);
	return rc;
}

/*
 * The Authorization header for url: from --token-file, else, for
 * $FUTURED_URL only, from $FUTURED_TOKEN (the credential futured gives its
 * tasks with it, not to be sent to a URL someone else named), else from
 * the default state dir's token when we can read it (a local user of a
 * local daemon), else none and the daemon will answer 401.
 */
static int
ctl_token_header(struct ctl *ctx, struct ctl_conn *c, char **header)
{
	const char	*env = getenv("FUTURED_TOKEN");
	char		*file;
	int		 rc = 0;

	*header = NULL;
	if (ctx->token_file != NULL) {
		c->token_from = "--token-file";
		return ctl_token_read(ctx->token_file, header);
	}
	if (ctx->url == NULL && env != NULL && *env != '\0') {
		c->token_from = "$FUTURED_TOKEN";
		return ctl_token_make(env, "$FUTURED_TOKEN", header);
	}
	if ((file = ctl_state_file("token")) == NULL)
		return 0;
	if (access(file, R_OK) == 0) {
		c->token_from = "--token-file";
		rc = ctl_token_read(file, header);
	}
	free(file);
	return rc;
}

/* Where to connect, and how: makes c->where and c->http. */
static int
ctl_conn_target(struct ctl *ctx, struct ctl_conn *c)
{
	const char	*url = ctl_conn_url(ctx);
	char		*auth = NULL, *why;
	int		 rc;

	if (url != NULL) {
		if ((rc = ctl_token_header(ctx, c, &auth)) != 0)
			return rc;
		c->where = strdup(url);
	} else if ((c->where = ctl_socket_path(ctx)) == NULL) {
		fprintf(stderr, "futurectl: no socket: give --socket or set "
		    "FUTURED_SOCKET\n");
		return CTL_EXIT_USAGE;
	}
	if (c->where == NULL) {
		free(auth);
		return ctl_oom();
	}
	c->unix_socket = url == NULL;
	c->http = ctl_http_new(url == NULL ? c->where : NULL, url, auth, &why);
	free(auth);
	if (c->http == NULL) {
		fprintf(stderr, "futurectl: cannot use %s%s: %s\n", url != NULL &&
		    ctx->url == NULL ? "$FUTURED_URL " : "", c->where, why);
		return CTL_EXIT_USAGE;
	}
	return 0;
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
	}
	if (ctx->conn->http == NULL)
		return CTL_EXIT_CONN;	/* setting up failed before */
	*out = ctx->conn;
	return 0;
}

void
ctl_conn_free(struct ctl_conn *c)
{
	if (c == NULL)
		return;
	ctl_http_free(c->http);
	free(c->where);
	free(c);
}

/* Why a connection could not be made, in words. */
static const char *
ctl_connect_why(struct ctl_conn *c, int err, const char *text)
{
	struct stat	st;

	if (!c->unix_socket)
		return err == ECONNREFUSED ? "connection refused (is futured "
		    "running? does it listen on TCP there?)" : text;
	if (stat(c->where, &st) == 0 && !S_ISSOCK(st.st_mode))
		return S_ISDIR(st.st_mode) ? "a directory, not a socket (give "
		    "futured.sock in its state dir)" : "not a socket (give "
		    "futured.sock in futured's state dir)";
	if (err == ENOENT)
		return "no such socket (is futured running? with this state "
		    "dir?)";
	if (err == ECONNREFUSED)
		return "nobody listens on it (is futured running?)";
	if (err == EACCES)
		return "permission denied (the socket is for futured's user "
		    "and group)";
	return text;
}

static int
ctl_http_failed(struct ctl_conn *c, const struct ctl_http_error *e)
{
	int	err = e->os_errno;

	if (e->status == CTL_HTTP_INTERRUPTED)
		return CTL_EXIT_INTERRUPTED;	/* the caller says what next */
	if (e->status == CTL_HTTP_CONNECT)
		fprintf(stderr, "futurectl: cannot reach futured at %s: %s\n",
		    c->where, ctl_connect_why(c, err, e->text));
	else if (e->status == CTL_HTTP_TIMEOUT)
		fprintf(stderr, "futurectl: futured at %s did not answer in "
		    "time: %s\n", c->where, e->text);
	else
		fprintf(stderr, "futurectl: talking to futured at %s: %s\n",
		    c->where, e->text);
	return CTL_EXIT_CONN;
}

static int
ctl_status_error(struct ctl_conn *c, long status)
{
	if (status == 401 && c->token_from != NULL)
		fprintf(stderr, "futurectl: futured at %s refused the token "
		    "(HTTP 401): check %s\n", c->where, c->token_from);
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
	struct ctl_http_answer	 a;
	struct ctl_http_error	 e;
	json_error_t		 jerr;
	char			*body;
	int			 rc;

	*resp = NULL;
	if ((body = fp_json_text(req)) == NULL)
		return ctl_oom();
	/* Above the longest wait we ask for, so a hang cannot be forever. */
	/* A second copy of a submit would be a second task. */
	rc = ctl_http_post(c->http, body, strlen(body), strcmp(
	    json_string_value(json_object_get(req, "method")), FP_TASK_SUBMIT)
	    != 0, CTL_CONNECT_TIMEOUT, CTL_POLL_MAX + CTL_HTTP_SLACK, &a, &e);
	free(body);
	if (rc == -1)
		return ctl_http_failed(c, &e);
	if (a.status != 200)
		return ctl_status_error(c, a.status);
	if (a.len == 0)
		return 0;
	/* A task's output may hold NUL bytes (\u0000 in its strings). */
	if ((*resp = json_loadb(a.body, a.len, JSON_ALLOW_NUL, &jerr)) == NULL) {
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

/* "NAME[: message][: data]", data compact: an error we have no words for. */
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
		data = fp_json_text(r->data);
	fprintf(stderr, "futurectl: %s%s%s%s%s\n", name,
	    msg != NULL ? ": " : "", msg != NULL ? msg : "",
	    data != NULL ? ": " : "", data != NULL ? data : "");
	free(data);
}

static const char *
ctl_data_str(const struct ctl_reply *r, const char *key)
{
	const char	*s = json_string_value(json_object_get(r->data, key));

	return s != NULL ? s : "?";
}

static json_int_t
ctl_data_int(const struct ctl_reply *r, const char *key)
{
	return json_integer_value(json_object_get(r->data, key));
}

/* The error is about task.submit's parent. */
static int
ctl_reply_is_parent(const struct ctl_reply *r)
{
	return strcmp(ctl_data_str(r, "field"), "parent") == 0;
}

/*
 * A parent refused may be one nobody named: the default, inside a task,
 * is $FUTURED_TASK_ID (ctl-submit.c), which may be another futured's.
 */
static void
ctl_reply_parent_hint(const struct ctl_reply *r)
{
	const char	*env = getenv("FUTURED_TASK_ID");

	if (ctl_reply_is_parent(r) && env != NULL && *env != '\0')
		fprintf(stderr, "futurectl: (without --parent the parent is "
		    "$FUTURED_TASK_ID, %s; --no-parent submits a task without "
		    "one)\n", env);
}

/* futured's errors in words, with what their data says; 0 when said. */
static int
ctl_reply_words(const struct ctl_reply *r)
{
	switch (r->code) {
	case FP_ERR_NO_SUCH_TASK:
		fprintf(stderr, "futurectl: NoSuchTask: no task %" JSON_INTEGER_FORMAT
		    "%s\n", ctl_data_int(r, "id"), ctl_reply_is_parent(r) ?
		    " to be the parent (--parent)" : json_object_get(r->data,
		    "field") != NULL ? " to start after (--after)" :
		    " (never submitted, or deleted)");
		ctl_reply_parent_hint(r);
		return 0;
	case FP_ERR_KEY_CONFLICT:
		fprintf(stderr, "futurectl: KeyConflict: key \"%s\" is task %"
		    JSON_INTEGER_FORMAT "'s, submitted with another spec\n",
		    ctl_data_str(r, "key"), ctl_data_int(r, "id"));
		return 0;
	case FP_ERR_SHUTTING_DOWN:
		fputs("futurectl: ShuttingDown: futured is stopping; nothing was "
		    "changed\n", stderr);
		return 0;
	case FP_ERR_STORE:
		fprintf(stderr, "futurectl: StoreError: futured's database "
		    "failed, nothing was changed: %s\n",
		    ctl_data_str(r, "reason"));
		return 0;
	case FP_ERR_LIMIT:
		fprintf(stderr, "futurectl: LimitExceeded: too many %s: %"
		    JSON_INTEGER_FORMAT ", at most %" JSON_INTEGER_FORMAT
		    "%s\n",
		    ctl_data_str(r, "limit"), ctl_data_int(r, "value"),
		    ctl_data_int(r, "max"), strcmp(ctl_data_str(r, "limit"),
		    "queues") == 0 ? " (futurectl queue delete frees one)" :
		    "");
		return 0;
	case FP_ERR_NO_SUCH_QUEUE:
		fprintf(stderr, "futurectl: NoSuchQueue: no queue %s (it has no "
		    "task and no settings%s)\n", ctl_data_str(r, "name"),
		    strstr(ctl_data_str(r, "reason"), "create") != NULL ?
		    "; --create makes it" : "");
		return 0;
	case FP_ERR_QUEUE_NOT_EMPTY:
		fprintf(stderr, "futurectl: QueueNotEmpty: queue %s has %"
		    JSON_INTEGER_FORMAT " pending or running task%s (cancel "
		    "them, or let them end)\n", ctl_data_str(r, "name"),
		    ctl_data_int(r, "tasks"), ctl_data_int(r, "tasks") == 1 ?
		    "" : "s");
		return 0;
	case FP_ERR_INVALID_PARAMS:
		fprintf(stderr, "futurectl: Invalid params: %s: %s\n",
		    ctl_data_str(r, "field"), ctl_data_str(r, "reason"));
		ctl_reply_parent_hint(r);
		return 0;
	case FP_ERR_METHOD_NOT_FOUND:
		fprintf(stderr, "futurectl: Method not found: %s (is futured "
		    "older than futurectl?)\n", ctl_data_str(r, "method"));
		return 0;
	case FP_ERR_PARSE:
	case FP_ERR_INVALID_REQUEST:
	case FP_ERR_INTERNAL:
		if (json_object_get(r->data, "reason") == NULL)
			return -1;
		fprintf(stderr, "futurectl: %s: %s\n", fp_error_message(
		    r->code), ctl_data_str(r, "reason"));
		return 0;
	}
	return -1;
}

int
ctl_reply_error(struct ctl *ctx, const struct ctl_reply *r)
{
	json_int_t	 id = json_integer_value(json_object_get(r->data,
			    "id"));
	const char	*state = json_string_value(json_object_get(r->data,
			    "state"));
	/* a cancel's message (cancel --message, asyncio's cancel(msg)) */
	const char	*why = json_string_value(json_object_get(r->data,
			    "message"));

	if (id > 0 && r->code == FP_ERR_TASK_FAILED) {
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT
		    " failed: ", id);
		ctl_print_exception(stderr, json_object_get(r->data,
		    "exception"));
	} else if (id > 0 && r->code == FP_ERR_TASK_CANCELLED)
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT
		    " was cancelled%s%s\n", id, why != NULL ? ": " : "",
		    why != NULL ? why : "");
	else if (id > 0 && r->code == FP_ERR_TASK_NOT_DONE)
		fprintf(stderr, "futurectl: task %" JSON_INTEGER_FORMAT
		    " is not done (%s)\n", id, state != NULL ? state :
		    "unfinished");
	else if (ctl_reply_words(r) == -1)
		ctl_reply_generic(r);
	return ctl_error_status(r->code);
}
