/* server.h — a gateway brought up and taken down, in order: its state, its
 * listeners wired to pair_accept, and at the end its pairs and kgate's own
 * requests.  main runs one; a worker thread will run one each. */
#ifndef KGATE_SERVER_H
#define KGATE_SERVER_H

#include <stddef.h>

#include "../config/gen.h"
#include "../protocol/kdefs.h"

struct event_base;
struct gateway;

/* A gateway on base running gen, listening; NULL with err filled if it
 * cannot start (a listen address in use, say). */
KG_MUSTCHECK struct gateway *server_start(struct event_base *base, struct cfg_gen *gen, char *err,
					  size_t errlen);
/* Stops listening and closes every connection (for a clean stop). */
void server_stop(struct gateway *gw);
/* Stops (if not yet) and frees everything. NULL is fine. */
void server_free(struct gateway *gw);

#endif
