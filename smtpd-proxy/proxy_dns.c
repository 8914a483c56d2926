/*
 * proxy_dns - next-hop lookups with ldns: MX, A and AAAA, a bounded cache
 *
 * See proxy_dns.h. ldns builds and parses the packets; the transport is
 * ours, so that every wait is bounded by one deadline and every reply is
 * checked before it is believed: a connected UDP socket (the kernel drops
 * datagrams from other peers), a random query id, the question echoed,
 * TCP when the answer is truncated. A server that answers SERVFAIL,
 * REFUSED or garbage, or is unreachable, is not asked again for that
 * query; one that is silent is retried while the time budget lasts.
 *
 * Names in answers are checked as host names; CNAME chains inside an
 * answer are followed (at most DNS_CNAME_MAX links, re-querying the last
 * target when the answer stops there). Every count is bounded: servers,
 * records per answer, exchangers, addresses.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <ldns/ldns.h>

#include "conf_params.h"
#include "evt.h"
#include "inet.h"
#include "mem.h"
#include "msg.h"
#include "proxy_dns.h"

#define DNS_SERVERS_MAX 8    /* servers asked, in turn */
#define DNS_CNAME_MAX   8    /* CNAME links followed per name */
#define DNS_RR_MAX      64   /* records used from one answer */
#define DNS_BOGUS_MAX   8    /* unmatched datagrams before giving up */
#define DNS_EDNS_SIZE   1232 /* our EDNS0 UDP payload size */
#define DNS_TRY_MIN_MS  500  /* shortest wait for one reply */

struct dns_server {
	struct sockaddr_storage sa;
	socklen_t salen;
	char name[INET_ADDRSTR];
};

static struct dns_server dns_srv[DNS_SERVERS_MAX];
static size_t dns_nsrv;
static int dns_inited;
static uint8_t dns_rbuf[65536];

/* What one question got, after CNAMEs. */
enum dns_kind {
	LK_DATA,     /* records of the type asked */
	LK_NODATA,   /* the name exists, without such records */
	LK_NXDOMAIN, /* the name does not exist */
	LK_FAIL,     /* no usable answer in time */
};

struct dns_rr {
	uint16_t pref;              /* MX */
	char name[DNS_NAME_MAX];    /* MX exchanger, "" for the root */
	struct sockaddr_storage sa; /* A, AAAA */
	socklen_t salen;
};

struct dns_rrset {
	enum dns_kind kind;
	uint32_t ttl; /* positive or negative TTL; 0: don't keep */
	size_t count; /* usable records */
	size_t seen;  /* records of the type, usable or not */
	struct dns_rr rr[DNS_RR_MAX];
	char why[200]; /* LK_FAIL: what went wrong */
};

/* Lookup results kept per process. */
struct dns_cache_entry {
	char kind; /* 'M' MX lookup, 'H' host lookup */
	char name[DNS_NAME_MAX];
	int64_t expires; /* monotonic ms */
	struct dns_result res;
};

static struct dns_cache_entry **dns_cache;
static size_t dns_cache_len;
static const char *dns_cid; /* the session a lookup is for, for logs */

/* dns_now_ms - a monotonic clock in milliseconds */
static int64_t dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* proxy_dns_status_name - a word for a status, for logs */
const char *proxy_dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK:
		return "ok";
	case DNS_NOTFOUND:
		return "not found";
	case DNS_TEMPFAIL:
		return "temporary failure";
	}
	return "unknown";
}

/* dns_add_server - one server from dns_servers or resolv.conf */
static void dns_add_server(const struct sockaddr *sa, socklen_t len)
{
	struct dns_server *srv;

	if (dns_nsrv >= DNS_SERVERS_MAX || len > sizeof(srv->sa))
		return;
	srv = &dns_srv[dns_nsrv++];
	memcpy(&srv->sa, sa, len);
	srv->salen = len;
	inet_addr_str(sa, srv->name, sizeof(srv->name));
}

