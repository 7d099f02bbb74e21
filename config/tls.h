/* tls.h — the configured TLS blocks, and turning them into OpenSSL
 * contexts.
 *
 * The same functions check a configuration (--check loads every file,
 * matches keys to certificates, refuses expired certificates) and build the
 * contexts the gateway uses, so what --check accepts is what runs.
 */
#ifndef KGATE_TLS_H
#define KGATE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

/* Whether a TLS block was written: as an object, as false, or not at all. */
enum cfg_tls_set { CFG_TLS_ABSENT = 0, CFG_TLS_ON = 1, CFG_TLS_OFF = -1 };

enum cfg_client_auth { CFG_CLIENT_AUTH_NONE, CFG_CLIENT_AUTH_OPTIONAL, CFG_CLIENT_AUTH_REQUIRE };

/* TLS towards clients (kgate terminates): "tls.listen", or a listener's
 * own "tls". */
struct cfg_tls_server {
	int set;                      /* enum cfg_tls_set */
	char *cert;                   /* PEM certificate chain, leaf first */
	char *key;                    /* PEM private key */
	char *ca;                     /* CA for client certificates */
	int32_t client_auth;          /* enum cfg_client_auth */
	int64_t handshake_timeout_ms;
	char *ciphers;                /* TLS 1.2 cipher list; NULL: OpenSSL's */
};

/* TLS towards brokers (kgate originates): "tls.upstream", or a listener's
 * own "upstream_tls". */
struct cfg_tls_client {
	int set;           /* enum cfg_tls_set */
	char *ca;          /* NULL: the system's trust store */
	int32_t verify;    /* verify the broker's certificate and name */
	char *cert, *key;  /* client certificate (mTLS to brokers) */
	char *server_name; /* name to verify and send as SNI; NULL: the broker's own */
};

/* A context for serving clients; NULL with err filled on failure. */
SSL_CTX *cfg_tls_server_ctx(const struct cfg_tls_server *t, char *err, size_t errlen);
/* A context for connecting to brokers; NULL with err filled on failure. */
SSL_CTX *cfg_tls_client_ctx(const struct cfg_tls_client *t, char *err, size_t errlen);
/* The OpenSSL errors queued so far, as one line (and clears them). */
void cfg_tls_errors(char *buf, size_t len);

#endif
