/*
 * spawnfloor.c: the process floor of exec-throughput and latency.  Runs a
 * command COUNT times with posix_spawn(3) (vfork-like in glibc) and
 * waitpid(2), INFLIGHT at a time, stdout and stderr to /dev/null; reports
 * the rate and each run's spawn-to-reap latency.  Also times whole client
 * commands (futurectl run, tsp -f) the same way.
 *
 * usage: spawnfloor [-k INFLIGHT] [-n COUNT] [-- ARGV...]   (default /bin/true)
 * prints: runs= failed= elapsed= rate= lat_p50_ms= ...
 */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char	**environ;

struct slot {
	pid_t	pid;
	double	t;
};

int
main(int argc, char **argv)
{
	static char		*dflt[] = { "/bin/true", NULL };
	struct bench_samples	 lat = { 0 };
	posix_spawn_file_actions_t fa;
	struct slot		*slots;
	char			**cmd = dflt;
	long			 n = 1000, started = 0, done = 0, failed = 0;
	int			 k = 1, ch, i, st, running = 0;
	double			 t0, el;
	pid_t			 pid;

	while ((ch = getopt(argc, argv, "+k:n:")) != -1) {
		switch (ch) {
		case 'k': k = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		default:
			fprintf(stderr, "usage: spawnfloor [-k INFLIGHT] "
			    "[-n COUNT] [-- ARGV...]\n");
			return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind < argc)
		cmd = argv + optind;
	if (k < 1 || n < 1)
		bench_die("bad -k or -n");
	slots = bench_alloc((size_t)k * sizeof *slots);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	t0 = bench_now();
	while (done < n) {
		while (running < k && started < n) {
			for (i = 0; slots[i].pid != 0; i++)
				;
			slots[i].t = bench_now();
			if ((errno = posix_spawnp(&slots[i].pid, cmd[0], &fa,
			    NULL, cmd, environ)) != 0)
				bench_die("posix_spawn %s:", cmd[0]);
			running++;
			started++;
		}
		if ((pid = waitpid(-1, &st, 0)) == -1)
			bench_die("waitpid:");
		for (i = 0; i < k && slots[i].pid != pid; i++)
			;
		if (i == k)
			continue;
		bench_sample_add(&lat, bench_now() - slots[i].t);
		slots[i].pid = 0;
		running--;
		done++;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	el = bench_now() - t0;
	printf("runs=%ld failed=%ld elapsed=%.6f rate=%.1f", done, failed, el,
	    (double)done / el);
	bench_print_pcts("lat", &lat);
	printf("\n");
	return 0;
}
