/*
 * futurectl.c: main, global options and the command table.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "ctl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define CTL_SYNOPSIS "futurectl [--socket PATH | --url URL " \
	"--token-file FILE] [--json] COMMAND [ARGS]"

/*
 * The task options, in pieces: schedule add takes all but those a firing
 * sets itself (CTL_TASK_HELP_START, _KEY, _PARENT).
 */
#define CTL_TASK_HELP_KIND \
	"  --shell 'CMD'           run CMD with /bin/sh -c instead of argv\n" \
	"  --sleep SECONDS         a sleep task (no process)\n" \
	"  --result JSON           what a sleep task returns\n" \
	"  --queue Q               queue name (default \"default\")\n" \
	"  --priority N            -1000 .. 1000, higher runs first\n" \
	"  --timeout S             fail with TimeoutError after S seconds\n"
#define CTL_TASK_HELP_START \
	"  --delay S               start no earlier than S seconds from now\n" \
	"  --not-before TIME       start no earlier than TIME (RFC 3339)\n"
#define CTL_TASK_HELP_RETRY \
	"  --retries N             retry a failed attempt N times\n" \
	"  --retry-backoff S       seconds between attempts\n"
#define CTL_TASK_HELP_KEY \
	"  --key K                 idempotency key: same key, same task\n" \
	"  --after ID              start once task ID succeeded (repeat)\n"
#define CTL_TASK_HELP_FIELDS \
	"  --label K=V             attach a label (repeatable)\n" \
	"  --env K=V               set an environment variable (repeatable)\n" \
	"  --cwd DIR               working directory\n" \
	"  --stdin-file F          F's contents as stdin (- for ours)\n" \
	"  --capture text|json     keep stdout as text or parse it as JSON\n" \
	"  --max-output N          bytes of stdout and stderr kept\n" \
	"  --http URL              an http task fetching URL (no process)\n" \
	"  --method M              its HTTP method (default GET)\n" \
	"  -H, --header 'K: V'     a request header (repeatable)\n" \
	"  --data D                the request body (@FILE: the file's)\n" \
	"  --max-body N            bytes of the response body kept\n" \
	"  --no-follow             do not follow redirects\n" \
	"  --no-raise              a non-2xx status is a result, not HttpError\n"
#define CTL_TASK_HELP_LIMITS \
	"  --concurrency KEY=N     at most N running tasks with KEY at once, " \
	"in any\n" \
	"                          queue (repeatable: 8 keys at most)\n" \
	"  --rate-limit NAME       each start takes a token of rate limit " \
	"NAME\n" \
	"  --rate-key KEY          (--rate-limit) a token bucket of its own " \
	"per KEY\n"
#define CTL_TASK_HELP_PARENT \
	"  --parent ID             the task is a child of task (or group) ID\n" \
	"  --no-parent             no parent, even inside a task of futured\n"
#define CTL_TASK_HELP_CHILDREN \
	"  --child-policy P        what its unfinished children become when "\
	"its own\n" \
	"                          work ends: wait (default), cancel, "\
	"abandon\n" \
	"  --return-exceptions     (group) members' failures are entries of "\
	"its\n" \
	"                          result, not the group's failure\n"

#define CTL_SUBMIT_HELP \
	CTL_TASK_HELP_KIND CTL_TASK_HELP_START CTL_TASK_HELP_RETRY \
	CTL_TASK_HELP_KEY CTL_TASK_HELP_FIELDS CTL_TASK_HELP_LIMITS \
	CTL_TASK_HELP_PARENT CTL_TASK_HELP_CHILDREN

#define CTL_WAIT_HELP \
	"  --wait                  wait until it is done\n" \
	"  --timeout S             wait until it is done, S seconds at most " \
	"(exit 5)\n"

#define CTL_FUTURE_NOTE \
	"The operand future (not after --) makes a future: a task that "\
	"nothing runs,\ncompleted by resolve, reject, cancel or its "\
	"--timeout; other tasks may start\n--after it.  The operand group "\
	"makes a group (asyncio's TaskGroup): its members\nare the tasks "\
	"submitted with --parent set to it; close ends it once they have,\n"\
	"with their results (or, unless --return-exceptions, it fails at "\
	"the first\nfailure, cancelling the others).\n"\
	"Inside a task of futured ($FUTURED_TASK_ID set), the new task is "\
	"a child of that\ntask unless --parent or --no-parent says "\
	"otherwise; a parent stays running until\nits children have ended "\
	"(--child-policy wait, the default).\n"