/* dns_servers_from_conf - parse dns_servers */
static void dns_servers_from_conf(void)
{
	for (size_t i = 0; i < var_dns_servers.count; i++) {
		char host[256], port[32];
		struct addrinfo hints, *ai;

		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		hints.ai_socktype = SOCK_DGRAM;
		if (inet_split_hostport(var_dns_servers.items[i], host, sizeof(host), port,
					sizeof(port), "53")
			    < 0
		    || getaddrinfo(host, port, &hints, &ai) != 0) {
			msg_warn("dns_servers: ignoring \"%s\"", var_dns_servers.items[i]);
			continue;
		}
		dns_add_server(ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
	}
}

/* dns_servers_from_resolv - the nameservers of /etc/resolv.conf */
static void dns_servers_from_resolv(void)
{
	ldns_resolver *r = NULL;
	ldns_rdf **ns;

	if (ldns_resolver_new_frm_file(&r, NULL) != LDNS_STATUS_OK || r == NULL)
		return;
	ns = ldns_resolver_nameservers(r);
	for (size_t i = 0; i < ldns_resolver_nameserver_count(r); i++) {
		size_t len = 0;
		struct sockaddr_storage *ss =
			ldns_rdf2native_sockaddr_storage(ns[i], ldns_resolver_port(r), &len);

		if (ss) {
			dns_add_server((struct sockaddr *) ss, (socklen_t) len);
			LDNS_FREE(ss);
		}
	}
	ldns_resolver_deep_free(r);
}

/* proxy_dns_init - the servers we ask, once per process */
void proxy_dns_init(void)
{
	dns_nsrv = 0;
	if (var_dns_servers.count > 0)
		dns_servers_from_conf();
	else
		dns_servers_from_resolv();
	dns_inited = 1;
	if (dns_nsrv == 0)
		evt_warn(DNS_NOSERVER, NULL, "dns_servers=\"%s\" reason=\"%s\"",
			 var_dns_servers.count ? "(set)" : "",
			 var_dns_servers.count ? "no usable address"
					       : "no nameserver in /etc/resolv.conf");
}

/* dns_name_ok - a host name we are willing to connect to or ask about */
static int dns_name_ok(const char *name)
{
	size_t label = 0, len = strlen(name);

	if (len == 0 || len > DNS_NAME_MAX - 1)
		return 0;
	for (const char *cp = name; *cp; cp++) {
		if (*cp == '.') {
			if (label == 0 || label > 63)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char) *cp) || *cp == '-' || *cp == '_') {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0 && label <= 63;
}

/* dns_normalize - lower case, no trailing dot; -1 if not a host name */
static int dns_normalize(const char *in, char *out, size_t len)
{
	size_t n = strlcpy(out, in, len);

	if (n >= len)
		return -1;
	if (n > 1 && out[n - 1] == '.')
		out[--n] = 0;
	for (char *cp = out; *cp; cp++)
		*cp = (char) tolower((unsigned char) *cp);
	return dns_name_ok(out) ? 0 : -1;
}

/* dns_rdf_name - a domain name from a reply, normalized; -1 if unusable */
static int dns_rdf_name(const ldns_rdf *rdf, char *out, size_t len)
{
	char *text;
	int rc;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return -1;
	if ((text = ldns_rdf2str(rdf)) == NULL)
		return -1;
	if (strcmp(text, ".") == 0) {
		*out = 0; /* the root: a null MX */
		rc = 0;
	} else {
		rc = dns_normalize(text, out, len);
	}
	free(text);
	return rc;
}

/* dns_reply_matches - does a parsed packet answer our question? */
static int dns_reply_matches(const ldns_pkt *pkt, uint16_t id, const ldns_rdf *qname,
			     ldns_rr_type type)
{
	const ldns_rr_list *q = ldns_pkt_question(pkt);
	const ldns_rr *rr;

	if (ldns_pkt_id(pkt) != id || !ldns_pkt_qr(pkt)
	    || ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY)
		return 0;
	if (q == NULL || ldns_rr_list_rr_count(q) == 0) {
		/* some servers drop the question from their error replies */
		return ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR
			&& ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NXDOMAIN;
	}
	if (ldns_rr_list_rr_count(q) != 1)
		return 0;
	rr = ldns_rr_list_rr(q, 0);
	return ldns_rr_get_type(rr) == type && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN
		&& ldns_dname_compare(ldns_rr_owner(rr), qname) == 0;
}

/* dns_wait - poll one fd until until_ms; 1 ready (or failed), 0 timeout */
static int dns_wait(int fd, short events, int64_t until_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	for (;;) {
		int64_t left = until_ms - dns_now_ms();

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
		if (n > 0)
			return pfd.revents & POLLNVAL ? -1 : 1; /* errors: the next call says */
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Outcome of one exchange with one server. */
enum dns_xstatus {
	DNSX_OK,      /* *out holds a matching reply */
	DNSX_TIMEOUT, /* silence: may be retried */
	DNSX_DOWN,    /* unreachable or talking garbage */
	DNSX_TRUNC,   /* UDP answer truncated: use TCP */
};

/* dns_parse - parse and match a reply; DNSX_OK, or -1 to keep waiting */
static int dns_parse(const uint8_t *data, size_t len, uint16_t id, const ldns_rdf *qname,
		     ldns_rr_type type, ldns_pkt **out)
{
	ldns_pkt *pkt = NULL;

	if (len < LDNS_HEADER_SIZE || ldns_wire2pkt(&pkt, data, len) != LDNS_STATUS_OK)
		return -1;
	if (!dns_reply_matches(pkt, id, qname, type)) {
		ldns_pkt_free(pkt);
		return -1;
	}
	*out = pkt;
	return DNSX_OK;
}

/* dns_udp - one query over UDP to one server */
static int dns_udp(const struct dns_server *srv, const uint8_t *q, size_t qlen, uint16_t id,
		   const ldns_rdf *qname, ldns_rr_type type, int64_t until, ldns_pkt **out,
		   char *why, size_t whylen)
{
	int fd, bogus = 0, rc = DNSX_TIMEOUT;

	fd = socket(srv->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *) &srv->sa, srv->salen) < 0
	    || send(fd, q, qlen, 0) != (ssize_t) qlen) {
		snprintf(why, whylen, "%s: %s", srv->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return DNSX_DOWN;
	}
	snprintf(why, whylen, "timeout from %s", srv->name);
	while (dns_wait(fd, POLLIN, until) > 0) {
		ssize_t n = recv(fd, dns_rbuf, sizeof(dns_rbuf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			/* ICMP port or host unreachable: nobody serves DNS there */
			snprintf(why, whylen, "%s: %s", srv->name, strerror(errno));
			rc = DNSX_DOWN;
			break;
		}
		if ((rc = dns_parse(dns_rbuf, (size_t) n, id, qname, type, out)) == DNSX_OK) {
			if (ldns_pkt_tc(*out)) {
				ldns_pkt_free(*out);
				*out = NULL;
				rc = DNSX_TRUNC;
			}
			break;
		}
		rc = DNSX_TIMEOUT;
		if (++bogus >= DNS_BOGUS_MAX) {
			evt_warn(DNS_BADREPLY, dns_cid,
				 "server=%s reason=\"%d replies that "
				 "do not parse or do not match the query\"",
				 srv->name, bogus);
			snprintf(why, whylen, "bad replies from %s", srv->name);
			rc = DNSX_DOWN;
			break;
		}
	}
	close(fd);
	return rc;
}

/* dns_tcp_io - read or write exactly len bytes before until */
static int dns_tcp_io(int fd, uint8_t *buf, size_t len, int writing, int64_t until)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (dns_wait(fd, writing ? POLLOUT : POLLIN, until) <= 0)
			return -1;
		n = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
			    : recv(fd, buf + done, len - done, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		done += (size_t) n;
	}
	return 0;
}

/* dns_tcp - one query over TCP to one server (after a truncated reply) */
static int dns_tcp(const struct dns_server *srv, const uint8_t *q, size_t qlen, uint16_t id,
		   const ldns_rdf *qname, ldns_rr_type type, int64_t until, ldns_pkt **out,
		   char *why, size_t whylen)
{
	uint8_t hdr[2];
	uint8_t *msg = xmalloc(qlen + 2);
	int fd, soerr = 0, rc = DNSX_DOWN;
	socklen_t slen = sizeof(soerr);
	size_t rlen;

	fd = socket(srv->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	snprintf(why, whylen, "TCP to %s failed", srv->name);
	if (fd < 0)
		goto out;
	if (connect(fd, (const struct sockaddr *) &srv->sa, srv->salen) < 0
	    && errno != EINPROGRESS)
		goto out;
	if (dns_wait(fd, POLLOUT, until) <= 0
	    || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr) {
		rc = soerr ? DNSX_DOWN : DNSX_TIMEOUT;
		goto out;
	}
	msg[0] = (uint8_t) (qlen >> 8);
	msg[1] = (uint8_t) qlen;
	memcpy(msg + 2, q, qlen);
	if (dns_tcp_io(fd, msg, qlen + 2, 1, until) < 0
	    || dns_tcp_io(fd, hdr, 2, 0, until) < 0) {
		rc = DNSX_TIMEOUT;
		goto out;
	}
	rlen = ((size_t) hdr[0] << 8) | hdr[1];
	if (rlen < LDNS_HEADER_SIZE)
		goto out;
	if (dns_tcp_io(fd, dns_rbuf, rlen, 0, until) < 0) {
		rc = DNSX_TIMEOUT;
		goto out;
	}
	if (dns_parse(dns_rbuf, rlen, id, qname, type, out) == DNSX_OK)
		rc = DNSX_OK;
	else
		snprintf(why, whylen, "bad TCP reply from %s", srv->name);
out:
	if (fd >= 0)
		close(fd);
	free(msg);
	return rc;
}

/* dns_rcode_fails - a reply that says this server cannot answer */
static int dns_rcode_fails(const ldns_pkt *pkt, const char *srv, char *why, size_t whylen)
{
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt);
	const ldns_rr_list *auth = ldns_pkt_authority(pkt);
	int ns = 0, soa = 0;

	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int) rcode);

		snprintf(why, whylen, "%s from %s", lt ? lt->name : "error", srv);
		return 1;
	}
	/* an empty NOERROR that only refers us elsewhere: a lame server */
	for (size_t i = 0; auth && i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(auth, i));

		ns |= t == LDNS_RR_TYPE_NS;
		soa |= t == LDNS_RR_TYPE_SOA;
	}
	if (rcode == LDNS_RCODE_NOERROR && ldns_pkt_ancount(pkt) == 0 && ns && !soa) {
		snprintf(why, whylen, "referral (lame server) from %s", srv);
		return 1;
	}
	return 0;
}

