/* sni.h — the SNI listener's names: one TLS port for every broker, the
 * client's server name (SNI) choosing where its connection goes.
 *
 * The "sni" block names a bootstrap name and a pattern with "{id}" in it
 * ("b-{id}.kafka.example.com"): a client that asks for the bootstrap name
 * reaches the bootstrap upstreams, one that asks for the pattern with a
 * node id in place of "{id}" reaches that broker, and every broker is
 * advertised to its clients under the pattern.  What is here is pure:
 * matching names, writing them, and the ClientHello callback that keeps
 * the name a client sent and refuses one matching neither when the block
 * says so; routing is gateway/route.c's.
 */
#ifndef KGATE_SNI_H
#define KGATE_SNI_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* What a server name the pattern does not match (or no name) gets. */
enum cfg_sni_unmatched {
	CFG_SNI_TO_BOOTSTRAP, /* the bootstrap route (the default) */
	CFG_SNI_REFUSE        /* a TLS unrecognized_name alert */
};

extern const char *const cfg_sni_unmatched_names[];

/* The block's own keys; the listener's other settings (listen, tls,
 * upstream_tls, upstream_sasl, client_auth) are a struct cfg_broker's
 * (config.h: struct cfg's sni_listener). */
struct cfg_sni {
	int32_t advertise_port; /* 0: the listen port */
	char *bootstrap_name;
	char *broker_name;      /* the pattern as written */
	int32_t unmatched;      /* enum cfg_sni_unmatched */
	size_t prefix_len;      /* of broker_name before "{id}" (cfg_sni_check) */
};

/* What a server name is to the listener. */
enum cfg_sni_route {
	CFG_SNI_UNMATCHED = -2, /* neither name, or no name at all */
	CFG_SNI_BOOTSTRAP = -1  /* the bootstrap name */
	/* >= 0: the node id the pattern matched */
};

/* Validates s (path: its JSON path, "sni") and computes what matching
 * needs; errors name their path. */
void cfg_sni_check(struct cfg_sni *s, const char *path, struct cfg_errors *errs);
/* What name (NULL: none sent) is: CFG_SNI_BOOTSTRAP, CFG_SNI_UNMATCHED, or
 * the node id.  Case-insensitive; the id is decimal, without leading zeros,
 * within int32. */
int64_t cfg_sni_match(const struct cfg_sni *s, const char *name);
/* The pattern with id in place (as clients are told to dial it): its
 * length, or -1 if it does not fit in len. */
int cfg_sni_name(const struct cfg_sni *s, int32_t id, char *buf, size_t len);
/* Makes ctx (the listener's) keep the server name each ClientHello sends
 * (cfg_sni_sent) and refuse what s says to refuse, with a TLS
 * unrecognized_name alert; s must outlive ctx. */
void cfg_sni_install(SSL_CTX *ctx, const struct cfg_sni *s);
/* 1 if ssl's handshake failed because the name was refused here. */
int cfg_sni_refused(const SSL *ssl);
/* The server name ssl's client sent in its ClientHello (NULL: none), on a
 * context cfg_sni_install set up.  Not SSL_get_servername: for a resumed
 * TLS 1.2 session that is the name the session began with. */
const char *cfg_sni_sent(const SSL *ssl);
void cfg_sni_free(struct cfg_sni *s);

#endif
