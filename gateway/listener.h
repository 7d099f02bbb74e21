/* listener.h — kgate's listening sockets: the bootstrap one, and one per
 * broker, and the SNI listener (one port for every broker).
 *
 * A listener belongs to the configuration generation it was made from: its
 * broker entry, its name and the TLS contexts built from its files never
 * change.  A reload makes new listeners from the new generation; one whose
 * address is unchanged takes over the old listener's socket, so no client
 * is refused meanwhile, and the old listener lives on (reference-counted)
 * for as long as pairs it accepted do.  What happens to an accepted socket
 * is the caller's: the accept callback (pair_accept), as dial.h hands its
 * result to a callback.
 */
#ifndef KGATE_LISTENER_H
#define KGATE_LISTENER_H

#include <event2/util.h>
#include <openssl/ssl.h>
#include <stddef.h>

#include "../config/gen.h"
#include "../protocol/kdefs.h"
#include "../protocol/kmap.h"
#include "stats.h"

struct event;
struct evconnlistener;
struct gateway;
struct listener;
struct sockaddr;

/* A client connected to lst; fd is the callee's. */
typedef void (*listener_accept_fn)(struct listener *lst, evutil_socket_t fd,
				   const struct sockaddr *sa, int socklen);

struct listener {
	struct gateway *gw;
	struct cfg_gen *gen;             /* the generation it was made from */
	int refs;                        /* the gateway's current set, each pair */
	int retired;                     /* no longer in the configuration */
	struct evconnlistener *evl;      /* NULL once it stops accepting */
	struct event *backoff;           /* accepting paused after an error */
	const struct cfg_addr *addr;
	const struct cfg_broker *broker; /* NULL for bootstrap and SNI */
	/* Its settings, to hand to cfg_login, cfg_upstream_sasl ...: broker,
	 * or the SNI listener's, or NULL for the bootstrap's. */
	const struct cfg_broker *conf;
	const struct cfg_sni *sni;       /* the SNI listener's names, else NULL */
	/* The SNI listener's view of the cluster (its pairs' kstream map):
	 * node N at the pattern's name for N (sni_host holds the last one
	 * written).  Unused elsewhere. */
	struct kmap map;
	char sni_host[CFG_HOST_MAX + 1];
	char name[96];                   /* "bootstrap", "broker 1", "sni", for logs */
	char label[32];                  /* "bootstrap", "broker-1", "sni", for metrics */
	SSL_CTX *tls;                    /* serving clients; NULL: plaintext */
	const struct cfg_tls_server *tls_cfg;
	SSL_CTX *upstream_tls;           /* towards its upstream; NULL: plaintext */
	const struct cfg_tls_client *upstream_tls_cfg;
	listener_accept_fn accept;
	struct kg_stats *stats;          /* the share of its name (gateway_listener_stats) */
};

/* Makes gw's listeners those of its configuration generation: at start, or
 * after a reload changed gw->gen.  A listener at an unchanged address keeps
 * its socket; new addresses are bound; listeners no longer configured stop
 * accepting and are marked retired (their pairs still hold them).  -1 with
 * err filled if a new address cannot be bound or a TLS file cannot be
 * loaded: then nothing changed. */
KG_MUSTCHECK int listeners_apply(struct gateway *gw, listener_accept_fn accept, char *err,
				 size_t errlen);
/* Stops accepting on every listener (for a stop). */
void listeners_close(struct gateway *gw);
/* Drops the gateway's references (pairs may still hold theirs). */
void listeners_free(struct gateway *gw);
struct listener *listener_ref(struct listener *lst);
void listener_unref(struct listener *lst);
/* The bootstrap listener (kgate's own requests go where its would). */
const struct listener *listener_bootstrap(const struct gateway *gw);

#endif
