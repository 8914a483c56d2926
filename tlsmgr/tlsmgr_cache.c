/*
 * tlsmgr_cache - session-ticket keys and the next-hop session cache
 *
 * Ticket keys: a new random key every tls_session_timeout; the current
 * key encrypts new tickets, the previous one still decrypts for one more
 * period, so a ticket is good for its whole lifetime. Keys live only in
 * tlsmgr's memory (a restart invalidates tickets: clients then make a
 * full handshake) and are handed to workers on request.
 *
 * The session cache holds i2d_SSL_SESSION blobs of next-hop sessions by
 * key (next hop, policy level, trust store), at most
 * tls_session_cache_size, each until its lifetime ends; when full, the
 * entry that expires first makes room.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "conf_params.h"
#include "mem.h"
#include "msg.h"
#include "tlsmgr.h"

#define TICKET_KEYS 2

static struct tls_ticket_key tlsmgr_tickets[TICKET_KEYS];
static int tlsmgr_nticket;

struct cache_entry {
	char *key;
	unsigned char *data;
	size_t len;
	time_t expires;
};

static struct cache_entry *tlsmgr_cache;
static int tlsmgr_cache_max, tlsmgr_cache_len;

/* tlsmgr_ticket_rotate - a fresh current key; the old one decrypts on */
static void tlsmgr_ticket_rotate(time_t now)
{
	struct tls_ticket_key *k;

	memmove(&tlsmgr_tickets[1], &tlsmgr_tickets[0],
		sizeof(tlsmgr_tickets[0]) * (TICKET_KEYS - 1));
	k = &tlsmgr_tickets[0];
	if (RAND_bytes(k->name, sizeof(k->name)) <= 0
	    || RAND_priv_bytes(k->aes, sizeof(k->aes)) <= 0
	    || RAND_priv_bytes(k->hmac, sizeof(k->hmac)) <= 0)
		msg_fatal("no random bytes for a session ticket key");
	k->encrypt_until = (unsigned long long) now + (unsigned) var_tls_session_timeout;
	k->decrypt_until = k->encrypt_until + (unsigned) var_tls_session_timeout;
	if (tlsmgr_nticket < TICKET_KEYS)
		tlsmgr_nticket++;
	msg_debug("session ticket key rotated");
}

/* tlsmgr_ticket_keys - the live keys, current first; their number */
int tlsmgr_ticket_keys(struct tls_ticket_key *keys, int max, time_t now)
{
	int n = 0;

	if (tlsmgr_nticket == 0 || (unsigned long long) now >= tlsmgr_tickets[0].encrypt_until)
		tlsmgr_ticket_rotate(now);
	for (int i = 0; i < tlsmgr_nticket && n < max; i++)
		if ((unsigned long long) now < tlsmgr_tickets[i].decrypt_until)
			keys[n++] = tlsmgr_tickets[i];
	return n;
}

/* tlsmgr_cache_init - an empty cache of at most size entries */
void tlsmgr_cache_init(int size)
{
	tlsmgr_cache_max = size;
	tlsmgr_cache = size > 0 ? xcalloc((size_t) size, sizeof(*tlsmgr_cache)) : NULL;
}

/* tlsmgr_cache_drop - forget entry i */
static void tlsmgr_cache_drop(int i)
{
	free(tlsmgr_cache[i].key);
	OPENSSL_cleanse(tlsmgr_cache[i].data, tlsmgr_cache[i].len);
	free(tlsmgr_cache[i].data);
	tlsmgr_cache[i] = tlsmgr_cache[--tlsmgr_cache_len];
}

/* tlsmgr_cache_find - the index of a live key, or -1 (expired ones go) */
static int tlsmgr_cache_find(const char *key, time_t now)
{
	for (int i = 0; i < tlsmgr_cache_len; i++) {
		if (strcmp(tlsmgr_cache[i].key, key) != 0)
			continue;
		if (tlsmgr_cache[i].expires > now)
			return i;
		tlsmgr_cache_drop(i);
		return -1;
	}
	return -1;
}

/* tlsmgr_cache_get - a cached session, or NULL */
const unsigned char *tlsmgr_cache_get(const char *key, size_t *len, time_t now)
{
	int i = tlsmgr_cache_find(key, now);

	if (i < 0)
		return NULL;
	*len = tlsmgr_cache[i].len;
	return tlsmgr_cache[i].data;
}

/* tlsmgr_cache_put - store a session, replacing one of the same key */
void tlsmgr_cache_put(const char *key, const unsigned char *data, size_t len, unsigned lifetime,
		      time_t now)
{
	int i = tlsmgr_cache_find(key, now);

	if (tlsmgr_cache_max == 0)
		return;
	if (lifetime == 0 || lifetime > (unsigned) var_tls_session_timeout)
		lifetime = (unsigned) var_tls_session_timeout;
	if (i >= 0)
		tlsmgr_cache_drop(i);
	if (tlsmgr_cache_len == tlsmgr_cache_max) {
		int oldest = 0;

		for (int j = 1; j < tlsmgr_cache_len; j++)
			if (tlsmgr_cache[j].expires < tlsmgr_cache[oldest].expires)
				oldest = j;
		tlsmgr_cache_drop(oldest);
	}
	i = tlsmgr_cache_len++;
	tlsmgr_cache[i].key = xstrdup(key);
	tlsmgr_cache[i].data = xmalloc(len);
	memcpy(tlsmgr_cache[i].data, data, len);
	tlsmgr_cache[i].len = len;
	tlsmgr_cache[i].expires = now + (time_t) lifetime;
}
