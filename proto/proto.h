/*
 * proto.h: the futured protocol, shared by the daemon and futurectl.
 *
 * JSON-RPC 2.0 framing, the method and error tables, task and exception
 * objects, and validation of every method's parameters.  This is a library:
 * it never aborts, never logs, and returns NULL or -1 on failure the way
 * jansson does.  Unless a comment says "stolen", json_t arguments are
 * borrowed and returned json_t values are new references owned by the caller.
 */
#ifndef FUTURED_PROTO_H
#define FUTURED_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FP_PROTO_VERSION	1
#define FP_ID_LIMIT		((int64_t)1 << 53)	/* ids are 1 .. 2^53-1 */
#define FP_TIME_LEN		64			/* RFC 3339 buffer */
#define FP_LIST_DEFAULT		100
#define FP_LIST_MAX		1000
#define FP_WAIT_MAX		10000	/* ids in one task.wait */
#define FP_FIELD_LEN		128
#define FP_REASON_LEN		256

/* Error codes: append-only, never renumbered, never reused. */
enum fp_error {
	FP_ERR_PARSE = -32700,
	FP_ERR_INVALID_REQUEST = -32600,
	FP_ERR_METHOD_NOT_FOUND = -32601,
	FP_ERR_INVALID_PARAMS = -32602,
	FP_ERR_INTERNAL = -32603,
	FP_ERR_TASK_FAILED = 1,
	FP_ERR_TASK_CANCELLED = 2,
	FP_ERR_TASK_NOT_DONE = 3,
	FP_ERR_NO_SUCH_TASK = 4,
	FP_ERR_KEY_CONFLICT = 5,
	FP_ERR_SHUTTING_DOWN = 6,
	FP_ERR_STORE = 7,
	FP_ERR_LIMIT = 8,
	FP_ERR_NO_SUCH_QUEUE = 9,
	FP_ERR_QUEUE_NOT_EMPTY = 10,
	FP_ERR_READ_ONLY = 11,
	FP_ERR_SCHEDULE_EXISTS = 12,
	FP_ERR_NO_SUCH_SCHEDULE = 13,
};

/* The standard message of an error code ("TaskFailed"), or "ServerError". */
const char	*fp_error_message(int);

/* Method names (proto/openrpc.json describes each). */
#define FP_TASK_SUBMIT		"task.submit"
#define FP_TASK_GET		"task.get"
#define FP_TASK_RESULT		"task.result"
#define FP_TASK_EXCEPTION	"task.exception"
#define FP_TASK_WAIT		"task.wait"
#define FP_TASK_CANCEL		"task.cancel"
#define FP_TASK_LIST		"task.list"
#define FP_TASK_STREAM		"task.stream"
#define FP_TASK_OUTPUT		"task.output"
#define FP_DAEMON_INFO		"daemon.info"
#define FP_RPC_DISCOVER		"rpc.discover"
#define FP_QUEUE_LIST		"queue.list"
#define FP_QUEUE_SET		"queue.set"
#define FP_QUEUE_DELETE		"queue.delete"
#define FP_UI_LOGIN		"ui.login"
#define FP_TASK_RETRY		"task.retry"
#define FP_TASK_DELETE		"task.delete"
#define FP_TASK_SET_RESULT	"task.set_result"
#define FP_TASK_SET_EXCEPTION	"task.set_exception"
#define FP_TASK_AS_COMPLETED	"task.as_completed"
#define FP_TASK_CLOSE		"task.close"
#define FP_SCHEDULE_CREATE	"schedule.create"
#define FP_SCHEDULE_GET		"schedule.get"
#define FP_SCHEDULE_LIST	"schedule.list"
#define FP_SCHEDULE_UPDATE	"schedule.update"
#define FP_SCHEDULE_DELETE	"schedule.delete"
#define FP_SCHEDULE_PAUSE	"schedule.pause"
#define FP_SCHEDULE_RESUME	"schedule.resume"
#define FP_SCHEDULE_TRIGGER	"schedule.trigger"
#define FP_RATE_SET		"rate.set"
#define FP_RATE_LIST		"rate.list"
#define FP_RATE_DELETE		"rate.delete"


/* Future states. */
enum fp_state {
	FP_PENDING,
	FP_RUNNING,
	FP_SUCCEEDED,
	FP_FAILED,
	FP_CANCELLED,
};
#define FP_STATE_COUNT 5
const char	*fp_state_name(enum fp_state);
int		 fp_state_parse(const char *, enum fp_state *);
int		 fp_state_done(enum fp_state);

