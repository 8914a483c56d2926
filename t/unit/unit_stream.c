/*
 * unit_stream - buffered line I/O over sockets (common/stream.c)
 *
 * Over socketpairs, no network: a stream taken from the spares after its
 * predecessor's write failed writes again; a read waits its own timeout,
 * longer or shorter than the socket's receive timeout left by an earlier
 * one; a write to a socket whose buffer is full waits, then times out.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"
#include "tap.h"

/* pair - a connected pair of stream sockets */
static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(2);
	}
}

/* now_ms - a monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* spares_start_clean - a failed write does not follow the memory into a new stream */
static void spares_start_clean(void)
{
	struct stream *s, *t;
	int a[2], b[2];
	char *line;
	size_t len;

	pair(a);
	s = stream_open(a[0], 2);
	close(a[1]);
	stream_puts(s, "250 lost\r\n");
	tap_ok(stream_flush(s) != STREAM_OK, "a write to a closed peer fails");
	tap_ok(s->werr != STREAM_OK, "and the stream remembers it");
	stream_close(s);

	pair(b);
	t = stream_open(b[0], 2);
	tap_is_int(t->err, STREAM_OK, "the next stream has no error");
	tap_is_int(t->werr, STREAM_OK, "nor a write error");
	stream_puts(t, "250 ok\r\n");
	tap_is_int(stream_flush(t), STREAM_OK, "and it writes");
	{
		char got[16] = "";
		ssize_t n = recv(b[1], got, sizeof(got) - 1, MSG_DONTWAIT);

		tap_is_str(n > 0 ? got : "", "250 ok\r\n", "the peer reads what it wrote");
	}
	if (write(b[1], "QUIT\r\n", 6) != 6)
		tap_ok(0, "write to the stream");
	tap_is_int(stream_getline(t, &line, &len, 100, NULL), STREAM_OK, "it reads a line");
	tap_is_str(line, "QUIT", "the line");
	stream_close(t);
	close(b[1]);
}

/* read_timeouts - each read waits its own timeout, whatever the socket's is */
static void read_timeouts(void)
{
	struct stream *s;
	char *line;
	size_t len;
	long long t0, dt;
	int a[2];

	pair(a);
	s = stream_open(a[0], 1);
	t0 = now_ms();
	tap_is_int(stream_getline(s, &line, &len, 100, NULL), STREAM_TIMEOUT,
		   "a silent peer times out");
	dt = now_ms() - t0;
	tap_ok(dt >= 900 && dt < 1900, "after 1 s (%lld ms)", dt);
	/* a longer timeout than the socket's: it reads again until its own */
	s->err = STREAM_OK;
	s->timeout = 2;
	t0 = now_ms();
	tap_is_int(stream_getline(s, &line, &len, 100, NULL), STREAM_TIMEOUT,
		   "a longer timeout times out too");
	dt = now_ms() - t0;
	tap_ok(dt >= 1900 && dt < 2900, "after 2 s, not 1 (%lld ms)", dt);
	/* and a line that comes within it is read */
	s->err = STREAM_OK;
	if (write(a[1], "HELO x\r\n", 8) != 8)
		tap_ok(0, "write to the stream");
	tap_is_int(stream_getline(s, &line, &len, 100, NULL), STREAM_OK, "then a line is read");
	tap_is_str(line, "HELO x", "the line");
	stream_close(s);
	close(a[1]);
}

/* write_timeout - a peer that reads nothing: the write waits, then gives up */
static void write_timeout(void)
{
	static char big[1 << 20];
	struct stream *s;
	long long t0, dt;
	int a[2], rc = STREAM_OK;

	pair(a);
	s = stream_open(a[0], 1);
	memset(big, 'x', sizeof(big));
	t0 = now_ms();
	for (int i = 0; i < 64 && rc == STREAM_OK; i++) {
		stream_write(s, big, sizeof(big));
		rc = stream_flush(s);
	}
	dt = now_ms() - t0;
	tap_is_int(rc, STREAM_TIMEOUT, "a write nobody reads times out");
	tap_ok(dt >= 900 && dt < 2900, "after about 1 s (%lld ms)", dt);
	stream_close(s);
	close(a[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	spares_start_clean();
	read_timeouts();
	write_timeout();
	return tap_done();
}
