/* client_view.h — which broker addresses a librdkafka client says it used, read from its
 * statistics JSON; plain C (jansson, no Check), shared by the integration tests and
 * kgate-client.
 *
 * librdkafka's statistics list one entry per broker handle in "brokers": the bootstrap
 * ones ("host:port/bootstrap"), the brokers Metadata told it of ("host:port/1"), and logical
 * ones such as "GroupCoordinator", which carries the address FindCoordinator answered with.
 * Each names the address it connects to ("nodename") and counts its connection attempts
 * ("connects", failed ones too: an address the client tried is one it was told to use).
 */
#ifndef KGATE_CLIENT_VIEW_H
#define KGATE_CLIENT_VIEW_H

#include <stdbool.h>
#include <stddef.h>

/* Entries kept from one document; kgate's clients know a handful. */
#define CLIENT_VIEW_MAX_BROKERS 64
#define CLIENT_VIEW_NAME_LEN 160

/* One entry of the statistics' "brokers" object. */
struct client_view_broker {
	char name[CLIENT_VIEW_NAME_LEN];     /* its key: "host:port/1", "GroupCoordinator" */
	char nodename[CLIENT_VIEW_NAME_LEN]; /* "host:port" it connects to; "" when none */
	long long nodeid;                    /* -1 when absent (bootstrap, logical) */
	long long connects;                  /* connection attempts; 0 when absent */
};

/* The brokers of one statistics document, in the document's order. */
struct client_view {
	struct client_view_broker brokers[CLIENT_VIEW_MAX_BROKERS];
	size_t n_brokers;
	bool truncated; /* the document listed more than brokers[] holds */
};

/* What one entry says the client did with a broker. */
enum client_view_use {
	CLIENT_VIEW_IDLE,       /* never tried to connect: only known, from Metadata */
	CLIENT_VIEW_USED,       /* tried to connect to its nodename */
	CLIENT_VIEW_NO_ADDRESS, /* tried, but has no nodename now: nothing to check */
};

/* "host:port" addresses, each once, in the order first seen. */
struct client_addr_set {
	char addr[CLIENT_VIEW_MAX_BROKERS][CLIENT_VIEW_NAME_LEN];
	size_t n;
	bool incomplete; /* an address was not counted (view truncated, or set full) */
};

/* Reads one statistics document into v.  Returns 0, or -1 with the reason in err when it
 * is not JSON or has no "brokers" object; v is then left as it was, so a caller keeping
 * the latest view keeps the previous one. */
int client_view_parse(const char *json, size_t len, struct client_view *v, char *err,
		      size_t err_size);

/* The one rule for which brokers count as used: connects > 0 with a nodename. */
enum client_view_use client_view_use(const struct client_view_broker *b);

/* Adds the address of every entry of v the client used to set; marks the set incomplete
 * when one could not be counted, so that a check on it can refuse to pass. */
void client_view_add_used(const struct client_view *v, struct client_addr_set *set);

#endif
