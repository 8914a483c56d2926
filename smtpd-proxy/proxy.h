/*
 * proxy - one SMTP session, from the sending MTA to the next hop
 *
 * smtpd-proxy.c	the process: start-up, one session per accepted client
 * proxy_session.c	the client side: commands, state machine, pipelining
 * proxy_chat.c		every reply to the client, in order; the hang-up rule
 * proxy_nexthop.c	choosing and connecting the next hop, its EHLO and
 *			STARTTLS, dropping it when it fails
 * proxy_reply.c	reading and checking next-hop replies
 * proxy_xforward.c	XFORWARD attributes: checked, rebuilt, replayed
 * proxy_transaction.c	DATA: spool, ask the detector, apply the verdict
 * proxy_data.c		the content: spooling it, sending it on
 * proxy_detect.c	asking the detector for a verdict
 * proxy_dns.c		MX, A and AAAA lookups with ldns (proxy_dns.h)
 * proxy_haproxy.c	the PROXY protocol from a load balancer (proxy_haproxy.h)
 * proxy_tls.c		STARTTLS and implicit TLS from clients, TLS to next hops
 *
 * The proxy never queues and never answers a message on the next hop's
 * behalf: the client's end of data is answered with the next hop's own
 * final reply (or a 4xx/5xx of ours when the message did not go).
 *
 * Who calls whom (no circle): session -> transaction -> chat -> nexthop
 * -> reply, tls; xforward -> reply; tls, reply, data, detect, dns call
 * none of the others.
 */
#ifndef DLP_PROXY_H
#define DLP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "inet.h"
#include "scan.h"
#include "stream.h"

/* Protocol bounds of next-hop replies: RFC 5321 4.5.3.1.5, 512 with CRLF. */
#define PROXY_REPLY_LINE_MAX  510
#define PROXY_REPLY_LINES_MAX 200

#define PROXY_XFWD_CMDS_MAX 8 /* XFORWARD commands per transaction */

/* Next-hop extensions we can carry (bit flags). */
#define CAP_8BITMIME   (1u << 0)
#define CAP_SIZE       (1u << 1)
#define CAP_DSN        (1u << 2)
#define CAP_PIPELINING (1u << 3)
#define CAP_ENHANCED   (1u << 4)
#define CAP_HELP       (1u << 5)
#define CAP_VRFY       (1u << 6)
#define CAP_SMTPUTF8   (1u << 7)
#define CAP_XFORWARD   (1u << 8)
#define CAP_STARTTLS   (1u << 9)

/* The client side of a session, one state at a time (proxy_enter_state). */
enum proxy_state {
	PS_CONNECTED, /* before the banner */
	PS_GREETED,   /* banner sent, no HELO/EHLO yet */
	PS_READY,     /* HELO/EHLO done, no transaction */
	PS_MAIL,      /* MAIL sent or accepted */
	PS_QUIT,      /* QUIT seen or session over */
};

/* What an internal status tells the client (proxy_chat.c has the table). */
enum proxy_stat {
	PROXY_STAT_HOP_PROTO,  /* 451 4.3.0 next hop protocol error */
	PROXY_STAT_HOP_LOST,   /* 421 4.4.2 lost connection to next hop */
	PROXY_STAT_HOP_GONE,   /* 421 4.4.2 it failed earlier */
	PROXY_STAT_HOP_SEND,   /* 451 4.4.2 the content did not all go */
	PROXY_STAT_HOP_TLS,    /* 421 4.7.5 gone after its TLS failed */
	PROXY_STAT_TIMEOUT,    /* 421 4.4.2 client timeout */
	PROXY_STAT_ERRORS,     /* 421 4.7.0 too many errors */
	PROXY_STAT_RESOURCE,   /* 451 4.3.0 no memfd */
	PROXY_STAT_SCAN_DEFER, /* 451 4.3.0 the detector said tempfail */
	PROXY_STAT_SCAN_FAIL,  /* 451 4.3.0 no detector */
	PROXY_STAT_TOOBIG,     /* 552 5.3.4 message_size_limit */
	PROXY_STAT_LONGLINE,   /* 554 5.6.0 line_length_limit */
	PROXY_STAT_BARE,       /* 554 5.6.0 bare CR or LF */
	PROXY_STAT_HEADER,     /* 554 5.6.0 a header section not ended right */
};

