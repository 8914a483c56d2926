/*
 * master_ctl - the control socket and the metrics listener of master
 *
 * The control socket, run_directory/master.ctl (SOCK_STREAM, mode 0600,
 * peers checked with SO_PEERCRED: root or master's own user), takes one
 * request line and answers "ok" or "error: why" on the first line, then
 * the body, then closes:
 *
 *	status		the report of `dlpgate status`
 *	prometheus	the same in the Prometheus text format
 *	drain		stop accepting sessions, exit when those in flight end
 *
 * The metrics listener (metrics_listen, off by default, loopback only)
 * answers "GET /metrics" over HTTP/1.0 with the Prometheus text.
 *
 * master is single-threaded: every connection is non-blocking, bounded
 * (MASTER_CTL_CONNS at once, MASTER_CTL_REQ_MAX bytes of request, a
 * MASTER_CTL_TIMEOUT deadline) and answered with one send; a peer that
 * does not keep up gets a truncated answer, never a stalled master.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "master.h"

#define MASTER_CTL_CONNS   16
#define MASTER_CTL_REQ_MAX 4096
#define MASTER_CTL_TIMEOUT 5 /* seconds */
#define MASTER_CTL_FILE    "master.ctl"

enum master_conn_kind {
	MASTER_CONN_FREE,
	MASTER_CONN_CTL,  /* a control client */
	MASTER_CONN_HTTP, /* a metrics scraper */
};

struct master_conn {
	enum master_conn_kind kind;
	int fd;
	time_t deadline;
	size_t len;
	char req[MASTER_CTL_REQ_MAX + 1];
};

/* A listener or a connection, as handed to the event loop. */
struct master_ctl_ctx {
	int listener; /* 1: ctl, 2: metrics, 0: a connection */
	struct master_conn *conn;
};

static struct master_conn master_conns[MASTER_CTL_CONNS];
static struct master_ctl_ctx master_conn_ctx[MASTER_CTL_CONNS];
static struct master_ctl_ctx master_ctl_lctx = {1, NULL};
static struct master_ctl_ctx master_metrics_lctx = {2, NULL};
static int master_ctl_fd = -1;
static char *master_ctl_path;
static int master_metrics_fd[SERVER_MAX_LISTEN];
static int master_metrics_nfd;
static char *master_metrics_addr; /* what is bound now */

/* master_ctl_open - create run_directory/master.ctl */
void master_ctl_open(void)
{
	char err[256];

	master_ctl_path = xasprintf("%s/%s", var_run_directory, MASTER_CTL_FILE);
	master_ctl_fd = unix_listen(master_ctl_path, SOCK_STREAM, 0600, err, sizeof(err));
	if (master_ctl_fd < 0)
		msg_fatal("control socket: %s", err);
	(void) fcntl(master_ctl_fd, F_SETFL, fcntl(master_ctl_fd, F_GETFL) | O_NONBLOCK);
}

/* master_ctl_close - remove the control socket (at exit) */
void master_ctl_close(void)
{
	if (master_ctl_fd >= 0) {
		close(master_ctl_fd);
		master_ctl_fd = -1;
	}
	if (master_ctl_path)
		(void) unlink(master_ctl_path);
}

/* master_metrics_open - (re)bind metrics_listen when it changed */
void master_metrics_open(void)
{
	char err[256];
	int n, fds[SERVER_MAX_LISTEN];

	if (master_metrics_addr && strcmp(master_metrics_addr, var_metrics_listen) == 0)
		return;
	n = 0;
	if (*var_metrics_listen) {
		n = inet_listen(var_metrics_listen, "9125", 64, fds, SERVER_MAX_LISTEN, err,
				sizeof(err));
		if (n < 0) {
			/* keep what we had: a reload must not lose the listener */
			msg_error("metrics_listen %s: %s", var_metrics_listen, err);
			return;
		}
	}
	while (master_metrics_nfd > 0)
		close(master_metrics_fd[--master_metrics_nfd]);
	for (int i = 0; i < n; i++) {
		(void) fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		master_metrics_fd[master_metrics_nfd++] = fds[i];
	}
	free(master_metrics_addr);
	master_metrics_addr = xstrdup(var_metrics_listen);
	if (n > 0)
		evt_info(METRICS_ON, NULL, "listen=%s path=/metrics", var_metrics_listen);
}

/* master_conn_close - end a connection */
static void master_conn_close(struct master_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->kind = MASTER_CONN_FREE;
	c->len = 0;
}

/* master_conn_send - one non-blocking send of the whole answer */
static void master_conn_send(struct master_conn *c, const char *data, size_t len)
{
	ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n >= 0 && (size_t) n < len)
		msg_warn("control/metrics client too slow: answer truncated at %zd of "
			 "%zu bytes",
			 n, len);
}

/* master_ctl_peer_ok - only root or master's own user may control it */
static int master_ctl_peer_ok(int fd)
{
	uid_t uid;
	pid_t pid;

	if (ipc_peer_cred(fd, &uid, &pid) < 0)
		return 0;
	if (uid == 0 || uid == geteuid())
		return 1;
	evt_warn(CTL_DENIED, NULL, "uid=%ld pid=%ld reason=\"not root\"", (long) uid,
		 (long) pid);
	return 0;
}

