/*
 * unit_dns - DNS answers as the next-hop lookup reads them
 *
 * Replies are built with ldns from zone-file lines, turned into wire
 * format and handed to the static parsers of proxy_dns.c (included):
 * dns_parse() matches a reply to our question, dns_rcode_fails() tells a
 * server that cannot answer, dns_collect() takes the records (CNAMEs
 * followed, unusable ones left out), dns_negative_ttl() and
 * dns_sort_mx() do what RFC 2308 and RFC 5321 say.
 */
#include "../../smtpd-proxy/proxy_dns.c"

#include "tap.h"

#define UNIT_ID 0x4242

/* unit_reply - a reply to "name type" with answer and authority records */
static ldns_pkt *unit_reply(const char *name, ldns_rr_type type, ldns_pkt_rcode rcode,
			    const char *const *answer, const char *const *authority)
{
	ldns_pkt *pkt = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN,
					   LDNS_RD);
	ldns_rr *rr;

	ldns_pkt_set_id(pkt, UNIT_ID);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_rcode(pkt, (uint8_t) rcode);
	for (size_t i = 0; answer && answer[i]; i++)
		if (ldns_rr_new_frm_str(&rr, answer[i], 0, NULL, NULL) == LDNS_STATUS_OK)
			ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	for (size_t i = 0; authority && authority[i]; i++)
		if (ldns_rr_new_frm_str(&rr, authority[i], 0, NULL, NULL) == LDNS_STATUS_OK)
			ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, rr);
	return pkt;
}

/* unit_parse - a reply through the wire and dns_parse(); NULL if refused */
static ldns_pkt *unit_parse(ldns_pkt *reply, size_t cut, uint16_t id, const char *qname,
			    ldns_rr_type type)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	ldns_rdf *q = ldns_dname_new_frm_str(qname);
	ldns_pkt *out = NULL;

	if (ldns_pkt2wire(&wire, reply, &len) == LDNS_STATUS_OK
	    && dns_parse(wire, cut && cut < len ? cut : len, id, q, type, &out) != DNSX_OK)
		out = NULL;
	free(wire);
	ldns_rdf_deep_free(q);
	ldns_pkt_free(reply);
	return out;
}

/* unit_collect - the records of a parsed reply, as "pref name" or addresses */
static void unit_collect(ldns_pkt *pkt, const char *qname, ldns_rr_type type,
			 struct dns_rrset *set, char *text, size_t len, char *next, size_t nlen)
{
	ldns_rdf *q = ldns_dname_new_frm_str(qname);
	ldns_rdf *n;
	int links = 0;
	size_t used = 0;

	memset(set, 0, sizeof(*set));
	set->ttl = UINT32_MAX;
	*text = *next = 0;
	n = pkt ? dns_collect(pkt, q, type, set, &links) : NULL;
	for (size_t i = 0; i < set->count && used < len; i++) {
		char addr[INET6_ADDRSTRLEN] = "";
		const struct dns_rr *rr = &set->rr[i];

		if (type == LDNS_RR_TYPE_MX)
			snprintf(addr, sizeof(addr), "%u %s", rr->pref, rr->name);
		else if (rr->sa.ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *) &rr->sa)->sin_addr,
				  addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) &rr->sa)->sin6_addr,
				  addr, sizeof(addr));
		used += (size_t) snprintf(text + used, len - used, "%s%s", i ? ", " : "", addr);
	}
	if (n) {
		char *s = ldns_rdf2str(n);

		snprintf(next, nlen, "%s", s ? s : "?");
		free(s);
	}
	ldns_rdf_deep_free(n);
	ldns_rdf_deep_free(q);
	ldns_pkt_free(pkt);
}

/* The records of an answer, as unit_collect() shows them. */
struct unit_got {
	struct dns_rrset set;
	char text[512];
	char next[256];
};

/* unit_answer - the records of a NOERROR answer to "example.com. type" */
static void unit_answer(ldns_rr_type type, const char *const *answer, struct unit_got *g)
{
	unit_collect(
		unit_parse(unit_reply("example.com.", type, LDNS_RCODE_NOERROR, answer, NULL),
			   0, UNIT_ID, "example.com.", type),
		"example.com.", type, &g->set, g->text, sizeof(g->text), g->next,
		sizeof(g->next));
}

