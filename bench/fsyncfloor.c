/*
 * fsyncfloor.c: the durability floor of submit-single.  Appends COUNT
 * records of SIZE bytes to a file in DIR, fdatasync(2) after each, the least
 * any store that acknowledges one durable record at a time can do on that
 * filesystem.  With -p the file's blocks are written first (zeros, synced)
 * and the records overwrite them, as a log that preallocates does
 * (beanstalkd's binlog, futured's WAL): no size or block to record at each
 * fdatasync.
 *
 * usage: fsyncfloor -d DIR [-n COUNT] [-s SIZE] [-p]
 * prints: records= elapsed= rate= lat_p50_ms= ...
 */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

/* Writes len bytes of zeros from the start, syncs, and goes back to 0. */
static void
preallocate(int fd, size_t len)
{
	static const char	zeros[65536];
	size_t			n;

	for (; len > 0; len -= n) {
		n = len < sizeof zeros ? len : sizeof zeros;
		if (write(fd, zeros, n) != (ssize_t)n)
			bench_die("write:");
	}
	if (fdatasync(fd) == -1)
		bench_die("fdatasync:");
	if (lseek(fd, 0, SEEK_SET) == -1)
		bench_die("lseek:");
}

int
main(int argc, char **argv)
{
	struct bench_samples	 lat = { 0 };
	const char		*dir = NULL;
	char			 path[4096], *rec;
	long			 n = 1000, i;
	size_t			 size = 256;
	double			 t0, t, el;
	int			 ch, fd, pre = 0;

	while ((ch = getopt(argc, argv, "d:n:s:p")) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'n': n = atol(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		case 'p': pre = 1; break;
		default: dir = NULL; n = 0; break;
		}
	}
	if (dir == NULL || n < 1 || size < 1) {
		fprintf(stderr, "usage: fsyncfloor -d DIR [-n COUNT] [-s SIZE] "
		    "[-p]\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/fsyncfloor.dat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (pre ? 0 : O_APPEND) |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		bench_die("%s:", path);
	if (pre)
		preallocate(fd, (size_t)n * size);
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