/* dns_query - ask the servers in turn until one answers; NULL on failure */
static ldns_pkt *dns_query(const char *name, ldns_rr_type type, int64_t deadline, char *why,
			   size_t whylen)
{
	char fqdn[DNS_NAME_MAX + 2];
	ldns_rdf *qname;
	ldns_pkt *query, *reply = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	uint16_t id = (uint16_t) arc4random_uniform(65536);
	int failed[DNS_SERVERS_MAX] = {0}, left = (int) dns_nsrv;
	int64_t try_ms;

	if (dns_nsrv == 0) {
		snprintf(why, whylen, "no DNS server configured");
		return NULL;
	}
	snprintf(fqdn, sizeof(fqdn), "%s.", name);
	if ((qname = ldns_dname_new_frm_str(fqdn)) == NULL) {
		snprintf(why, whylen, "bad name");
		return NULL;
	}
	query = ldns_pkt_query_new(ldns_rdf_clone(qname), type, LDNS_RR_CLASS_IN, LDNS_RD);
	if (query) {
		ldns_pkt_set_id(query, id);
		ldns_pkt_set_edns_udp_size(query, DNS_EDNS_SIZE);
	}
	if (query == NULL || ldns_pkt2wire(&wire, query, &wlen) != LDNS_STATUS_OK) {
		snprintf(why, whylen, "cannot build the query");
		goto out;
	}
	try_ms = (int64_t) var_dns_timeout * 1000 / (2 * (int64_t) dns_nsrv);
	if (try_ms < DNS_TRY_MIN_MS)
		try_ms = DNS_TRY_MIN_MS;
	snprintf(why, whylen, "timeout");
	while (left > 0 && reply == NULL && dns_now_ms() < deadline) {
		for (size_t i = 0; i < dns_nsrv && reply == NULL; i++) {
			int64_t until = dns_now_ms() + try_ms;
			int rc;

			if (failed[i])
				continue;
			if (until > deadline)
				until = deadline;
			if (until <= dns_now_ms())
				break;
			rc = dns_udp(&dns_srv[i], wire, wlen, id, qname, type, until, &reply,
				     why, whylen);
			if (rc == DNSX_TRUNC)
				rc = dns_tcp(&dns_srv[i], wire, wlen, id, qname, type, deadline,
					     &reply, why, whylen);
			if (rc == DNSX_OK
			    && dns_rcode_fails(reply, dns_srv[i].name, why, whylen)) {
				ldns_pkt_free(reply);
				reply = NULL;
				rc = DNSX_DOWN;
			}
			if (rc == DNSX_DOWN) {
				failed[i] = 1;
				left--;
			}
		}
	}
out:
	free(wire);
	ldns_pkt_free(query);
	ldns_rdf_deep_free(qname);
	return reply;
}

