/*
 * fsyncfloor.c: the durability floor of submit-single.  Appends COUNT
 * records of SIZE bytes to a file in DIR, fdatasync(2) after each, the least
 * any store that acknowledges one durable record at a time can do on that
 * filesystem.
 *
 * usage: fsyncfloor -d DIR [-n COUNT] [-s SIZE]
 * prints: records= elapsed= rate= lat_p50_ms= ...
 */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	struct bench_samples	 lat = { 0 };
	const char		*dir = NULL;
	char			 path[4096], *rec;
	long			 n = 1000, i;
	size_t			 size = 256;
	double			 t0, t, el;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "d:n:s:")) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'n': n = atol(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		default: dir = NULL; n = 0; break;
		}
	}
	if (dir == NULL || n < 1 || size < 1) {
		fprintf(stderr, "usage: fsyncfloor -d DIR [-n COUNT] [-s SIZE]\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/fsyncfloor.dat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1)
		bench_die("%s:", path);
	rec = bench_alloc(size);
	memset(rec, 'x', size);
	rec[size - 1] = '\n';
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		t = bench_now();
		if (write(fd, rec, size) != (ssize_t)size)
			bench_die("write:");
		if (fdatasync(fd) == -1)
			bench_die("fdatasync:");
		bench_sample_add(&lat, bench_now() - t);
	}
	el = bench_now() - t0;
	close(fd);
	unlink(path);
	printf("records=%ld elapsed=%.6f rate=%.1f", n, el, (double)n / el);
	bench_print_pcts("lat", &lat);
	printf("\n");
	return 0;
}
