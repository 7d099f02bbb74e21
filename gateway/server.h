/* server.h — a gateway brought up, changed and taken down, in order: its
 * state, its listeners wired to pair_accept, the admin endpoint, the
 * once-a-second sweep for timeouts; a graceful drain, a reload, and a stop.
 * main runs one; a worker thread will run one each. */
#ifndef KGATE_SERVER_H
#define KGATE_SERVER_H

#include <stddef.h>

#include "../config/gen.h"
#include "../protocol/kdefs.h"

struct event_base;
struct gateway;
struct server;

/* A gateway on base running gen, listening; NULL with err filled if it
 * cannot start (a listen address in use, say).  stopped is called when a
 * drain has finished. */
KG_MUSTCHECK struct server *server_start(struct event_base *base, struct cfg_gen *gen,
					 void (*stopped)(void *arg), void *arg, char *err,
					 size_t errlen);
struct gateway *server_gateway(struct server *srv);
/* A graceful stop: readiness fails, listeners close, every pair finishes
 * what is in flight and closes between requests; after
 * limits.drain_timeout_ms the rest are closed.  Then stopped is called. */
void server_drain(struct server *srv);
/* Stops listening and closes every connection now. */
void server_stop(struct server *srv);
/* Runs gen from now on: listeners added, removed (their pairs drain) or
 * kept (with their sockets), the admin endpoint moved if it moved, limits
 * and advertised addresses for what comes next.  -1 with err filled, and
 * nothing changed, if it cannot be applied (an address in use). */
KG_MUSTCHECK int server_reload(struct server *srv, struct cfg_gen *gen, char *err, size_t errlen);
/* A reload that could not even be loaded: counted. */
void server_reload_failed(struct server *srv);
/* Stops (if not yet) and frees everything.  NULL is fine. */
void server_free(struct server *srv);

#endif
