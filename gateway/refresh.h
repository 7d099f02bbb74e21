/* refresh.h — kgate keeps its view of the cluster fresh on its own.
 *
 * A broker listener without an upstream dials the address the cluster
 * advertises for its node id (cluster.h), so that view must follow the
 * cluster as brokers join, move and leave.  Each worker asks for Metadata
 * itself (discover.h):
 *   - interval: when no complete listing of the brokers (its own, or one in
 *     a client's Metadata answer) arrived for discovery.refresh_interval_ms;
 *   - dial_failure: a learned broker address did not answer;
 *   - not_leader: a Produce answer with NOT_LEADER_OR_FOLLOWER, or a Produce
 *     (v10+) or Fetch (v16+) answer carrying leader hints (NodeEndpoints) —
 *     only where kgate decodes those answers anyway;
 *   - client_wait: a client reached a broker id kgate does not know.
 * The last three back off: per broker id (and once for NOT_LEADER), at most
 * one request per period, which starts at discovery.backoff_ms and doubles
 * up to discovery.backoff_max_ms while the trouble lasts (backoff.h); a
 * successful dial starts it over, and so does a quiet backoff_max_ms.
 * Meanwhile a client of a broker that does not answer dials its last known
 * address (and is closed if that fails); a client of a broker the cluster
 * does not list is closed at once, with a log line saying when kgate asks
 * again.  Nothing here is shared between workers.
 */
#ifndef KGATE_REFRESH_H
#define KGATE_REFRESH_H

#include <stdint.h>

#include "../protocol/kdefs.h"

struct gateway;

/* Starts the interval timer and listens for NOT_LEADER answers (gw->map);
 * -1 if out of memory. */
KG_MUSTCHECK int refresh_start(struct gateway *gw);
/* After a reload: the timer follows the new interval (the back-off
 * schedules keep their state and take the new bounds at their next step). */
void refresh_configure(struct gateway *gw);
/* Stops and frees everything (nothing asked from now on); again is fine. */
void refresh_free(struct gateway *gw);
/* A client of broker id, which the cluster does not list (as far as kgate
 * knows): 1 if it should wait for a Metadata request (one is under way, or
 * its back-off allows one), else 0 with *wait_ms until one is allowed. */
int refresh_may_wait(struct gateway *gw, int32_t id, int64_t *wait_ms);
/* Dialling broker id at its learned address addr failed. */
void refresh_dial_failed(struct gateway *gw, int32_t id, const char *addr);
/* ... or succeeded: its back-off starts over. */
void refresh_dial_ok(struct gateway *gw, int32_t id);

#endif
