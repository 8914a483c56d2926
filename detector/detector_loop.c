/*
 * detector_loop - the loop guard: a mark only dlpgate can write
 *
 * With loop_guard_hosts set, a message that passes gets, as the last of
 * its added headers,
 *	X-DLP-Loop-Guard: 1 <32 hex digits>
 * an HMAC-SHA256 (cut to 128 bits) with a key only the detectors hold,
 * over the envelope (sender and the sorted recipients) and every byte
 * that follows the mark line: the message exactly as it was scanned. When
 * such a message comes back from a client in loop_guard_hosts with the
 * same envelope, the bytes the mark covers are not scanned again; the
 * lines above it (what the MTA added on the way back: Received, and
 * whatever else is there) are. A mark a sender wrote, copied from another
 * message, or on content that changed since proves nothing: the message
 * is scanned as any other. A default_pass_header of the sender's own has
 * no meaning at all.
 *
 * The key is 32 random bytes in run_directory/detector/loop-guard.key
 * (mode 0600, the detector user's), made by the first detector that
 * needs it and read by the others; a new key (after a reboot empties the
 * run directory) only means that marks made before are not believed and
 * those messages are scanned again. Instances of a cluster have keys of
 * their own: a message that loops through another instance is scanned
 * there.
 *
 * detector_loop_init() fails fatally when the key cannot be had (the
 * guard would otherwise be off without a word).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "conf_params.h"
#include "inet.h"
#include "msg.h"
#include "detector.h"

#define LOOP_KEY_LEN   32
#define LOOP_MARK_NAME "X-DLP-Loop-Guard"
#define LOOP_MARK_HEX  32 /* 128 bits of the HMAC, in hex */

static struct cidr_list detector_loop_hosts;
static unsigned char detector_loop_key[LOOP_KEY_LEN];
static int detector_loop_on;

/* detector_loop_read_key - the key file's 32 bytes; -1 if it has not */
static int detector_loop_read_key(const char *path)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)
	    || st.st_uid != geteuid()) {
		close(fd);
		msg_fatal("%s: not a private file of this user", path);
	}
	n = read(fd, detector_loop_key, sizeof(detector_loop_key));
	close(fd);
	if (n != (ssize_t) sizeof(detector_loop_key))
		msg_fatal("%s: %zd bytes, not %d", path, n, LOOP_KEY_LEN);
	return 0;
}

/* detector_loop_make_key - a new key file, unless another detector won */
static void detector_loop_make_key(const char *path)
{
	unsigned char key[LOOP_KEY_LEN];
	char tmp[PATH_MAX];
	int fd;

	if (RAND_bytes(key, sizeof(key)) != 1)
		msg_fatal("loop guard key: no random bytes");
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long) getpid());
	(void) unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		msg_fatal("%s: %m", tmp);
	if (write(fd, key, sizeof(key)) != (ssize_t) sizeof(key) || fsync(fd) < 0)
		msg_fatal("%s: %m", tmp);
	close(fd);
	OPENSSL_cleanse(key, sizeof(key));
	/* link() never replaces: the first detector's key is everyone's */
	if (link(tmp, path) < 0 && errno != EEXIST)
		msg_fatal("%s: %m", path);
	(void) unlink(tmp);
}

/* detector_loop_init - the trusted clients, and the key when there are some */
void detector_loop_init(void)
{
	char path[PATH_MAX], err[256];

	if (cidr_list_parse(&detector_loop_hosts, var_loop_guard_hosts.items,
			    var_loop_guard_hosts.count, err, sizeof(err))
	    < 0)
		msg_fatal("loop_guard_hosts: %s", err);
	if (detector_loop_hosts.count == 0)
		return;
	snprintf(path, sizeof(path), "%s/detector/loop-guard.key", var_run_directory);
	if (detector_loop_read_key(path) < 0) {
		detector_loop_make_key(path);
		if (detector_loop_read_key(path) < 0)
			msg_fatal("%s: %m", path);
	}
	detector_loop_on = 1;
}

