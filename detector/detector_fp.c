/*
 * detector_fp - the secret, keyed hashes and normalisation of fingerprints
 *
 * The secret: 32 random bytes, one line of hex in FP_KEY_FILE beside the
 * keystore (fingerprint_key), made by the first `dlpindex` run, owned by
 * the detector's user, mode 0400. detector_fp_key_load() reads it and
 * derives, with HMAC-SHA256, an AES-128 key, an HMAC key and an 8-byte
 * key id that every index records, so that an index made under another
 * secret is refused rather than silently matching nothing.
 *
 * Words: a word is a run of letters and digits (ASCII, or any script by
 * iswalnum in C.UTF-8). Case is folded; Latin letters with diacritics
 * fold to their base letters (Müller, Muller and MÜLLER are one word, in
 * NFC or NFD); soft hyphens and combining marks are ignored; everything
 * else separates words, so "O'Brien", "O’Brien" and "o brien" agree. A
 * word's first FP_WORD_MAX bytes count. detector_fp_words() yields the
 * words of a text with their unkeyed 64-bit hashes, pure ASCII words on a
 * fast path; detector_fp_words_seal() turns hashes into keyed values with
 * AES-128 (batched, and cached: common words are sealed once).
 *
 * Values: a text cell is the span of its sealed words
 * (detector_fp_span); a number is its digits, an address its lower-case
 * text, a date YYYYMMDD, each hashed with its type and sealed. What
 * dlpindex stores and what a detector looks up are made by these same
 * functions.
 *
 * Failure: key functions return -1 with a reason; nothing here reads
 * outside the bounds it is given.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wctype.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include <bsd/string.h>

#include "conf_params.h"
#include "msg.h"
#include "detector_fp.h"

#define FP_KEY_MAGIC  "dlpgate-fingerprint-key-1"
#define FP_SEAL_BATCH 256
#define FP_CACHE_SIZE 8192 /* sealed words kept, direct mapped */

/* Multipliers (odd, well mixed) of the unkeyed hash. */
#define FP_P0        0xa0761d6478bd642fULL
#define FP_P1        0xe7037ed1a0b428dbULL
#define FP_P2        0x8ebc6af09c88c6e3ULL
#define FP_P3        0x589965cc75374cc3ULL
#define FP_SEED_WORD 0x1d8e4e27c47d124fULL

static struct {
	int ready;
	unsigned char id[8];
	unsigned char mac_key[32];
	EVP_CIPHER_CTX *aes;
	EVP_MD_CTX *ipad, *opad, *tmp;
} fp_key;

static struct {
	uint64_t h, f;
} fp_cache[FP_CACHE_SIZE];

static locale_t fp_locale;

/* ---- the secret ---------------------------------------------------------- */

/* detector_fp_key_path - where the secret is: fingerprint_key, or beside the keystore */
void detector_fp_key_path(const char *confdir, char *buf, size_t len)
{
	const char *slash;

	if (var_fingerprint_key && *var_fingerprint_key == '/') {
		strlcpy(buf, var_fingerprint_key, len);
		return;
	}
	if (var_fingerprint_key && *var_fingerprint_key) {
		snprintf(buf, len, "%s/%s", confdir, var_fingerprint_key);
		return;
	}
	if (var_keystore && *var_keystore == '/'
	    && (slash = strrchr(var_keystore, '/')) != NULL)
		snprintf(buf, len, "%.*s/%s", (int) (slash - var_keystore), var_keystore,
			 FP_KEY_FILE);
	else
		snprintf(buf, len, "%s/%s", confdir, FP_KEY_FILE);
}

/* hmac - HMAC-SHA256 of a label under the secret */
static void hmac(const unsigned char *key, size_t klen, const char *label,
		 unsigned char out[32])
{
	unsigned int n = 32;

	if (HMAC(EVP_sha256(), key, (int) klen, (const unsigned char *) label, strlen(label),
		 out, &n)
	    == NULL)
		msg_fatal("HMAC-SHA256 is not available");
}

