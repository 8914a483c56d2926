/*
 * tls_proto - the records between the smtpd-proxy workers and tlsmgr
 *
 * tlsmgr listens on run_directory/private/tlsmgr (SOCK_SEQPACKET, bound
 * by master). A worker keeps one connection and sends one request at a
 * time; every request gets exactly one answer or TLSMGR_ERROR with a
 * reason. A malformed request is answered with TLSMGR_ERROR and the
 * connection is closed. Records use the ipc framing (common/ipc.h).
 *
 *	CHAIN	-> CHAIN_OK	key id, key type, bits, the certificate chain
 *				(leaf first, DER), and a sealed memfd with the
 *				trusted next-hop certificates (DER, each with a
 *				u32 length prefix)
 *	SIGN	-> SIGN_OK	key id, TLS SignatureScheme, to-be-signed bytes
 *				-> signature. Only TLS 1.3 server
 *				CertificateVerify and TLS 1.2 ECDHE
 *				ServerKeyExchange input is signed.
 *	TICKETS	-> TICKETS_OK	session-ticket keys, the current one first
 *	SESS_GET -> SESS_OK	an outbound TLS session by cache key (may be
 *				empty)
 *	SESS_PUT -> SESS_OK	store an outbound TLS session
 *
 * There is no request that decrypts, and no answer that carries a
 * private key.
 */
#ifndef DLP_TLS_PROTO_H
#define DLP_TLS_PROTO_H

#define TLSMGR_SOCKET  "private/tlsmgr"
#define TLSMGR_SERVICE "tlsmgr"

/* Record types. */
#define TLSMGR_REQ_CHAIN    101
#define TLSMGR_REQ_SIGN     102
#define TLSMGR_REQ_TICKETS  103
#define TLSMGR_REQ_SESS_GET 104
#define TLSMGR_REQ_SESS_PUT 105
#define TLSMGR_CHAIN_OK     201
#define TLSMGR_SIGN_OK      202
#define TLSMGR_TICKETS_OK   203
#define TLSMGR_SESS_OK      204
#define TLSMGR_ERROR        299

/* Attribute tags. */
#define TLSMGR_TAG_KEY_ID     1  /* 32 bytes: SHA-256 of the leaf cert */
#define TLSMGR_TAG_KEY_TYPE   2  /* "RSA" or "EC" */
#define TLSMGR_TAG_KEY_BITS   3  /* u32 */
#define TLSMGR_TAG_CERT       4  /* DER, repeated, leaf first */
#define TLSMGR_TAG_TRUST_SIZE 5  /* u64: bytes in the trust memfd */
#define TLSMGR_TAG_SCHEME     6  /* u32: TLS SignatureScheme */
#define TLSMGR_TAG_TBS        7  /* to-be-signed bytes */
#define TLSMGR_TAG_SIG        8  /* signature */
#define TLSMGR_TAG_TICKET_KEY 9  /* struct tls_ticket_key, repeated */
#define TLSMGR_TAG_SESS_KEY   10 /* cache key text */
#define TLSMGR_TAG_SESS_DATA  11 /* i2d_SSL_SESSION bytes */
#define TLSMGR_TAG_LIFETIME   12 /* u32 seconds */
#define TLSMGR_TAG_REASON     13 /* text */
#define TLSMGR_TAG_ALIAS      14 /* keystore alias of the key, for logs */
#define TLSMGR_TAG_NTRUST     15 /* u32: trusted certificates */

/* Bounds. */
#define TLSMGR_KEY_ID_LEN    32
#define TLSMGR_TBS_MAX       512
#define TLSMGR_SIG_MAX       1024 /* RSA-8192 */
#define TLSMGR_CHAIN_MAX     10
#define TLSMGR_SESS_KEY_MAX  512
#define TLSMGR_SESS_DATA_MAX 16384
#define TLSMGR_TRUST_MAX     (16 * 1024 * 1024)

/* TLS SignatureScheme values (RFC 8446 4.2.3) that tlsmgr signs with. */
#define TLS_SIG_RSA_PKCS1_SHA256 0x0401
#define TLS_SIG_RSA_PKCS1_SHA384 0x0501
#define TLS_SIG_RSA_PKCS1_SHA512 0x0601
#define TLS_SIG_ECDSA_SHA256     0x0403 /* ecdsa_secp256r1_sha256 */
#define TLS_SIG_ECDSA_SHA384     0x0503 /* ecdsa_secp384r1_sha384 */
#define TLS_SIG_ECDSA_SHA512     0x0603 /* ecdsa_secp521r1_sha512 */
#define TLS_SIG_RSA_PSS_SHA256   0x0804 /* rsa_pss_rsae_sha256 */
#define TLS_SIG_RSA_PSS_SHA384   0x0805
#define TLS_SIG_RSA_PSS_SHA512   0x0806

/* A session-ticket key as it travels (RFC 5077 style: name, AES, HMAC). */
#define TLS_TICKET_NAME_LEN 16
#define TLS_TICKET_AES_LEN  32
#define TLS_TICKET_HMAC_LEN 32
struct tls_ticket_key {
	unsigned char name[TLS_TICKET_NAME_LEN];
	unsigned char aes[TLS_TICKET_AES_LEN];
	unsigned char hmac[TLS_TICKET_HMAC_LEN];
	unsigned long long encrypt_until; /* time_t: new tickets until */
	unsigned long long decrypt_until; /* time_t: accepted until */
};

#endif
