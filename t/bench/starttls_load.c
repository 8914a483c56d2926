/*
 * starttls_load - STARTTLS sessions per second against an SMTP server
 *
 * SYNOPSIS
 *	starttls_load HOST PORT PROCS SECONDS
 *
 * DESCRIPTION
 *	PROCS processes each run sessions back to back for SECONDS: connect,
 *	banner, EHLO, STARTTLS, a full TLS 1.3 handshake (no resumption),
 *	EHLO, one short message, QUIT. Prints "sessions=N failed=F
 *	seconds=S rate=R". Built and run by t/bench/starttls; not installed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* load_now - seconds, monotonic */
static double load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* load_reply - read one SMTP reply (plain or TLS); its code, or -1 */
static int load_reply(int fd, SSL *ssl)
{
	static char buf[8192];
	size_t len = 0;

	for (;;) {
		int n = ssl ? SSL_read(ssl, buf + len, (int) (sizeof(buf) - 1 - len))
			    : (int) read(fd, buf + len, sizeof(buf) - 1 - len);
		char *line, *nl;

		if (n <= 0)
			return -1;
		len += (size_t) n;
		buf[len] = 0;
		/* the reply is complete when a line "DDD " ends with LF */
		for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
			if (nl - line >= 4 && line[3] == ' ')
				return atoi(line);
			else if (nl - line == 4 && line[3] == '\r')
				return atoi(line);
		if (len >= sizeof(buf) - 1)
			return -1;
	}
}

/* load_cmd - send a command, read its reply code */
static int load_cmd(int fd, SSL *ssl, const char *cmd)
{
	size_t len = strlen(cmd);

	if (ssl ? SSL_write(ssl, cmd, (int) len) != (int) len
		: write(fd, cmd, len) != (ssize_t) len)
		return -1;
	return load_reply(fd, ssl);
}

/* load_session - one whole session; 0 if every reply was as expected */
static int load_session(SSL_CTX *ctx, const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = -1;
	SSL *ssl = NULL;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) < 0
	    || load_reply(fd, NULL) != 220 || load_cmd(fd, NULL, "EHLO load.test\r\n") != 250
	    || load_cmd(fd, NULL, "STARTTLS\r\n") != 220)
		goto out;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1 || load_cmd(fd, ssl, "EHLO load.test\r\n") != 250
	    || load_cmd(fd, ssl, "MAIL FROM:<load@example.com>\r\n") != 250
	    || load_cmd(fd, ssl, "RCPT TO:<sink@example.net>\r\n") != 250
	    || load_cmd(fd, ssl, "DATA\r\n") != 354
	    || load_cmd(fd, ssl, "Subject: bench\r\n\r\nOne short message.\r\n.\r\n") != 250)
		goto out;
	(void) load_cmd(fd, ssl, "QUIT\r\n");
	ok = 0;
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int procs, pipes[2];
	double seconds, start;
	long total = 0, failed = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: starttls_load HOST PORT PROCS SECONDS\n");
		return 2;
	}
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	sa.sin_port = htons((uint16_t) atoi(argv[2]));
	procs = atoi(argv[3]);
	seconds = atof(argv[4]);
	signal(SIGPIPE, SIG_IGN);
	if (pipe(pipes) < 0)
		return 1;
	start = load_now();
	for (int p = 0; p < procs; p++) {
		if (fork() == 0) {
			SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
			long counts[2] = {0, 0};

			SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
			SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
			SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
			while (load_now() - start < seconds)
				counts[load_session(ctx, &sa) == 0 ? 0 : 1]++;
			if (write(pipes[1], counts, sizeof(counts)) != sizeof(counts))
				_exit(1);
			_exit(0);
		}
	}
	close(pipes[1]);
	for (int p = 0; p < procs; p++) {
		long counts[2];

		if (read(pipes[0], counts, sizeof(counts)) == sizeof(counts)) {
			total += counts[0];
			failed += counts[1];
		}
	}
	while (wait(NULL) > 0)
		/* void */;
	seconds = load_now() - start;
	printf("sessions=%ld failed=%ld seconds=%.1f rate=%.1f\n", total, failed, seconds,
	       total / seconds);
	return 0;
}
