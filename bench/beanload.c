/*
 * beanload.c: beanstalkd baseline of submit-single and submit-batch.  Puts
 * COUNT jobs of SIZE bytes on one TCP connection, keeping WINDOW puts in
 * flight: 1 is "put and wait for INSERTED", more is pipelined.
 *
 * usage: beanload -p PORT [-n COUNT] [-w WINDOW] [-s SIZE]
 * prints: jobs= elapsed= rate= (and latency percentiles with -w 1)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	struct bench_samples	 lat = { 0 };
	struct sockaddr_in	 sin;
	char			 hdr[64], *put, in[65536];
	long			 n = 1000, w = 1, sent = 0, got = 0, bad = 0;
	size_t			 size = 40, hl, plen, inlen = 0;
	double			 t0, el, tput = 0;
	int			 port = 0, ch, fd, one = 1;
	ssize_t			 r;
	char			*nl, *p;

	while ((ch = getopt(argc, argv, "p:n:w:s:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'w': w = atol(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		default: port = 0; break;
		}
	}
	if (port <= 0 || n < 1 || w < 1) {
		fprintf(stderr, "usage: beanload -p PORT [-n COUNT] "
		    "[-w WINDOW] [-s SIZE]\n");
		return 2;
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		bench_die("socket:");
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		bench_die("connect 127.0.0.1:%d:", port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	hl = (size_t)snprintf(hdr, sizeof hdr, "put 0 0 60 %zu\r\n", size);
	plen = hl + size + 2;
	put = bench_alloc(plen);
	memcpy(put, hdr, hl);
	memset(put + hl, 'x', size);
	memcpy(put + hl + size, "\r\n", 2);
	t0 = bench_now();
	while (got < n) {
		while (sent < n && sent - got < w) {
			if (w == 1)
				tput = bench_now();
			if (write(fd, put, plen) != (ssize_t)plen)
				bench_die("write:");
			sent++;
		}
		if ((r = read(fd, in + inlen, sizeof in - inlen - 1)) <= 0)
			bench_die("read from beanstalkd:");
		inlen += (size_t)r;
		in[inlen] = '\0';
		p = in;
		while ((nl = strstr(p, "\r\n")) != NULL) {
			if (strncmp(p, "INSERTED ", 9) != 0)
				bad++;
			got++;
			if (w == 1)
				bench_sample_add(&lat, bench_now() - tput);
			p = nl + 2;
		}
		inlen -= (size_t)(p - in);
		memmove(in, p, inlen);
	}
	el = bench_now() - t0;
	close(fd);
	printf("jobs=%ld bad=%ld elapsed=%.6f rate=%.1f", got, bad, el,
	    (double)got / el);
	if (w == 1)
		bench_print_pcts("lat", &lat);
	printf("\n");
	return bad != 0;
}
