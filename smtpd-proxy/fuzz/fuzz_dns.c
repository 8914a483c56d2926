/*
 * fuzz_dns - libFuzzer harness for DNS answers
 *
 * Input: a byte choosing the question (MX, A or AAAA for example.com),
 * then a reply as a server would send it. The reply goes where a
 * datagram from the server goes, dns_parse() (ldns_wire2pkt and our
 * match of id, QR, opcode and question; the query id is the reply's own,
 * so that the fuzzer reaches past it), then dns_rcode_fails(),
 * dns_collect() and dns_negative_ttl() as dns_lookup() uses them.
 * Checked for each reply accepted, as proxy_dns.h promises:
 *	- at most DNS_RR_MAX records are used, never more than were seen;
 *	- an MX record gives a host name we accept (lower case, no
 *	  trailing dot) or the root of a null MX;
 *	- an A or AAAA record gives an address of that family and length
 *	  that we may connect to (not 0/8, multicast, class E, ::);
 *	- a CNAME chain ends within DNS_CNAME_MAX links.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../proxy_dns.c"
#include "fuzz_util.h"

static ldns_rdf *fuzz_qname;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet("fuzz-dns");
	fuzz_defaults(NULL, 0);
	dns_cid = "FUZZ";
	if ((fuzz_qname = ldns_dname_new_frm_str("example.com.")) == NULL)
		abort();
	return 0;
}

/* fuzz_check_rr - one record taken, as the lookup would use it */
static void fuzz_check_rr(const struct dns_rr *rr, ldns_rr_type type)
{
	if (type == LDNS_RR_TYPE_MX) {
		size_t len = strnlen(rr->name, sizeof(rr->name));

		if (len == sizeof(rr->name) || (len > 0 && !dns_name_ok(rr->name))
		    || (len > 0 && rr->name[len - 1] == '.'))
			abort();
		for (size_t i = 0; i < len; i++)
			if (rr->name[i] >= 'A' && rr->name[i] <= 'Z')
				abort();
		return;
	}
	if (type == LDNS_RR_TYPE_A
		    ? rr->sa.ss_family != AF_INET || rr->salen != sizeof(struct sockaddr_in)
		    : rr->sa.ss_family != AF_INET6 || rr->salen != sizeof(struct sockaddr_in6))
		abort();
	if (!dns_addr_usable((const struct sockaddr *) &rr->sa))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const ldns_rr_type types[] = {
		LDNS_RR_TYPE_MX,
		LDNS_RR_TYPE_A,
		LDNS_RR_TYPE_AAAA,
	};
	static struct dns_rrset set;
	ldns_rr_type type;
	ldns_pkt *pkt = NULL;
	ldns_rdf *next;
	char why[200] = "";
	int links = 0;

	if (size < 1 + LDNS_HEADER_SIZE || size > 65536 + 1)
		return 0;
	type = types[data[0] % 3];
	data++;
	size--;
	if (dns_parse(data, size, (uint16_t) (data[0] << 8 | data[1]), fuzz_qname, type, &pkt)
	    != DNSX_OK)
		return 0;
	if (dns_rcode_fails(pkt, "192.0.2.53", why, sizeof(why)) && why[0] == 0)
		abort();
	memset(&set, 0, sizeof(set));
	set.ttl = UINT32_MAX;
	next = dns_collect(pkt, fuzz_qname, type, &set, &links);
	if (set.count > DNS_RR_MAX || set.count > set.seen || links > DNS_CNAME_MAX + 1)
		abort();
	if (next && (set.seen > 0 || ldns_rdf_get_type(next) != LDNS_RDF_TYPE_DNAME))
		abort();
	for (size_t i = 0; i < set.count; i++)
		fuzz_check_rr(&set.rr[i], type);
	(void) dns_negative_ttl(pkt);
	ldns_rdf_deep_free(next);
	ldns_pkt_free(pkt);
	return 0;
}
