/* conn.h — a client connection and its linked upstream connection.
 *
 * Each accepted client gets a pair: the client side and one upstream side
 * dialled for the listener it arrived on (any bootstrap upstream, or the one
 * broker the listener stands for).  Requests are framed on the way up and
 * remembered in order; responses are framed on the way down, checked against
 * what was asked, and either cut through as they arrive or — for the few APIs
 * that carry broker addresses — rewritten.
 */
#ifndef KGATE_CONN_H
#define KGATE_CONN_H

#include <event2/util.h>
#include <stdint.h>

#include "../protocol/fetch_walk.h"
#include "fifo.h"

struct bufferevent;
struct dialer;
struct event;
struct evbuffer;
struct listener;
struct gateway;
struct sockaddr;

/* Where a side is in the stream it reads. */
enum conn_rstate {
	RS_FRAME, /* at a frame boundary, waiting for the next header */
	RS_PASS,  /* cutting through the rest of a frame */
	RS_WHOLE, /* holding a whole response to rewrite it */
	RS_WALK,  /* streaming a Fetch response while walking its structure */
	RS_TAIL   /* holding a Fetch response's trailing tagged section */
};

/* One side of a pair. */
struct conn {
	struct bufferevent *bev; /* writes, connects, reports errors */
	struct event *rev;       /* kgate's own read event (see conn.c) */
	struct evbuffer *in;     /* what was read and not yet forwarded */
	int tls;                 /* an OpenSSL bufferevent: it reads for us */
	struct conn *link; /* the other side */
	struct pair *pair;
	const char *role; /* "client" or "upstream" */
	enum conn_rstate rstate;
	int paused;          /* reading stopped for back-pressure */
	uint64_t left;       /* bytes of the current frame still to forward */
	uint64_t skip;       /* RS_WALK: opaque bytes to pass before walking on */
	int32_t frame_size;  /* size field of the current frame */
	struct fifo_entry req; /* what the current response answers */
	struct kfetch_walk walk;
};

enum pair_state {
	PAIR_NEW,        /* accepted, upstream not chosen yet */
	PAIR_RESOLVING,  /* waiting to learn where its broker is */
	PAIR_CONNECTING, /* dialling upstream; the client is not read yet */
	PAIR_OPEN,
	PAIR_DRAINING,   /* one side ended; flushing what the other is owed */
	PAIR_CLOSED
};

struct pair {
	struct gateway *gw;
	struct listener *lst;
	uint64_t id;
	enum pair_state state;
	struct conn client;
	struct conn upstream;
	struct fifo inflight;      /* requests awaiting responses */
	struct dialer *dialer;     /* connecting the upstream */
	struct event *timer;       /* drain deadline */
	struct event *hs_timer;    /* client's TLS handshake deadline */
	size_t attempt;            /* bootstrap upstreams tried */
	size_t first_upstream;     /* where the bootstrap attempts started */
	int32_t learned_id;        /* node whose learned address is dialled, or -1 */
	char client_addr[64];
	char target[320];          /* "host:port" being dialled */
	struct pair *prev, *next;  /* gateway's list of pairs */
	struct pair *wait_next;    /* cluster's list of parked pairs */
};

/* Takes over an accepted socket. */
void pair_accept(struct listener *lst, evutil_socket_t fd, const struct sockaddr *sa,
		 int socklen);
/* The cluster's brokers are known now, or could not be learned (failure
 * says why). */
void pair_cluster_ready(struct pair *p, const char *failure);
/* Closes both sides at once (for shutdown). */
void pair_close(struct pair *p, const char *reason);
/* Frees pairs closed since the last call (they outlive their callbacks). */
void pair_reap(struct gateway *gw);

#endif
