/*
 * config.c: futured's options.  One table describes each option (flag,
 * config file name, bounds, default, help); precedence is flags, then the
 * config file, then the table's defaults.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"

struct config	cfg;

enum opt_type { OPT_STRING, OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_SYNC,
	OPT_LEVEL };

/* Every option: its flag, its config file name, its bounds and help. */
static const struct option_entry {
	const char	*name;
	enum opt_type	 type;
	void		*field;
	double		 min;
	double		 max;
	const char	*dflt;
	const char	*help;
} options_table[] = {
	{ "state-dir", OPT_STRING, &cfg.state_dir, 0, 0, NULL,
	    "state directory (database, socket, token)" },
	{ "socket", OPT_STRING, &cfg.socket_path, 0, 0, NULL,
	    "Unix socket path (default STATE/futured.sock)" },
	{ "listen", OPT_STRING, &cfg.listen, 0, 0, NULL,
	    "also serve TCP on HOST:PORT, token required" },
	{ "token-file", OPT_STRING, &cfg.token_file, 0, 0, NULL,
	    "bearer token file (default STATE/token)" },
	{ "jobs", OPT_INT, &cfg.jobs, 1, 100000, NULL,
	    "child processes running at once (default: CPUs)" },
	{ "log-level", OPT_LEVEL, &cfg.log_level, 0, 0, "info",
	    "error, warn, info or debug" },
	{ "max-request", OPT_LONG, &cfg.max_request, 1024, 1 << 30, "4194304",
	    "largest request body in bytes (413 above)" },
	{ "max-requests", OPT_LONG, &cfg.max_requests, 1, 1000000, "20000",
	    "requests in flight before 503" },
	{ "max-output", OPT_LONG, &cfg.max_output, 0, 1 << 30, "1048576",
	    "bytes of stdout/stderr kept per task stream" },
	{ "max-wait", OPT_DOUBLE, &cfg.max_wait, 0.1, 86400, "60",
	    "cap on any long-poll, seconds" },
	{ "kill-grace", OPT_DOUBLE, &cfg.kill_grace, 0, 3600, "5",
	    "seconds between SIGTERM and SIGKILL" },
	{ "sync", OPT_SYNC, &cfg.sync_full, 0, 0, "full",
	    "sqlite synchronous: full or normal" },
	{ "http-max", OPT_INT, &cfg.http_max, 1, 100000, "1000",
	    "http transfers at once" },
	{ "http-per-host", OPT_INT, &cfg.http_per_host, 0, 100000, "0",
	    "http connections per host (0: no limit)" },
	{ "retention", OPT_DOUBLE, &cfg.retention, 0, 1e10, "604800",
	    "seconds finished tasks are kept (7 days)" },
};
#define OPTIONS_COUNT (sizeof options_table / sizeof options_table[0])

static __attribute__((noreturn)) void
usage(int status)
{
	size_t	i;

	fprintf(status ? stderr : stdout, "usage: futured [-nv] [--config FILE] "
	    "[--OPTION VALUE ...]\n\noptions (also NAME = VALUE lines in the "
	    "config file):\n");
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

/* Sets one option from text; -1 with *cause on a bad value. */
static int
option_set(const struct option_entry *o, const char *value, char **cause)
{
	char	*end;
	double	 d;
	int	 level;

	switch (o->type) {
	case OPT_STRING:
		free(*(char **)o->field);
		*(char **)o->field = xstrdup(value);
		return 0;
	case OPT_SYNC:
		if (strcmp(value, "full") != 0 && strcmp(value, "normal") != 0)
			break;
		*(int *)o->field = strcmp(value, "full") == 0;
		return 0;
	case OPT_LEVEL:
		if ((level = log_level_parse(value)) == -1)
			break;
		*(int *)o->field = level;
		return 0;
	default:
		errno = 0;
		d = strtod(value, &end);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(d) || d < o->min || d > o->max ||
		    (o->type != OPT_DOUBLE && d != floor(d)))
			break;
		if (o->type == OPT_INT)
			*(int *)o->field = (int)d;
		else if (o->type == OPT_LONG)
			*(long *)o->field = (long)d;
		else
			*(double *)o->field = d;
		return 0;
	}
	if (o->type == OPT_INT || o->type == OPT_LONG || o->type == OPT_DOUBLE)
		xasprintf(cause, "--%s: '%s' is not a number from %g to %g",
		    o->name, value, o->min, o->max);
	else
		xasprintf(cause, "--%s: bad value '%s'", o->name, value);
	return -1;
}

