/* listener.h — kgate's listening sockets: the bootstrap one, and one per
 * broker.  Each holds the configuration generation it was opened with and
 * the TLS contexts made from it, towards clients and towards its upstream.
 * What happens to an accepted socket is the caller's: the accept callback
 * (pair_accept), as dial.h hands its result to a callback.
 */
#ifndef KGATE_LISTENER_H
#define KGATE_LISTENER_H

#include <event2/util.h>
#include <openssl/ssl.h>
#include <stddef.h>

#include "../config/gen.h"
#include "../protocol/kdefs.h"

struct evconnlistener;
struct gateway;
struct listener;
struct sockaddr;

/* A client connected to lst; fd is the callee's. */
typedef void (*listener_accept_fn)(struct listener *lst, evutil_socket_t fd,
				   const struct sockaddr *sa, int socklen);

struct listener {
	struct gateway *gw;
	struct cfg_gen *gen; /* the generation it was opened with */
	struct evconnlistener *evl;
	const struct cfg_addr *addr;
	const struct cfg_broker *broker; /* NULL for bootstrap */
	char name[96];                   /* "bootstrap" or "broker 1", for logs */
	SSL_CTX *tls;                    /* serving clients; NULL: plaintext */
	const struct cfg_tls_server *tls_cfg;
	SSL_CTX *upstream_tls; /* towards its upstream; NULL: plaintext */
	const struct cfg_tls_client *upstream_tls_cfg;
	listener_accept_fn accept;
};

/* Binds a listener for bootstrap and each broker of gw's configuration into
 * gw->listeners; -1 with err filled if any cannot be bound (those opened are
 * then closed again). */
KG_MUSTCHECK int listeners_open(struct gateway *gw, listener_accept_fn accept, char *err,
				size_t errlen);
/* Stops accepting (for a clean stop); the listeners stay until freed. */
void listeners_close(struct gateway *gw);
/* Closes and frees every listener. */
void listeners_free(struct gateway *gw);
/* The bootstrap listener (kgate's own requests go where its would). */
const struct listener *listener_bootstrap(const struct gateway *gw);

#endif
