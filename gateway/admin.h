/* admin.h — the admin endpoint: an HTTP server (libevent's evhttp) on
 * admin.listen, on the gateway's own event loop.
 *
 *   GET /metrics  Prometheus text (metrics.h)
 *   GET /healthz  200 while the event loop runs (liveness)
 *   GET /readyz   200 when every listener accepts, the broker map is known
 *                 and the cluster answered kgate's own Metadata request
 *                 within two probe intervals (plus the connect timeout);
 *                 503 with the reason otherwise, and from the moment a
 *                 drain starts (the NLB's and Kubernetes' readiness check)
 *   GET /brokers  JSON: each broker kgate fronts, where it listens, what it
 *                 advertises, where its upstream is (configured or learned,
 *                 since when) and whether kgate last reached it
 *
 * Every answer is built from memory in one go, and evhttp bounds what a
 * client may send and how long it may take, so an admin client cannot
 * hold up forwarding.  While the endpoint runs, kgate asks the cluster for
 * Metadata every admin.probe_interval_ms (discover_probe): the answer that
 * readiness depends on, and a broker map that stays fresh.
 */
#ifndef KGATE_ADMIN_H
#define KGATE_ADMIN_H

#include <stddef.h>

#include "../protocol/kdefs.h"

struct admin;
struct gateway;

/* Serves gw's admin endpoint as its configuration says (NULL *out, and 0,
 * when it has none); -1 with err filled if it cannot listen. */
KG_MUSTCHECK int admin_start(struct gateway *gw, struct admin **out, char *err, size_t errlen);
/* Stops serving.  NULL is fine. */
void admin_free(struct admin *a);

#endif
