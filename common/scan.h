/*
 * scan - the smtpd-proxy <-> detector contract
 *
 * A worker asks the detector for a verdict with one SCAN_REQ record on a
 * SOCK_SEQPACKET connection to run_directory/private/detector. The
 * message, exactly as the client sent it after un-stuffing (CRLF line
 * ends), is the SCAN_TAG_MESSAGE attribute when it is at most
 * SCAN_MSG_INLINE_MAX bytes and the record has room (most mail: no
 * descriptor to create, fill, pass, read and free), else a sealed memfd
 * that travels with the record (SCM_RIGHTS); so is a message whose
 * record the socket refused as too long (a send buffer below the record). The envelope, in the text form below, is
 * the SCAN_TAG_ENVELOPE attribute when it fits in SCAN_ENV_INLINE_MAX
 * bytes, else a sealed memfd after the message's (if any). The detector
 * answers one SCAN_VERDICT or SCAN_ERROR record.
 *
 * Envelope form: one "key<TAB>value" per line, values without control
 * characters; "rcpt" repeats and carries "<address><TAB>params":
 *	cid	3F9A0C21B7E4
 *	client_addr	127.0.0.1
 *	client_port	40312
 *	client_name	unknown
 *	helo	mta.example.com
 *	tls_in	TLSv1.3
 *	mail_from	<alice@example.com>
 *	mail_params	SIZE=1234 BODY=8BITMIME
 *	rcpt	<bob@example.net>	NOTIFY=FAILURE
 *
 * scan_memfd_* create, seal and check the memfds: the receiver refuses a
 * descriptor that is not a memfd sealed against writes, growth and
 * shrinking, or whose size differs from the one announced.
 */
#ifndef DLP_SCAN_H
#define DLP_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define SCAN_SOCKET "private/detector"

/* Record types. */
#define SCAN_REQ     1
#define SCAN_VERDICT 2
#define SCAN_ERROR   3

/* SCAN_REQ attributes (fds: [message when not inline,] [envelope when not inline]). */
#define SCAN_TAG_CID      1 /* str */
#define SCAN_TAG_MSG_SIZE 2 /* u64 */
#define SCAN_TAG_ENV_SIZE 3 /* u64 */
#define SCAN_TAG_DEADLINE 4 /* u32 seconds the worker will wait */
#define SCAN_TAG_ENVELOPE 5 /* the envelope text, when it fits */
#define SCAN_TAG_MESSAGE  6 /* the message, when it fits */

#define SCAN_ENV_INLINE_MAX (48 * 1024)
#define SCAN_MSG_INLINE_MAX (192 * 1024)
#define SCAN_REQ_ROOM       1024 /* a record's other attributes, at most */

/* SCAN_VERDICT attributes. */
#define SCAN_TAG_ACTION   10 /* u32 enum scan_action */
#define SCAN_TAG_REPLY    11 /* str "550 5.7.1 text" (block) */
#define SCAN_TAG_RCPT     12 /* str, repeated: redirect addresses */
#define SCAN_TAG_HEADER   13 /* str, repeated: "Name: value" to prepend */
#define SCAN_TAG_SUBJECT  14 /* str: the new Subject value */
#define SCAN_TAG_POLICY   15 /* str, repeated: policies that fired */
#define SCAN_TAG_SEVERITY 16 /* str */
#define SCAN_TAG_INCIDENT 17 /* str: incident id */
#define SCAN_TAG_REASON   18 /* str: SCAN_ERROR reason */

#define SCAN_MAX_RCPT     1000000
#define SCAN_MAX_HEADERS  32
#define SCAN_MAX_REDIRECT 32
#define SCAN_ADDR_MAX     512
#define SCAN_PARAMS_MAX   1024 /* MAIL or RCPT parameters, with the NUL */
/* the longest line a worker writes: "rcpt\t" address "\t" parameters */
#define SCAN_LINE_MAX     (16 + SCAN_ADDR_MAX + SCAN_PARAMS_MAX)

enum scan_action {
	SCAN_PASS = 1,
	SCAN_BLOCK = 2,
	SCAN_REDIRECT = 3,
	SCAN_MODIFY = 4,
	SCAN_TEMPFAIL = 5,
};

struct env_rcpt {
	char *addr;   /* with angle brackets */
	char *params; /* "" when none */
};

struct envelope {
	char cid[32];
	char client_addr[64];
	int client_port;
	char client_name[256];
	char helo[256];
	char tls_in[64];
	char *mail_from; /* with angle brackets */
	char *mail_params;
	struct env_rcpt *rcpt;
	size_t nrcpt;
};

const char *scan_action_name(enum scan_action action);
void envelope_init(struct envelope *env);
void envelope_free(struct envelope *env);
void envelope_reset_mail(struct envelope *env);
void envelope_add_rcpt(struct envelope *env, const char *addr, const char *params);
void envelope_format(const struct envelope *env, struct buf *out);
int envelope_parse(struct envelope *env, const char *text, size_t len, char *err,
		   size_t errlen);

int scan_memfd_create(const char *name);
int scan_memfd_seal(int fd);
int scan_memfd_check(int fd, uint64_t size, char *err, size_t errlen);
int scan_memfd_from(const char *name, const void *data, size_t len);

#endif