/* unit_matching - which replies answer our question */
static void unit_matching(void)
{
	static const char *const mx[] = {"example.com. 300 IN MX 10 mx.example.com.", NULL};
	/* replies to "example.com. MX", id UNIT_ID, that are not one */
	static const struct {
		const char *name;
		ldns_rr_type type;
		uint16_t id;
		size_t cut; /* bytes of the reply sent; 0: all */
		const char *what;
	} t[] = {
		{"example.com.", LDNS_RR_TYPE_MX, UNIT_ID + 1, 0, "another query id"},
		{"example.net.", LDNS_RR_TYPE_MX, UNIT_ID, 0, "another name"},
		{"example.com.", LDNS_RR_TYPE_A, UNIT_ID, 0, "another type"},
		{"example.com.", LDNS_RR_TYPE_MX, UNIT_ID, 40, "a reply cut short"},
		{"example.com.", LDNS_RR_TYPE_MX, UNIT_ID, 11, "less than a header"},
	};
	ldns_pkt *p;

	p = unit_parse(
		unit_reply("example.com.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, mx, NULL), 0,
		UNIT_ID, "example.com.", LDNS_RR_TYPE_MX);
	tap_ok(p != NULL, "a reply to our question is taken");
	ldns_pkt_free(p);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tap_ok(unit_parse(unit_reply(t[i].name, t[i].type, LDNS_RCODE_NOERROR,
					     t[i].type == LDNS_RR_TYPE_MX ? mx : NULL, NULL),
				  t[i].cut, t[i].id, "example.com.", LDNS_RR_TYPE_MX)
			       == NULL,
		       "%s: dropped", t[i].what);
	p = unit_reply("example.com.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, mx, NULL);
	ldns_pkt_set_qr(p, 0);
	tap_ok(unit_parse(p, 0, UNIT_ID, "example.com.", LDNS_RR_TYPE_MX) == NULL,
	       "a query, not a reply: dropped");
}

/* unit_records - what is taken from an answer */
static void unit_records(void)
{
	static const char *const mx[] = {
		"Example.COM. 300 IN MX 20 MX2.Example.com.",
		"example.com. 60 IN MX 10 mx1.example.com.",
		"example.com. 300 IN MX 10 bad_name!.example.com.",
		"other.example. 300 IN MX 5 elsewhere.example.",
		NULL,
	};
	static const char *const nullmx[] = {"example.com. 300 IN MX 0 .", NULL};
	static const char *const a[] = {
		"example.com. 300 IN A 192.0.2.1",
		"example.com. 300 IN A 0.0.0.0",
		"example.com. 300 IN A 224.0.0.1",
		"example.com. 300 IN A 198.51.100.7",
		NULL,
	};
	static const char *const aaaa[] = {
		"example.com. 300 IN AAAA ::",
		"example.com. 300 IN AAAA ff02::1",
		"example.com. 300 IN AAAA 2001:db8::25",
		NULL,
	};
	static const char *const chain[] = {
		"example.com. 300 IN CNAME alias.example.net.",
		"alias.example.net. 100 IN CNAME host.example.org.",
		"host.example.org. 200 IN A 192.0.2.9",
		NULL,
	};
	static const char *const dangling[] = {"example.com. 300 IN CNAME elsewhere.example.",
					       NULL};
	static const char *const loop[] = {
		"example.com. 300 IN CNAME a.example.",
		"a.example. 300 IN CNAME b.example.",
		"b.example. 300 IN CNAME a.example.",
		NULL,
	};
	struct unit_got g;

	unit_answer(LDNS_RR_TYPE_MX, mx, &g);
	tap_is_str(g.text, "20 mx2.example.com, 10 mx1.example.com",
		   "MX: names lower case without the dot; an unusable name and another "
		   "owner left out");
	tap_is_int(g.set.seen, 3, "three MX records of the name were seen");
	tap_is_int(g.set.ttl, 60, "the smallest TTL holds");
	tap_is_int(dns_sort_mx(&g.set), 2, "dns_sort_mx keeps both");
	tap_ok(g.set.rr[0].pref == 10 && g.set.rr[1].pref == 20, "lowest preference first");

	unit_answer(LDNS_RR_TYPE_MX, nullmx, &g);
	tap_is_str(g.text, "0 ", "a null MX is the root, an empty name");
	tap_is_int(dns_sort_mx(&g.set), 0, "which dns_sort_mx drops");

	unit_answer(LDNS_RR_TYPE_A, a, &g);
	tap_is_str(g.text, "192.0.2.1, 198.51.100.7", "A: 0.0.0.0 and multicast left out");
	unit_answer(LDNS_RR_TYPE_AAAA, aaaa, &g);
	tap_is_str(g.text, "2001:db8::25", "AAAA: :: and multicast left out");

	unit_answer(LDNS_RR_TYPE_A, chain, &g);
	tap_is_str(g.text, "192.0.2.9", "a CNAME chain in the answer is followed");
	tap_is_int(g.set.ttl, 100, "with the smallest TTL along it");
	unit_answer(LDNS_RR_TYPE_A, dangling, &g);
	tap_is_str(g.next, "elsewhere.example.",
		   "a CNAME whose target is not answered: ask it");
	unit_answer(LDNS_RR_TYPE_A, loop, &g);
	tap_ok(*g.text == 0 && *g.next == 0, "a CNAME loop ends after %d links", DNS_CNAME_MAX);
}

/* unit_failures - replies that say the server cannot answer, negative TTLs */
static void unit_failures(void)
{
	static const char *const ns[] = {"example.com. 300 IN NS ns.example.net.", NULL};
	static const char *const soa[] = {
		"example.com. 900 IN SOA ns.example.com. root.example.com. 1 7200 900 1209600 "
		"600",
		NULL,
	};
	ldns_pkt *p;
	char why[200];

	p = unit_reply("example.com.", LDNS_RR_TYPE_MX, LDNS_RCODE_SERVFAIL, NULL, NULL);
	tap_ok(dns_rcode_fails(p, "192.0.2.53", why, sizeof(why)) == 1, "SERVFAIL fails");
	tap_is_str(why, "SERVFAIL from 192.0.2.53", "and says so");
	ldns_pkt_free(p);
	p = unit_reply("example.com.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, NULL, ns);
	tap_ok(dns_rcode_fails(p, "192.0.2.53", why, sizeof(why)) == 1, "a referral fails");
	tap_is_str(why, "referral (lame server) from 192.0.2.53", "as a lame server");
	ldns_pkt_free(p);
	p = unit_reply("example.com.", LDNS_RR_TYPE_MX, LDNS_RCODE_NXDOMAIN, NULL, soa);
	tap_ok(dns_rcode_fails(p, "192.0.2.53", why, sizeof(why)) == 0,
	       "NXDOMAIN is an answer, not a failure");
	tap_is_int(dns_negative_ttl(p), 600, "held for the SOA minimum (RFC 2308)");
	ldns_pkt_free(p);
}

/* unit_names - host names we ask about or connect to */
static void unit_names(void)
{
	char out[DNS_NAME_MAX], label[70];

	tap_ok(dns_normalize("MX1.Example.COM.", out, sizeof(out)) == 0
		       && strcmp(out, "mx1.example.com") == 0,
	       "normalized: %s", out);
	memset(label, 'a', 64);
	label[64] = 0;
	tap_ok(!dns_name_ok(label), "a label of 64 characters is refused");
	label[63] = 0;
	tap_ok(dns_name_ok(label), "one of 63 is taken");
	tap_ok(!dns_name_ok("a..example"), "an empty label is refused");
	tap_ok(!dns_name_ok("mx .example"), "a space is refused");
	tap_ok(dns_name_ok("_dmarc.example-1"), "underscores and hyphens are taken");
}

int main(void)
{
	msg_open("unit-dns", MSG_TO_STDERR, LOG_MAIL);
	msg_set_level(MSG_ERROR);
	dns_cid = "UNIT";
	unit_matching();
	unit_records();
	unit_failures();
	unit_names();
	return tap_done();
}
