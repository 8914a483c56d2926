/*
 * server - the child side of the master protocol, and a prefork skeleton
 *
 * master starts every daemon (smtpd-proxy, detector, tlsmgr) with:
 *	fd 5		a SOCK_SEQPACKET status socket, one per child
 *	fd 6...		the service's listen sockets, non-blocking
 *	-n name -t inet|unix -g generation -l nlisten -u max_use -i max_idle
 *	-c confdir [-U user] [-R chroot] [-f] [-o name=value]...
 *
 * The child reports {pid, generation, state, use_count} records on fd 5:
 * IDLE when it can take a connection, BUSY while it serves one. EOF on fd
 * 5 means master died, reloaded, or is stopping: the child finishes its
 * current session and exits. So does a child that reached max_use
 * sessions or stayed idle for max_idle seconds.
 *
 * When master dies (kill -9, a crash) a child learns it at once, even in
 * a session: the kernel sends it SERVER_MASTER_DIED_SIG (PR_SET_PDEATHSIG).
 * It then lets go of its listen sockets (the fds are replaced by an
 * unbound socket, so their numbers stay taken), so that the addresses
 * are free for a new master at once and new clients are refused instead
 * of waiting in a backlog nobody accepts from, and finishes its session.
 *
 * server_init() parses the arguments, opens the log, loads the
 * configuration and drops privileges (the child starts as root when
 * master does, chroots if asked, then becomes the service's user).
 * server_single_loop() is the Postfix single_server: one connection at a
 * time, accepted by whichever idle child wakes first. server_multi_loop()
 * serves many long-lived connections (the workers' connections to the
 * detector), one readable connection at a time: on_accept() vets a new
 * one, on_readable() handles one request; either returns -1 to drop the
 * connection. A multi server stays IDLE for master (it can always take
 * more; its first connection shows in the use count), so its pool is
 * process_min_avail processes. After EOF from master, or max_use
 * connections, it stops accepting and exits when its last client is gone;
 * at max_use it reports DONE first, so that master counts it no more and
 * starts another while the connected clients keep it. A daemon
 * with needs of its own (tlsmgr) may run its own event loop with
 * server_report() and server_master_gone().
 *
 * Counters (dlpgate status, Prometheus metrics): a role adds to them with
 * server_stats_add(); server_stats_flush() sends what was added since the
 * last flush to master as one SERVER_REC_STATS record (tag = counter + 1,
 * u64 delta). A status record carries what was added too (tag =
 * SERVER_TAG_STATS + counter + 1): server_single_loop() reports a session's
 * counters with the IDLE that ends it, one record and one wakeup of master
 * instead of two. A long session sends its counters once a second. The
 * counters are cheap: nothing is sent when nothing changed.
 *
 * With a chroot (master.conf chroot field), a run_directory inside the
 * chroot directory is seen from inside it: chroot = run_directory makes
 * the private sockets reachable as /private/... after the chroot.
 */
#ifndef DLP_SERVER_H
#define DLP_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#define SERVER_STATUS_FD       5
#define SERVER_LISTEN_FD       6
#define SERVER_MAX_LISTEN      32
#define SERVER_MASTER_DIED_SIG SIGUSR2 /* from the kernel: master is gone */
#define SERVER_MAX_CONN_FD     4096    /* multi servers: connections per process */

/* Record types on the status socket. */
#define SERVER_REC_STATUS 1 /* child -> master */
#define SERVER_REC_STATS  2 /* child -> master: counters (ops) */

/* Attribute tags of SERVER_REC_STATUS. */
#define SERVER_TAG_PID        1
#define SERVER_TAG_GENERATION 2
#define SERVER_TAG_STATE      3
#define SERVER_TAG_USE_COUNT  4
#define SERVER_TAG_STATS      16 /* + counter + 1: counters riding along */

/* Counters of SERVER_REC_STATS; the record's tag is the counter + 1. */
/* clang-format off */
#define SERVER_STATS_TABLE(X) \
	X(SESSIONS,	"sessions",		"SMTP sessions accepted") \
	X(MESSAGES,	"messages",		"messages whose content was received") \
	X(BYTES,	"bytes",		"bytes of message content received") \
	X(PASS,		"verdict_pass",		"messages passed") \
	X(BLOCK,	"verdict_block",	"messages blocked") \
	X(REDIRECT,	"verdict_redirect",	"messages redirected") \
	X(MODIFY,	"verdict_modify",	"messages modified") \
	X(TEMPFAIL,	"verdict_tempfail",	"messages deferred (4xx)") \
	X(REJECTED,	"rejected",		"messages refused before the scan (size, lines)") \
	X(TLS_IN,	"tls_in",		"TLS sessions with clients") \
	X(TLS_OUT,	"tls_out",		"TLS sessions with next hops") \
	X(DET_FAIL,	"detector_failures",	"detector unreachable or late")
/* clang-format on */

enum server_stat {
#define SERVER_STAT_ENUM(name, word, help) SERVER_STAT_##name,
	SERVER_STATS_TABLE(SERVER_STAT_ENUM)
#undef SERVER_STAT_ENUM
		SERVER_STAT_COUNT
};

/* Largest delta master believes in one record (a lie retires the child). */
#define SERVER_STAT_DELTA_MAX (1ULL << 48)

enum server_state {
	SERVER_IDLE = 1,
	SERVER_BUSY = 2,
	SERVER_DONE = 3, /* takes no new connections: retire me */
};

struct server {
	const char *role; /* "smtpd-proxy" */
	char *service;    /* service name in master.conf */
	char *type;       /* "inet" or "unix" */
	uint32_t generation;
	int nlisten;
	int max_use;  /* 0: no limit */
	int max_idle; /* seconds; 0: no limit */
	int foreground;
	char *user; /* NULL: privilege separation off */
	char *chroot_dir;
	unsigned use_count;
	volatile sig_atomic_t master_gone; /* also set by a signal handler */
};

extern struct server server;

/*
 * Called once the configuration is loaded, before chroot and before
 * privileges are dropped (Postfix's pre_init): a daemon opens or creates
 * what its unprivileged user needs (tlsmgr reads its keystore, the
 * detector creates its state and spool directories). NULL: nothing.
 */
extern void (*server_pre_init)(void);

void server_init(int argc, char **argv, const char *role);
void server_report(enum server_state state);
int server_master_gone(void);
void server_multi_loop(int (*on_accept)(int fd), int (*on_readable)(int fd));
void server_single_loop(void (*serve)(int fd, const struct sockaddr *sa, socklen_t salen,
				      int listen_index));
void server_title(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void server_stats_add(enum server_stat stat, uint64_t n);
void server_stats_flush(void);
const char *server_stat_name(enum server_stat stat);
const char *server_stat_help(enum server_stat stat);

#endif
