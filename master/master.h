/*
 * master - the supervisor's shared state
 *
 * master owns the service table, the listen sockets and the children's
 * lives. master.c is the event loop (signals, reload, stop), master_spawn.c
 * starts children, master_status.c reads their status records and reaps
 * them, throttling a service whose children die before they serve.
 */
#ifndef DLP_MASTER_H
#define DLP_MASTER_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <bsd/sys/queue.h>

#include "buf.h"
#include "server.h"
#include "master_conf.h"

struct master_service;

struct master_child {
	TAILQ_ENTRY(master_child) link;
	pid_t pid;
	int status_fd;              /* shut for writing once retired, -1 once closed */
	struct master_service *svc; /* NULL once retired */
	char *svc_name;             /* for logs, also after retirement */
	uint32_t generation;
	int state; /* SERVER_IDLE or SERVER_BUSY (DONE retires) */
	unsigned use_count;
	int served;   /* ever reported BUSY or a use count */
	int killed;   /* signalled at shutdown */
	int unix_svc; /* of a unix (back-end) service */
};

TAILQ_HEAD(master_child_list, master_child);

struct master_service {
	struct master_svc_conf *conf; /* points into master_table */
	int fds[SERVER_MAX_LISTEN];
	int nfds;
	int total;             /* live children of this generation */
	int avail;             /* of those, idle */
	time_t throttle_until; /* 0: not throttled */
	int throttle_delay;    /* seconds, doubles up to the max */
};

extern struct master_child_list master_children;
extern struct master_service *master_services;
extern size_t master_nservices;
extern struct master_conf master_table;
extern uint32_t master_generation;
extern int master_foreground;
extern char **master_overrides;
extern size_t master_noverride;
extern const char *master_confdir;
extern int master_privsep;
extern time_t master_start_time;

/* Counters since master started, per service name (master_status.c). */
#define MASTER_COUNTERS_MAX 256
struct master_counters {
	char name[65];
	uint64_t stat[SERVER_STAT_COUNT];
	uint64_t died; /* children that exited abnormally */
};
extern struct master_counters master_counters[];
extern size_t master_ncounters;

/* master_spawn.c */
int master_spawn(struct master_service *svc);
const char *master_daemon_path(const char *command, char *buf, size_t len);

/* master_status.c */
int master_status_event(struct master_child *child);
void master_reap(void);
void master_retire(struct master_child *child);
void master_throttle_check(time_t now);
int master_live_children(int inet_only);
struct master_counters *master_counters_of(const char *svc_name);

/* master.c */
const char *master_state_name(void);
void master_drain_begin(void);

/* master_ctl.c: the control socket and the metrics listener */
void master_ctl_open(void);
void master_ctl_close(void);
void master_metrics_open(void);
int master_ctl_pollfds(struct pollfd *pfd, void **ctx, size_t max);
void master_ctl_event(void *ctx, short revents);
int master_ctl_timeout(void);

/* master_metrics.c: what dlpgate status and Prometheus show */
void master_render_status(struct buf *out);
void master_render_prometheus(struct buf *out);

#endif
