/*
 * config.c: futured's options.  One table describes each option (flag and
 * config file key, bounds, default, help, whether SIGHUP may change it);
 * precedence is flags, then the config file, then the table's defaults.
 * The file is parsed by libinih: top-level "key = value" lines name
 * options, and [queue.NAME] sections set queues.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ini.h>

#include "base/base.h"

#define CONFIG_DEFAULT_FILE	"/etc/futured/futured.conf"

struct config	cfg;

enum opt_type { OPT_STRING, OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_SYNC,
	OPT_LEVEL };

#define F(x)	offsetof(struct config, x)
static const struct option_entry {
	const char	*name;
	enum opt_type	 type;
	size_t		 field;
	double		 min;
	double		 max;
	const char	*dflt;
	int		 reload;	/* SIGHUP applies it */
	const char	*help;
} options_table[] = {
	{ "state-dir", OPT_STRING, F(state_dir), 0, 0, NULL, 0,
	    "state directory (database, socket, token)" },
	{ "socket", OPT_STRING, F(socket_path), 0, 0, NULL, 0,
	    "Unix socket path (default STATE/futured.sock)" },
	{ "listen", OPT_STRING, F(listen), 0, 0, NULL, 0,
	    "also serve TCP on HOST:PORT, token required" },
	{ "token-file", OPT_STRING, F(token_file), 0, 0, NULL, 0,
	    "bearer token file (default STATE/token)" },
	{ "store", OPT_STRING, F(store), 0, 0, NULL, 0,
	    "where tasks are stored: sqlite:PATH (default STATE/futured.db) "
	    "or postgresql://..." },
	{ "store-schema", OPT_STRING, F(store_schema), 0, 0, "futured", 0,
	    "PostgreSQL schema holding futured's tables" },
	{ "node", OPT_STRING, F(node), 0, 0, NULL, 0,
	    "this node's name on PostgreSQL (default HOST:STATE-DIR)" },
	{ "lease", OPT_DOUBLE, F(lease), 1, 3600, "10", 0,
	    "seconds a node's lease lasts on PostgreSQL" },
	{ "jobs", OPT_INT, F(jobs), 1, 100000, NULL, 1,
	    "child processes running at once (default: CPUs)" },
	{ "log-level", OPT_LEVEL, F(log_level), 0, 0, "info", 1,
	    "error, warn, info or debug" },
	{ "max-request", OPT_LONG, F(max_request), 1024, 1 << 30, "4194304", 0,
	    "largest request body in bytes (413 above)" },
	{ "max-requests", OPT_LONG, F(max_requests), 1, 1000000, "20000", 1,
	    "requests in flight before 503" },
	{ "max-output", OPT_LONG, F(max_output), 0, 1 << 30, "1048576", 1,
	    "bytes of stdout/stderr kept per task stream" },
	{ "max-wait", OPT_DOUBLE, F(max_wait), 0.1, 86400, "60", 1,
	    "cap on any long-poll, seconds" },
	{ "kill-grace", OPT_DOUBLE, F(kill_grace), 0, 3600, "5", 1,
	    "seconds between SIGTERM and SIGKILL" },
	{ "drain", OPT_DOUBLE, F(drain), 0, 86400, "10", 1,
	    "seconds running tasks may finish after SIGTERM" },
	{ "sync", OPT_SYNC, F(sync_full), 0, 0, "full", 0,
	    "sqlite synchronous: full or normal" },
	{ "http-max", OPT_INT, F(http_max), 1, 100000, "1000", 1,
	    "http transfers at once" },
	{ "http-per-host", OPT_INT, F(http_per_host), 0, 100000, "0", 1,
	    "http connections per host (0: no limit)" },
	{ "retention", OPT_DOUBLE, F(retention), 0, 1e10, "604800", 1,
	    "seconds finished tasks are kept (7 days)" },
	{ "metrics-public", OPT_INT, F(metrics_public), 0, 1, "0", 1,
	    "1: GET /metrics on TCP needs no token" },
	{ "ui-read-only", OPT_INT, F(ui_read_only), 0, 1, "0", 1,
	    "1: the dashboard only looks (its sessions change nothing)" },
};
#undef F
#define OPTIONS_COUNT (sizeof options_table / sizeof options_table[0])