/* dns_negative_ttl - how long a negative answer holds (RFC 2308) */
static uint32_t dns_negative_ttl(const ldns_pkt *pkt)
{
	const ldns_rr_list *auth = ldns_pkt_authority(pkt);

	for (size_t i = 0; auth && i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7) {
			uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));

			return min < ldns_rr_ttl(rr) ? min : ldns_rr_ttl(rr);
		}
	}
	return 0;
}

/* dns_addr_usable - an address we may connect to */
static int dns_addr_usable(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const uint8_t *a =
			(const uint8_t *) &((const struct sockaddr_in *) sa)->sin_addr;

		return a[0] != 0 && a[0] < 224;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;

		return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a);
	}
	return 0;
}

/* dns_take_rr - copy one record of the type asked into the set */
static void dns_take_rr(struct dns_rrset *set, const ldns_rr *rr, ldns_rr_type type)
{
	struct dns_rr *out = &set->rr[set->count];

	memset(out, 0, sizeof(*out));
	set->seen++;
	if (type == LDNS_RR_TYPE_MX) {
		if (ldns_rr_rd_count(rr) != 2
		    || ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) != LDNS_RDF_TYPE_INT16
		    || dns_rdf_name(ldns_rr_rdf(rr, 1), out->name, sizeof(out->name)) < 0) {
			char *owner = ldns_rdf2str(ldns_rr_owner(rr));

			evt_warn(DNS_BADREPLY, dns_cid,
				 "domain=%.100s reason=\"unusable MX "
				 "record\"",
				 owner ? owner : "?");
			free(owner);
			return;
		}
		out->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
	} else {
		const ldns_rdf *rdf = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : NULL;
		size_t need = type == LDNS_RR_TYPE_A ? 4 : 16;
		struct sockaddr_in *v4 = (struct sockaddr_in *) &out->sa;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &out->sa;

		if (rdf == NULL || ldns_rdf_size(rdf) != need)
			return;
		if (type == LDNS_RR_TYPE_A) {
			v4->sin_family = AF_INET;
			memcpy(&v4->sin_addr, ldns_rdf_data(rdf), 4);
			out->salen = sizeof(*v4);
		} else {
			v6->sin6_family = AF_INET6;
			memcpy(&v6->sin6_addr, ldns_rdf_data(rdf), 16);
			out->salen = sizeof(*v6);
		}
		if (!dns_addr_usable((struct sockaddr *) &out->sa))
			return;
	}
	if (ldns_rr_ttl(rr) < set->ttl)
		set->ttl = ldns_rr_ttl(rr);
	set->count++;
}