/* key_setup - derive the keys from the secret */
static void key_setup(const unsigned char secret[32])
{
	unsigned char aes[32], pad[64];

	hmac(secret, 32, "dlpgate fingerprint key id", aes);
	memcpy(fp_key.id, aes, sizeof(fp_key.id));
	hmac(secret, 32, "dlpgate fingerprint hmac", fp_key.mac_key);
	hmac(secret, 32, "dlpgate fingerprint aes-128", aes);
	if (fp_key.aes == NULL) {
		fp_key.aes = EVP_CIPHER_CTX_new();
		fp_key.ipad = EVP_MD_CTX_new();
		fp_key.opad = EVP_MD_CTX_new();
		fp_key.tmp = EVP_MD_CTX_new();
	}
	if (fp_key.aes == NULL || fp_key.ipad == NULL || fp_key.opad == NULL
	    || fp_key.tmp == NULL
	    || EVP_EncryptInit_ex(fp_key.aes, EVP_aes_128_ecb(), NULL, aes, NULL) != 1
	    || EVP_CIPHER_CTX_set_padding(fp_key.aes, 0) != 1)
		msg_fatal("AES-128 is not available");
	/* HMAC's inner and outer hash states, kept for every check */
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < 32; i++)
		pad[i] ^= fp_key.mac_key[i];
	if (EVP_DigestInit_ex(fp_key.ipad, EVP_sha256(), NULL) != 1
	    || EVP_DigestUpdate(fp_key.ipad, pad, sizeof(pad)) != 1)
		msg_fatal("SHA-256 is not available");
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < 32; i++)
		pad[i] ^= fp_key.mac_key[i];
	if (EVP_DigestInit_ex(fp_key.opad, EVP_sha256(), NULL) != 1
	    || EVP_DigestUpdate(fp_key.opad, pad, sizeof(pad)) != 1)
		msg_fatal("SHA-256 is not available");
	OPENSSL_cleanse(aes, sizeof(aes));
	OPENSSL_cleanse(pad, sizeof(pad));
	memset(fp_cache, 0, sizeof(fp_cache));
	fp_key.ready = 1;
}

/* key_parse - "MAGIC <64 hex digits>" to 32 bytes; -1 if it is not that */
static int key_parse(const char *text, unsigned char secret[32])
{
	const char *p = text;
	size_t ml = strlen(FP_KEY_MAGIC);

	if (strncmp(p, FP_KEY_MAGIC, ml) != 0 || p[ml] != ' ')
		return -1;
	p += ml + 1;
	for (size_t i = 0; i < 32; i++) {
		int hi, lo;

		if (!isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]))
			return -1;
		hi = isdigit((unsigned char) p[0]) ? p[0] - '0'
						   : (tolower((unsigned char) p[0]) - 'a' + 10);
		lo = isdigit((unsigned char) p[1]) ? p[1] - '0'
						   : (tolower((unsigned char) p[1]) - 'a' + 10);
		secret[i] = (unsigned char) (hi << 4 | lo);
		p += 2;
	}
	return *p == '\n' || *p == 0 ? 0 : -1;
}

/* detector_fp_key_load - read the secret; 0, or -1 with the reason */
int detector_fp_key_load(const char *path, char *err, size_t errlen)
{
	char text[160];
	unsigned char secret[32];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "fingerprint key %s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (dlpindex makes it with the first index)"
				 : errno == EACCES
				 ? " (it is readable by the detector's user only)"
				 : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= (off_t) sizeof(text)) {
		snprintf(err, errlen, "fingerprint key %s: not a small regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 0077) {
		/* whoever reads it can test guesses against every index */
		snprintf(err, errlen,
			 "fingerprint key %s: mode %04o lets others read it; fix: "
			 "chmod 400 %s",
			 path, (unsigned) (st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	if (n <= 0 || key_parse(text, secret) < 0) {
		snprintf(err, errlen, "fingerprint key %s: not a dlpgate fingerprint key",
			 path);
		OPENSSL_cleanse(text, sizeof(text));
		return -1;
	}
	OPENSSL_cleanse(text, sizeof(text));
	key_setup(secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

/* detector_fp_key_create - a new secret, unless one exists; then load it */
int detector_fp_key_create(const char *path, uid_t owner, gid_t group, char *err, size_t errlen)
{
	unsigned char secret[32];
	char text[160], tmp[PATH_MAX];
	size_t len;
	int fd, rc = 0;

	if (access(path, F_OK) == 0 || errno != ENOENT)
		return detector_fp_key_load(path, err, errlen);
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t) sizeof(secret)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	len = (size_t) snprintf(text, sizeof(text), "%s ", FP_KEY_MAGIC);
	for (size_t i = 0; i < sizeof(secret); i++)
		len += (size_t) snprintf(text + len, sizeof(text) - len, "%02x", secret[i]);
	text[len++] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long) getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400)) < 0) {
		snprintf(err, errlen, "fingerprint key %s: %s", tmp, strerror(errno));
		rc = -1;
	} else if (write(fd, text, len) != (ssize_t) len || fsync(fd) < 0
		   || (owner != (uid_t) -1 && fchown(fd, owner, group) < 0)) {
		snprintf(err, errlen, "fingerprint key %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	/* link, not rename: a key made meanwhile by another dlpindex wins */
	if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "fingerprint key %s: %s", path, strerror(errno));
		rc = -1;
	}
	unlink(tmp);
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc < 0 ? -1 : detector_fp_key_load(path, err, errlen);
}

/* detector_fp_key_ready - has a secret been loaded? */
int detector_fp_key_ready(void)
{
	return fp_key.ready;
}

/* detector_fp_key_id - what identifies the secret (8 bytes) */
const unsigned char *detector_fp_key_id(void)
{
	return fp_key.id;
}

