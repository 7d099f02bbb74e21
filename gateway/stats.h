/* stats.h — the gateway's counters, declared once.
 *
 * KG_STATS lists each counter with its kind and help text; the struct, the
 * names and the log line are all generated from it.  Each gateway (one per
 * event loop) holds its own struct kg_stats, so nothing is shared between
 * loops; a report over several gateways sums them.
 */
#ifndef KGATE_STATS_H
#define KGATE_STATS_H

#include <stdint.h>

#define KG_STATS(X)                                                                   \
	X(connections_accepted, counter, "client connections accepted")               \
	X(connections_open, gauge, "client connections open now")                     \
	X(upstream_connects, counter, "upstream connections established")             \
	X(upstream_connect_failures, counter, "upstream connection attempts that failed") \
	X(resource_failures, counter, "dials kgate could not make itself (descriptors, memory, ports)") \
	X(requests, counter, "request frames forwarded to brokers")                   \
	X(responses, counter, "response frames forwarded to clients")                 \
	X(responses_rewritten, counter, "responses in which an address was rewritten") \
	X(endpoints_rewritten, counter, "broker endpoints given their advertised address") \
	X(endpoints_unmapped, counter, "endpoints left unchanged: node id not in brokers[]") \
	X(leader_hints_rewritten, counter, "Produce/Fetch responses whose NodeEndpoints were rewritten") \
	X(node_endpoints_dropped, counter, "Fetch NodeEndpoints removed to keep a frame's length") \
	X(requests_refused, counter, "requests refused: hidden API, or version outside what kgate forwards") \
	X(protocol_errors, counter, "connections closed for malformed or unexpected frames") \
	X(tls_failures, counter, "connections closed because TLS failed (handshake or record)") \
	X(metadata_fetches, counter, "Metadata requests kgate sent itself to learn brokers") \
	X(addresses_refused, counter, "learned broker addresses refused: no host name, or not in upstream_allow") \
	X(bytes_to_upstream, counter, "bytes forwarded from clients to brokers")       \
	X(bytes_to_client, counter, "bytes forwarded from brokers to clients")

struct kg_stats {
#define KG_STATS_FIELD(name, kind, help) uint64_t name;
	KG_STATS(KG_STATS_FIELD)
#undef KG_STATS_FIELD
};

/* Logs every counter on one line at info level. */
void stats_log(const struct kg_stats *s);

#endif
