/* workers.h — kgate on every core: one event loop per worker thread.
 *
 * Worker 0 runs on the main thread's loop, next to the signals, and serves
 * the admin endpoint (and with it kgate's own Metadata probes); each other
 * worker runs a gateway of its own (server.h) on a thread of its own.
 * Every worker binds every listener (SO_REUSEPORT) and the kernel hashes
 * each new connection to one of them, which then owns it for its life:
 * nothing a pair touches is shared, so the data path takes no lock.
 *
 * What each worker learns of the cluster (its brokers' addresses, their
 * health) is its own: every response a worker rewrites consults its map,
 * and a shared map would put a lock, or cache-line traffic, on that path.
 * The workers learn the same thing from the same cluster; the cost is that
 * a worker that meets a broker it does not know yet asks the cluster for
 * Metadata itself, once.  /brokers and readiness show worker 0's view,
 * which the admin probes keep fresh.
 *
 * The main thread reaches the others only through their mailboxes: reloads
 * and drains are applied to every worker in turn, and the counters behind
 * /metrics, SIGUSR1 and the exit line are each worker's own, copied on its
 * own thread and summed, so they are exact.
 */
#ifndef KGATE_WORKERS_H
#define KGATE_WORKERS_H

#include <stddef.h>

#include "../config/gen.h"
#include "../protocol/kdefs.h"

struct event_base;
struct gw_counters;
struct workers;

/* The number of workers cfg asks for: its "workers", or when that is 0 one
 * per CPU this process may use (cpus.h: its affinity mask, capped by a
 * container's CPU limit). */
unsigned workers_count(const struct cfg *cfg);
/* Starts gen's workers: worker 0 on base (the calling thread's loop, which
 * must then run), the others on threads of their own.  stopped(arg) is
 * called on base's thread once every worker has finished a drain.  NULL
 * with err filled if any worker cannot start (nothing is left running). */
KG_MUSTCHECK struct workers *workers_start(struct event_base *base, struct cfg_gen *gen,
					   void (*stopped)(void *arg), void *arg, char *err,
					   size_t errlen);
unsigned workers_n(const struct workers *ws);
/* A graceful stop on every worker (server_drain), said once in the log. */
void workers_drain(struct workers *ws);
/* Closes every connection of every worker now. */
void workers_stop(struct workers *ws);
/* Runs gen on every worker; -1 with err filled if one cannot (then every
 * worker runs the generation it ran before).  Logs and counts the result. */
KG_MUSTCHECK int workers_reload(struct workers *ws, struct cfg_gen *gen, char *err,
				size_t errlen);
/* A reload that could not even be loaded: counted. */
void workers_reload_failed(struct workers *ws);
/* Every worker's counters, summed (gw_counters_free them); NULL if out of
 * memory. */
KG_MUSTCHECK struct gw_counters *workers_counters(struct workers *ws);
/* After base's loop has ended: stops every worker, ends its thread, logs
 * the final counters and frees everything.  NULL is fine. */
void workers_free(struct workers *ws);

#endif