/* dns_collect - the records answering owner, following CNAMEs in the answer */
static ldns_rdf *dns_collect(const ldns_pkt *pkt, const ldns_rdf *qname, ldns_rr_type type,
			     struct dns_rrset *set, int *links)
{
	const ldns_rr_list *ans = ldns_pkt_answer(pkt);
	const ldns_rdf *owner = qname;
	size_t n = ans ? ldns_rr_list_rr_count(ans) : 0;

	for (;;) {
		const ldns_rdf *next = NULL;

		for (size_t i = 0; i < n && set->count < DNS_RR_MAX; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, i);

			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN
			    || ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
				continue;
			if (ldns_rr_get_type(rr) == type)
				dns_take_rr(set, rr, type);
			else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME
				 && ldns_rr_rd_count(rr) == 1) {
				next = ldns_rr_rdf(rr, 0);
				if (ldns_rr_ttl(rr) < set->ttl)
					set->ttl = ldns_rr_ttl(rr);
			}
		}
		if (set->seen > 0 || next == NULL)
			break;
		if (++*links > DNS_CNAME_MAX)
			return NULL;
		owner = next;
	}
	/* a chain that stops at a name without records: ask for that name */
	return set->seen == 0 && owner != qname ? ldns_rdf_clone(owner) : NULL;
}

/* dns_lookup - the records of one type for a name, CNAMEs followed */
static void dns_lookup(const char *name, ldns_rr_type type, int64_t deadline,
		       struct dns_rrset *set)
{
	char cur[DNS_NAME_MAX];
	int links = 0;