static int	  config_argc;		/* kept for SIGHUP */
static char	**config_argv;

#define FIELD(c, o, type)	((type *)((char *)(c) + (o)->field))

static __attribute__((noreturn)) void
usage(int status)
{
	size_t	i;

	fprintf(status ? stderr : stdout, "usage: futured [-nv] [--config FILE] "
	    "[--OPTION VALUE ...]\n\noptions (also \"key = value\" lines in "
	    "the config file, default " CONFIG_DEFAULT_FILE "):\n");
	for (i = 0; i < OPTIONS_COUNT && status == 0; i++)
		printf("  --%-14s %s%s%s%s\n", options_table[i].name,
		    options_table[i].help, options_table[i].dflt ? " [" : "",
		    options_table[i].dflt ? options_table[i].dflt : "",
		    options_table[i].dflt ? "]" : "");
	if (status == 0)
		printf("  -n               check the configuration and exit\n"
		    "  -v               log debug messages\n"
		    "  --config FILE    read options from FILE\n"
		    "  --version        print the version\n");
	exit(status);
}

static const struct option_entry *
option_find(const char *name)
{
	size_t	i;

	for (i = 0; i < OPTIONS_COUNT; i++)
		if (strcmp(options_table[i].name, name) == 0)
			return &options_table[i];
	return NULL;
}

static int
option_number(const struct option_entry *o, const char *value, double *d)
{
	char	*end;

	errno = 0;
	*d = strtod(value, &end);
	return *value != '\0' && *end == '\0' && errno == 0 && isfinite(*d) &&
	    *d >= o->min && *d <= o->max &&
	    (o->type == OPT_DOUBLE || *d == floor(*d)) ? 0 : -1;
}

/* Sets one option of c from text; -1 with *cause on a bad value. */
static int
option_set(struct config *c, const struct option_entry *o, const char *value,
    char **cause)
{
	double	d;
	int	v;

	switch (o->type) {
	case OPT_STRING:
		free(*FIELD(c, o, char *));
		*FIELD(c, o, char *) = xstrdup(value);
		return 0;
	case OPT_SYNC:
		if (strcmp(value, "full") != 0 && strcmp(value, "normal") != 0)
			break;
		*FIELD(c, o, int) = strcmp(value, "full") == 0;
		return 0;
	case OPT_LEVEL:
		if ((v = log_level_parse(value)) == -1)
			break;
		*FIELD(c, o, int) = v;
		return 0;
	default:
		if (option_number(o, value, &d) == -1) {
			xasprintf(cause, "%s: '%s' is not a number from %g to "
			    "%g", o->name, value, o->min, o->max);
			return -1;
		}
		if (o->type == OPT_INT)
			*FIELD(c, o, int) = (int)d;
		else if (o->type == OPT_LONG)
			*FIELD(c, o, long) = (long)d;
		else
			*FIELD(c, o, double) = d;
		return 0;
	}
	xasprintf(cause, "%s: bad value '%s'", o->name, value);
	return -1;
}

static int
config_bool(const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static struct config_queue *
config_queue(struct config *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nqueues; i++)
		if (strcmp(c->queues[i].name, name) == 0)
			return &c->queues[i];
	c->queues = xreallocarray(c->queues, c->nqueues + 1, sizeof *c->queues);
	memset(&c->queues[c->nqueues], 0, sizeof *c->queues);
	c->queues[c->nqueues].name = xstrdup(name);
	return &c->queues[c->nqueues++];
}

/* [queue.NAME] concurrency = N / paused = BOOL */
static int
config_queue_key(struct config *c, const char *qname, const char *key,
    const char *value, char **cause)
{
	struct config_queue	*q;
	char			*end;
	long			 n;

	if (*qname == '\0' || strlen(qname) > 64 ||
	    strspn(qname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(qname)) {
		xasprintf(cause, "[queue.%s]: not a queue name", qname);
		return -1;
	}
	q = config_queue(c, qname);
	if (strcmp(key, "concurrency") == 0) {
		n = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || n < 0 || n > 1000000) {
			xasprintf(cause, "[queue.%s] concurrency: '%s' is not "
			    "a number from 0 to 1000000", qname, value);
			return -1;
		}
		q->concurrency = (int)n;
		q->has_concurrency = 1;
	} else if (strcmp(key, "paused") == 0) {
		if (config_bool(value, &q->paused) == -1) {
			xasprintf(cause, "[queue.%s] paused: '%s' is not true "
			    "or false", qname, value);
			return -1;
		}
		q->has_paused = 1;
	} else {
		xasprintf(cause, "[queue.%s]: unknown key '%s'", qname, key);
		return -1;
	}
	return 0;
}

