/* pair.h — a client connection and its linked upstream connection, from
 * accept to the last byte flushed.
 *
 * Each accepted client gets a pair: the client side, and one upstream side
 * dialled where route.h says.  The pair wires the two sides' events to the
 * kstream that frames what flows between them, stops reading a side while
 * its peer's output is full, and ends in one of three ways: drained (one
 * side closed; what it sent is forwarded and flushed to the other first),
 * failed (a framing or TLS error; closed now, counted, logged with the
 * reason), or closed (shutdown).  Its memory is released by the gateway on
 * the next loop pass, after every callback that could still touch it.
 */
#ifndef KGATE_PAIR_H
#define KGATE_PAIR_H

#include <event2/util.h>
#include <stdint.h>

#include "cluster.h"
#include "gateway.h"
#include "kstream.h"
#include "route.h"
#include "side.h"

struct dialer;
struct upauth;
struct pair_login;
struct upauth_conn;
struct event;
struct listener;
struct sockaddr;

enum pair_state {
	PAIR_NEW,        /* accepted, upstream not chosen yet */
	PAIR_RESOLVING,  /* waiting to learn where its broker is */
	PAIR_CONNECTING, /* dialling upstream; what the client sends waits */
	PAIR_OPEN,
	PAIR_DRAINING, /* one side ended; flushing what the other is owed */
	PAIR_CLOSED
};

struct pair {
	struct gw_node node; /* in the gateway's lists */
	struct gateway *gw;
	struct listener *lst;
	struct cfg_gen *gen; /* the configuration it started with */
	uint64_t id;
	enum pair_state state;
	struct side client;
	struct side upstream;
	struct kstream ks;            /* framing between the two */
	struct route route;           /* how its upstream was chosen */
	struct cluster_waiter waiter; /* while PAIR_RESOLVING */
	struct dialer *dialer;        /* while PAIR_CONNECTING */
	struct event *timer;          /* drain deadline */
	struct event *hs_timer;       /* client's TLS handshake deadline */
	/* Signing in to the upstream (upstream_sasl): */
	const struct cfg_sasl *sasl;  /* who kgate is there (NULL: nobody), in gen */
	struct upauth_conn *auth;     /* signing in on a connection just dialled */
	struct upauth *reauth;        /* signing in again, between two requests */
	struct event *reauth_timer;   /* when the session is due to be renewed */
	int16_t auth_version;         /* SaslAuthenticate's, for re-authentication */
	char *sign_name;              /* AWS_MSK_IAM: the broker name signed, or NULL */
	int reauth_due;               /* hold requests until it is done */
	int stopping;                 /* pair_stop: close once nothing is owed */
	struct pair_login *login;     /* client_auth sasl: logging in to kgate */
	int64_t login_ns;             /* ... since (limits.frame_timeout_ms bounds it) */
	int await_cert;               /* client_auth tls with identities: route
					 * once the certificate is in */
	int await_sni;                /* SNI listener: route once the client's
					 * handshake has said its server name */
	int64_t active_ns;            /* last bytes read from either side */
	int64_t frame_ns;             /* a request begun, waiting for the client */
	uint64_t frame_done;          /* ks.up.done when frame_ns was last judged */
	int client_left;              /* hung up while paused: forward what is left */
	char client_addr[56];         /* "[v6 address]:port" at most */
	char upstream_addr[264];      /* "host:port" dialled (a name: 253 at most) */
};

/* Takes over an accepted socket (a listener_accept_fn). */
void pair_accept(struct listener *lst, evutil_socket_t fd, const struct sockaddr *sa, int socklen);
/* Closes every open pair of gw at once (for shutdown). */
void pair_close_all(struct gateway *gw, const char *reason);
/* A graceful stop: no new request is forwarded, and once every one already
 * forwarded has its response delivered, the pair closes between requests. */
void pair_stop(struct pair *p);
/* pair_stop on every open pair of gw (or those of retired listeners);
 * returns how many requests were in flight then. */
size_t pair_stop_all(struct gateway *gw, int retired_only);
/* Closes pairs idle longer than limits.idle_timeout_ms, or whose client
 * began a request and has not finished it in limits.frame_timeout_ms
 * (counted in timeouts).  Called every second. */
void pair_sweep(struct gateway *gw);

#endif