static const struct ctl_cmd ctl_cmds[] = {
	{ "submit", "[OPTIONS] -- CMD [ARGS...] | [OPTIONS] future|group "
	    "[OPTIONS]",
	    "submit a task and print its id",
	    CTL_SUBMIT_HELP
	    "  --no-wait-reply         send as a notification; print nothing\n",
	    ctl_submit, CTL_FUTURE_NOTE },
	{ "run", "[OPTIONS] -- CMD [ARGS...] | [OPTIONS] future|group "
	    "[OPTIONS]",
	    "submit, stream its output and exit with the task's status",
	    CTL_SUBMIT_HELP
	    "  --detach                print the task's id and leave it running\n",
	    ctl_run,
	    "A process's stdout and stderr are written as they come.  Ctrl-C "
	    "cancels the task\n(and shows how it ended); a second Ctrl-C "
	    "leaves it running.\n" CTL_FUTURE_NOTE },
	{ "get", "ID", "show a task", "", ctl_get, NULL },
	{ "result", "[--wait | --timeout S] ID", "print a task's result",
	    CTL_WAIT_HELP, ctl_result, NULL },
	{ "exception", "[--wait | --timeout S] ID",
	    "print a task's exception, or \"none\"; marks it retrieved",
	    CTL_WAIT_HELP, ctl_exception, NULL },
	{ "wait", "[--any | --first-exception | --as-completed] [--timeout S] "
	    "ID... | --as-completed --group G",
	    "wait for tasks; print which are done and which pending",
	    "  --any                   return when the first one is done\n"
	    "  --first-exception       return when one fails, or all are done\n"
	    "  --as-completed          print each task as it finishes: ID "
	    "STATE\n"
	    "  --group G               (--as-completed) the members of group "
	    "G (the\n"
	    "                          children of task G), until it has "
	    "ended\n"
	    "  --timeout S             give up after S seconds (exit 5)\n",
	    ctl_wait,
	    "While it waits, a terminal on stderr shows one line of progress,\n"
	    "\"done/total, N failed, elapsed\"; when stderr is not a "
	    "terminal, each\ntask that finishes is reported there as "
	    "\"done ID STATE\".\n"
	    "With --as-completed it prints instead one line \"ID STATE\" per "
	    "task on stdout\n(--json: {\"id\": ID, \"state\": STATE}), in "
	    "the order they finish, until all\nhave; the exit status is as "
	    "without it.  With --group, members that join\nwhile it waits "
	    "come too (within a second); it ends once the group has\nended "
	    "and every member was printed.\n" },
	{ "cancel", "[--message M] ID", "cancel a task",
	    "  --message M             why: the message of its CancelledError\n",
	    ctl_cancel, NULL },
	{ "resolve", "[--string] ID VALUE",
	    "complete a future with a result (set_result)",
	    "  --string                VALUE is a string, even if it reads as "
	    "JSON\n",
	    ctl_resolve,
	    "VALUE is JSON when it parses as JSON (42, true, '{\"a\": 1}', "
	    "'\"text\"'), else a\nstring as it is; - reads it from stdin, "
	    "every byte (a final newline too).\nOptions come before ID.  "
	    "Prints \"resolved\".  A task that had already finished\nis left "
	    "as it was: how it ended is said on stderr, and the exit status "
	    "is 7.\n" },
	{ "reject", "[--data JSON] ID TYPE MESSAGE",
	    "complete a future with an exception (set_exception)",
	    "  --data JSON             more fields of the exception (an "
	    "object)\n",
	    ctl_reject,
	    "TYPE is a name of letters, digits, '.' and '_' (Exception, "
	    "ValueError, ...).\nOptions come before ID.  Prints \"rejected\" "
	    "(a future with retries left waits\nagain).  A task that had "
	    "already finished is left as it was: how it ended is\nsaid on "
	    "stderr, and the exit status is 7.\n" },
	{ "close", "ID", "close a group: it ends once its members have",
	    "", ctl_close,
	    "No member joins a closed group.  Prints \"closed\" (\"closed; "
	    "STATE\" when no member\nwas left running, so that it ended at "
	    "once).  A group closed or finished\nbefore is left as it was: "
	    "how it stands is said on stderr, and the exit\nstatus is 7.  "
	    "A task of another kind is refused (4).\n" },
	{ "tree", "[--max N] [ID]",
	    "show a task and its descendants, or every unfinished tree",
	    "  --max N                 read at most N tasks (default "
	    "10,000)\n"
	    "  --json                  print {task..., children: [...]} (an "
	    "array of\n"
	    "                          them without ID)\n",
	    ctl_tree,
	    "One line a task, \"ID STATE KIND COMMAND [notes]\", its children "
	    "under it in the\norder they were submitted, like `python -m "
	    "asyncio pstree`.  Without ID:\nevery pending or running task "
	    "without a parent, each with its tree.\nA tree cut short (--max, "
	    "or 100 levels deep) says so on stderr, and \"…\"\nstands for "
	    "the tasks left out (a task's oldest children; --json: its\n"
	    "\"truncated\": true).\n" },
	{ "list", "[--state S] [--queue Q] [--label K=V] [--unretrieved] "
	    "[--limit N] [--all]", "list tasks, newest first",
	    "  --state S               pending, running, succeeded, failed or "
	    "cancelled\n"
	    "  --queue Q               only tasks of queue Q\n"
	    "  --label K=V             only tasks with this label "
	    "(repeatable)\n"
	    "  --unretrieved           failed tasks whose exception nobody "
	    "read\n"
	    "  --limit N               tasks per page (1 .. 1000, default "
	    "100)\n"
	    "  --all                   follow the pages to the oldest task\n",
	    ctl_list, NULL },
	{ "follow", "[--from SEQ] ID",
	    "print the items a task yields as they come (async for)",
	    "  --from SEQ              start at item SEQ (default 0)\n"
	    "  --json                  print the item objects {seq, value|error}\n",
	    ctl_follow,
	    "Prints each item's value as one line of JSON as soon as the task\n"
	    "yields it; an item that was not JSON goes to stderr as\n"
	    "\"futurectl: item N: YieldDecodeError: message\".  Ends when the "
	    "task\nhas finished and every item was printed: exit 0 if the task "
	    "succeeded,\n1 if it failed, 6 if it was cancelled.\n" },
	{ "logs", "[-f | --follow] [--stderr] ID",
	    "print a task's standard output (or error), while it runs too",
	    "  -f, --follow            keep printing until the task has ended\n"
	    "  --stderr                the task's standard error, not its "
	    "output\n"
	    "  --json                  print the task.output answers\n",
	    ctl_logs,
	    "Writes the bytes futured kept (the first max_output per stream) as "
	    "they\nare.  Without -f it prints what is there now and exits.\n" },
	{ "queue", "ls | set NAME --concurrency N | pause NAME | resume NAME | "
	    "delete NAME",
	    "list queues, limit how many of a queue's tasks run, pause them",
	    "  --concurrency N         (set) run at most N of the queue's tasks "
	    "at\n"
	    "                          once; 0: no limit beyond futured's "
	    "--jobs\n"
	    "  --create                (set, pause, resume) make the queue if "
	    "it does\n"
	    "                          not exist (else: NoSuchQueue, exit 4)\n",
	    ctl_queue,
	    "Subcommands:\n"
	    "  ls                      a table: NAME CONCURRENCY PAUSED RUNNING "
	    "WAITING\n"
	    "                          (CONCURRENCY \"-\": no limit of its "
	    "own)\n"
	    "  set NAME --concurrency N\n"
	    "                          change the queue's limit\n"
	    "  pause NAME              start none of its tasks until resumed\n"
	    "  resume NAME             start its waiting tasks again\n"
	    "  delete NAME             delete a queue with no pending or "
	    "running task\n"
	    "set, pause and resume print the queue as ls does.  Settings persist "
	    "across\nrestarts of futured.  A queue exists while it has tasks or "
	    "settings.\n" },
	{ "schedule", "add NAME (--cron EXPR | --every S) [OPTIONS] -- CMD "
	    "[ARGS...] | ls | show NAME | rm NAME | pause NAME | resume NAME | "
	    "run-now [--overlap P] [--wait] NAME",
	    "fire a task on a cron expression or an interval; list schedules",
	    "  --cron EXPR             (add) minute hour day-of-month month "
	    "day-of-week,\n"
	    "                          or @hourly, @daily, @weekly, @monthly, "
	    "@yearly\n"
	    "  --every S               (add) every S seconds instead (90, 5m, "
	    "2h, 1d)\n"
	    "  --tz ZONE               (add) --cron's time zone (default "
	    "UTC)\n"
	    "  --start-at TIME         (add) no firing before TIME (RFC "
	    "3339)\n"
	    "  --end-at TIME           (add) no firing after TIME\n"
	    "  --jitter S              (add) each firing's task starts up to S "
	    "seconds late\n"
	    "  --overlap P             (add, run-now) a firing while the last "
	    "one's task is\n"
	    "                          pending or running: skip (default), "
	    "buffer_one,\n"
	    "                          allow_all or cancel_other\n"
	    "  --catchup latest|all    (add) which firings missed while futured "
	    "was down run\n"
	    "  --catchup-window S      (add) missed firings older than S are "
	    "not run\n"
	    "                          (default 60)\n"
	    "  --paused                (add) create it paused\n"
	    "  --wait                  (run-now) wait for the task and print "
	    "its result\n"
	    CTL_TASK_HELP_KIND CTL_TASK_HELP_RETRY CTL_TASK_HELP_FIELDS
	    CTL_TASK_HELP_LIMITS CTL_TASK_HELP_CHILDREN,
	    ctl_schedule,
	    "Subcommands:\n"
	    "  add NAME ... [--] CMD [ARGS...]\n"
	    "                          a schedule firing the task the options "
	    "describe, as\n"
	    "                          for submit (not --key, --delay, "
	    "--not-before, --after\n"
	    "                          or --parent: each firing sets them); "
	    "prints when it\n"
	    "                          fires next\n"
	    "  ls                      a table: NAME WHEN NEXT LAST TASK OUTCOME "
	    "FIRED\n"
	    "                          SKIPPED MISSED (LAST: the latest firing; "
	    "TASK: its\n"
	    "                          task; OUTCOME: that task's state now)\n"
	    "  show NAME               the schedule, a line a field\n"
	    "  rm NAME                 delete it; the tasks it made stay\n"
	    "  pause NAME              fire nothing until resumed\n"
	    "  resume NAME             fire again, from now on\n"
	    "  run-now NAME            fire now, paused or not: print the new "
	    "task's id, or\n"
	    "                          \"skipped\" or \"buffered\" (the overlap "
	    "policy); --wait:\n"
	    "                          its result, as result --wait prints it\n"
	    "Each firing's task has the labels schedule=NAME and "
	    "scheduled_at=TIME: futurectl\nlist --label schedule=NAME lists "
	    "them.  No schedule of that name is\nNoSuchSchedule (exit 4); add "
	    "of a name taken is ScheduleExists (exit 4).\n" },
	{ "rate", "set NAME --starts N [--per S] [--burst B] | ls | rm NAME",
	    "limit how often tasks start: named token buckets",
	    "  --starts N              (set) N tokens every --per seconds: "
	    "N starts\n"
	    "  --per S                 (set) the period: seconds, 90s, 1.5m, 2h "
	    "(default 1)\n"
	    "  --burst B               (set) the tokens a bucket holds at most "
	    "(default 1:\n"
	    "                          starts evenly spaced)\n",
	    ctl_rate,
	    "Subcommands:\n"
	    "  set NAME ...            make a rate limit, or replace it at once "
	    "(a --per or\n"
	    "                          --burst not given is its default); "
	    "prints it as\n"
	    "                          ls does\n"
	    "  ls                      a table: NAME STARTS PER BURST, then "
	    "\"N tasks waiting\n"
	    "                          for a limit\" (a concurrency key or a "
	    "token)\n"
	    "  rm NAME                 delete it: the tasks waiting for its "
	    "tokens start\n"
	    "A task takes a token at each start (a retry's too) when submitted "
	    "with\n--rate-limit NAME; with --rate-key KEY each key has a bucket "
	    "of its own.  Rate\nlimits persist across restarts of futured.  "
	    "get shows what a pending task\nwaits for.  An unknown NAME, or a "
	    "value out of range, is refused (exit 4).\n" },
	{ "retry", "ID", "run a finished task again, as a new task; print its "
	    "id", "", ctl_retry,
	    "The new task has the old one's command, queue, priority, labels, "
	    "timeout and\nretries, and the label futured.retry_of=ID; the old "
	    "one stays as it was.\n" },
	{ "delete", "[--cancel] ID... | --queue Q | --state S | --label K=V | "
	    "--all",
	    "delete tasks: by id, or the finished ones of a queue, state or "
	    "label",
	    "  --cancel                cancel unfinished tasks first (else they "
	    "are kept)\n"
	    "  --queue Q               finished tasks of queue Q\n"
	    "  --state S               finished tasks in state S (succeeded, "
	    "failed,\n"
	    "                          cancelled)\n"
	    "  --label K=V             finished tasks with this label "
	    "(repeatable)\n"
	    "  --all                   every finished task\n",
	    ctl_delete,
	    "A deleted task is gone: its result, exception, output and stream "
	    "too.  A running\nor pending task is never deleted without "
	    "--cancel; with a filter, --cancel\ncancels and deletes its "
	    "unfinished tasks as well.\n" },
	{ "clean", "[--older-than S] [--state S] [--queue Q] [--label K=V]",
	    "delete finished tasks, all or those older than S",
	    "  --older-than S          finished at least S seconds ago (5m, 2h, "
	    "7d too)\n"
	    "  --state S               only succeeded, failed or cancelled ones\n"
	    "  --queue Q               only those of queue Q\n"
	    "  --label K=V             only those with this label "
	    "(repeatable)\n",
	    ctl_clean, "Prints how many were deleted.\n" },
	{ "info", "", "show the daemon's version, uptime and counts", "",
	    ctl_info, NULL },
	{ "ui", "", "print a one-time login link to the web dashboard", "",
	    ctl_ui,
	    "The link is good once, for two minutes; it opens a session of "
	    "the dashboard\nin the browser that follows it.  futured must serve "
	    "TCP (--listen): else\nthis says so and exits 4.  With --json: "
	    "{code, path, urls, expires_at}.\n" },
};
#define CTL_NCMDS (sizeof ctl_cmds / sizeof ctl_cmds[0])