/* detector_fp_seal - keyed values of n hashes of one type (AES-128) */
void detector_fp_seal(const uint64_t *h, uint64_t *out, size_t n, enum fp_type t)
{
	unsigned char in[FP_SEAL_BATCH * 16], res[FP_SEAL_BATCH * 16];

	if (!fp_key.ready)
		msg_panic("detector_fp_seal without a key");
	while (n > 0) {
		size_t k = n < FP_SEAL_BATCH ? n : FP_SEAL_BATCH;
		int outl = 0;

		for (size_t i = 0; i < k; i++) {
			uint64_t v = h[i];

			for (int b = 0; b < 8; b++) {
				in[i * 16 + (size_t) b] = (unsigned char) (v >> (8 * b));
				in[i * 16 + 8 + (size_t) b] =
					(unsigned char) ("DLPGSEAL"[b] ^ (b == 7 ? t : 0));
			}
		}
		if (EVP_EncryptUpdate(fp_key.aes, res, &outl, in, (int) (k * 16)) != 1
		    || outl != (int) (k * 16))
			msg_panic("AES-128 failed");
		for (size_t i = 0; i < k; i++) {
			uint64_t v = 0;

			for (int b = 7; b >= 0; b--)
				v = v << 8 | res[i * 16 + (size_t) b];
			out[i] = v;
		}
		h += k;
		out += k;
		n -= k;
	}
}

/* fp_hmac - HMAC-SHA256 under the derived key of a tag byte and bytes */
static void fp_hmac(int tag, const void *p, size_t len, unsigned char out[32])
{
	unsigned char inner[32], t = (unsigned char) tag;
	unsigned int n = 32;

	if (!fp_key.ready)
		msg_panic("fingerprint HMAC without a key");
	if (EVP_MD_CTX_copy_ex(fp_key.tmp, fp_key.ipad) != 1
	    || EVP_DigestUpdate(fp_key.tmp, &t, 1) != 1
	    || EVP_DigestUpdate(fp_key.tmp, p, len) != 1
	    || EVP_DigestFinal_ex(fp_key.tmp, inner, &n) != 1
	    || EVP_MD_CTX_copy_ex(fp_key.tmp, fp_key.opad) != 1
	    || EVP_DigestUpdate(fp_key.tmp, inner, sizeof(inner)) != 1
	    || EVP_DigestFinal_ex(fp_key.tmp, out, &n) != 1)
		msg_panic("HMAC-SHA256 failed");
}

/* detector_fp_check - 32 bits of a value's HMAC-SHA256 */
uint32_t detector_fp_check(enum fp_type t, const char *norm, size_t len)
{
	unsigned char d[32];

	fp_hmac((int) t, norm, len, d);
	return (uint32_t) d[0] | (uint32_t) d[1] << 8 | (uint32_t) d[2] << 16
		| (uint32_t) d[3] << 24;
}

/* detector_fp_mac - the keyed hash of a file's SHA-256 */
void detector_fp_mac(const unsigned char *in, size_t len, unsigned char out[32])
{
	fp_hmac('F', in, len, out);
}

/* ---- the unkeyed hash -------------------------------------------------- */

/* fp_mix - fold a 128-bit product */
static inline uint64_t fp_mix(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128) a * b;

	return (uint64_t) r ^ (uint64_t) (r >> 64);
}

/* load_le - up to 8 bytes, little-endian */
static inline uint64_t load_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) {
		memcpy(&v, p, 8);
		return v;
	}
#endif
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* detector_fp_hash - a 64-bit hash of bytes (not keyed: sealed later) */
uint64_t detector_fp_hash(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = fp_mix(seed ^ FP_P0, (uint64_t) n ^ FP_P1);

	while (n >= 8) {
		h = fp_mix(h ^ load_le(p, 8) ^ FP_P2, FP_P1);
		p += 8;
		n -= 8;
	}
	if (n)
		h = fp_mix(h ^ load_le(p, n) ^ FP_P3, FP_P1);
	return fp_mix(h ^ FP_P0, FP_P3);
}

/* ---- words --------------------------------------------------------------- */

/* Base letters of U+00C0..U+017F; '*' several letters, '-' a separator. */
static const char fp_latin[] =
	"aaaaaa*ceeeeiiiidnooooo-ouuuuy**aaaaaa*ceeeeiiiidnooooo-ouuuuy*y"
	"aaaaaacc"
	"ccccccdd"
	"ddeeeeee"
	"eeeegggg"
	"gggghhhh"
	"iiiiiiii"
	"ii**jjkk"
	"klllllll"
	"lllnnnnn"
	"nnnnoooo"
	"oo**rrrr"
	"rrssssss"
	"sstttttt"
	"uuuuuuuu"
	"uuuuwwyy"
	"yzzzzzzs";

/* latin_multi - the letters of a '*' entry */
static const char *latin_multi(unsigned cp)
{
	switch (cp) {
	case 0xc6:
	case 0xe6:
		return "ae";
	case 0xde:
	case 0xfe:
		return "th";
	case 0xdf:
		return "ss";
	case 0x132:
	case 0x133:
		return "ij";
	default:
		return "oe"; /* U+0152, U+0153 */
	}
}

