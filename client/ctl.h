/*
 * ctl.h: futurectl, the command-line client of futured.
 *
 * futurectl.c parses the global options and dispatches from a command table;
 * each ctl-*.c file implements one group of commands.  Only proto/ is
 * linked, never daemon internals.  Commands return the process exit status
 * (CTL_EXIT_*); nothing below main() calls exit(), so every resource is freed
 * on every path.
 */
#ifndef FUTURECTL_H
#define FUTURECTL_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <jansson.h>

#include "proto.h"

/* Exit status, documented in --help and doc/futurectl.md. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_FAILED		1	/* the task (or a waited task) failed */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_CONN		3	/* cannot reach futured, transport */
#define CTL_EXIT_REFUSED	4	/* JSON-RPC error answer */
#define CTL_EXIT_TIMEOUT	5	/* not done within the timeout */
#define CTL_EXIT_CANCELLED	6
#define CTL_EXIT_ALREADY_DONE	7	/* resolve, reject, close: it had
					   finished (or was closed) */
#define CTL_EXIT_INTERRUPTED	130	/* 128 + SIGINT: run left by Ctrl-C */

/*
 * Seconds one long-poll call asks the daemon to wait.  The daemon clamps
 * waits to its own cap (60 s by default) and we call again, so asking for a
 * number rather than null keeps each HTTP request bounded by our own curl
 * timeout (CTL_POLL_MAX + CTL_HTTP_SLACK) even if the cap is raised.
 */
#define CTL_POLL_MAX		60.0
#define CTL_HTTP_SLACK		30L
/* Seconds between redraws of a progress line (long-polls are cut short). */
#define CTL_PROGRESS_EVERY	1.0

struct ctl_conn;
struct ctl_cmd;

/* The state of one invocation. */
struct ctl {
	const struct ctl_cmd	*cmd;		/* the command being run */
	char			*socket_path;	/* owned */
	const char		*url;		/* --url, borrowed from argv */
	const char		*token_file;	/* --token-file, borrowed */
	int			 json;		/* --json */
	int			 tty;		/* stdout is a terminal */
	struct ctl_conn		*conn;		/* made on the first call */
};

/* One entry of the command table in futurectl.c. */
struct ctl_cmd {
	const char	*name;
	const char	*args;		/* synopsis after the name */
	const char	*summary;
	const char	*help;		/* option lines for COMMAND --help */
	int		(*exec)(struct ctl *, int, char **);
	const char	*notes;		/* NULL, or text after the options */
};

/*
 * Options every command takes besides its own: 'j' sets ctx->json.
 * getopt_long's optstring is ":h" where options may follow the ids, and
 * "+:h" for the global options, submit and run, whose first operand starts
 * a command line that is not ours to parse.
 */
#define CTL_OPTS_COMMON \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ NULL, 0, NULL, 0 }

