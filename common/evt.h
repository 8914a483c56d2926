/*
 * evt - operational events: stable codes, fixed texts, one line each
 *
 * Every event a mail administrator may need to find at 3 a.m. has a
 * stable number and a fixed text, declared once in EVT_TABLE below. A line
 * reads
 *	1001 connection accepted (cid=3F9A0C21B7E4 client=127.0.0.1:40312)
 * so that grep '^.*: 2003 ' finds every time no next hop was reachable.
 *
 * The details are key=value pairs. A value that came from a peer (an
 * address from MAIL FROM, a next hop's reply, a DNS answer, a file name
 * in a message) goes through evt_quote(): a token of printable ASCII
 * without space, quote, backslash, '=' or parentheses stays as it is;
 * anything else is put in double quotes, with \" for a quote, \\ for a
 * backslash and \xHH for any other byte outside printable ASCII. So a log
 * parser can always split a line into its pairs, and no peer can add a
 * pair of its own (dlpgate(8), LOGS). evt_quote() returns one of a few
 * static buffers in turn: enough for the values of one line.
 *
 * Ranges: 1xxx client session, 2xxx next hop, 3xxx detector and policies,
 * 4xxx TLS and keystore, 5xxx master and services, 6xxx configuration,
 * 7xxx incidents and notifications, 8xxx DNS and clusters.
 * Numbers are never reused; retire a code by leaving it in the table.
 */