/* utf8_decode - one code point at p (left bytes); its length, 0 if invalid */
static size_t utf8_decode(const unsigned char *p, size_t left, unsigned *cp)
{
	unsigned c = p[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf && left >= 2 && (p[1] & 0xc0) == 0x80) {
		*cp = (c & 0x1f) << 6 | (p[1] & 0x3f);
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef && left >= 3 && (p[1] & 0xc0) == 0x80
	    && (p[2] & 0xc0) == 0x80) {
		*cp = (c & 0x0f) << 12 | (unsigned) (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
		return *cp >= 0x800 && (*cp < 0xd800 || *cp > 0xdfff) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4 && left >= 4 && (p[1] & 0xc0) == 0x80
	    && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
		*cp = (c & 0x07) << 18 | (unsigned) (p[1] & 0x3f) << 12
			| (unsigned) (p[2] & 0x3f) << 6 | (p[3] & 0x3f);
		return *cp >= 0x10000 && *cp <= 0x10ffff ? 4 : 0;
	}
	return 0;
}

/* utf8_put - encode a code point; bytes written (room is at least 4) */
static size_t utf8_put(unsigned cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char) cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char) (0xc0 | cp >> 6);
		o[1] = (unsigned char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char) (0xe0 | cp >> 12);
		o[1] = (unsigned char) (0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char) (0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char) (0xf0 | cp >> 18);
	o[1] = (unsigned char) (0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char) (0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char) (0x80 | (cp & 0x3f));
	return 4;
}

/* Classes of a code point inside a word. */
enum fp_cls {
	CLS_SEP,  /* ends a word */
	CLS_SKIP, /* ignored: soft hyphen, combining mark */
	CLS_WORD, /* appended as given (folded) */
};

/* fold_cp - the class of a code point and its folded bytes */
static enum fp_cls fold_cp(unsigned cp, unsigned char *o, size_t *n)
{
	if (cp < 0x80) {
		if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z')) {
			o[0] = (unsigned char) cp;
			*n = 1;
			return CLS_WORD;
		}
		if (cp >= 'A' && cp <= 'Z') {
			o[0] = (unsigned char) (cp | 0x20);
			*n = 1;
			return CLS_WORD;
		}
		return CLS_SEP;
	}
	if (cp == 0xad || (cp >= 0x300 && cp <= 0x36f) || cp == 0x200c || cp == 0x200d
	    || cp == 0xfeff)
		return CLS_SKIP;
	if (cp >= 0xc0 && cp <= 0x17f) {
		char b = fp_latin[cp - 0xc0];

		if (b == '-')
			return CLS_SEP;
		if (b == '*') {
			memcpy(o, latin_multi(cp), 2);
			*n = 2;
		} else {
			o[0] = (unsigned char) b;
			*n = 1;
		}
		return CLS_WORD;
	}
	if (fp_locale == (locale_t) 0)
		fp_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
	if (fp_locale == (locale_t) 0 || !iswalnum_l((wint_t) cp, fp_locale))
		return CLS_SEP;
	*n = utf8_put((unsigned) towlower_l((wint_t) cp, fp_locale), o);
	return CLS_WORD;
}

/*
 * next_word - the next word of d[*pos, len): its place and folded bytes
 * (the first FP_WORD_MAX of them); 0 when there is none. This is the
 * definition; detector_fp_words() has a fast path for ASCII that agrees.
 */
static int next_word(const unsigned char *d, size_t len, size_t *pos, size_t *ws, size_t *we,
		     unsigned char *buf, size_t *blen)
{
	size_t i = *pos, n = 0;
	int in = 0;

	while (i < len) {
		unsigned cp;
		unsigned char o[8];
		size_t k = utf8_decode(d + i, len - i, &cp), m = 0;
		enum fp_cls c = k ? fold_cp(cp, o, &m) : CLS_SEP;

		if (k == 0)
			k = 1;
		if (c == CLS_SEP) {
			if (in)
				break;
		} else if (c == CLS_WORD) {
			if (!in) {
				in = 1;
				*ws = i;
			}
			if (n + m <= FP_WORD_MAX) {
				memcpy(buf + n, o, m);
				n += m;
			}
		}
		i += k;
		if (in && c != CLS_SEP)
			*we = i;
	}
	*pos = i;
	*blen = n;
	return in;
}

/* Byte classes for the ASCII fast path: 0 separator, 1 letter or digit, 2 non-ASCII. */
static unsigned char fp_bytecls[256];

/* bytecls_init - the table */
static void bytecls_init(void)
{
	for (int c = 0; c < 256; c++)
		fp_bytecls[c] = c >= 0x80 ? 2 : isalnum(c) ? 1 : 0;
	fp_bytecls[0] = 0;
}

