/* gateway.h — one running gateway: its listeners, connections and what it
 * has learned about the cluster, all on one libevent loop.
 */
#ifndef KGATE_GATEWAY_H
#define KGATE_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "../config/config.h"
#include "../protocol/kbuf.h"
#include "../protocol/kmap.h"
#include "cluster.h"

struct event_base;
struct evdns_base;
struct evconnlistener;
struct event;
struct pair;

/* A listening socket: the bootstrap one, or one per broker. */
struct listener {
	struct gateway *gw;
	struct evconnlistener *evl;
	const struct cfg_addr *addr;
	const struct cfg_broker *broker; /* NULL for bootstrap */
	char name[96];                   /* "bootstrap" or "broker 1", for logs */
	SSL_CTX *tls;                    /* serving clients; NULL: plaintext */
	const struct cfg_tls_server *tls_cfg;
	SSL_CTX *upstream_tls;           /* towards its upstream; NULL: plaintext */
	const struct cfg_tls_client *upstream_tls_cfg;
};

struct gateway {
	struct event_base *base;
	struct evdns_base *dns;
	const struct cfg *cfg;
	struct listener *listeners;
	size_t n_listeners;
	struct pair *pairs; /* every open pair, for shutdown */
	struct pair *dead;  /* closed pairs awaiting pair_reap */
	struct event *reaper;
	struct kwbuf scratch; /* rewrite output, reused frame after frame */
	uint64_t next_pair_id;
	unsigned bootstrap_next; /* where the next bootstrap dial starts */
	struct cluster cluster;
	struct kmap map;
	int32_t *unmapped_logged; /* node ids already warned about */
	size_t n_unmapped_logged;
};

/* The TLS context towards lst's upstream (NULL: plaintext), and in *name the
 * name its certificate is checked against and sent as SNI: the configured
 * server_name, else the name the cluster advertises for the listener's
 * broker (also when kgate dials it through an NLB), else host, the address
 * dialled. */
SSL_CTX *listener_upstream_tls(const struct listener *lst, const char *host, const char **name);
/* Binds every listener; NULL with err filled if any cannot be bound. */
struct gateway *gateway_new(struct event_base *base, const struct cfg *cfg, char *err,
			    size_t errlen);
/* Stops listening and closes every connection (for a clean stop). */
void gateway_shutdown(struct gateway *gw);
void gateway_free(struct gateway *gw);

#endif