#ifndef DLP_EVT_H
/* clang-format off */
#define EVT_TABLE(X) \
	X(CONN_ACCEPT,		1001, "connection accepted") \
	X(CONN_DENIED,		1002, "connection denied by allow_hosts") \
	X(CONN_CLOSED,		1003, "connection closed") \
	X(CLIENT_TIMEOUT,	1004, "client timeout") \
	X(CLIENT_LOST,		1005, "client lost connection") \
	X(CLIENT_PROTO,		1006, "client protocol error") \
	X(MSG_COMPLETE,		1007, "message complete") \
	X(MSG_REJECTED,		1008, "message rejected") \
	X(CLIENT_LIMIT,		1009, "client limit reached") \
	X(HOP_CONNECTED,	2001, "forward connection established") \
	X(HOP_FAILED,		2002, "next hop connection failed") \
	X(HOP_NONE,		2003, "no next hop reachable") \
	X(HOP_PROTO,		2004, "next hop protocol error") \
	X(HOP_TIMEOUT,		2005, "next hop timeout") \
	X(HOP_LOST,		2006, "next hop lost connection") \
	X(DET_VERDICT,		3001, "detector verdict") \
	X(DET_FAILURE,		3002, "detector failure") \
	X(DET_BADREQ,		3003, "detector request refused") \
	X(DET_STARTED,		3004, "detector ready") \
	/* 3005-3999: detector and policies */ \
	X(POLICY_LOADED,	3005, "policies loaded") \
	X(POLICY_REFUSED,	3006, "policy file refused") \
	X(POLICY_KEPT,		3007, "keeping the last good policies") \
	X(POLICY_NONE,		3008, "no usable policies") \
	X(DET_INCOMPLETE,	3009, "message not scanned completely") \
	X(DET_LOOP,		3010, "message already scanned (loop guard)") \
	X(DET_TIMEOUT,		3011, "scan time limit reached") \
	X(DET_STATE,		3012, "detector state directory problem") \
	X(DET_STALE,		3013, "request skipped, its worker stopped waiting") \
	/* 3101-3199: fingerprint indexes (EDM, IDM) */ \
	X(FP_LOADED,		3101, "fingerprint index loaded") \
	X(FP_REFUSED,		3102, "fingerprint index refused") \
	X(FP_KEPT,		3103, "keeping the last good fingerprint index") \
	X(TLS_DONE,		4001, "TLS handshake completed") \
	X(TLS_FAILED,		4002, "TLS handshake failed") \
	/* 4003-4999: TLS, tlsmgr, keystore */ \
	X(KS_CREATED,		4003, "keystore created") \
	X(KS_LOADED,		4004, "keystore loaded") \
	X(KS_ERROR,		4005, "keystore error") \
	X(CERT_EXPIRING,	4006, "certificate expires soon") \
	X(CERT_EXPIRED,		4007, "certificate expired") \
	X(TLSMGR_REFUSED,	4008, "tlsmgr request refused") \
	X(TLS_UNAVAILABLE,	4009, "TLS unavailable") \
	X(HOP_TLS_FAILED,	4010, "next hop TLS required but not established") \
	X(TLS_DISCARDED,	4011, "plaintext after STARTTLS discarded") \
	X(TLSMGR_READY,		4012, "tlsmgr ready") \
	X(HOP_TLS_PLAIN,	4013, "next hop without TLS") \
	X(HOP_TLS_NO_CCERT,	4014, "next hop asked for a client certificate, none sent") \
	X(TLS_NOT_OFFERED,	4015, "STARTTLS not offered: the next hop cannot mirror it") \
	X(MASTER_START,		5001, "master started") \
	X(MASTER_STOP,		5002, "master stopping") \
	X(MASTER_RELOAD,	5003, "master reloaded configuration") \
	X(CHILD_DIED,		5004, "child exited abnormally") \
	X(SVC_THROTTLE,		5005, "service throttled") \
	X(SVC_RESUME,		5006, "service resumed") \
	X(PRIVSEP_OFF,		5007, "privilege separation off") \
	X(MASTER_DONE,		5008, "master stopped") \
	X(CHILD_KILLED,		5009, "child killed at shutdown") \
	X(PEER_BAD,		5010, "peer process misbehaved") \
	/* 5011-5999: master and operations */ \
	X(MASTER_DRAIN,		5011, "master draining") \
	X(CTL_DENIED,		5012, "control connection refused") \
	X(METRICS_ON,		5013, "metrics listener started") \
	X(SECRET_UNSAFE,	5014, "secret file not private to tlsmgr") \
	X(CONF_ERROR,		6001, "configuration error") \
	X(CONF_DEFAULTS,	6002, "configuration file missing, using defaults") \
	X(CONF_RELOAD_BAD,	6003, "new configuration refused, keeping the old") \
	/* 7000-7999: incidents and notifications */ \
	X(INCIDENT,		7001, "incident recorded") \
	X(INCIDENT_FAIL,	7002, "incident log write failed") \
	X(NOTIFY_QUEUED,	7003, "notification queued") \
	X(NOTIFY_SENT,		7004, "notification sent") \
	X(NOTIFY_DEFER,		7005, "notification deferred") \
	X(NOTIFY_EXPIRED,	7006, "notification given up") \
	X(NOTIFY_FAIL,		7007, "notification could not be queued") \
	X(INCIDENT_SYSLOG_FAIL,	7008, "incident not sent to syslog") \
	/* 8000-8999: DNS, PROXY protocol, clusters */ \
	X(DNS_RESOLVED,		8001, "next hop domain resolved") \
	X(DNS_TEMPFAIL,		8002, "next hop DNS lookup failed") \
	X(DNS_NOTFOUND,		8003, "next hop domain has no address") \
	X(DNS_BADREPLY,		8004, "DNS reply refused") \
	X(DNS_NOSERVER,		8005, "no DNS server configured") \
	X(HOP_LOOP,		8006, "next hop loops back to myself") \
	X(PROXY_REFUSED,	8101, "PROXY header refused") \
	X(PROXY_UNAUTH,		8102, "PROXY peer not in proxy_protocol_hosts") \
	X(XFWD_REFUSED,		8201, "XFORWARD refused") \
	X(XCLIENT_REFUSED,	8202, "XCLIENT refused")
/* clang-format on */

enum evt_code {
#define EVT_ENUM(name, code, text) EVT_##name = code,
	EVT_TABLE(EVT_ENUM)
#undef EVT_ENUM
};

#define DLP_EVT_H
#include "msg.h"

const char *evt_text(enum evt_code code);
const char *evt_quote(const char *value);
const char *evt_quote_len(const char *value, size_t len);
void evt_log(enum msg_level level, enum evt_code code, const char *cid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define evt_info(code, cid, ...)  evt_log(MSG_INFO, EVT_##code, cid, __VA_ARGS__)
#define evt_warn(code, cid, ...)  evt_log(MSG_WARN, EVT_##code, cid, __VA_ARGS__)
#define evt_error(code, cid, ...) evt_log(MSG_ERROR, EVT_##code, cid, __VA_ARGS__)

#endif
