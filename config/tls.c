/* tls.c — OpenSSL contexts from the configuration: TLS 1.2 at least,
 * OpenSSL's default (secure-level 2) cipher suites unless told otherwise,
 * certificates checked against their keys and their expiry dates. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

void cfg_tls_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t n = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0 && n + 2 < len) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "; " : "", one);
	}
	ERR_clear_error();
	if (!buf[0])
		snprintf(buf, len, "unknown OpenSSL error");
}

/* Fails on a certificate that has expired or is not valid yet: a client
 * would refuse it anyway, and the error is clearer here. */
static int check_dates(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx);

	if (!cert)
		return 0;
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		snprintf(err, errlen, "the certificate in \"%s\" has expired", path);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
		snprintf(err, errlen, "the certificate in \"%s\" is not valid yet", path);
		return -1;
	}
	return 0;
}

/* Loads a certificate chain and its key into ctx and checks they match. */
static int load_identity(SSL_CTX *ctx, const char *cert, const char *key, char *err,
			 size_t errlen)
{
	char why[512];

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		cfg_tls_errors(why, sizeof(why));
		snprintf(err, errlen, "cannot load certificate \"%s\": %s", cert, why);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL 3 checks the pair here already. */
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen,
				 "the key in \"%s\" does not match the certificate in \"%s\"", key,
				 cert);
			return -1;
		}
		cfg_tls_errors(why, sizeof(why));
		snprintf(err, errlen, "cannot load private key \"%s\": %s", key, why);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "the key in \"%s\" does not match the certificate in \"%s\"",
			 key, cert);
		return -1;
	}
	return check_dates(ctx, cert, err, errlen);
}

static int load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
	char why[512];

	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		cfg_tls_errors(why, sizeof(why));
		snprintf(err, errlen, "cannot load CA certificates from \"%s\": %s", ca, why);
		return -1;
	}
	return 0;
}

static SSL_CTX *new_ctx(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx) {
		snprintf(err, errlen, "cannot create an OpenSSL context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* No TLS 1.2 renegotiation: nothing in Kafka needs it. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* Kafka clients and brokers often close without close_notify; OpenSSL
	 * 3 would call that an error, libevent 2.1 then a failure. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	/* An idle connection gives its record buffers (about 34 KiB) back
	 * until it next reads or writes. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

SSL_CTX *cfg_tls_server_ctx(const struct cfg_tls_server *t, char *err, size_t errlen)
{
	SSL_CTX *ctx = new_ctx(TLS_server_method(), err, errlen);
	char why[512];

	if (!ctx)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (t->ciphers && SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1) {
		cfg_tls_errors(why, sizeof(why));
		snprintf(err, errlen, "cipher list \"%s\" selects no cipher: %s", t->ciphers, why);
		goto fail;
	}
	if (load_identity(ctx, t->cert, t->key, err, errlen) < 0)
		goto fail;
	if (t->client_auth != CFG_CLIENT_AUTH_NONE) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca);

		if (load_ca(ctx, t->ca, err, errlen) < 0)
			goto fail;
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx,
				   SSL_VERIFY_PEER | (t->client_auth == CFG_CLIENT_AUTH_REQUIRE
							      ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
							      : 0),
				   NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *cfg_tls_client_ctx(const struct cfg_tls_client *t, char *err, size_t errlen)
{
	SSL_CTX *ctx = new_ctx(TLS_client_method(), err, errlen);
	char why[512];

	if (!ctx)
		return NULL;
	if (t->ca) {
		if (load_ca(ctx, t->ca, err, errlen) < 0)
			goto fail;
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		cfg_tls_errors(why, sizeof(why));
		snprintf(err, errlen, "cannot load the system's CA certificates: %s", why);
		goto fail;
	}
	if (t->cert && load_identity(ctx, t->cert, t->key, err, errlen) < 0)
		goto fail;
	SSL_CTX_set_verify(ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