/* ---- fp-envelope.c: JSON-RPC 2.0 framing ---- */

/* One parsed request; every pointer is borrowed from the request JSON. */
struct fp_request {
	json_t		*id;		/* NULL for a notification */
	const char	*method;
	json_t		*params;	/* an object, or NULL when absent ({}) */
};

/*
 * Checks one request object.  On success fills req and returns 0.  On
 * failure returns -1 and sets *error to a new error response (-32600, or
 * -32602 for params that are not an object), with the request's id when it
 * had a usable one; *error is NULL only when memory ran out.
 */
int	 fp_request_parse(json_t *, struct fp_request *, json_t **error);

/*
 * The body of a request: JSON_DECODE_ANY, NUL allowed in strings.  A body
 * whose only fault is NUL in object keys is parsed too, with *nul_keys
 * set: then each call's params go through fp_nul_key_check.  NULL with
 * *err on a parse error.
 */
json_t	*fp_body_parse(const char *, size_t, int *nul_keys, json_error_t *);

/* Responses.  result and data are stolen; id is borrowed (NULL -> null). */
json_t	*fp_response_result(json_t *id, json_t *result);
json_t	*fp_response_error(json_t *id, int code, const char *message,
	    json_t *data);

/* A request; params stolen; id < 0 builds a notification. */
json_t	*fp_request_create(const char *method, json_t *params, json_int_t id);

/*
 * Reads a response: returns 0 and sets *result (borrowed) on success,
 * 1 and sets *code, *message and *data (borrowed, may be NULL) on an error
 * response, -1 when the JSON is not a JSON-RPC response at all.
 */
int	 fp_response_parse(json_t *, json_t **result, int *code,
	    const char **message, json_t **data);

/* ---- fp-params.c: parameter validation ---- */

/* A JSON string's value when it holds no NUL byte, else NULL. */
const char	*fp_cstr(json_t *);