/* word_hash_ascii - detector_fp_hash of an ASCII word, folded as it is read */
static inline uint64_t word_hash_ascii(const unsigned char *d, size_t s, size_t n, size_t len)
{
	unsigned char buf[FP_WORD_MAX + 8];
	size_t k = n < FP_WORD_MAX ? n : FP_WORD_MAX;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (k <= 16 && s + 16 <= len) {
		uint64_t a, b, h = fp_mix(FP_SEED_WORD ^ FP_P0, (uint64_t) k ^ FP_P1);

		memcpy(&a, d + s, 8);
		memcpy(&b, d + s + 8, 8);
		a |= 0x2020202020202020ULL;
		b |= 0x2020202020202020ULL;
		if (k < 8)
			return fp_mix(fp_mix(h ^ (a & ((1ULL << (8 * k)) - 1)) ^ FP_P3, FP_P1)
					      ^ FP_P0,
				      FP_P3);
		h = fp_mix(h ^ a ^ FP_P2, FP_P1);
		if (k == 16)
			h = fp_mix(h ^ b ^ FP_P2, FP_P1);
		else if (k > 8)
			h = fp_mix(h ^ (b & ((1ULL << (8 * (k - 8))) - 1)) ^ FP_P3, FP_P1);
		return fp_mix(h ^ FP_P0, FP_P3);
	}
#endif
	for (size_t j = 0; j < k; j++)
		buf[j] = (unsigned char) (d[s + j] | 0x20);
	return detector_fp_hash(buf, k, FP_SEED_WORD);
}

/* words_run - the words of a run d[s, e) of letters, digits and non-ASCII bytes */
static size_t words_run(const unsigned char *d, size_t s, size_t e, size_t len, int mixed,
			struct fp_word *w, size_t n, size_t max, size_t *stop)
{
	unsigned char buf[FP_WORD_MAX + 8];
	size_t p = s, ws = s, we = s, bl;

	*stop = e;
	if (!mixed) {
		w[n].s = s;
		w[n].e = e;
		w[n].h = word_hash_ascii(d, s, e - s, len);
		return n + 1;
	}
	/* letters beyond ASCII: the definition, word by word */
	while (n < max && next_word(d, e, &p, &ws, &we, buf, &bl)) {
		w[n].s = ws;
		w[n].e = we;
		w[n].h = detector_fp_hash(buf, bl, FP_SEED_WORD);
		n++;
	}
	if (p < e)
		*stop = p; /* resume inside this run */
	return n;
}

#if defined(__x86_64__)
/* word_masks_avx2 - bits of the letters and digits, and of the bytes >= 0x80, of p[0, 64) */
__attribute__((target("avx2"))) static inline void word_masks_avx2(const unsigned char *p,
								   uint64_t *run,
								   uint64_t *high)
{
	const __m256i dbias = _mm256_set1_epi8((char) (0x80 - '0'));
	const __m256i dlim = _mm256_set1_epi8((char) (-128 + 10));
	const __m256i lbias = _mm256_set1_epi8((char) (0x80 - 'a'));
	const __m256i llim = _mm256_set1_epi8((char) (-128 + 26));
	const __m256i low = _mm256_set1_epi8(0x20);
	uint64_t r = 0, h = 0;

	for (int k = 0; k < 2; k++) {
		__m256i v = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32 * k));
		__m256i dig = _mm256_cmpgt_epi8(dlim, _mm256_add_epi8(v, dbias));
		__m256i let = _mm256_cmpgt_epi8(
			llim, _mm256_add_epi8(_mm256_or_si256(v, low), lbias));

		r |= (uint64_t) (unsigned) _mm256_movemask_epi8(
			     _mm256_or_si256(_mm256_or_si256(dig, let), v))
			<< (32 * k);
		h |= (uint64_t) (unsigned) _mm256_movemask_epi8(v) << (32 * k);
	}
	*run = r;
	*high = h;
}
#endif

/* word_masks_sse2 - the same, 16 bytes at a time */
static inline void word_masks_sse2(const unsigned char *p, uint64_t *run, uint64_t *high)
{
	uint64_t r = 0, h = 0;

#ifdef __SSE2__
	const __m128i dbias = _mm_set1_epi8((char) (0x80 - '0'));
	const __m128i dlim = _mm_set1_epi8((char) (-128 + 10));
	const __m128i lbias = _mm_set1_epi8((char) (0x80 - 'a'));
	const __m128i llim = _mm_set1_epi8((char) (-128 + 26));
	const __m128i low = _mm_set1_epi8(0x20);

	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *) (const void *) (p + 16 * k));
		__m128i dig = _mm_cmplt_epi8(_mm_add_epi8(v, dbias), dlim);
		__m128i let = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, low), lbias), llim);

		r |= (uint64_t) (unsigned) _mm_movemask_epi8(
			     _mm_or_si128(_mm_or_si128(dig, let), v))
			<< (16 * k);
		h |= (uint64_t) (unsigned) _mm_movemask_epi8(v) << (16 * k);
	}
