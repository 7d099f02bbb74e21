/* stats.h — the gateway's counters, declared once.
 *
 * KG_STATS lists each counter with its kind, the label it is broken down by
 * in the metrics (none, per listener, or per API) and its help text; the
 * struct, the log line and the Prometheus families are all generated from
 * it.  Each gateway (one per event loop) holds its totals in a struct
 * kg_stats, each listener the same struct for its own share, and the
 * gateway one per ApiKey with a latency histogram, so nothing is shared
 * between loops (workers) and a report sums every worker's (kg_stats_add):
 * a gauge such as connections_open is the sum of the workers' too.
 */
#ifndef KGATE_STATS_H
#define KGATE_STATS_H

#include <stdint.h>

/* X(name, kind, label, help): kind counter or gauge; label none, listener
 * (kept in each listener's struct too), api (in each API's too), node
 * (also counted by node id: gateway.h's unmapped) or reason (name is
 * family__reason: one family, one series per row). */
#define KG_REFRESH_HELP                                                                        \
	"Metadata refreshes kgate started itself, by what triggered them (gateway/refresh.h)"

#define KG_STATS(X)                                                                            \
	X(connections_accepted, counter, listener, "client connections accepted")              \
	X(connections_open, gauge, listener, "client connections open now")                    \
	X(upstream_connects, counter, none, "upstream connections established")                \
	X(upstream_connect_failures, counter, none, "upstream connection attempts that failed") \
	X(resource_failures, counter, none,                                                    \
	  "dials kgate could not make itself (descriptors, memory, ports)")                    \
	X(requests, counter, api, "request frames forwarded to brokers")                       \
	X(responses, counter, api, "response frames forwarded to clients")                     \
	X(responses_rewritten, counter, api, "responses in which an address was rewritten")    \
	X(endpoints_rewritten, counter, none, "broker endpoints given their advertised address") \
	X(endpoints_unmapped, counter, node,                                                   \
	  "endpoints left unchanged: node id neither in brokers[] nor in broker_ports")       \
	X(leader_hints_rewritten, counter, none,                                               \
	  "Produce/Fetch/ShareFetch/ShareAcknowledge responses whose NodeEndpoints were rewritten") \
	X(node_endpoints_dropped, counter, none,                                               \
	  "Fetch/ShareFetch NodeEndpoints left out to keep a frame's length")                  \
	X(requests_refused, counter, none,                                                     \
	  "requests refused: a version kgate does not forward, or a SASL kgate does itself")  \
	X(protocol_errors, counter, none, "connections closed for malformed or unexpected frames") \
	X(tls_failures, counter, none, "connections closed because TLS failed (handshake or record)") \
	X(timeouts, counter, none, "connections closed for idleness or a request begun and not finished") \
	X(upstream_auths, counter, none, "upstream connections kgate authenticated (upstream_sasl)") \
	X(upstream_auth_failures, counter, none,                                               \
	  "upstream authentications that failed (the broker's message is logged)")             \
	X(upstream_reauths, counter, none,                                                     \
	  "upstream sessions re-authenticated before they expired (KIP-368)")                  \
	X(client_logins, counter, listener, "clients that logged in to kgate (client_auth sasl)") \
	X(client_login_failures, counter, listener,                                            \
	  "client logins refused: wrong credentials, unknown user or mechanism, bad exchange") \
	X(sni_bootstrap, counter, none, "SNI listener clients routed to bootstrap by its name") \
	X(sni_broker, counter, none, "SNI listener clients routed to a broker by its name")    \
	X(sni_unmatched, counter, none,                                                        \
	  "SNI listener clients with no name or another name, routed to bootstrap")            \
	X(sni_refused, counter, none,                                                          \
	  "SNI listener clients refused in the handshake: no name or another name")            \
	X(metadata_fetches, counter, none, "Metadata requests kgate sent itself to learn brokers") \
	X(metadata_refreshes__interval, counter, reason, KG_REFRESH_HELP)                      \
	X(metadata_refreshes__readiness, counter, reason, KG_REFRESH_HELP)                     \
	X(metadata_refreshes__dial_failure, counter, reason, KG_REFRESH_HELP)                  \
	X(metadata_refreshes__not_leader, counter, reason, KG_REFRESH_HELP)                    \
	X(metadata_refreshes__client_wait, counter, reason, KG_REFRESH_HELP)                   \
	X(refreshes_held_back, counter, none,                                                  \
	  "dial failures, NOT_LEADER answers and clients of unlisted brokers that asked for no " \
	  "Metadata refresh: their back-off period was running")                               \
	X(brokers_backing_off, gauge, none,                                                    \
	  "broker ids kgate could not dial or find lately, whose refreshes back off (per worker, summed)") \
	X(addresses_refused, counter, none,                                                    \
	  "learned broker addresses refused: no host name, or not in upstream_allow")          \
	X(bytes_to_upstream, counter, listener, "bytes forwarded from clients to brokers")     \
	X(bytes_to_client, counter, listener, "bytes forwarded from brokers to clients")       \
	X(bytes_spliced, counter, none,                                                        \
	  "bytes of those moved socket to socket by splice(2), never copied into kgate")      \
	X(buffer_bytes_in_use, gauge, none, "read buffer memory holding bytes in flight")     \
	X(buffer_bytes_free, gauge, none, "read buffer memory kept for reuse")                \
	X(buffer_allocations, counter, none, "read buffers allocated from the system (64 KiB each)")

struct kg_stats {
#define KG_STATS_FIELD(name, kind, label, help) uint64_t name;
	KG_STATS(KG_STATS_FIELD)
#undef KG_STATS_FIELD
};

/* Upper bounds (seconds) of the upstream response time histogram: from a
 * quick Metadata on a local broker to a Fetch that waited its max wait. */
#define KG_LATENCY_BOUNDS(X)                                                                   \
	X(0.0005) X(0.001) X(0.0025) X(0.005) X(0.01) X(0.025) X(0.05) X(0.1) X(0.25) X(0.5)     \
	X(1) X(2.5) X(5) X(10) X(30)
#define KG_LATENCY_COUNT_ONE(b) +1
#define KG_LATENCY_N (0 KG_LATENCY_BOUNDS(KG_LATENCY_COUNT_ONE))

/* A Prometheus histogram of seconds. */
struct kg_latency {
	uint64_t le[KG_LATENCY_N]; /* observations at most each bound (cumulative) */
	uint64_t count;
	double sum;
};

/* One ApiKey's share: its counters (the api-labelled ones are kept) and
 * how long upstreams took to answer it. */
struct kg_api_stats {
	struct kg_stats c;
	struct kg_latency latency;
};

/* Slots in a gateway's per-API array: keys 0..KG_API_SLOTS-2, and one for
 * every larger key. */
#define KG_API_SLOTS 129
static inline unsigned kg_api_slot(int16_t key)
{
	return key >= 0 && key < KG_API_SLOTS - 1 ? (unsigned)key : KG_API_SLOTS - 1;
}

/* The upper bound of histogram bucket i. */
double kg_latency_bound(unsigned i);
void kg_latency_observe(struct kg_latency *l, double seconds);
/* A monotonic clock, in nanoseconds. */
int64_t kg_now_ns(void);
/* Adds from's counters (and gauges) to to's: several workers' sum. */
void kg_stats_add(struct kg_stats *to, const struct kg_stats *from);
void kg_api_stats_add(struct kg_api_stats *to, const struct kg_api_stats *from);
/* Logs every counter on one line at info level. */
void stats_log(const struct kg_stats *s);

#endif