static char *
config_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]) != NULL)
		*--e = '\0';
	return s;
}

/* NAME = VALUE lines; '#' starts a comment. */
static int
config_load(const char *path, char **cause)
{
	const struct option_entry	*o;
	FILE				*f;
	char				 line[4096], *name, *value, *eq;
	int				 n = 0;

	if ((f = fopen(path, "re")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		line[strcspn(line, "#")] = '\0';
		name = config_trim(line);
		if (*name == '\0')
			continue;
		if ((eq = strchr(name, '=')) == NULL) {
			xasprintf(cause, "%s:%d: expected NAME = VALUE", path, n);
			goto fail;
		}
		*eq = '\0';
		value = config_trim(eq + 1);
		name = config_trim(name);
		if ((o = option_find(name)) == NULL) {
			xasprintf(cause, "%s:%d: unknown option '%s'", path, n,
			    name);
			goto fail;
		}
		if (option_set(o, value, cause) == -1)
			goto fail;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

void
config_defaults(void)
{
	char	*cause = NULL;
	size_t	 i;
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (i = 0; i < OPTIONS_COUNT; i++)
		if (options_table[i].dflt != NULL &&
		    option_set(&options_table[i], options_table[i].dflt,
		    &cause) == -1)
			fatalx("%s", cause);
	cfg.jobs = ncpu > 0 ? (int)ncpu : 1;
}

/* $STATE_DIRECTORY (systemd), /var/lib/futured as root, else XDG. */
static char *
config_state_dir(void)
{
	const char	*s = getenv("STATE_DIRECTORY"), *home;
	char		*dir;

	if (s != NULL && *s != '\0') {
		dir = xstrdup(s);
		dir[strcspn(dir, ":")] = '\0';	/* the first of a list */
		return dir;
	}
	if (geteuid() == 0)
		return xstrdup("/var/lib/futured");
	if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		xasprintf(&dir, "%s/futured", s);
	else if ((home = getenv("HOME")) != NULL)
		xasprintf(&dir, "%s/.local/state/futured", home);
	else
		fatalx("no state dir: set --state-dir, STATE_DIRECTORY or HOME");
	return dir;
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

/* One futured per state dir (beanstalkd's waldirlock). */
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

void
config_parse_args(int argc, char **argv, int *check_only)
{
	static struct option	 longopts[OPTIONS_COUNT + 4];
	const char		*config = NULL;
	char			*cause = NULL;
	size_t			 i;
	int			 ch, idx, pass;

	for (i = 0; i < OPTIONS_COUNT; i++)
		longopts[i] = (struct option){ options_table[i].name,
		    required_argument, NULL, 1 };
	longopts[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	/* Pass 0 finds --config; pass 1 applies flags over the file. */
	for (pass = 0; pass < 2; pass++) {
		optind = 1;
		while ((ch = getopt_long(argc, argv, "nvh", longopts, &idx)) != -1) {
			if (ch == 'c')
				config = optarg;
			else if (ch == 'n')
				*check_only = 1;
			else if (ch == 'h')
				usage(0);
			else if (ch == 'V') {
				printf("futured %s\n", FUTURED_VERSION);
				exit(0);
			} else if (ch == 'v' && pass == 1)
				cfg.log_level = LOG_LEVEL_DEBUG;
			else if (ch == 1 && pass == 1 &&
			    option_set(&options_table[idx], optarg, &cause) == -1)
				fatalx("%s", cause);
			else if (ch == '?')
				usage(1);
		}
		if (optind < argc)
			fatalx("unexpected argument '%s'", argv[optind]);
		if (pass == 0 && config != NULL && config_load(config, &cause) == -1)
			fatalx("%s", cause);
	}
}

void
config_finish(void)
{
	if (cfg.state_dir == NULL)
		cfg.state_dir = config_state_dir();
	if (cfg.socket_path == NULL)
		xasprintf(&cfg.socket_path, "%s/futured.sock", cfg.state_dir);
	if (cfg.token_file == NULL)
		xasprintf(&cfg.token_file, "%s/token", cfg.state_dir);
}


void
config_free(void)
{
	free(cfg.state_dir);
	free(cfg.socket_path);
	free(cfg.listen);
	free(cfg.token_file);
	memset(&cfg, 0, sizeof cfg);
}