#else
	if (fp_bytecls['a'] == 0)
		bytecls_init();
	for (int k = 0; k < 64; k++) {
		r |= (uint64_t) (fp_bytecls[p[k]] != 0) << k;
		h |= (uint64_t) (p[k] >= 0x80) << k;
	}
#endif
	*run = r;
	*high = h;
}

/*
 * words_body - detector_fp_words: 64 bytes are classified at a time
 * (letters and digits, non-ASCII bytes), and each run of them that starts
 * in the block is a word, hashed straight from the text when it is ASCII.
 * Runs longer than the two blocks in view, and the last bytes of the
 * text, take the byte-at-a-time path; both give the same words.
 */
static inline __attribute__((always_inline)) size_t words_body(
	const unsigned char *d, size_t len, size_t *pos, struct fp_word *w, size_t max,
	void (*masks)(const unsigned char *, uint64_t *, uint64_t *))
{
	size_t i = *pos, n = 0, stop;

	while (n < max && i + 128 <= len) {
		uint64_t rc, hc, rn, hn, starts;

		masks(d + i, &rc, &hc);
		masks(d + i + 64, &rn, &hn);
		starts = rc & ~(rc << 1);
		while (starts && n < max) {
			unsigned o = (unsigned) __builtin_ctzll(starts);
			uint64_t run = o ? rc >> o | rn << (64 - o) : rc;
			uint64_t high = o ? hc >> o | hn << (64 - o) : hc;
			unsigned k;

			if (~run == 0) {
				i += o; /* a run of 64 bytes or more */
				goto slow;
			}
			k = (unsigned) __builtin_ctzll(~run);
			if ((high & ((1ULL << k) - 1)) == 0) {
				/* the common case: an ASCII word */
				w[n].s = i + o;
				w[n].e = i + o + k;
				w[n].h = word_hash_ascii(d, i + o, k, len);
				n++;
			} else {
				n = words_run(d, i + o, i + o + k, len, 1, w, n, max, &stop);
				if (stop < i + o + k) {
					*pos = stop;
					return n;
				}
			}
			if (o + k >= 64) {
				i += o + k; /* the word ran into the next block */
				goto next;
			}
			starts &= ~0ULL << (o + k);
		}
		if (n == max) {
			/* where the next word would start (or the block's end) */
			*pos = starts ? i + (size_t) __builtin_ctzll(starts) : i + 64;
			return n;
		}
		i += 64;
		/* a run from this block's last byte continues: skip what starts it */
		if (rc >> 63)
			while (i < len && fp_bytecls[d[i]])
				i++;
next:;
	}
slow:
	/* byte at a time: the end of the text, and very long runs */
	while (i < len && n < max) {
		size_t s, e;
		int mixed = 0;

		while (i < len && fp_bytecls[d[i]] == 0)
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && fp_bytecls[d[i]] != 0)
			mixed |= fp_bytecls[d[i++]] & 2;
		e = i;
		n = words_run(d, s, e, len, mixed, w, n, max, &stop);
		if (stop < e) {
			i = stop;
			break;
		}
	}
	*pos = i;
	return n;
}

#if defined(__x86_64__)
/* words_avx2 - words_body with AVX2 */
__attribute__((target("avx2,bmi"))) static size_t words_avx2(const unsigned char *d, size_t len,
							     size_t *pos, struct fp_word *w,
							     size_t max)
{
	return words_body(d, len, pos, w, max, word_masks_avx2);
}
#endif

/* detector_fp_words - up to max words from *pos on, with their hashes */
size_t detector_fp_words(const char *text, size_t len, size_t *pos, struct fp_word *w,
			 size_t max)
{
#if defined(__x86_64__)
	static int avx2 = -1;
#endif

	if (fp_bytecls['a'] == 0)
		bytecls_init();
#if defined(__x86_64__)
	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") != 0;
	if (avx2)
		return words_avx2((const unsigned char *) text, len, pos, w, max);
#endif
	return words_body((const unsigned char *) text, len, pos, w, max, word_masks_sse2);
}

/* detector_fp_words_seal - the keyed values of words (cached) */
void detector_fp_words_seal(const struct fp_word *w, size_t n, uint64_t *out)
{
	uint64_t miss_h[FP_SEAL_BATCH], miss_f[FP_SEAL_BATCH];
	size_t miss_i[FP_SEAL_BATCH];

	while (n > 0) {
		size_t k = n < FP_SEAL_BATCH ? n : FP_SEAL_BATCH, nm = 0;

		for (size_t i = 0; i < k; i++) {
			size_t slot = (size_t) (w[i].h >> 7) & (FP_CACHE_SIZE - 1);

			if (fp_cache[slot].h == w[i].h && fp_cache[slot].f != 0) {
				out[i] = fp_cache[slot].f;
				continue;
			}
			miss_h[nm] = w[i].h;
			miss_i[nm++] = i;
		}
		if (nm) {
			detector_fp_seal(miss_h, miss_f, nm, FP_TEXT);
			for (size_t j = 0; j < nm; j++) {
				size_t slot = (size_t) (miss_h[j] >> 7) & (FP_CACHE_SIZE - 1);

				out[miss_i[j]] = miss_f[j];
				fp_cache[slot].h = miss_h[j];
				fp_cache[slot].f = miss_f[j];
			}
		}
		w += k;
		out += k;
		n -= k;
	}
}