struct config_file {
	struct config	*c;
	const char	*path;
	char		*cause;		/* the first error */
};

/* inih: one key; returns 0 to report an error on this line. */
static int
config_ini_cb(void *arg, const char *section, const char *key,
    const char *value)
{
	struct config_file		*cf = arg;
	const struct option_entry	*o;
	char				*cause = NULL;
	int				 rv = -1;

	if (cf->cause != NULL)
		return 1;
	if (strncmp(section, "queue.", 6) == 0)
		rv = config_queue_key(cf->c, section + 6, key, value, &cause);
	else if (*section != '\0')
		xasprintf(&cause, "unknown section [%s]", section);
	else if ((o = option_find(key)) == NULL)
		xasprintf(&cause, "unknown option '%s'", key);
	else
		rv = option_set(cf->c, o, value, &cause);
	if (rv == -1) {
		xasprintf(&cf->cause, "%s: %s", cf->path, cause);
		free(cause);
		return 0;
	}
	return 1;
}

/* Reads path into c; a missing default file is no error. */
static int
config_file_load(struct config *c, const char *path, int must_exist,
    char **cause)
{
	struct config_file	cf = { c, path, NULL };
	int			rv;

	if (!must_exist && access(path, F_OK) == -1)
		return 0;
	rv = ini_parse(path, config_ini_cb, &cf);
	if (cf.cause != NULL) {
		*cause = cf.cause;
		return -1;
	}
	if (rv == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (rv > 0) {
		xasprintf(cause, "%s:%d: syntax error", path, rv);
		return -1;
	}
	return 0;
}

static void
config_default_values(struct config *c)
{
	char	*cause = NULL;
	size_t	 i;
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof *c);
	for (i = 0; i < OPTIONS_COUNT; i++)
		if (options_table[i].dflt != NULL &&
		    option_set(c, &options_table[i], options_table[i].dflt,
		    &cause) == -1)
			fatalx("%s", cause);
	c->jobs = ncpu > 0 ? (int)ncpu : 1;
}

void
config_defaults(void)
{
	config_default_values(&cfg);
}

