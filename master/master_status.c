/*
 * master_status - children's status records, reaping and throttling
 *
 * A child's word is gossip: every record is checked against what master
 * itself knows of that child (pid, generation, a known state, a use count
 * that never goes back). A child that lies is retired: its status socket
 * is closed, so it exits after its current session.
 *
 * A child that exits abnormally before it ever served throttles its
 * service: no new children for 2 s, then 4 s, ... up to
 * service_throttle_time, until a child serves again. That turns a crash
 * loop (bad config, missing library, a bug at start-up) into a few log
 * lines instead of a fork storm. A reload lifts the throttle at once (it
 * is how a fix is applied); the next death doubles the delay again.
 *
 * Counters (SERVER_REC_STATS records, or riding in a status record) add
 * to the counters of the child's service name, which live as long as
 * master does (across reloads): they are what `dlpgate status` and the
 * metrics show "since start".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf_params.h"
#include "evt.h"
#include "ipc.h"
#include "mem.h"
#include "msg.h"
#include "master.h"

struct master_counters master_counters[MASTER_COUNTERS_MAX];
size_t master_ncounters;

/* master_counters_of - the counters of a service name (created on demand) */
struct master_counters *master_counters_of(const char *svc_name)
{
	for (size_t i = 0; i < master_ncounters; i++)
		if (strcmp(master_counters[i].name, svc_name) == 0)
			return &master_counters[i];
	if (master_ncounters == MASTER_COUNTERS_MAX)
		return NULL; /* bounded: 256 service names */
	snprintf(master_counters[master_ncounters].name, sizeof(master_counters[0].name), "%s",
		 svc_name);
	return &master_counters[master_ncounters++];
}

/* master_stats_event - add a child's counters (tags base+1...); -1 if it lies */
static int master_stats_event(struct master_child *child, const struct ipc_msg *msg,
			      unsigned base, char *why, size_t len)
{
	uint64_t delta[SERVER_STAT_COUNT] = {0};
	struct master_counters *c;

	for (size_t i = 0; i < msg->nattr; i++) {
		const struct ipc_attr *a = &msg->attr[i];
		unsigned k = a->tag > base ? a->tag - base : 0;
		uint64_t v;

		if (k == 0 || k > SERVER_STAT_COUNT)
			continue; /* not a counter, or a newer worker's */
		if (a->len != sizeof(v)) {
			snprintf(why, len, "counter %u has length %u", k, a->len);
			return -1;
		}
		memcpy(&v, a->val, sizeof(v));
		if (v > SERVER_STAT_DELTA_MAX || delta[k - 1]) {
			snprintf(why, len, "counter %u: implausible or repeated", k);
			return -1;
		}
		delta[k - 1] = v;
	}
	if ((c = master_counters_of(child->svc_name)) == NULL)
		return 0;
	for (int i = 0; i < SERVER_STAT_COUNT; i++)
		c->stat[i] += delta[i];
	return 0;
}

/* master_retire - stop counting a child; it exits after its session */
void master_retire(struct master_child *child)
{
	struct master_service *svc = child->svc;

	if (svc) {
		svc->total--;
		if (child->state == SERVER_IDLE)
			svc->avail--;
		child->svc = NULL;
		/*
		 * EOF for the child, which finishes its session and exits; its
		 * last counter records can still come in until it is reaped.
		 */
		if (child->status_fd >= 0)
			(void) shutdown(child->status_fd, SHUT_WR);
	}
}

/* master_status_close - stop listening to a child */
static void master_status_close(struct master_child *child)
{
	if (child->status_fd >= 0) {
		close(child->status_fd);
		child->status_fd = -1;
	}
}

/* master_bad_peer - log and retire a child that broke the protocol */
static void master_bad_peer(struct master_child *child, const char *why)
{
	evt_warn(PEER_BAD, NULL, "service=%s pid=%d reason=\"%s\"", child->svc_name,
		 (int) child->pid, why);
	master_retire(child);
	master_status_close(child);
}