static const char ctl_exit_help[] =
	"Exit status:\n"
	"  0  success\n"
	"  1  the task failed (wait: a waited task failed; follow: the "
	"followed one)\n"
	"  2  usage error\n"
	"  3  cannot reach futured, or another transport error\n"
	"  4  futured refused the request (NoSuchTask, invalid params, ...)\n"
	"  5  not done within the timeout\n"
	"  6  the task was cancelled\n"
	"  7  resolve, reject: the future had already finished; close: the "
	"group was\n     closed or finished already; nothing changed\n"
	"  run exits with the task's own status (128+N if killed by signal "
	"N).\n";

static void
ctl_help(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: %s\n\nCommands:\n", CTL_SYNOPSIS);
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "  %-10s %s\n", ctl_cmds[i].name,
		    ctl_cmds[i].summary);
	fprintf(f, "\nOptions:\n"
	    "  --socket PATH           futured's Unix socket\n"
	    "  --url URL               reach futured over TCP, e.g. "
	    "http://127.0.0.1:7070\n"
	    "  --token-file FILE       bearer token for --url or "
	    "$FUTURED_URL\n"
	    "  --json                  print results as one line of JSON\n"
	    "  --color[=WHEN]          colour: auto (a terminal, unless "
	    "NO_COLOR is set),\n"
	    "                          always or never\n"
	    "  -h, --help              this help (COMMAND --help: a "
	    "command's)\n"
	    "  --version               print the version\n\n"
	    "Environment:\n"
	    "  FUTURED_SOCKET          the socket without --socket or --url\n"
	    "  FUTURED_URL             else the URL, with the token "
	    "$FUTURED_TOKEN\n"
	    "                          (--token-file wins); futured sets "
	    "these for its tasks\n"
	    "  FUTURED_TASK_ID         the default parent of submit and run\n"
	    "  Else the socket is futured.sock in futured's default state "
	    "dir.\n\n%s", ctl_exit_help);
}