static void
config_longopts(struct option *longopts)
{
	size_t	i;

	for (i = 0; i < OPTIONS_COUNT; i++)
		longopts[i] = (struct option){ options_table[i].name,
		    required_argument, NULL, 1 };
	longopts[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
}

/*
 * Pass 0 finds --config and the informational flags; pass 1 applies the
 * option flags over the file.
 */
static int
config_flags(struct config *c, int pass, const char **file, int *check_only,
    char **cause)
{
	struct option	longopts[OPTIONS_COUNT + 4];
	int		ch, idx;

	config_longopts(longopts);
	optind = 1;
	opterr = pass == 0;
	while ((ch = getopt_long(config_argc, config_argv, "nvh", longopts,
	    &idx)) != -1) {
		if (ch == 'c')
			*file = optarg;
		else if (ch == 'n' && check_only != NULL)
			*check_only = 1;
		else if (ch == 'h' && pass == 0)
			usage(0);
		else if (ch == 'V' && pass == 0) {
			printf("futured %s\n", FUTURED_VERSION);
			exit(0);
		} else if (ch == 'v' && pass == 1)
			c->log_level = LOG_LEVEL_DEBUG;
		else if (ch == 1 && pass == 1 &&
		    option_set(c, &options_table[idx], optarg, cause) == -1)
			return -1;
		else if (ch == '?')
			usage(1);
	}
	if (optind < config_argc) {
		xasprintf(cause, "unexpected argument '%s'", config_argv[optind]);
		return -1;
	}
	return 0;
}

static void	config_clear(struct config *);

/* Defaults, then the file, then the flags, into c. */
static int
config_build(struct config *c, int *check_only, char **cause)
{
	const char	*file = NULL;

	config_default_values(c);
	if (config_flags(c, 0, &file, check_only, cause) == -1)
		return -1;
	if (config_file_load(c, file != NULL ? file : CONFIG_DEFAULT_FILE,
	    file != NULL, cause) == -1)
		return -1;
	c->config_file = xstrdup(file != NULL ? file : CONFIG_DEFAULT_FILE);
	return config_flags(c, 1, &file, NULL, cause);
}

void
config_parse_args(int argc, char **argv, int *check_only)
{
	char	*cause = NULL;

	config_argc = argc;
	config_argv = argv;
	config_clear(&cfg);	/* config_defaults' values: built again */
	if (config_build(&cfg, check_only, &cause) == -1)
		fatalx("%s", cause);
}

static char *
config_state_dir(void)
{
	char	*dir;

	if ((dir = fp_state_dir_default()) == NULL)
		fatalx("no state dir: set --state-dir, STATE_DIRECTORY or HOME");
	return dir;
}

static void
config_paths(struct config *c)
{
	if (c->state_dir == NULL)
		c->state_dir = config_state_dir();
	if (c->socket_path == NULL)
		xasprintf(&c->socket_path, "%s/futured.sock", c->state_dir);
	if (c->token_file == NULL)
		xasprintf(&c->token_file, "%s/token", c->state_dir);
	if (c->store == NULL)
		xasprintf(&c->store, "sqlite:%s/futured.db", c->state_dir);
	if (c->node == NULL) {
		char	host[256];

		if (gethostname(host, sizeof host) == -1)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		xasprintf(&c->node, "%s:%s", host, c->state_dir);
	}
}

/*
 * --listen HOST:PORT ([V6]:PORT): PORT 0 to 65535 (0: one the kernel
 * picks), HOST a name or address that resolves.  Checked before anything
 * is created, and by -n.
 */
static int
config_listen_check(struct config *c, char **cause)
{
	struct addrinfo	 hints, *ai = NULL;
	char		*copy, *colon, *host, *port;
	int		 rc;

	if (c->listen == NULL)
		return 0;
	copy = xstrdup(c->listen);
	colon = strrchr(copy, ':');
	host = copy;
	port = colon != NULL ? colon + 1 : NULL;
	if (colon != NULL)
		*colon = '\0';
	if (host[0] == '[' && colon != NULL && colon > host + 1 &&
	    colon[-1] == ']') {
		host++;
		colon[-1] = '\0';
	}
	if (port == NULL || *host == '\0' || *port == '\0' ||
	    strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) > 65535) {
		xasprintf(cause, "--listen wants HOST:PORT with a port from 0 "
		    "to 65535, not '%s'", c->listen);
		free(copy);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		xasprintf(cause, "--listen %s: %s", c->listen, gai_strerror(rc));
		free(copy);
		return -1;
	}
	freeaddrinfo(ai);
	c->listen_host = xstrdup(host);
	c->listen_port = xstrdup(port);
	free(copy);
	return 0;
}

void
config_finish(void)
{
	char	*cause = NULL;

	config_paths(&cfg);
	if (config_listen_check(&cfg, &cause) == -1)
		fatalx("%s", cause);
}

static void
config_clear(struct config *c)
{
	size_t	i;

	free(c->state_dir);
	free(c->socket_path);
	free(c->listen);
	free(c->listen_host);
	free(c->listen_port);
	free(c->listen_url);
	free(c->token_file);
	free(c->store);
	free(c->store_schema);
	free(c->node);
	free(c->config_file);
	for (i = 0; i < c->nqueues; i++)
		free(c->queues[i].name);
	free(c->queues);
	memset(c, 0, sizeof *c);
}

void
config_free(void)
{
	config_clear(&cfg);
}

static int
option_differs(const struct config *a, const struct config *b,
    const struct option_entry *o)
{
	if (o->type == OPT_STRING) {
		const char *x = *FIELD(a, o, char *), *y = *FIELD(b, o, char *);

		return (x == NULL) != (y == NULL) || (x != NULL &&
		    strcmp(x, y) != 0);
	}
	if (o->type == OPT_LONG)
		return *FIELD(a, o, long) != *FIELD(b, o, long);
	if (o->type == OPT_DOUBLE)
		return *FIELD(a, o, double) != *FIELD(b, o, double);
	return *FIELD(a, o, int) != *FIELD(b, o, int);
}