/* A parsed next-hop reply, kept verbatim for relaying. */
struct smtp_reply {
	int code;        /* 200..599 */
	struct buf text; /* the lines, each ending in CRLF */
	int nlines;
	char first[PROXY_REPLY_LINE_MAX + 1]; /* first line, for logs */
};

/* Why a next-hop exchange failed. */
enum hop_status {
	HOP_OK = 0,
	HOP_GARBLED = -1, /* malformed or unexpected reply */
	HOP_LOST = -2,
	HOP_TIMEOUT = -3,
};

/* The detector's answer, checked before use. */
struct verdict {
	enum scan_action action;
	char reply[512]; /* block: "550 5.7.1 text" */
	char **rcpt;     /* redirect */
	size_t nrcpt;
	char **headers; /* "Name: value" to prepend */
	size_t nheaders;
	char *subject;      /* modify: the new Subject value */
	char policies[512]; /* for logs */
};

struct proxy_session {
	char cid[16];
	struct stream *client;
	struct stream *hop;
	struct sockaddr_storage client_sa;
	char client_addr[INET6_ADDRSTRLEN];
	int client_port;
	char hop_name[300]; /* "host[addr]:port" for logs */
	enum proxy_state state;
	int hangup;      /* said 421 or 521: nothing more */
	int esmtp;       /* client said EHLO */
	int errors;      /* hard errors so far */
	int junk;        /* junk commands so far */
	int out_of_turn; /* times the client did not wait */
	int hop_dead;    /* next hop unusable: 421 and close */
	int ehlo_sent;   /* our EHLO went out after the greeting, unanswered */
	unsigned hop_caps;
	long long hop_size;    /* next hop's SIZE; 0: none given */
	struct envelope env;   /* sender and accepted recipients */
	int mail_ok;           /* next hop accepted MAIL */
	size_t rcpt_tried;     /* RCPTs sent this transaction */
	unsigned messages;     /* transactions completed */
	const char *helo_name; /* ours */
	struct timespec t_start;

	/* forwarding and clusters */
	struct sockaddr_storage local_sa; /* our end of the client's TCP */
	socklen_t local_salen;            /* 0: unknown */
	char via[INET_ADDRSTR];           /* load balancer of a PROXY header, or "" */
	int xforward_ok;                  /* client may send XFORWARD */
	struct buf xforward;              /* XFORWARD commands of this transaction */
	int nxforward;                    /* ... how many */
	char hop_refusal[512];            /* greeting when no next hop answered */

	/* TLS (proxy_tls.c) */
	int tls_client;     /* client side is inside TLS */
	int tls_hop;        /* next-hop side is inside TLS */
	int tls_hop_plain;  /* outbound_tls = may gave up on TLS */
	int tls_hop_failed; /* TLS to the next hop failed: it is gone */
};

/* A client command relayed to the next hop, waiting for its reply. */
struct pending {
	const struct proxy_cmd *cmd; /* NULL: a reply of ours */
	char *local;                 /* our reply; NULL: the next hop's */
	char *addr;                  /* MAIL, RCPT */
	char *params;
};

/* A client command: one row of proxy_session.c's table. */
struct proxy_cmd {
	const char *name; /* NULL: any command not in the table */
	void (*action)(struct proxy_session *, const struct proxy_cmd *, const char *arg);
	/* what a next-hop reply to it means for the session; NULL: nothing */
	void (*replied)(struct proxy_session *, const struct pending *,
			const struct smtp_reply *);
	unsigned flags;
	const char *positive; /* relayed: the 2xx it may get, "250 251" */
};

#define CMD_BATCH     (1u << 0) /* may wait in a pipelined group */
#define CMD_PRE_TLS   (1u << 1) /* allowed before STARTTLS (encrypt) */
#define CMD_NEED_HELO (1u << 2) /* 503 before HELO/EHLO */
#define CMD_NEED_MAIL (1u << 3) /* 503 outside a MAIL transaction */
#define CMD_JUNK      (1u << 4) /* free to send, may be repeated forever */
#define CMD_NO_HOP    (1u << 5) /* answered even when the next hop is gone */
#define CMD_LAST      (1u << 6) /* must end a pipelined group (RFC 2920) */
#define CMD_FORBIDDEN (1u << 7) /* no SMTP at all: close at once */

/* proxy_session.c */
void proxy_session_run(struct proxy_session *s);

