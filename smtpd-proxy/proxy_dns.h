/*
 * proxy_dns - next-hop lookups with ldns: MX, A and AAAA, a bounded cache
 *
 * proxy_dns_init() reads dns_servers (or the nameservers of
 * /etc/resolv.conf) once per process. Names are always absolute: no
 * search list, no "ndots", as an MTA looks up a mail domain.
 *
 * proxy_dns_mx() resolves a mail domain the way RFC 5321 section 5.1 says:
 * its MX records, lowest preference first and hosts of equal preference
 * in a fresh random order for every call, each exchanger's A then AAAA
 * addresses; the domain's own addresses when it has no MX at all; and no
 * delivery for a null MX (RFC 7505). proxy_dns_host() gives one host's
 * A and AAAA addresses. Both fill a dns_result whose addresses carry port
 * 0 (the caller sets it) and whose answer text says what DNS said, for
 * the log and for the client's 451.
 *
 * The whole lookup of one name (MX and every address query, every server
 * and retry) runs within dns_timeout. Replies are hostile input: a reply
 * must come from the server asked, echo our random query id and question,
 * and parse; anything else is dropped and, past a few, the server counts
 * as failed. Answers are cached per process for their TTL, bounded by
 * dns_cache_max_ttl and dns_cache_size entries; temporary failures never
 * are.
 */
#ifndef DLP_PROXY_DNS_H
#define DLP_PROXY_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_HOSTS_MAX 32  /* MX exchangers kept per domain */
#define DNS_ADDRS_MAX 64  /* addresses kept per domain */
#define DNS_NAME_MAX  254 /* a host name and its NUL */

enum dns_status {
	DNS_OK = 0,   /* one address or more */
	DNS_NOTFOUND, /* NXDOMAIN, null MX, no address at all */
	DNS_TEMPFAIL, /* SERVFAIL, REFUSED, timeout, bad replies */
};

struct dns_target {
	struct sockaddr_storage sa; /* port 0 */
	socklen_t salen;
	uint16_t pref;           /* MX preference; 0 for a plain host */
	char host[DNS_NAME_MAX]; /* the exchanger or host name */
};

struct dns_result {
	enum dns_status status;
	int cached;       /* answered from the cache */
	int null_mx;      /* the domain said "no mail" */
	uint32_t ttl;     /* seconds this result may be kept */
	char answer[512]; /* what DNS said, one line */
	size_t ntarget;
	struct dns_target target[DNS_ADDRS_MAX];
};

void proxy_dns_init(void);
void proxy_dns_mx(const char *cid, const char *domain, struct dns_result *res);
void proxy_dns_host(const char *cid, const char *host, struct dns_result *res);
const char *proxy_dns_status_name(enum dns_status status);

#endif