/* Copies one option from src to cfg (strings are not reloadable). */
static void
option_copy(struct config *dst, const struct config *src,
    const struct option_entry *o)
{
	if (o->type == OPT_LONG)
		*FIELD(dst, o, long) = *FIELD(src, o, long);
	else if (o->type == OPT_DOUBLE)
		*FIELD(dst, o, double) = *FIELD(src, o, double);
	else if (o->type != OPT_STRING)
		*FIELD(dst, o, int) = *FIELD(src, o, int);
}

int
config_reload(void)
{
	struct config	 next;
	char		*cause = NULL;
	size_t		 i;
	int		 changed = 0;

	if (config_build(&next, NULL, &cause) == -1) {
		log_warnx("reload: %s; keeping the running configuration",
		    cause);
		free(cause);
		config_clear(&next);
		return -1;
	}
	config_paths(&next);
	for (i = 0; i < OPTIONS_COUNT; i++) {
		const struct option_entry *o = &options_table[i];

		if (!option_differs(&cfg, &next, o))
			continue;
		if (!o->reload) {
			log_warnx("reload: %s cannot change while futured runs; "
			    "restart it to apply", o->name);
			continue;
		}
		option_copy(&cfg, &next, o);
		log_info("reload: %s changed", o->name);
		changed++;
	}
	for (i = 0; i < cfg.nqueues; i++)
		free(cfg.queues[i].name);
	free(cfg.queues);
	cfg.queues = next.queues;
	cfg.nqueues = next.nqueues;
	next.queues = NULL;
	next.nqueues = 0;
	config_clear(&next);
	log_init(cfg.log_level);
	return changed;
}

/* mkdir -p with mode 0700 for what it creates. */
void
config_mkdir_p(const char *path)
{
	char	*p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			fatal("mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", p);
	free(p);
}

static int	config_tasks_fd = -1;

/*
 * Waits for the tasks lock, which the spawner of an earlier futured holds
 * until every process it started is gone (spawner.c): an attempt must not
 * run again while the one before it may still be running.
 */
static void
config_wait_tasks_lock(const char *path)
{
	struct timespec	ts = { 0, 50000000 };
	double		waited = 0, limit = cfg.kill_grace + 60;

	if ((config_tasks_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600))
	    == -1)
		fatal("cannot open %s", path);
	if (flock(config_tasks_fd, LOCK_EX | LOCK_NB) == 0)
		return;
	log_warnx("the processes of an earlier futured on %s are still being "
	    "ended; waiting up to %gs", cfg.state_dir, limit);
	while (flock(config_tasks_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			fatal("flock %s", path);
		if ((waited += 0.05) > limit)
			fatalx("processes of an earlier futured still hold %s",
			    path);
		nanosleep(&ts, NULL);
	}
	log_info("the earlier futured's processes are gone (%.1fs)", waited);
}

/*
 * One futured per state dir (beanstalkd's waldirlock): futured.lock, held
 * by futured alone.  Then tasks.lock, which futured hands to its spawner.
 */
void
config_lock_state_dir(void)
{
	char	*path;
	int	 fd;

	xasprintf(&path, "%s/futured.lock", cfg.state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		fatal("cannot open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		fatalx("another futured is using %s", cfg.state_dir);
	free(path);		/* fd stays open: the lock lives with us */
	xasprintf(&path, "%s/tasks.lock", cfg.state_dir);
	config_wait_tasks_lock(path);
	free(path);
}

int
config_tasks_lock(void)
{
	return config_tasks_fd;
}

static struct rlimit	config_nofile_start;	/* as futured was started */

/*
 * Up to the hard limit of descriptors: every client, task pipe and cached
 * http connection is one, and the soft default (often 1,024) is a limit
 * for programs that do not expect many.  Tasks get the limit futured was
 * started with back (exec.c): some close every possible descriptor.
 */
void
config_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	config_nofile_start = rl;
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("cannot raise the open files limit");
}

const struct rlimit *
config_nofile_started(void)
{
	return &config_nofile_start;
}

/* Children get fds 0-2 from us: make sure they are open. */
void
config_std_fds(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}