/* detector_fp_span - the value of a run of sealed words (a text cell) */
uint64_t detector_fp_span(const uint64_t *sealed, size_t n)
{
	uint64_t v = fp_mix(FP_P2 ^ (uint64_t) n, FP_P1);

	for (size_t i = 0; i < n; i++)
		v = fp_mix(v ^ sealed[i], FP_P3);
	return v;
}

/* detector_fp_norm_text - words, folded, one space between; bytes written */
size_t detector_fp_norm_text(const char *s, size_t len, char *out, size_t outlen,
			     size_t *nwords)
{
	const unsigned char *d = (const unsigned char *) s;
	unsigned char buf[FP_WORD_MAX + 8];
	size_t pos = 0, ws, we, bl, n = 0;

	*nwords = 0;
	while (next_word(d, len, &pos, &ws, &we, buf, &bl)) {
		if (n + bl + 2 > outlen)
			return 0; /* too long to be a cell */
		if (n)
			out[n++] = ' ';
		memcpy(out + n, buf, bl);
		n += bl;
		(*nwords)++;
	}
	out[n] = 0;
	return n;
}

/* detector_fp_norm_digits - the digits of a number; 0 if too many */
size_t detector_fp_norm_digits(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] >= '0' && s[i] <= '9') {
			if (n + 1 >= outlen || n >= FP_DIGITS_MAX)
				return 0;
			out[n++] = s[i];
		}
	out[n] = 0;
	return n;
}

/* email_local - may this byte be in the local part? */
static int email_local(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* detector_fp_norm_email - an address in lower case; 0 if it is not one */
size_t detector_fp_norm_email(const char *s, size_t len, char *out, size_t outlen)
{
	size_t b = 0, e = len, n = 0, at = 0, ats = 0, dot = 0;

	while (b < e && isspace((unsigned char) s[b]))
		b++;
	while (e > b && isspace((unsigned char) s[e - 1]))
		e--;
	if (b < e && s[b] == '<' && s[e - 1] == '>') {
		b++;
		e--;
	}
	if (e - b + 1 > outlen || e - b < 3)
		return 0;
	for (size_t i = b; i < e; i++) {
		int c = (unsigned char) s[i];

		if (c == '@') {
			ats++;
			at = n;
		} else if (ats == 0 ? !email_local(c) : !(isalnum(c) || c == '.' || c == '-'))
			return 0;
		else if (ats && c == '.')
			dot = n;
		out[n++] = (char) tolower(c);
	}
	out[n] = 0;
	if (ats != 1 || at == 0 || dot <= at + 1 || dot + 1 >= n || out[n - 1] == '.')
		return 0;
	return n;
}

/* detector_fp_month - 1..12 for an English month name or abbreviation, or 0 */
int detector_fp_month(const char *w, size_t n)
{
	static const char *const names[] = {"january",   "february", "march",    "april",
					    "may",       "june",     "july",     "august",
					    "september", "october",  "november", "december"};
	char lo[12];

	if (n < 3 || n > 9)
		return 0;
	for (size_t i = 0; i < n; i++)
		lo[i] = (char) tolower((unsigned char) w[i]);
	for (int m = 0; m < 12; m++) {
		size_t full = strlen(names[m]);

		if ((n == full || n == 3 || (m == 8 && n == 4))
		    && strncmp(lo, names[m], n) == 0)
			return m + 1;
	}
	return 0;
}

/* date_ok - a real calendar day, written YYYYMMDD */
static int date_ok(int y, int m, int d, char out[9])
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 100)
		y += y < 30 ? 2000 : 1900;
	if (y < 1800 || y > 2199 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	snprintf(out, 9, "%04d%02d%02d", y, m, d);
	return 1;
}

/*
 * detector_fp_date - a date in a common layout as YYYYMMDD; 1, or 0 if
 * it is not one. Numeric layouts: Y-M-D, M/D/Y or D/M/Y (dmy says which
 * when both could be), D.M.Y, YYYYMMDD; and with month names: "March 14,
 * 1985", "14 March 1985", "14-Mar-1985", "Mar 14 1985".
 */