/* futurectl.c */
/* Prints "futurectl: why; usage: ..." for the current command; returns 2. */
int	 ctl_usage(struct ctl *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Handles what getopt_long returned for an option the command lacks:
 * 'h' prints help (0), anything else is a usage error (2). */
int	 ctl_bad_option(struct ctl *, int, char **);

/* ctl-http.c: an HTTP/1.1 client, Unix socket or plain-HTTP URL. */
struct ctl_http;
enum ctl_http_status {
	CTL_HTTP_OK, CTL_HTTP_CONNECT, CTL_HTTP_TIMEOUT, CTL_HTTP_IO,
	CTL_HTTP_INTERRUPTED
};
struct ctl_http_error {
	enum ctl_http_status	 status;
	int			 os_errno;	/* 0: none */
	char			 text[256];	/* why, for a message */
};
struct ctl_http_answer {
	int			 status;	/* HTTP status */
	const char		*body;		/* valid until the next post */
	size_t			 len;
};
/*
 * A client for unix_path, or else for url (http:// only; *why says what is
 * wrong with it when NULL is returned).  auth is a whole header line or
 * NULL.  The connection opens on the first post and is kept alive.
 */
struct ctl_http	*ctl_http_new(const char *unix_path, const char *url,
		    const char *auth, char **why);
/*
 * POSTs body; 0 with *a filled in, or -1 with *e saying why.  may_resend:
 * the request may be sent again on a new connection when a kept-alive one
 * turns out dead before any answer (a second copy does no harm).
 */
int		 ctl_http_post(struct ctl_http *, const char *body, size_t len,
		    int may_resend, double connect_timeout, double timeout,
		    struct ctl_http_answer *a, struct ctl_http_error *e);
void		 ctl_http_free(struct ctl_http *);
/*
 * From now on a signal caught while *flag is nonzero ends a post with
 * CTL_HTTP_INTERRUPTED (its connection closed); NULL: signals do not.
 */
void		 ctl_http_interrupt_on(volatile sig_atomic_t *flag);

/* ctl-conn.c: JSON-RPC over HTTP, Unix socket or TCP. */
#define CTL_REPLY_ERROR	(-1)	/* ctl_call: the daemon answered an error */

/* One answer.  resp is owned; result, message and data borrow from it. */
struct ctl_reply {
	json_t		*resp;
	json_t		*result;
	int		 code;
	const char	*message;
	json_t		*data;
};

/*
 * Calls method with params (stolen).  Returns 0 with reply->result set,
 * CTL_REPLY_ERROR with reply->code, message and data set, or an exit status
 * after printing why the call could not be made.  Clear the reply always.
 */
int	 ctl_call(struct ctl *, const char *, json_t *, struct ctl_reply *);
/* As ctl_call, but an error answer is printed and mapped to its status. */
int	 ctl_call_ok(struct ctl *, const char *, json_t *, struct ctl_reply *);
/* Sends a notification (params stolen): no id, no answer. */
int	 ctl_notify(struct ctl *, const char *, json_t *);
void	 ctl_reply_clear(struct ctl_reply *);
/* Prints an error answer on stderr; returns its exit status. */
int	 ctl_reply_error(struct ctl *, const struct ctl_reply *);
void	 ctl_conn_free(struct ctl_conn *);
/*
 * The URL futurectl talks to (borrowed): --url, else $FUTURED_URL unless
 * --socket or $FUTURED_SOCKET is given; NULL when it is a Unix socket.
 */
const char	*ctl_conn_url(const struct ctl *);

/* ctl-submit.c */
int	 ctl_submit(struct ctl *, int, char **);
/* The most futurectl reads of a file or of its stdin (--stdin-file, -). */
#define CTL_STDIN_MAX	(64 * 1024 * 1024)
/* Reads all of f into *buf (new); -1 on a read error or over max. */
int	 ctl_read_all(FILE *, size_t max, char **buf, size_t *len);
/*
 * Parses submit's or run's arguments into task.submit params (*out, new);
 * no_reply (submit) and detach (run) are NULL where the option is not
 * the command's.  Returns -1 to go on, else an exit status (*out NULL).
 */
int	 ctl_spec_parse(struct ctl *, int, char **, int *no_reply,
	    int *detach, json_t **out);
/*
 * What another command adds to the task options (schedule add): its own
 * options, each handed to set (-1 to go on, else an exit status), and an
 * operand before the task's command, *name (borrowed from argv), which
 * "give <what>" asks for when it is missing.  Its task has no default
 * parent ($FUTURED_TASK_ID): it is submitted later, not by this process.
 */
#define CTL_OPT_EXTRA		512	/* getopt values of the command's own */
#define CTL_SPEC_EXTRA_MAX	16
struct ctl_spec_extra {
	const struct option	*opts;	/* ends with a NULL name */
	int			(*set)(struct ctl *, int, const char *,
				    void *);
	void			*arg;
	const char		*what;
	const char		**name;
};
/* ctl_spec_parse for such a command; *out holds the task's params. */
int	 ctl_spec_parse_extra(struct ctl *, int, char **,
	    const struct ctl_spec_extra *, json_t **out);

/* ctl-run.c */
int	 ctl_run(struct ctl *, int, char **);

/* ctl-future.c */
int	 ctl_get(struct ctl *, int, char **);
int	 ctl_result(struct ctl *, int, char **);
int	 ctl_exception(struct ctl *, int, char **);
int	 ctl_wait(struct ctl *, int, char **);
/* Prints a result the way `result` and `run` do; returns an exit status. */
int	 ctl_future_print_result(struct ctl *, json_t *);
/* A TaskFailed answer: with --json the exception goes to stdout as well. */
int	 ctl_future_failed(struct ctl *, const struct ctl_reply *);
/* Polls task.result or task.exception for id until done or wait runs out
 * (wait < 0: forever, 0: ask once).  Same returns as ctl_call. */
int	 ctl_future_poll(struct ctl *, const char *, json_int_t, double,
	    struct ctl_reply *);

/* ctl-list.c */
int	 ctl_list(struct ctl *, int, char **);
/*
 * Appends to ids the ids of the pending and running tasks that filter
 * (task.list's queue and label) selects; 0 or an exit status.
 */
int	 ctl_list_unfinished(struct ctl *, json_t *filter, json_t *ids);
int	 ctl_tree(struct ctl *, int, char **);
int	 ctl_info(struct ctl *, int, char **);
int	 ctl_ui(struct ctl *, int, char **);

/* ctl-stream.c */
int	 ctl_follow(struct ctl *, int, char **);
int	 ctl_logs(struct ctl *, int, char **);

/* ctl-queue.c */
int	 ctl_queue(struct ctl *, int, char **);

/* ctl-schedule.c */
int	 ctl_schedule(struct ctl *, int, char **);

/* ctl-rate.c */
int	 ctl_rate(struct ctl *, int, char **);

/* ctl-manage.c */
int	 ctl_retry(struct ctl *, int, char **);
int	 ctl_delete(struct ctl *, int, char **);
int	 ctl_clean(struct ctl *, int, char **);
int	 ctl_cancel(struct ctl *, int, char **);
int	 ctl_resolve(struct ctl *, int, char **);
int	 ctl_reject(struct ctl *, int, char **);
int	 ctl_close(struct ctl *, int, char **);

/* ctl-fmt.c: parsing arguments and formatting output. */
double	 ctl_now(void);
int	 ctl_parse_id(const char *, json_int_t *);
/* Seconds: 90, 90s, 1.5m, 2h, 7d. */
int	 ctl_parse_seconds(const char *, double *);
int	 ctl_parse_int(const char *, long long, long long, long long *);
/* "K=V" into obj[K] = V; -1 when there is no '=' or K is empty. */
int	 ctl_parse_pair(const char *, int sep, json_t *);
void	 ctl_write_base64(FILE *, const char *);
/* A task's timestamp field as epoch seconds, 0 when null or unparsable. */
double	 ctl_task_time(json_t *, const char *);
/* "250ms", "4.2s", "42s", "3m05s", "2h10m", "4d03h". */
char	*ctl_fmt_duration(double, char *, size_t);
/* "3s ago", "in 5m00s". */
char	*ctl_fmt_ago(double, char *, size_t);
/* The command a spec runs: argv quoted like a shell, the shell string,
 * "sleep 5"; new string. */
char	*ctl_fmt_command(json_t *);
/* The task's duration so far, or "-". */
char	*ctl_fmt_task_duration(json_t *, char *, size_t);
/* Prints "TYPE: message". */
void	 ctl_print_exception(FILE *, json_t *);
/* Compact (one line) or indented JSON and a newline on stdout. */
void	 ctl_print_json(json_t *, int);
/* "key:" padded to the common width of key: value listings. */
void	 ctl_print_key(const char *);
/* A "key:  value" line, keys padded to a common width. */
void	 ctl_print_kv(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Writes a JSON string's bytes as they are. */
void	 ctl_write_string(FILE *, json_t *);
/*
 * A progress line on stderr while waiting, when stderr is a terminal:
 * drawn again in place, cleared before anything else is written.
 */
int	 ctl_progress_wanted(void);
void	 ctl_progress(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 ctl_progress_clear(void);
/* Colours, on a terminal unless NO_COLOR is set or --color says. */
enum { CTL_COLOR_AUTO, CTL_COLOR_ALWAYS, CTL_COLOR_NEVER };
enum ctl_color { CTL_PLAIN, CTL_RED, CTL_GREEN, CTL_YELLOW, CTL_BLUE,
	CTL_DIM };
void	 ctl_color_set(int mode);
/* The escape starting c on f ("" when f shows no colour). */
const char *ctl_color(FILE *, enum ctl_color);
/* A task state's colour. */
enum ctl_color ctl_state_color(const char *);
/* Lines of a stderr tail shown with an exception. */
#define CTL_TAIL_LINES	10
/* Columns of the terminal on stdout, 0 when not a terminal. */
int	 ctl_term_width(void);
/*
 * Characters on screen: UTF-8 continuation bytes take no column, nor do
 * colours (ESC [ ... m).
 */
size_t	 ctl_width(const char *);
/* Prints at most max characters of s (no colours), never half a UTF-8
 * sequence. */
void	 ctl_put_cut(FILE *, const char *, size_t max);

/* A table printed with aligned columns; cells are copied. */
struct ctl_table;
struct ctl_table *ctl_table_create(size_t);
void	 ctl_table_add(struct ctl_table *, const char *const *);
/* Prints the table; the last column is cut to width when width > 0. */
void	 ctl_table_print(struct ctl_table *, FILE *, int);
void	 ctl_table_free(struct ctl_table *);

#endif
