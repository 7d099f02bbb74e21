/* dial.h — connecting to "host:port": resolve (hosts file, DNS, or an IP
 * literal), then try each address in turn, each within the connect timeout,
 * and for TLS upstreams complete the handshake too.
 *
 * An NLB or a broker name can resolve to several addresses (one per
 * availability zone, IPv4 and IPv6); libevent's connect-by-hostname only
 * tries the first.  The dialer hands over a connected bufferevent (an
 * OpenSSL one, handshake done, for TLS), or says why none could be had.
 */
#ifndef KGATE_DIAL_H
#define KGATE_DIAL_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "../protocol/kdefs.h"

struct bufferevent;
struct dialer;
struct event_base;
struct evdns_base;

/* What dialling needs from the event loop it runs on. */
struct dial_env {
	struct event_base *base;
	struct evdns_base *dns;
	int64_t timeout_ms; /* per address, name resolution included */
};

/* Called once: bev is connected (now the caller's), or NULL and why says
 * what went wrong; local is 1 when that was kgate's own resources (out of
 * descriptors, memory or local ports), not the upstream.  The dialer is
 * gone when this returns. */
typedef void (*dial_done_fn)(void *ctx, struct bufferevent *bev, const char *why, int local);

/* Starts dialling; with tls, completes a TLS handshake that checks tls_name
 * (see tls_connect).  Never calls done before returning.  NULL if out of
 * memory.  env is copied.  A host or TLS name longer than DNS allows is
 * refused (through done), never cut short. */
KG_MUSTCHECK struct dialer *dial_start(const struct dial_env *env, const char *host,
				       uint16_t port, SSL_CTX *tls, const char *tls_name,
				       dial_done_fn done, void *ctx);
/* Abandons a dial in progress; done is not called. */
void dial_cancel(struct dialer *d);

#endif
