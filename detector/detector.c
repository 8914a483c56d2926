/*
 * detector - scan messages and give verdicts to the smtpd-proxy workers
 *
 * SYNOPSIS
 *	detector (started by master; see master.conf)
 *
 * DESCRIPTION
 *	A small pool of detector processes (process_min_avail of them) serves
 *	the workers on run_directory/private/detector (SOCK_SEQPACKET). Each
 *	worker keeps one connection for its life; a detector serves many such
 *	connections, one request at a time. Each request is one SCAN_REQ record with two sealed memfds, the message
 *	and its envelope (common/scan.h). The detector answers each with one
 *	SCAN_VERDICT.
 *
 *	Every request is checked before it is used: the peer's uid
 *	(SO_PEERCRED), the record (common/ipc.c), two descriptors present,
 *	each a memfd sealed against change with the announced size, and an
 *	envelope that parses. A bad request gets a SCAN_ERROR and the
 *	connection is dropped; the detector itself never stops for a peer.
 *
 *	In this version every message passes, with default_pass_header when
 *	add_default_header is on.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf_params.h"
#include "evt.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "scan.h"
#include "server.h"

#define DETECTOR_WORKER_USER	"dlpgate"
#define DETECTOR_ENV_MAX	(64 * 1024 * 1024)

static uid_t detector_worker_uid = (uid_t) -1;

/* detector_peer_ok - may this peer ask for verdicts? */
static int detector_peer_ok(int fd, char *why, size_t len)
{
	uid_t   uid;
	pid_t   pid;

	if (ipc_peer_cred(fd, &uid, &pid) < 0) {
		snprintf(why, len, "no peer credentials: %s", strerror(errno));
		return 0;
	}
	if (uid == getuid() || uid == 0 || uid == detector_worker_uid)
		return 1;
	snprintf(why, len, "peer uid %ld pid %ld is not a worker", (long) uid, (long) pid);
	return 0;
}

/* detector_reply_error - answer SCAN_ERROR */
static void detector_reply_error(int fd, const char *reason)
{
	struct ipc_out out;

	ipc_out_init(&out, SCAN_ERROR);
	ipc_put_str(&out, SCAN_TAG_REASON, reason);
	(void) ipc_send(fd, &out, NULL, 0, 5);
	ipc_out_free(&out);
}

/* detector_read_envelope - map and parse the envelope memfd */
static int detector_read_envelope(int fd, uint64_t size, struct envelope *env,
				  char *why, size_t len)
{
	char    err[256];
	void   *map;
	int     rc;

	if (size == 0 || size > DETECTOR_ENV_MAX) {
		snprintf(why, len, "envelope size %llu out of range",
			 (unsigned long long) size);
		return -1;
	}
	map = mmap(NULL, (size_t) size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(why, len, "mmap envelope: %s", strerror(errno));
		return -1;
	}
	rc = envelope_parse(env, map, (size_t) size, err, sizeof(err));
	munmap(map, (size_t) size);
	if (rc < 0)
		snprintf(why, len, "bad envelope: %s", err);
	return rc;
}

/* detector_verdict - decide, and answer */
static int detector_verdict(int fd, const struct envelope *env, int msg_fd,
			    uint64_t msg_size)
{
	struct ipc_out out;
	int     rc;

	ipc_out_init(&out, SCAN_VERDICT);
	ipc_put_u32(&out, SCAN_TAG_ACTION, SCAN_PASS);
	if (var_add_default_header && *var_default_pass_header)
		ipc_put_str(&out, SCAN_TAG_HEADER, var_default_pass_header);
	rc = ipc_send(fd, &out, NULL, 0, var_detector_timeout);
	ipc_out_free(&out);
	msg_debug("cid=%s verdict=pass size=%llu rcpts=%zu", env->cid,
		  (unsigned long long) msg_size, env->nrcpt);
	return rc;
}

/* detector_request - check one request and answer it; -1 ends the connection */
static int detector_request(int fd, struct ipc_msg *msg)
{
	char    why[512], cid[32];
	uint64_t msg_size, env_size;
	struct envelope env;
	int     rc;

	if (msg->type != SCAN_REQ || msg->nfds != 2
	    || ipc_get_u64(msg, SCAN_TAG_MSG_SIZE, &msg_size) < 0
	    || ipc_get_u64(msg, SCAN_TAG_ENV_SIZE, &env_size) < 0
	    || ipc_get_str(msg, SCAN_TAG_CID, 31, cid, sizeof(cid)) == NULL) {
		snprintf(why, sizeof(why), "malformed request (type %u, %d descriptors)",
			 msg->type, msg->nfds);
		goto bad;
	}
	if (scan_memfd_check(msg->fds[0], msg_size, why, sizeof(why)) < 0
	    || scan_memfd_check(msg->fds[1], env_size, why, sizeof(why)) < 0
	    || detector_read_envelope(msg->fds[1], env_size, &env, why,
				      sizeof(why)) < 0)
		goto bad;
	rc = detector_verdict(fd, &env, msg->fds[0], msg_size);
	envelope_free(&env);
	ipc_close_fds(msg);
	return rc == IPC_OK ? 0 : -1;
bad:
	evt_warn(DET_BADREQ, NULL, "reason=\"%s\"", why);
	detector_reply_error(fd, why);
	ipc_close_fds(msg);
	return -1;
}

/* detector_accept - a worker connects: is it one of ours? */
static int detector_accept(int fd)
{
	char    why[256];

	if (detector_peer_ok(fd, why, sizeof(why)))
		return 0;
	evt_warn(DET_BADREQ, NULL, "reason=\"%s\"", why);
	return -1;
}

/* detector_readable - one request from a worker; -1 drops the connection */
static int detector_readable(int fd)
{
	static struct ipc_msg msg;
	char    why[256];
	int     rc = ipc_recv(fd, &msg, 0, why, sizeof(why));	/* epoll said so */

	if (rc == IPC_EOF || rc == IPC_TIMEOUT)
		return -1;
	if (rc != IPC_OK) {
		evt_warn(DET_BADREQ, NULL, "reason=\"%s\"", why);
		detector_reply_error(fd, why);
		return -1;
	}
	return detector_request(fd, &msg);
}

int     main(int argc, char **argv)
{
	struct passwd *pw;

	server_init(argc, argv, "detector");
	if ((pw = getpwnam(DETECTOR_WORKER_USER)) != NULL)
		detector_worker_uid = pw->pw_uid;
	server_multi_loop(detector_accept, detector_readable);
	return 0;
}