int detector_fp_date(const char *s, size_t len, int dmy, char out[9])
{
	long f[3] = {0, 0, 0};
	size_t fl[3] = {0, 0, 0}, nf = 0, i = 0;
	int month = 0, mpos = -1;
	char sep = 0;

	while (i < len && nf < 3) {
		while (i < len
		       && (s[i] == ' ' || s[i] == ',' || s[i] == '-' || s[i] == '/'
			   || s[i] == '.' || s[i] == '\t')) {
			if (s[i] == '-' || s[i] == '/' || s[i] == '.')
				sep = s[i];
			i++;
		}
		if (i == len)
			break;
		if (isdigit((unsigned char) s[i])) {
			size_t b = i;

			while (i < len && isdigit((unsigned char) s[i]) && i - b < 9)
				f[nf] = f[nf] * 10 + (s[i++] - '0');
			fl[nf++] = i - b;
			/* 1st, 2nd, 3rd, 14th */
			if (i + 1 < len
			    && (strncasecmp(s + i, "st", 2) == 0
				|| strncasecmp(s + i, "nd", 2) == 0
				|| strncasecmp(s + i, "rd", 2) == 0
				|| strncasecmp(s + i, "th", 2) == 0)
			    && fl[nf - 1] <= 2)
				i += 2;
		} else if (isalpha((unsigned char) s[i]) && month == 0) {
			size_t b = i;

			while (i < len && isalpha((unsigned char) s[i]))
				i++;
			if ((month = detector_fp_month(s + b, i - b)) == 0)
				return 0;
			mpos = (int) nf;
			f[nf] = month;
			fl[nf++] = 0;
		} else
			return 0;
	}
	while (i < len && (s[i] == ' ' || s[i] == '.' || s[i] == '\t'))
		i++;
	if (i != len)
		return 0;
	if (nf == 1 && fl[0] == 8) /* YYYYMMDD */
		return date_ok((int) (f[0] / 10000), (int) (f[0] / 100 % 100),
			       (int) (f[0] % 100), out);
	if (nf != 3)
		return 0;
	if (month) {
		/* the year is the number of four digits (or the last one) */
		if (mpos == 0 && fl[2] >= 2)
			return date_ok((int) f[2], month, (int) f[1], out);
		if (mpos == 1 && fl[2] >= 2)
			return date_ok((int) f[2], month, (int) f[0], out);
		if (mpos == 1 && fl[0] == 4)
			return date_ok((int) f[0], month, (int) f[2], out);
		return 0;
	}
	if (fl[0] == 4 && fl[1] <= 2 && fl[2] <= 2)
		return date_ok((int) f[0], (int) f[1], (int) f[2], out);
	if (fl[0] <= 2 && fl[1] <= 2 && (fl[2] == 4 || fl[2] == 2)) {
		if (sep == '.' || (dmy && f[0] <= 31) || f[0] > 12)
			return date_ok((int) f[2], (int) f[1], (int) f[0], out);
		return date_ok((int) f[2], (int) f[0], (int) f[1], out);
	}
	return 0;
}

/* detector_fp_value_hash - the unkeyed hash of a number, address or date */
uint64_t detector_fp_value_hash(enum fp_type t, const char *norm, size_t len)
{
	static const uint64_t seed[FP_NTYPES] = {
		0x6a09e667f3bcc908ULL,
		0x3c6ef372fe94f82bULL,
		0xa54ff53a5f1d36f1ULL,
		0x510e527fade682d1ULL,
	};

	return detector_fp_hash(norm, len, seed[(unsigned) t < FP_NTYPES ? t : 0]);
}

/* detector_fp_value - the keyed value of a normalised cell or token */
int detector_fp_value(enum fp_type t, const char *norm, size_t len, uint64_t *fp)
{
	if (t == FP_TEXT) {
		struct fp_word w[FP_SPAN_MAX + 1];
		uint64_t sealed[FP_SPAN_MAX + 1];
		size_t pos = 0, n = detector_fp_words(norm, len, &pos, w, FP_SPAN_MAX + 1);

		if (n == 0 || n > FP_SPAN_MAX)
			return -1;
		detector_fp_words_seal(w, n, sealed);
		*fp = detector_fp_span(sealed, n);
		return 0;
	}
	{
		uint64_t h = detector_fp_value_hash(t, norm, len);

		detector_fp_seal(&h, fp, 1, t);
	}
	return 0;
}

/* detector_fp_type_name - a column type as written */
const char *detector_fp_type_name(enum fp_type t)
{
	static const char *const n[FP_NTYPES] = {"text", "digits", "email", "date"};

	return (unsigned) t < FP_NTYPES ? n[t] : "unknown";
}

/* detector_fp_type_parse - a column type by name ("name" is text) */
int detector_fp_type_parse(const char *name, enum fp_type *t)
{
	if (strcmp(name, "text") == 0 || strcmp(name, "name") == 0)
		*t = FP_TEXT;
	else if (strcmp(name, "digits") == 0 || strcmp(name, "number") == 0)
		*t = FP_DIGITS;
	else if (strcmp(name, "email") == 0)
		*t = FP_EMAIL;
	else if (strcmp(name, "date") == 0)
		*t = FP_DATE;
	else
		return -1;
	return 0;
}

/* detector_fp_name_ok - an index name: letters, digits, '_', '.', '-' */
int detector_fp_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= FP_NAME_MAX && name[0] != '.' && name[0] != '-'
		&& strspn(name,
			  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_.-")
		== n;
}