/* master_ctl_accept - a new connection on a listener */
static void master_ctl_accept(int lfd, enum master_conn_kind kind)
{
	struct master_conn *c = NULL;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < MASTER_CTL_CONNS && c == NULL; i++)
		if (master_conns[i].kind == MASTER_CONN_FREE)
			c = &master_conns[i];
	if (c == NULL || (kind == MASTER_CONN_CTL && !master_ctl_peer_ok(fd))) {
		if (c == NULL)
			msg_warn("too many control or metrics connections: refused one");
		close(fd);
		return;
	}
	c->kind = kind;
	c->fd = fd;
	c->len = 0;
	c->deadline = time(NULL) + MASTER_CTL_TIMEOUT;
}

/* master_ctl_answer - carry out one control request */
static void master_ctl_answer(struct master_conn *c, const char *req)
{
	struct buf b;

	buf_init(&b, 4096);
	if (strcmp(req, "status") == 0) {
		buf_puts(&b, "ok\n");
		master_render_status(&b);
	} else if (strcmp(req, "prometheus") == 0) {
		buf_puts(&b, "ok\n");
		master_render_prometheus(&b);
	} else if (strcmp(req, "drain") == 0) {
		master_drain_begin();
		buf_printf(&b, "ok\n%s\n", master_state_name());
	} else {
		buf_printf(&b,
			   "error: unknown request \"%.64s\" (status, prometheus, "
			   "drain)\n",
			   req);
	}
	master_conn_send(c, b.data, b.len);
	buf_free(&b);
}

/* master_http_answer - answer a scraper */
static void master_http_answer(struct master_conn *c)
{
	struct buf body, b;
	const char *status = "200 OK";

	buf_init(&body, 4096);
	buf_init(&b, 4096);
	if (strncmp(c->req, "GET ", 4) != 0) {
		status = "405 Method Not Allowed";
		buf_puts(&body, "only GET /metrics\n");
	} else if (strncmp(c->req + 4, "/metrics ", 9) != 0
		   && strncmp(c->req + 4, "/metrics\r", 9) != 0) {
		status = "404 Not Found";
		buf_puts(&body, "try /metrics\n");
	} else {
		master_render_prometheus(&body);
	}
	buf_printf(&b,
		   "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; "
		   "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		   status, body.len);
	buf_append(&b, body.data, body.len);
	master_conn_send(c, b.data, b.len);
	buf_free(&body);
	buf_free(&b);
}

/* master_conn_read - more request bytes; answer once it is complete */
static void master_conn_read(struct master_conn *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, MASTER_CTL_REQ_MAX - c->len, MSG_DONTWAIT);
	char *end;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		master_conn_close(c);
		return;
	}
	c->len += (size_t) n;
	c->req[c->len] = 0;
	if (c->kind == MASTER_CONN_CTL) {
		if ((end = strchr(c->req, '\n')) == NULL) {
			if (c->len == MASTER_CTL_REQ_MAX)
				master_conn_close(c);
			return;
		}
		*end = 0;
		if (end > c->req && end[-1] == '\r')
			end[-1] = 0;
		master_ctl_answer(c, c->req);
	} else {
		if (strstr(c->req, "\r\n\r\n") == NULL && strstr(c->req, "\n\n") == NULL) {
			if (c->len == MASTER_CTL_REQ_MAX)
				master_conn_close(c);
			return;
		}
		master_http_answer(c);
	}
	master_conn_close(c);
}

/* master_ctl_pollfds - what the event loop should watch for us */
int master_ctl_pollfds(struct pollfd *pfd, void **ctx, size_t max)
{
	size_t n = 0;
	time_t now = time(NULL);

	if (master_ctl_fd >= 0 && n < max) {
		pfd[n].fd = master_ctl_fd;
		pfd[n].events = POLLIN;
		ctx[n++] = &master_ctl_lctx;
	}
	for (int i = 0; i < master_metrics_nfd && n < max; i++) {
		pfd[n].fd = master_metrics_fd[i];
		pfd[n].events = POLLIN;
		ctx[n++] = &master_metrics_lctx;
	}
	for (int i = 0; i < MASTER_CTL_CONNS && n < max; i++) {
		struct master_conn *c = &master_conns[i];

		if (c->kind == MASTER_CONN_FREE)
			continue;
		if (now > c->deadline) {
			master_conn_close(c);
			continue;
		}
		master_conn_ctx[i].listener = 0;
		master_conn_ctx[i].conn = c;
		pfd[n].fd = c->fd;
		pfd[n].events = POLLIN;
		ctx[n++] = &master_conn_ctx[i];
	}
	return (int) n;
}

/* master_ctl_event - something happened on one of our descriptors */
void master_ctl_event(void *ctx, short revents)
{
	struct master_ctl_ctx *x = ctx;

	if (x->listener == 1)
		master_ctl_accept(master_ctl_fd, MASTER_CONN_CTL);
	else if (x->listener == 2) {
		for (int i = 0; i < master_metrics_nfd; i++)
			master_ctl_accept(master_metrics_fd[i], MASTER_CONN_HTTP);
	} else if (x->conn->kind != MASTER_CONN_FREE) {
		master_conn_read(x->conn);
	}
}

/* master_ctl_timeout - poll timeout (ms) while connections are open */
int master_ctl_timeout(void)
{
	for (int i = 0; i < MASTER_CTL_CONNS; i++)
		if (master_conns[i].kind != MASTER_CONN_FREE)
			return 1000;
	return -1;
}
