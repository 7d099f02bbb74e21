/* server.h — a gateway brought up, changed and taken down, in order: its
 * state, its listeners wired to pair_accept, the admin endpoint, the
 * once-a-second sweep for timeouts; a graceful drain, a reload, and a stop.
 * Each worker runs one on its own loop (workers.h); the first also serves the
 * admin endpoint.  What is said once for all workers (draining, drained,
 * reloaded) is workers.c's to log. */
#ifndef KGATE_SERVER_H
#define KGATE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "../config/gen.h"
#include "../protocol/kdefs.h"

struct event_base;
struct gateway;
struct server;

/* Worker worker's gateway (of n_workers) on base running gen, listening
 * (and, on worker 0, serving the admin endpoint); NULL with err filled if
 * it cannot start (a listen address in use, say).  stopped is called when
 * a drain has finished. */
KG_MUSTCHECK struct server *server_start(struct event_base *base, struct cfg_gen *gen,
					 unsigned worker, unsigned n_workers,
					 void (*stopped)(void *arg), void *arg, char *err,
					 size_t errlen);
struct gateway *server_gateway(struct server *srv);
/* A graceful stop: readiness fails, listeners close, every pair finishes
 * what is in flight and closes between requests; after
 * limits.drain_timeout_ms the rest are closed.  Then stopped is called.
 * *open and *in_flight say what there was to drain (0 if already
 * draining). */
void server_drain(struct server *srv, uint64_t *open, size_t *in_flight);
/* 1 if connections were closed rather than drained (a stop, or the drain
 * timeout). */
int server_forced(const struct server *srv);
/* Stops listening and closes every connection now. */
void server_stop(struct server *srv);
/* Runs gen from now on: listeners added, removed (their pairs drain: how
 * many in *retired) or kept (with their sockets), the admin endpoint moved
 * if it moved, limits and advertised addresses for what comes next.  -1
 * with err filled, and nothing changed, if it cannot be applied (an
 * address in use). */
KG_MUSTCHECK int server_reload(struct server *srv, struct cfg_gen *gen, size_t *retired,
			       char *err, size_t errlen);
/* Stops (if not yet) and frees everything.  NULL is fine. */
void server_free(struct server *srv);

#endif