/* Why a parameter was refused: -32602's data {field, reason}. */
struct fp_invalid {
	char	field[FP_FIELD_LEN];
	char	reason[FP_REASON_LEN];
};
int	 fp_invalid_set(struct fp_invalid *, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
json_t	*fp_invalid_data(const struct fp_invalid *);

/* -1 (field = the key's path) when a key under params held NUL. */
int	 fp_nul_key_check(json_t *params, struct fp_invalid *);

/* A task id: a JSON integer 1 .. 2^53-1. */
int	 fp_id_parse(json_t *, int64_t *);

/* Rejects any key of obj not in the NULL-terminated list. */
int	 fp_params_only(json_t *obj, const char *const *allowed,
	    struct fp_invalid *);

/* An array of distinct task ids (at most max); *out is new (free()). */
int	 fp_ids_array(json_t *arr, const char *field, size_t max, int64_t **out,
	    size_t *n, struct fp_invalid *);

/* An object of string -> string labels. */
int	 fp_labels_check(json_t *, const char *field, struct fp_invalid *);

/* {id} (the only key besides those in extra, which may be NULL). */
int	 fp_params_id(json_t *params, const char *const *extra, int64_t *id,
	    struct fp_invalid *);

/*
 * A long-poll timeout in seconds.  Absent -> dflt, null -> cap, a number
 * >= 0 -> clamped to cap.  Negative, NaN-like or non-numbers are refused.
 */
int	 fp_timeout_parse(json_t *params, const char *field, double dflt,
	    double cap, double *out, struct fp_invalid *);

/* A non-negative finite number of seconds at most max; absent -> dflt. */
int	 fp_seconds_parse(json_t *params, const char *field, double dflt,
	    double max, double *out, struct fp_invalid *);

#define FP_RETURN_ALL		0
#define FP_RETURN_FIRST		1
#define FP_RETURN_EXCEPTION	2

/* task.wait params; ids is a new array of the ids (duplicates refused). */
struct fp_wait {
	int64_t	*ids;
	size_t	 n_ids;
	int	 return_when;
	double	 timeout;
};
int	 fp_wait_parse(json_t *params, double cap, struct fp_wait *,
	    struct fp_invalid *);
void	 fp_wait_clear(struct fp_wait *);

/*
 * fp-future.c.  task.cancel's {id, message?} (message borrowed, NULL:
 * none), and the exception a cancel with a message leaves (NULL: none).
 */
int	 fp_cancel_parse(json_t *params, int64_t *id, const char **message,
	    struct fp_invalid *);
json_t	*fp_cancelled_exception(const char *message);
/*
 * task.set_result (failure 0: *outcome is the result) or
 * task.set_exception (1: the exception object); *outcome is a new tree.
 */
int	 fp_resolve_parse(json_t *params, int failure, int64_t *id,
	    json_t **outcome, struct fp_invalid *);
/*
 * task.as_completed: w.return_when unused; seen: the cursor's ids.  With
 * group or label, the ids (its members, or the tasks labelled so, in the
 * order they came: taken) are given later to fp_as_completed_members,
 * which reads the cursor then.
 */
struct fp_as_completed {
	struct fp_wait	 w;
	unsigned char	*seen;		/* 4 ids a byte, in the order of ids */
	int64_t		 group;		/* 0: ids given (or label) */
	json_t		*label;		/* borrowed: tasks with these labels */
	json_t		*cursor;	/* borrowed, until the members come */
	uint32_t	 key;		/* what the cursor is of */
};
int	 fp_as_completed_parse(json_t *params, double cap,
	    struct fp_as_completed *, struct fp_invalid *);
int	 fp_as_completed_members(struct fp_as_completed *, int64_t *ids,
	    size_t n, struct fp_invalid *);
int	 fp_as_completed_seen(const struct fp_as_completed *, size_t i);
void	 fp_as_completed_mark(struct fp_as_completed *, size_t i);
json_t	*fp_as_completed_cursor(const struct fp_as_completed *);
void	 fp_as_completed_clear(struct fp_as_completed *);

/* task.list params. */
struct fp_list {
	int		 has_state;
	enum fp_state	 state;
	const char	*queue;		/* borrowed, NULL = any */
	json_t		*label;		/* borrowed object, NULL = any */
	const char	*kind;		/* task.list only; NULL = any */
	const char	*text;		/* task.list only: in spec, labels, key */
	int64_t		 parent;	/* task.list only: 0 any, -1 none, id */
	int		 unretrieved;
	int		 limit;
	int64_t		 cursor;	/* list ids below this; 0 = from newest */
};
#define FP_LIST_TEXT_MAX	256
int	 fp_list_parse(json_t *params, struct fp_list *, struct fp_invalid *);

/* task.delete: ids (unfinished ones cancelled first with cancel), or the
 * finished tasks a filter selects. */
struct fp_delete {
	int64_t		*ids;		/* owned; NULL: by filter */
	size_t		 n_ids;
	struct fp_list	 filter;	/* state, queue, label (borrowed) */
	double		 older_than;	/* finished that long ago; 0: any */
	int		 all;
	int		 cancel;
	int		 nothing;	/* no ids, no filter: deletes none */
};
int	 fp_delete_parse(json_t *params, struct fp_delete *,
	    struct fp_invalid *);
void	 fp_delete_clear(struct fp_delete *);
/* Cursor strings are opaque to clients; today they hold an id. */
json_t	*fp_cursor_create(int64_t);

/* ---- fp-submit.c: task.submit ---- */

#define FP_KIND_EXEC	"exec"
#define FP_KIND_SLEEP	"sleep"
#define FP_KIND_HTTP	"http"
#define FP_KIND_FUTURE	"future"
#define FP_KIND_GROUP	"group"
#define FP_MAX_AFTER	1024
#define FP_MAX_RETRIES	1000
#define FP_MAX_SECONDS	(366.0 * 86400)	/* a year: any duration field */

/*
 * A validated submission.  spec is a new object holding the kind and its
 * own fields only (what runs); labels is a new object ({} when absent);
 * after is a new array.  Strings are borrowed from params.
 */
/* What a task's unfinished children become when its own work ends. */
enum fp_child_policy {
	FP_CHILD_WAIT,		/* it ends once they have (the default) */
	FP_CHILD_CANCEL,	/* they are cancelled */
	FP_CHILD_ABANDON,	/* they go on alone */
	FP_CHILD_POLICIES
};
const char	*fp_child_policy_name(int);

struct fp_submit {
	const char	*kind;
	json_t		*spec;
	const char	*queue;
	int		 priority;
	double		 timeout;	/* < 0: none */
	double		 delay;		/* seconds from now; 0 none */
	double		 not_before;	/* epoch seconds; < 0 none */
	int		 retries;
	double		 retry_backoff;
	const char	*key;		/* NULL: none */
	int64_t		*after;
	size_t		 n_after;
	json_t		*labels;
	int64_t		 parent;	/* 0: none */
	int		 child_policy;
	json_t		*limits;	/* {concurrency?, rate_limit?,
					 * rate_key?} or NULL */
};
#define FP_LIMIT_KEYS		8	/* concurrency keys of a task */
#define FP_LIMIT_KEY_MAX	128	/* bytes of a key */
#define FP_LIMIT_MAX		100000	/* a key's limit */
int	 fp_submit_parse(json_t *params, struct fp_submit *,
	    struct fp_invalid *);
void	 fp_submit_clear(struct fp_submit *);

/* queue.set: every pointer borrowed; has_* say what to change. */
struct fp_queue_set {
	const char	*name;
	int		 has_concurrency;
	int		 concurrency;	/* 0: no limit beyond --jobs */
	int		 has_paused;
	int		 paused;
	int		 create;	/* may make a new queue (default) */
};
int	 fp_queue_set_parse(json_t *, struct fp_queue_set *,
	    struct fp_invalid *);
/* queue.delete's {name}. */
int	 fp_queue_delete_parse(json_t *, const char **name,
	    struct fp_invalid *);
/* Queue names: 1 to 64 of [A-Za-z0-9._-]. */
int	 fp_queue_name_check(json_t *params, const char *field,
	    const char **out, struct fp_invalid *);

/* ---- fp-schedule.c: schedules' definitions ---- */

#define FP_SCHEDULE_MAX		10000	/* schedules kept */
#define FP_CRON_MAX		256	/* bytes of an expression */
#define FP_JITTER_MAX		3600.0
#define FP_SCHEDULE_TIME_MAX	253402300800.0	/* 10000-01-01 */
enum fp_overlap {
	FP_OVERLAP_SKIP,
	FP_OVERLAP_BUFFER_ONE,
	FP_OVERLAP_ALLOW_ALL,
	FP_OVERLAP_CANCEL_OTHER,
};
enum fp_catchup {
	FP_CATCHUP_LATEST,
	FP_CATCHUP_ALL,
};
const char	*fp_overlap_name(int);
int		 fp_overlap_parse(const char *, int *);
const char	*fp_catchup_name(int);
/*
 * schedule.create's params (base NULL) or schedule.update's (base: the
 * stored definition they change) as a new definition, every field
 * filled: {cron, tz} or {every}, start_at?, end_at? (epoch seconds),
 * jitter, task, overlap, catchup, catchup_window.  *paused: the params'
 * (-1 absent).  NULL with inv set.  The cron expression and the zone are
 * checked as strings only: the daemon parses them.
 */
json_t	*fp_schedule_def(json_t *params, json_t *base, int *paused,
	    struct fp_invalid *);
/* {name} and nothing beyond extra (NULL-terminated, may be NULL). */
int	 fp_schedule_name(json_t *params, const char *const *extra,
	    const char **name, struct fp_invalid *);

/* ---- fp-yield.c: an exec task's yield pipe, one JSON value a line ---- */

#define FP_YIELD_MAX_LINE	(1024 * 1024)

/* A partial line between reads; zero-initialise it. */
struct fp_yield {
	char	*buf;
	size_t	 len;
	int	 skipping;	/* inside a line over the limit */
};
struct fp_yield_cbs {
	void	(*line)(void *arg, const char *line, size_t len);
	void	(*too_long)(void *arg);	/* a line was dropped */
};
/* Feeds n bytes, calling back per line; -1: out of memory. */
int	 fp_yield_feed(struct fp_yield *, const char *, size_t,
	    const struct fp_yield_cbs *, void *arg);
/* The pipe closed: a last line without its newline still counts. */
void	 fp_yield_end(struct fp_yield *, const struct fp_yield_cbs *,
	    void *arg);
void	 fp_yield_clear(struct fp_yield *);
/*
 * One line's item: the JSON value (a trailing CR dropped), or NULL with
 * *error a YieldDecodeError object {type, message, line (first 256
 * bytes)}; both NULL only when memory ran out.
 */
json_t	*fp_yield_value(const char *line, size_t len, json_t **error);

/* ---- fp-text.c: JSON written as text ---- */

/* A JSON value given as a tree or as compact JSON text (a stored column). */
struct fp_value {
	json_t		*json;
	const char	*text;		/* used instead of json when set */
};

/*
 * A growing NUL-terminated buffer; zero-initialise it.  An allocation that
 * fails marks it failed, every later call does nothing, and fp_text_take
 * returns NULL, so a writer checks once at the end.
 */
struct fp_text {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 failed;
	int	 indent;	/* fp_text_json: spaces a level, 0 compact */
};
/* Room for n more bytes, so a known size is allocated once. */
void	 fp_text_reserve(struct fp_text *, size_t n);
void	 fp_text_add(struct fp_text *, const char *, size_t);
void	 fp_text_cstr(struct fp_text *, const char *);
/* A JSON string of s (UTF-8), escaped the way jansson escapes. */
void	 fp_text_str(struct fp_text *, const char *s);
void	 fp_text_strn(struct fp_text *, const char *s, size_t n);
void	 fp_text_int(struct fp_text *, int64_t);
/* A JSON real, the shortest that reads back exactly (5 -> 5.0, 0.1). */
void	 fp_text_real(struct fp_text *, double);
/* An RFC 3339 string (fp_time_format), or null for t <= 0. */
void	 fp_text_time(struct fp_text *, double t);
/*
 * v as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes it, but reals
 * as fp_text_real; NULL: null.
 */
void	 fp_text_json(struct fp_text *, json_t *v);
/* fp_text_json's text of v, the caller's to free; NULL: no memory. */
char	*fp_json_text(json_t *v);
/* As fp_json_text, members on lines of their own, indented (jansson's). */
char	*fp_json_text_indented(json_t *v, int indent);
/*
 * Where the last n (> 0) lines of s[0..len) start; a newline that ends
 * the text ends its last line.
 */
const char *fp_tail_lines(const char *s, size_t len, int n);
/* v's text as is, else its tree. */
void	 fp_text_value(struct fp_text *, const struct fp_value *v);
/* The text, now the caller's (free), and its length; NULL if it failed. */
char	*fp_text_take(struct fp_text *, size_t *len);
/* Gives back the unused room of a text that is kept a while. */
void	 fp_text_shrink(struct fp_text *);
void	 fp_text_clear(struct fp_text *);

/* ---- fp-task.c: tasks, exceptions, time ---- */

/* A task as clients see it; every pointer borrowed. */
struct fp_task {
	int64_t		 id;
	const char	*kind;
	enum fp_state	 state;
	const char	*queue;
	int		 priority;
	const char	*key;		/* NULL: none */
	struct fp_value	 spec;
	struct fp_value	 labels;	/* none: {} */
	int		 attempt;
	int		 max_retries;
	double		 created_at;
	double		 started_at;	/* 0: not yet */
	double		 finished_at;	/* 0: not yet */
	struct fp_value	 result;	/* shown once succeeded; none: null */
	struct fp_value	 exception;	/* shown once failed */
	int		 retrieved;	/* failed: exception retrieved */
	struct fp_value	 after;		/* none or array of ids */
	double		 not_before;	/* 0: none */
	double		 timeout;	/* < 0: none */
	struct fp_value	 attempts;	/* none or [{attempt, outcome, ...}] */
	int64_t		 parent;	/* 0: none */
	int		 child_policy;	/* enum fp_child_policy */
	int		 waiting;	/* its own part over: its children */
	struct fp_value	 limits;	/* none, or {concurrency?, rate_limit?,
					 * rate_key?} */
	json_t		*waiting_for;	/* a limit it waits for, or NULL */
};
/* What attempt_state holds of a task that waits for its children. */
#define FP_CHILDREN_MARK	"waiting_for_children"
/*
 * The task object, appended to a text (fp-text.c).  There is no tree
 * version: answers are written as text, and a tree from parsing this text
 * is the same object.
 */
void	 fp_task_write(struct fp_text *, const struct fp_task *);

/* {type, message} plus nothing else; add fields with json_object_set_new. */
json_t	*fp_exception_create(const char *type, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* RFC 3339 UTC with milliseconds; "" for t <= 0. */
char	*fp_time_format(double t, char buf[FP_TIME_LEN]);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction). */
int	 fp_time_parse(const char *, double *);

/* Replaces invalid UTF-8 with U+FFFD; returns a new string json. */
json_t	*fp_string_from_bytes(const char *, size_t);
/* Is buf[0..n) valid UTF-8? */
int	 fp_utf8_valid(const char *, size_t);
/* buf[0..n) in standard base64 (RFC 4648), as a new string json. */
json_t	*fp_base64(const char *, size_t);

/*
 * The state directory when none is given: $STATE_DIRECTORY (its first
 * entry), /var/lib/futured as root, else $XDG_STATE_HOME/futured or
 * ~/.local/state/futured.  A new string, or NULL (no home, no memory).
 */
char	*fp_state_dir_default(void);

#endif