/* master_status_event - read one record; 0 when there was none */
int master_status_event(struct master_child *child)
{
	static struct ipc_msg msg;
	char err[256];
	uint32_t pid, gen, state, uses;
	int rc;

	if (child->status_fd < 0)
		return 0;
	rc = ipc_recv(child->status_fd, &msg, 0, err, sizeof(err));
	if (rc == IPC_EOF) {
		/* the child is exiting; keep counting it until it is reaped */
		master_status_close(child);
		return 0;
	}
	if (rc == IPC_TIMEOUT)
		return 0;
	if (rc != IPC_OK) {
		master_bad_peer(child, err);
		return 0;
	}
	if (msg.nfds > 0) {
		ipc_close_fds(&msg);
		master_bad_peer(child, "descriptors in a status record");
		return 0;
	}
	if (msg.type == SERVER_REC_STATS) {
		if (master_stats_event(child, &msg, 0, err, sizeof(err)) < 0)
			master_bad_peer(child, err);
		return 1;
	}
	if (msg.type != SERVER_REC_STATUS || ipc_get_u32(&msg, SERVER_TAG_PID, &pid) < 0
	    || ipc_get_u32(&msg, SERVER_TAG_GENERATION, &gen) < 0
	    || ipc_get_u32(&msg, SERVER_TAG_STATE, &state) < 0
	    || ipc_get_u32(&msg, SERVER_TAG_USE_COUNT, &uses) < 0) {
		master_bad_peer(child, "malformed status record");
		return 0;
	}
	if ((pid_t) pid != child->pid || gen != child->generation
	    || (state != SERVER_IDLE && state != SERVER_BUSY && state != SERVER_DONE)
	    || uses < child->use_count) {
		snprintf(err, sizeof(err),
			 "status record does not match the child "
			 "(pid %u generation %u state %u uses %u)",
			 pid, gen, state, uses);
		master_bad_peer(child, err);
		return 0;
	}
	/* the counters of a session ride with the IDLE that ends it */
	if (master_stats_event(child, &msg, SERVER_TAG_STATS, err, sizeof(err)) < 0) {
		master_bad_peer(child, err);
		return 0;
	}
	child->use_count = uses;
	if (child->svc && (state == SERVER_BUSY || uses > 0) && !child->served) {
		child->served = 1;
		child->svc->throttle_delay = 0; /* it works again */
	}
	if (state == SERVER_DONE) {
		/* it takes no new connections, and may linger for its clients */
		master_retire(child);
		return 1;
	}
	if (child->svc == NULL || (int) state == child->state)
		return 1;
	if (state == SERVER_BUSY)
		child->svc->avail--;
	else
		child->svc->avail++;
	child->state = (int) state;
	return 1;
}

/* master_throttle - stop spawning for a service for a while */
static void master_throttle(struct master_service *svc, const char *why)
{
	int max = var_service_throttle_time;

	svc->throttle_delay = svc->throttle_delay ? svc->throttle_delay * 2 : 2;
	if (svc->throttle_delay > max)
		svc->throttle_delay = max;
	svc->throttle_until = time(NULL) + svc->throttle_delay;
	evt_warn(SVC_THROTTLE, NULL, "service=%s delay=%ds reason=\"%s\"", svc->conf->name,
		 svc->throttle_delay, why);
}

/* master_throttle_check - lift throttles whose time has come */
void master_throttle_check(time_t now)
{
	for (size_t i = 0; i < master_nservices; i++) {
		struct master_service *svc = &master_services[i];

		if (svc->throttle_until && now >= svc->throttle_until) {
			svc->throttle_until = 0;
			evt_info(SVC_RESUME, NULL, "service=%s", svc->conf->name);
		}
	}
}

/* master_child_by_pid - the child with this pid, or NULL */
static struct master_child *master_child_by_pid(pid_t pid)
{
	struct master_child *child;

	TAILQ_FOREACH(child, &master_children, link)
	if (child->pid == pid)
		return child;
	return NULL;
}

/* master_reap - collect every child that exited */
void master_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct master_child *child = master_child_by_pid(pid);
		char why[128];

		if (child == NULL)
			continue;
		/*
		 * Its last records first: a BUSY still unread in the socket
		 * means it served, and must not throttle the service.
		 */
		while (master_status_event(child))
			/* void */;
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "killed by signal %d%s", WTERMSIG(status),
				 WCOREDUMP(status) ? " (core dumped)" : "");
		else
			snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !child->killed) {
			struct master_counters *c = master_counters_of(child->svc_name);

			if (c)
				c->died++;
			evt_warn(CHILD_DIED, NULL,
				 "service=%s pid=%d reason=\"%s\" "
				 "sessions=%u",
				 child->svc_name, (int) pid, why, child->use_count);
			if (child->svc && !child->served && !child->svc->throttle_until) {
				char reason[200];

				snprintf(reason, sizeof(reason),
					 "child %d %s before it "
					 "served",
					 (int) pid, why);
				master_throttle(child->svc, reason);
			}
		}
		master_retire(child);
		master_status_close(child);
		TAILQ_REMOVE(&master_children, child, link);
		free(child->svc_name);
		free(child);
	}
}

/* master_live_children - children still running (of inet services only) */
int master_live_children(int inet_only)
{
	struct master_child *child;
	int n = 0;

	TAILQ_FOREACH(child, &master_children, link)
	if (!inet_only || !child->unix_svc)
		n++;
	return n;
}