/* detector_loop_strcmp - qsort's view of strcmp */
static int detector_loop_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* detector_loop_hmac - the mark of content for this envelope, in hex */
static int detector_loop_hmac(const struct envelope *env, const char *content, size_t len,
			      char hex[LOOP_MARK_HEX + 1])
{
	static const char label[] = "dlpgate loop guard 1";
	OSSL_PARAM params[2];
	unsigned char mac[EVP_MAX_MD_SIZE];
	const char **rcpts;
	EVP_MAC *alg;
	EVP_MAC_CTX *ctx = NULL;
	size_t maclen = 0;
	int ok = 0;

	if ((alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	rcpts = calloc(env->nrcpt + 1, sizeof(*rcpts));
	for (size_t i = 0; rcpts && i < env->nrcpt; i++)
		rcpts[i] = env->rcpt[i].addr;
	if (rcpts)
		qsort(rcpts, env->nrcpt, sizeof(*rcpts), detector_loop_strcmp);
	params[0] =
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (rcpts && (ctx = EVP_MAC_CTX_new(alg)) != NULL
	    && EVP_MAC_init(ctx, detector_loop_key, sizeof(detector_loop_key), params)
	    && EVP_MAC_update(ctx, (const unsigned char *) label, sizeof(label))
	    && EVP_MAC_update(ctx, (const unsigned char *) env->mail_from,
			      strlen(env->mail_from) + 1)) {
		ok = 1;
		for (size_t i = 0; ok && i < env->nrcpt; i++)
			ok = EVP_MAC_update(ctx, (const unsigned char *) rcpts[i],
					    strlen(rcpts[i]) + 1);
		ok = ok && EVP_MAC_update(ctx, (const unsigned char *) content, len)
			&& EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) && maclen >= 16;
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	free(rcpts);
	if (!ok)
		return -1;
	for (int i = 0; i < LOOP_MARK_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

/* detector_loop_client - is the client one whose loops we trust? */
static int detector_loop_client(const struct envelope *env)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, env->client_addr, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, env->client_addr,
			   &((struct sockaddr_in6 *) &ss)->sin6_addr)
		 == 1)
		ss.ss_family = AF_INET6;
	else
		return 0;
	return cidr_list_match(&detector_loop_hosts, (struct sockaddr *) &ss);
}

/* detector_loop_guarded - a valid mark? then *covered_from: where it starts */
int detector_loop_guarded(const struct envelope *env, const char *m, size_t len, size_t *above)
{
	static const size_t nlen = sizeof(LOOP_MARK_NAME) - 1;
	size_t pos = 0;

	if (!detector_loop_on || !detector_loop_client(env))
		return 0;
	/* the first mark of the top-level header section: ours, if any is */
	while (pos < len) {
		const char *lf = memchr(m + pos, '\n', len - pos);
		size_t end = lf ? (size_t) (lf - m) : len, n = end - pos;
		char want[LOOP_MARK_HEX + 1];
		const char *v;

		if (n > 0 && m[end - 1] == '\r')
			n--;
		if (n == 0 || lf == NULL)
			return 0; /* the end of the header section */
		if (n > nlen + 1 && strncasecmp(m + pos, LOOP_MARK_NAME ":", nlen + 1) == 0) {
			for (v = m + pos + nlen + 1; *v == ' ' || *v == '\t'; v++)
				/* void */;
			if ((size_t) (m + pos + n - v) != 2 + LOOP_MARK_HEX
			    || strncmp(v, "1 ", 2) != 0
			    || detector_loop_hmac(env, m + end + 1, len - end - 1, want) < 0
			    || CRYPTO_memcmp(v + 2, want, LOOP_MARK_HEX) != 0)
				return 0;
			*above = pos;
			return 1;
		}
		pos = end + 1;
	}
	return 0;
}

/* detector_loop_mark - a passed message gets our mark, as its last header */
void detector_loop_mark(const struct envelope *env, const char *m, size_t len,
			struct det_decision *d)
{
	char hex[LOOP_MARK_HEX + 1], header[sizeof(LOOP_MARK_NAME) + LOOP_MARK_HEX + 8];

	if (!detector_loop_on || d->action != SCAN_PASS || d->headers.count >= SCAN_MAX_HEADERS
	    || detector_loop_hmac(env, m, len, hex) < 0)
		return;
	snprintf(header, sizeof(header), "%s: 1 %s", LOOP_MARK_NAME, hex);
	detector_list_add(&d->headers, header);
}

/* detector_loop_scan_above - scan the lines above the mark: a message of headers */
void detector_loop_scan_above(struct det_scan *sc, const char *m, size_t above)
{
	static struct buf lines; /* the scan may point into it until the next */

	if (lines.data == NULL)
		buf_init(&lines, 4096);
	buf_reset(&lines);
	buf_append(&lines, m, above);
	buf_append(&lines, "\r\n", 2); /* the end of the header section */
	detector_mime_scan(sc, lines.data, lines.len);
}