	memset(set, 0, sizeof(*set));
	set->ttl = UINT32_MAX;
	strlcpy(cur, name, sizeof(cur));
	for (;;) {
		char fqdn[DNS_NAME_MAX + 2];
		ldns_pkt *pkt = dns_query(cur, type, deadline, set->why, sizeof(set->why));
		ldns_rdf *qname, *next;

		if (pkt == NULL) {
			set->kind = LK_FAIL;
			set->ttl = 0;
			return;
		}
		snprintf(fqdn, sizeof(fqdn), "%s.", cur);
		qname = ldns_dname_new_frm_str(fqdn);
		next = qname ? dns_collect(pkt, qname, type, set, &links) : NULL;
		if (set->seen > 0) {
			/* records exist, even if none is usable: no fallback */
			set->kind = LK_DATA;
		} else if (links > DNS_CNAME_MAX) {
			set->kind = LK_FAIL;
			snprintf(set->why, sizeof(set->why), "CNAME chain too long");
		} else if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN) {
			set->kind = LK_NXDOMAIN;
		} else {
			set->kind = LK_NODATA;
		}
		if (set->kind == LK_NXDOMAIN || set->kind == LK_NODATA) {
			uint32_t neg = dns_negative_ttl(pkt);

			set->ttl = neg < set->ttl ? neg : set->ttl;
		}
		ldns_rdf_deep_free(qname);
		ldns_pkt_free(pkt);
		if (next == NULL || set->kind != LK_NODATA)
			break;
		/* the answer stopped at a CNAME: ask again for its target */
		if (++links > DNS_CNAME_MAX || dns_rdf_name(next, cur, sizeof(cur)) < 0
		    || *cur == 0) {
			ldns_rdf_deep_free(next);
			set->kind = LK_FAIL;
			set->ttl = 0;
			snprintf(set->why, sizeof(set->why), "bad CNAME chain");
			return;
		}
		ldns_rdf_deep_free(next);
		set->ttl = UINT32_MAX;
	}
	if (set->kind == LK_FAIL)
		set->ttl = 0;
}