/* proxy_chat.c */
void proxy_enter_state(struct proxy_session *s, enum proxy_state state);
void proxy_chat_reply(struct proxy_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void proxy_chat_final(struct proxy_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void proxy_chat_relay(struct proxy_session *s, const struct smtp_reply *r);
void proxy_chat_text(struct proxy_session *s, const struct buf *b);
const char *proxy_chat_stat(struct proxy_session *s, enum proxy_stat stat);
const char *proxy_chat_hop_failed(struct proxy_session *s, int status, const char *doing);
void proxy_chat_send(struct proxy_session *s, const struct proxy_cmd *cmd, const char *addr,
		     const char *params, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void proxy_chat_collect(struct proxy_session *s);
int proxy_chat_flush(struct proxy_session *s);
size_t proxy_chat_pending(void);
void proxy_chat_dialogue(struct proxy_session *s, const char *banner,
			 const char *(*answer)(struct proxy_session *s, const char *line));
void proxy_chat_refuse(struct proxy_session *s);

/* proxy_transaction.c */
int proxy_transaction(struct proxy_session *s);
void proxy_reset_mail(struct proxy_session *s);

/* proxy_xforward.c */
const char *proxy_xforward_build(const char *arg, struct buf *out);
void proxy_xforward_keep(struct proxy_session *s, const char *cmd);
void proxy_xforward_reset(struct proxy_session *s);
int proxy_xforward_replay(struct proxy_session *s);

/* proxy_nexthop.c */
int proxy_hop_connect(struct proxy_session *s, struct smtp_reply *banner);
int proxy_hop_ehlo(struct proxy_session *s, struct smtp_reply *r);
void proxy_hop_ehlo_early(struct proxy_session *s);
void proxy_hop_ehlo_drop(struct proxy_session *s);
void proxy_hop_close(struct proxy_session *s);
void proxy_hop_failed(struct proxy_session *s, int status, const char *doing);

/* proxy_tls.c */
enum hop_level {
	HOP_TLS_NONE,
	HOP_TLS_MAY,
	HOP_TLS_ENCRYPT,
	HOP_TLS_VERIFY,
	HOP_TLS_SECURE,
};
int proxy_tls_offer(struct proxy_session *s);
int proxy_tls_client_ok(struct proxy_session *s);
int proxy_tls_server_ready(struct proxy_session *s);
int proxy_tls_accept(struct proxy_session *s, const char *how);
int proxy_tls_wrapper(struct proxy_session *s);
enum hop_level proxy_tls_level(const struct proxy_session *s);
const char *proxy_tls_level_name(enum hop_level level);
int proxy_tls_hop_handshake(struct proxy_session *s, enum hop_level level, char *why,
			    size_t len);
void proxy_tls_mirror_failed(struct proxy_session *s, const char *why);

/* proxy_reply.c */
void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
int proxy_read_reply(struct proxy_session *s, struct smtp_reply *r, int timeout);
int proxy_hop_reply(struct proxy_session *s, struct smtp_reply *r, int timeout,
		    const char *positive);
int proxy_hop_quiet(struct proxy_session *s);
const char *hop_strerror(int status);

/* proxy_data.c */
enum data_status {
	DATA_OK = 0,
	DATA_TOOBIG,   /* over message_size_limit */
	DATA_LONGLINE, /* a line over line_length_limit */
	DATA_BARE,     /* bare CR or LF */
	DATA_HEADER,   /* a line that is no header field (reject) */
	DATA_LOST,     /* client gone: no reply possible */
	DATA_TIMEOUT,  /* client silent for smtpd_data_timeout */
	DATA_RESOURCE, /* no memfd for a large message */
};

/*
 * A message's content: a small one stays in memory (and rides to the
 * detector inside its request), a larger one goes to a memfd, sealed
 * before the scan.
 */
struct proxy_spool {
	int fd; /* the memfd, or -1: the content is in mem */
	struct buf mem;
	size_t size; /* bytes of content */
};
void proxy_spool_init(struct proxy_spool *sp);
void proxy_spool_free(struct proxy_spool *sp);
int proxy_spool_seal(struct proxy_spool *sp);
int proxy_data_receive(struct proxy_session *s, struct proxy_spool *sp);
int proxy_data_send(struct proxy_session *s, const struct proxy_spool *sp,
		    const struct verdict *v);

/* proxy_detect.c */
int proxy_detect(struct proxy_session *s, const struct proxy_spool *sp, struct verdict *v);
void verdict_free(struct verdict *v);

#endif