static void
ctl_cmd_help(const struct ctl_cmd *cmd)
{
	printf("usage: futurectl %s %s\n%s.\n", cmd->name, cmd->args,
	    cmd->summary);
	printf("\nOptions:\n%s", cmd->help);
	if (strstr(cmd->help, "  --json ") == NULL)
		printf("  --json                  print the result as JSON\n");
	printf("  -h, --help              this help\n\n");
	if (cmd->notes != NULL)
		printf("%s\n", cmd->notes);
	fputs(ctl_exit_help, stdout);
}

int
ctl_usage(struct ctl *ctx, const char *fmt, ...)
{
	va_list	ap;

	fputs("futurectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (ctx->cmd != NULL)
		fprintf(stderr, "; usage: futurectl %s %s\n", ctx->cmd->name,
		    ctx->cmd->args);
	else
		fprintf(stderr, "; usage: %s\n", CTL_SYNOPSIS);
	return CTL_EXIT_USAGE;
}

int
ctl_bad_option(struct ctl *ctx, int ch, char **argv)
{
	const char	*arg = argv[optind - 1];

	if (ch == 'h') {
		if (ctx->cmd != NULL)
			ctl_cmd_help(ctx->cmd);
		else
			ctl_help(stdout);
		return CTL_EXIT_OK;
	}
	if (ch == ':')
		return ctl_usage(ctx, "option '%s' needs a value", arg);
	if (optopt != 0 && optopt != '?')
		return ctl_usage(ctx, "unknown option '-%c'", optopt);
	return ctl_usage(ctx, "unknown option '%s'", arg);
}

static const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

enum { CTL_OPT_SOCKET = 256, CTL_OPT_URL, CTL_OPT_TOKEN, CTL_OPT_JSON,
	CTL_OPT_VERSION, CTL_OPT_COLOR };

/* --color[=WHEN]: auto (a terminal, unless NO_COLOR is set), always, never. */
static int
ctl_color_option(struct ctl *ctx, const char *when)
{
	if (when == NULL || strcmp(when, "always") == 0)
		ctl_color_set(CTL_COLOR_ALWAYS);
	else if (strcmp(when, "never") == 0)
		ctl_color_set(CTL_COLOR_NEVER);
	else if (strcmp(when, "auto") == 0)
		ctl_color_set(CTL_COLOR_AUTO);
	else
		return ctl_usage(ctx, "--color is auto, always or never, not "
		    "'%s'", when);
	return -1;
}

/* Global options; returns -1 to go on with the command, else a status. */
static int
ctl_global_options(struct ctl *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, CTL_OPT_SOCKET },
		{ "url", required_argument, NULL, CTL_OPT_URL },
		{ "token-file", required_argument, NULL, CTL_OPT_TOKEN },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "color", optional_argument, NULL, CTL_OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CTL_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (ch) {
		case CTL_OPT_COLOR:
			if ((rc = ctl_color_option(ctx, optarg)) != -1)
				return rc;
			break;
		case CTL_OPT_SOCKET:
			free(ctx->socket_path);
			if ((ctx->socket_path = strdup(optarg)) == NULL)
				return CTL_EXIT_CONN;
			break;
		case CTL_OPT_URL:
			ctx->url = optarg;
			break;
		case CTL_OPT_TOKEN:
			ctx->token_file = optarg;
			break;
		case CTL_OPT_JSON:
			ctx->json = 1;
			break;
		case CTL_OPT_VERSION:
			printf("futurectl %s (protocol %d)\n", PACKAGE_VERSION,
			    FP_PROTO_VERSION);
			return CTL_EXIT_OK;
		default:
			return ctl_bad_option(ctx, ch, argv);
		}
	}
	if (ctx->url != NULL && ctx->socket_path != NULL)
		return ctl_usage(ctx, "give --socket or --url, not both");
	if (ctx->token_file != NULL && ctl_conn_url(ctx) == NULL)
		return ctl_usage(ctx, "--token-file goes with --url (or "
		    "$FUTURED_URL without $FUTURED_SOCKET)");
	if (optind >= argc)
		return ctl_usage(ctx, "no command given");
	return -1;
}

/* Runs the command named by argv[0] with its own arguments. */
static int
ctl_dispatch(struct ctl *ctx, int argc, char **argv)
{
	const struct ctl_cmd	*cmd;

	if ((cmd = ctl_cmd_find(argv[0])) == NULL)
		return ctl_usage(ctx, "unknown command '%s'", argv[0]);
	ctx->cmd = cmd;
	optind = 0;	/* glibc: start the next getopt_long afresh */
	return cmd->exec(ctx, argc, argv);
}

int
main(int argc, char **argv)
{
	struct ctl	ctx;
	int		rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.tty = isatty(STDOUT_FILENO);
	opterr = 0;
	if ((rc = ctl_global_options(&ctx, argc, argv)) == -1) {
		rc = ctl_dispatch(&ctx, argc - optind, argv + optind);
		ctl_conn_free(ctx.conn);
	}
	free(ctx.socket_path);
	return rc;
}
