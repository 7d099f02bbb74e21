/* tls.h — turning the configured TLS blocks into OpenSSL contexts.
 *
 * The same functions check a configuration (--check loads every file,
 * matches keys to certificates, refuses expired certificates) and build the
 * contexts the gateway uses, so what --check accepts is what runs.
 */
#ifndef KGATE_TLS_H
#define KGATE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "config.h"

/* A context for serving clients; NULL with err filled on failure. */
SSL_CTX *cfg_tls_server_ctx(const struct cfg_tls_server *t, char *err, size_t errlen);
/* A context for connecting to brokers; NULL with err filled on failure. */
SSL_CTX *cfg_tls_client_ctx(const struct cfg_tls_client *t, char *err, size_t errlen);
/* The OpenSSL errors queued so far, as one line (and clears them). */
void cfg_tls_errors(char *buf, size_t len);

#endif
