/* clients.h — real librdkafka clients for the integration tests: common
 * configuration, the client's own view of the brokers it used, and a
 * ledger that proves every message arrived exactly once and in order.
 */
#ifndef KGATE_CLIENTS_H
#define KGATE_CLIENTS_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "client_view.h"
#include "harness.h"

/* Broker addresses a client reports (its statistics), deduplicated. */
struct broker_view {
	pthread_mutex_t lock;
	struct client_addr_set connected; /* used in any report so far (client_view_use) */
	struct client_view last;          /* the latest report */
	int stats_seen;
};

void view_init(struct broker_view *v);
/* A client configuration: bootstrap, statistics into view (may be NULL),
 * quiet logs, timeouts suited to tests. */
rd_kafka_conf_t *client_conf(const char *bootstrap, struct broker_view *view);
void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value);
/* Waits until a fresh statistics report has arrived, polling rk for it;
 * rk NULL when another thread polls the client (a consumer group member). */
void view_refresh(rd_kafka_t *rk, struct broker_view *v);
/* Asserts every broker the client connected to is one of kgate's
 * listeners, and that at least one was. */
void view_assert_gateway_only(struct broker_view *v, const struct kgate *k);
/* Asserts that no connection the client had to one of kgate's listeners in
 * before (an earlier view_last) has been made again since: the latest
 * report counts the same connects for each. */
void view_assert_no_reconnect(struct broker_view *v, const struct client_view *before,
			      const struct kgate *k);
/* Copies the latest report. */
void view_last(struct broker_view *v, struct client_view *out);
/* Whether the client has used the broker at addr ("host:port"). */
int view_used(struct broker_view *v, const char *addr);
/* Asserts the client's Metadata lists exactly kgate's broker addresses. */
void metadata_assert_gateway_only(rd_kafka_t *rk, const struct kgate *k);
/* Produces ids 0..messages-1 to topic through bootstrap and reads them back
 * exactly once (a consumer of its partitions), both clients having seen
 * only k's addresses. */
void round_trip_gateway_only(const struct kgate *k, const char *bootstrap, const char *topic,
			     int messages, int partitions);

/* Which message ids arrived, how often, and whether in order per partition. */
struct ledger {
	pthread_mutex_t lock;
	int64_t n;             /* messages expected: ids 0..n-1 */
	uint8_t *count;        /* per id */
	int64_t last_id[64];   /* per partition, -1 before the first */
	int64_t received, duplicates, out_of_order;
};

void ledger_init(struct ledger *l, int64_t n);
void ledger_free(struct ledger *l);
/* Records a consumed message whose value carries its id. */
void ledger_record(struct ledger *l, const rd_kafka_message_t *m);
/* Asserts every id arrived exactly once, in order within its partition. */
void ledger_assert_exactly_once(struct ledger *l);

/* Produces ids [from, to) to topic (value: id + padding, key: id), polling
 * for delivery reports (counted by the producer_conf delivery struct).
 */
void produce_ids(rd_kafka_t *rk, const char *topic, int64_t from, int64_t to);
/* A producer configuration with delivery accounting.  The counts are
 * atomic so any thread may watch them; last_error is written before failed
 * is counted, so whoever sees failed > 0 can read it. */
struct delivery {
	_Atomic int64_t delivered, failed;
	char last_error[256];
};
rd_kafka_conf_t *producer_conf(const char *bootstrap, struct broker_view *view,
			       struct delivery *d);
/* Polls until delivered + failed reaches n (failsafe deadline). */
void wait_deliveries(rd_kafka_t *rk, struct delivery *d, int64_t n, int deadline_s);

/* An idempotent acks=all producer (see producer_conf); asserts it starts. */
rd_kafka_t *producer_new(const char *bootstrap, struct broker_view *view, struct delivery *d);
/* A consumer reading partitions 0..n-1 of topic from the beginning. */
rd_kafka_t *consumer_from_start(const char *bootstrap, struct broker_view *view,
				const char *topic, int partitions);
/* The same, from a configuration the caller has finished (its group.id set,
 * TLS say): for tests whose consumer needs more than client_conf gives. */
rd_kafka_t *consumer_assign_from_start(rd_kafka_conf_t *conf, const char *topic,
				       int partitions);
/* Reads back ids 0..n-1 with consumer and asserts exactly once, in order. */
void consume_exactly_once(rd_kafka_t *consumer, int64_t n, int deadline_s);
/* Closes and destroys a consumer. */
void consumer_destroy(rd_kafka_t *consumer);

/* Consumes with one handle until ledger->received reaches target or the
 * failsafe deadline passes. */
void consume_until(rd_kafka_t *rk, struct ledger *l, int64_t target, int deadline_s);
/* ledger->received, read under its lock (consumers may be recording). */
int64_t ledger_received(struct ledger *l);

/* A consumer group member on its own thread, recording into a shared
 * ledger.  When partitions are taken from it, it commits what it has
 * recorded first, so a rebalance hands them on without redelivering. */
struct group_member {
	pthread_t thread;
	rd_kafka_t *rk;
	struct ledger *ledger;
	struct broker_view view;
	atomic_int assigned; /* partitions it holds now (its thread updates it) */
	atomic_int stop;     /* set by group_member_stop */
};

/* Subscribes a member of group to topic through bootstrap and starts its thread. */
void group_member_start(struct group_member *m, const char *bootstrap, const char *group,
			const char *topic, struct ledger *l);
/* Stops the member's thread, then closes (commits, leaves) and destroys it. */
void group_member_stop(struct group_member *m);
/* Waits (failsafe deadline) until each of the n members holds at least one
 * of the topic's partitions and together they hold all of them. */
void group_wait_settled(struct group_member *members, int n, int partitions, int deadline_s);

#endif