/* dns_note - append to a result's answer text */
static void dns_note(struct dns_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dns_note(struct dns_result *res, const char *fmt, ...)
{
	size_t used = strlen(res->answer);
	va_list ap;

	if (used >= sizeof(res->answer) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(res->answer + used, sizeof(res->answer) - used, fmt, ap);
	va_end(ap);
}

/* dns_have_addr - is this address already a target? */
static int dns_have_addr(const struct dns_result *res, const struct dns_rr *rr)
{
	for (size_t i = 0; i < res->ntarget; i++)
		if (res->target[i].salen == rr->salen
		    && memcmp(&res->target[i].sa, &rr->sa, rr->salen) == 0)
			return 1;
	return 0;
}

/* Problems met while resolving the exchangers of one domain. */
struct dns_hoststate {
	int tempfail;
	int problems;
};

/* dns_add_host - one host's A and AAAA addresses, appended as targets */
static void dns_add_host(struct dns_result *res, const char *host, uint16_t pref,
			 int64_t deadline, struct dns_hoststate *hs)
{
	static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
	struct dns_rrset *set = xmalloc(sizeof(*set));
	int found = 0, nodata = 0;

	for (size_t t = 0; t < 2; t++) {
		dns_lookup(host, types[t], deadline, set);
		if (set->ttl < res->ttl)
			res->ttl = set->ttl;
		if (set->kind == LK_FAIL) {
			hs->tempfail = 1;
			hs->problems++;
			dns_note(res, "; %s %s lookup failed: %s", host, t ? "AAAA" : "A",
				 set->why);
			continue;
		}
		if (set->kind == LK_NXDOMAIN) {
			hs->problems++;
			dns_note(res, "; %s: NXDOMAIN", host);
			break;
		}
		nodata += set->kind == LK_NODATA;
		if (set->kind == LK_DATA && set->count == 0) {
			hs->problems++;
			dns_note(res, "; %s: no usable %s record", host, t ? "AAAA" : "A");
		}
		for (size_t i = 0; i < set->count && res->ntarget < DNS_ADDRS_MAX; i++) {
			struct dns_target *tg = &res->target[res->ntarget];

			if (dns_have_addr(res, &set->rr[i]))
				continue;
			memcpy(&tg->sa, &set->rr[i].sa, set->rr[i].salen);
			tg->salen = set->rr[i].salen;
			tg->pref = pref;
			strlcpy(tg->host, host, sizeof(tg->host));
			res->ntarget++;
			found++;
		}
	}
	if (found == 0 && nodata == 2) {
		hs->problems++;
		dns_note(res, "; %s: no A or AAAA record", host);
	}
	free(set);
}

/* dns_sort_mx - MX records by preference, stable, root and duplicates out */
static size_t dns_sort_mx(struct dns_rrset *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct dns_rr rr = set->rr[i];
		size_t j;
		int dup = 0;

		if (rr.name[0] == 0)
			continue;
		for (j = 0; j < n; j++)
			dup |= strcmp(set->rr[j].name, rr.name) == 0;
		if (dup)
			continue;
		for (j = n; j > 0 && set->rr[j - 1].pref > rr.pref; j--)
			set->rr[j] = set->rr[j - 1];
		set->rr[j] = rr;
		n++;
	}
	return n;
}

/* dns_finish - the status of a result from what its hosts gave */
static void dns_finish(struct dns_result *res, const struct dns_hoststate *hs)
{
	if (res->ntarget > 0) {
		res->status = DNS_OK;
		if (hs->problems)
			res->ttl = 0; /* don't keep a partial answer */
	} else {
		res->status = hs->tempfail ? DNS_TEMPFAIL : DNS_NOTFOUND;
	}
	if (res->status == DNS_TEMPFAIL || res->ttl == UINT32_MAX)
		res->ttl = 0;
}

/* dns_resolve_mx - MX, then the exchangers' addresses */
static void dns_resolve_mx(const char *domain, int64_t deadline, struct dns_result *res)
{
	struct dns_rrset *set = xmalloc(sizeof(*set));
	struct dns_hoststate hs = {0, 0};
	size_t n;

	dns_lookup(domain, LDNS_RR_TYPE_MX, deadline, set);
	res->ttl = set->ttl;
	switch (set->kind) {
	case LK_FAIL:
		res->status = DNS_TEMPFAIL;
		res->ttl = 0;
		dns_note(res, "MX lookup failed: %s", set->why);
		break;
	case LK_NXDOMAIN:
		res->status = DNS_NOTFOUND;
		dns_note(res, "NXDOMAIN (the domain does not exist)");
		break;
	case LK_NODATA:
		/* no MX: the domain itself is the exchanger (RFC 5321 5.1) */
		dns_note(res, "no MX, using the domain's own address");
		dns_add_host(res, domain, 0, deadline, &hs);
		dns_finish(res, &hs);
		break;
	case LK_DATA:
		if (set->count == 1 && set->rr[0].name[0] == 0) {
			res->status = DNS_NOTFOUND;
			res->null_mx = 1;
			dns_note(res, "null MX (the domain accepts no mail)");
			break;
		}
		n = dns_sort_mx(set);
		if (n > DNS_HOSTS_MAX)
			n = DNS_HOSTS_MAX;
		dns_note(res, "MX");
		for (size_t i = 0; i < n; i++)
			dns_note(res, "%s %u %s", i ? "," : "", set->rr[i].pref,
				 set->rr[i].name);
		for (size_t i = 0; i < n && dns_now_ms() < deadline; i++)
			dns_add_host(res, set->rr[i].name, set->rr[i].pref, deadline, &hs);
		if (n == 0) {
			hs.problems++;
			dns_note(res, " (no usable exchanger)");
		}
		dns_finish(res, &hs);
		break;
	}
	if (res->status != DNS_OK && res->status != DNS_TEMPFAIL && res->ttl == UINT32_MAX)
		res->ttl = 0;
	free(set);
}

/* dns_resolve_host - a host's own A and AAAA */
static void dns_resolve_host(const char *host, int64_t deadline, struct dns_result *res)
{
	struct dns_hoststate hs = {0, 0};

	res->ttl = UINT32_MAX;
	dns_add_host(res, host, 0, deadline, &hs);
	dns_finish(res, &hs);
	if (res->answer[0] == ';')
		memmove(res->answer, res->answer + 2, strlen(res->answer + 2) + 1);
	if (res->status == DNS_OK)
		dns_note(res, "%s%zu address%s", res->answer[0] ? "; " : "", res->ntarget,
			 res->ntarget == 1 ? "" : "es");
}

/* dns_cache_get - a cached result that is still fresh */
static int dns_cache_get(char kind, const char *name, struct dns_result *res)
{
	int64_t now = dns_now_ms();

	for (size_t i = 0; i < dns_cache_len; i++) {
		struct dns_cache_entry *e = dns_cache[i];

		if (e->kind != kind || strcmp(e->name, name) != 0)
			continue;
		if (e->expires <= now)
			return 0;
		memcpy(res, &e->res, sizeof(*res));
		res->cached = 1;
		return 1;
	}
	return 0;
}

/* dns_cache_put - keep a result for its TTL, evicting the oldest if full */
static void dns_cache_put(char kind, const char *name, const struct dns_result *res)
{
	uint32_t ttl = res->ttl;
	int64_t now = dns_now_ms();
	struct dns_cache_entry *e = NULL;
	size_t victim = 0;

	if (ttl > (uint32_t) var_dns_cache_max_ttl)
		ttl = (uint32_t) var_dns_cache_max_ttl;
	if (var_dns_cache_size <= 0 || ttl == 0 || res->status == DNS_TEMPFAIL)
		return;
	if (dns_cache == NULL)
		dns_cache = xcalloc((size_t) var_dns_cache_size, sizeof(*dns_cache));
	for (size_t i = 0; i < dns_cache_len; i++) {
		if ((dns_cache[i]->kind == kind && strcmp(dns_cache[i]->name, name) == 0)
		    || dns_cache[i]->expires <= now) {
			e = dns_cache[i];
			break;
		}
		if (dns_cache[i]->expires < dns_cache[victim]->expires)
			victim = i;
	}
	if (e == NULL && dns_cache_len < (size_t) var_dns_cache_size)
		e = dns_cache[dns_cache_len++] = xmalloc(sizeof(*e));
	if (e == NULL)
		e = dns_cache[victim];
	e->kind = kind;
	strlcpy(e->name, name, sizeof(e->name));
	e->expires = now + (int64_t) ttl * 1000;
	memcpy(&e->res, res, sizeof(*res));
}

/* dns_shuffle - a fresh random order among hosts of equal preference */
static void dns_shuffle(struct dns_result *res)
{
	static struct dns_target tmp[DNS_ADDRS_MAX];
	size_t start[DNS_ADDRS_MAX], len[DNS_ADDRS_MAX], nrun = 0, out = 0;

	/* runs: the consecutive addresses of one host */
	for (size_t i = 0; i < res->ntarget; nrun++) {
		size_t j = i + 1;

		while (j < res->ntarget && res->target[j].pref == res->target[i].pref
		       && strcmp(res->target[j].host, res->target[i].host) == 0)
			j++;
		start[nrun] = i;
		len[nrun] = j - i;
		i = j;
	}
	/* Fisher-Yates over the runs of each preference */
	for (size_t a = 0; a < nrun;) {
		size_t b = a + 1;

		while (b < nrun && res->target[start[b]].pref == res->target[start[a]].pref)
			b++;
		for (size_t k = b - 1; k > a; k--) {
			size_t r = a + arc4random_uniform((uint32_t) (k - a + 1));
			size_t ts = start[k], tl = len[k];

			start[k] = start[r];
			len[k] = len[r];
			start[r] = ts;
			len[r] = tl;
		}
		a = b;
	}
	for (size_t r = 0; r < nrun; r++)
		for (size_t k = 0; k < len[r]; k++)
			tmp[out++] = res->target[start[r] + k];
	memcpy(res->target, tmp, out * sizeof(tmp[0]));
}

/* dns_resolve - cache, or DNS within dns_timeout */
static void dns_resolve(const char *cid, char kind, const char *name, struct dns_result *res)
{
	char norm[DNS_NAME_MAX];

	memset(res, 0, sizeof(*res));
	if (!dns_inited)
		proxy_dns_init();
	if (dns_normalize(name, norm, sizeof(norm)) < 0) {
		res->status = DNS_NOTFOUND;
		snprintf(res->answer, sizeof(res->answer), "not a valid domain name");
		return;
	}
	if (!dns_cache_get(kind, norm, res)) {
		int64_t deadline = dns_now_ms() + (int64_t) var_dns_timeout * 1000;

		dns_cid = cid;
		if (kind == 'M')
			dns_resolve_mx(norm, deadline, res);
		else
			dns_resolve_host(norm, deadline, res);
		dns_cache_put(kind, norm, res);
		dns_cid = NULL;
	}
	dns_shuffle(res);
}

/* proxy_dns_mx - the addresses of a mail domain, in RFC 5321 order */
void proxy_dns_mx(const char *cid, const char *domain, struct dns_result *res)
{
	dns_resolve(cid, 'M', domain, res);
}

/* proxy_dns_host - a host's addresses */
void proxy_dns_host(const char *cid, const char *host, struct dns_result *res)
{
	dns_resolve(cid, 'H', host, res);
}
