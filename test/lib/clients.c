/* clients.c — librdkafka helpers for the integration tests. */
#include "clients.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALUE_LEN 100 /* bytes per message value: 8-byte id + padding */

/* What a client's opaque points at. */
struct client_ctx {
	struct broker_view *view;
	struct delivery *delivery;
};

/* One context per handle, freed with the test process (forked per test). */
static struct client_ctx *ctx_new(struct broker_view *v, struct delivery *d)
{
	struct client_ctx *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->view = v;
	c->delivery = d;
	return c;
}

void view_init(struct broker_view *v)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
}

/* librdkafka's statistics: every broker handle it has, with the address it
 * connects to and how often it did.  Addresses add up over all reports, so a
 * broker the client used once stays checked.  A report that does not parse
 * is not counted. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct client_ctx *c = opaque;
	struct client_view report;
	char err[160];

	(void)rk;
	if (!c || !c->view || client_view_parse(json, len, &report, err, sizeof(err)) < 0)
		return 0;
	pthread_mutex_lock(&c->view->lock);
	client_view_add_used(&report, &c->view->connected);
	c->view->last = report;
	c->view->stats_seen++;
	pthread_mutex_unlock(&c->view->lock);
	return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 3 && getenv("KGATE_TEST_VERBOSE"))
		fprintf(stderr, "librdkafka: %s: %s\n", fac, buf);
}

void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char errstr[256];

	ck_assert_msg(rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
			      RD_KAFKA_CONF_OK,
		      "%s=%s: %s", name, value, errstr);
}

rd_kafka_conf_t *client_conf(const char *bootstrap, struct broker_view *view)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	conf_set(conf, "bootstrap.servers", bootstrap);
	conf_set(conf, "statistics.interval.ms", "100");
	conf_set(conf, "socket.timeout.ms", "10000");
	conf_set(conf, "reconnect.backoff.ms", "20");
	conf_set(conf, "reconnect.backoff.max.ms", "500");
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_stats_cb(conf, stats_cb);
	rd_kafka_conf_set_opaque(conf, ctx_new(view, NULL));
	return conf;
}

void view_refresh(rd_kafka_t *rk, struct broker_view *v)
{
	int64_t deadline = harness_now_ms() + 30000;
	int seen;

	pthread_mutex_lock(&v->lock);
	seen = v->stats_seen;
	pthread_mutex_unlock(&v->lock);
	/* Two reports: the first may have been cut before the call. */
	for (;;) {
		int now;

		if (rk)
			rd_kafka_poll(rk, 50);
		else
			usleep(10000);
		pthread_mutex_lock(&v->lock);
		now = v->stats_seen;
		pthread_mutex_unlock(&v->lock);
		if (now >= seen + 2)
			return;
		ck_assert_msg(harness_now_ms() < deadline, "no statistics from the client");
	}
}

void view_assert_gateway_only(struct broker_view *v, const struct kgate *k)
{
	pthread_mutex_lock(&v->lock);
	ck_assert_msg(v->connected.n > 0, "the client reports no broker connections");
	ck_assert_msg(!v->connected.incomplete,
		      "the client reports more brokers than can be checked (%d)",
		      CLIENT_VIEW_MAX_BROKERS);
	for (size_t i = 0; i < v->connected.n; i++)
		ck_assert_msg(kgate_owns(k, v->connected.addr[i]),
			      "the client connected to %s, which is not a kgate listener",
			      v->connected.addr[i]);
	pthread_mutex_unlock(&v->lock);
}

void view_last(struct broker_view *v, struct client_view *out)
{
	pthread_mutex_lock(&v->lock);
	*out = v->last;
	pthread_mutex_unlock(&v->lock);
}

void view_assert_no_reconnect(struct broker_view *v, const struct client_view *before,
			      const struct kgate *k)
{
	static struct client_view now; /* too big for a test thread's stack */
	int checked = 0;

	view_last(v, &now);
	for (size_t i = 0; i < before->n_brokers; i++) {
		const struct client_view_broker *b = &before->brokers[i];

		if (b->connects <= 0 || !kgate_owns(k, b->nodename))
			continue;
		for (size_t j = 0; j < now.n_brokers; j++)
			if (strcmp(now.brokers[j].name, b->name) == 0) {
				ck_assert_msg(now.brokers[j].connects == b->connects,
					      "%s: connected %lld times, then %lld", b->name,
					      b->connects, now.brokers[j].connects);
				checked++;
			}
	}
	ck_assert_msg(checked > 0, "no connection to kgate to compare");
}

int view_used(struct broker_view *v, const char *addr)
{
	int used = 0;

	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < v->connected.n && !used; i++)
		used = strcmp(v->connected.addr[i], addr) == 0;
	pthread_mutex_unlock(&v->lock);
	return used;
}

void metadata_assert_gateway_only(rd_kafka_t *rk, const struct kgate *k)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, 10000);

	ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR, "metadata: %s", rd_kafka_err2str(err));
	ck_assert_int_eq(md->broker_cnt, k->n_brokers);
	for (int i = 0; i < md->broker_cnt; i++) {
		char addr[300];

		snprintf(addr, sizeof(addr), "%s:%d", md->brokers[i].host, md->brokers[i].port);
		ck_assert_msg(kgate_owns(k, addr), "Metadata lists broker %d at %s",
			      md->brokers[i].id, addr);
		ck_assert_str_eq(addr, k->broker_addr[md->brokers[i].id - 1]);
	}
	rd_kafka_metadata_destroy(md);
}

/* ---- the ledger ---- */

void ledger_init(struct ledger *l, int64_t n)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->n = n;
	l->count = calloc((size_t)n, 1);
	ck_assert_ptr_nonnull(l->count);
	for (size_t i = 0; i < sizeof(l->last_id) / sizeof(l->last_id[0]); i++)
		l->last_id[i] = -1;
}

void ledger_free(struct ledger *l)
{
	free(l->count);
	l->count = NULL;
}

static int64_t value_id(const rd_kafka_message_t *m)
{
	const uint8_t *p = m->payload;
	uint64_t id = 0;

	if (!p || m->len != VALUE_LEN)
		return -1;
	for (int i = 0; i < 8; i++)
		id = (id << 8) | p[i];
	/* The padding is a function of the id, so corruption shows. */
	for (size_t i = 8; i < VALUE_LEN; i++)
		if (p[i] != (uint8_t)(id + i))
			return -1;
	return (int64_t)id;
}

void ledger_record(struct ledger *l, const rd_kafka_message_t *m)
{
	int64_t id = value_id(m);

	ck_assert_msg(id >= 0 && id < l->n, "message with a corrupt or unknown value");
	ck_assert_int_lt(m->partition, 64);
	pthread_mutex_lock(&l->lock);
	if (l->count[id]++)
		l->duplicates++;
	if (id <= l->last_id[m->partition])
		l->out_of_order++;
	else
		l->last_id[m->partition] = id;
	l->received++;
	pthread_mutex_unlock(&l->lock);
}

void ledger_assert_exactly_once(struct ledger *l)
{
	int64_t missing = 0, first_missing = -1;

	for (int64_t i = 0; i < l->n; i++) {
		if (!l->count[i]) {
			if (first_missing < 0)
				first_missing = i;
			missing++;
		}
	}
	ck_assert_msg(missing == 0,
		      "%" PRId64 " messages missing (first: %" PRId64 "), %" PRId64
		      " duplicates, %" PRId64 " out of order",
		      missing, first_missing, l->duplicates, l->out_of_order);
	ck_assert_msg(l->duplicates == 0, "%" PRId64 " duplicates", l->duplicates);
	ck_assert_msg(l->out_of_order == 0, "%" PRId64 " out of order", l->out_of_order);
	ck_assert_int_eq(l->received, l->n);
}

/* ---- producing ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct client_ctx *c = opaque;

	(void)rk;
	if (!c || !c->delivery)
		return;
	if (m->err) {
		snprintf(c->delivery->last_error, sizeof(c->delivery->last_error), "%s",
			 rd_kafka_err2str(m->err));
		atomic_fetch_add(&c->delivery->failed, 1);
	} else {
		atomic_fetch_add(&c->delivery->delivered, 1);
	}
}

rd_kafka_conf_t *producer_conf(const char *bootstrap, struct broker_view *view,
			       struct delivery *d)
{
	rd_kafka_conf_t *conf = client_conf(bootstrap, view);

	memset(d, 0, sizeof(*d));
	atomic_init(&d->delivered, 0);
	atomic_init(&d->failed, 0);
	rd_kafka_conf_set_opaque(conf, ctx_new(view, d));
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	conf_set(conf, "acks", "all");
	conf_set(conf, "enable.idempotence", "true");
	conf_set(conf, "linger.ms", "5");
	/* Retry for as long as the test lets it: nothing may be lost. */
	conf_set(conf, "message.timeout.ms", "300000");
	return conf;
}

void produce_ids(rd_kafka_t *rk, const char *topic, int64_t from, int64_t to)
{
	uint8_t value[VALUE_LEN];
	char key[32];

	for (int64_t id = from; id < to; id++) {
		rd_kafka_resp_err_t err;

		for (int i = 0; i < 8; i++)
			value[i] = (uint8_t)((uint64_t)id >> (56 - 8 * i));
		for (size_t i = 8; i < VALUE_LEN; i++)
			value[i] = (uint8_t)(id + (int64_t)i);
		snprintf(key, sizeof(key), "%" PRId64, id);
		for (;;) {
			err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
						RD_KAFKA_V_VALUE(value, sizeof(value)),
						RD_KAFKA_V_KEY(key, strlen(key)),
						RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			rd_kafka_poll(rk, 10);
		}
		ck_assert_msg(!err, "produce: %s", rd_kafka_err2str(err));
		rd_kafka_poll(rk, 0);
	}
}

void wait_deliveries(rd_kafka_t *rk, struct delivery *d, int64_t n, int deadline_s)
{
	int64_t deadline = harness_now_ms() + (int64_t)deadline_s * 1000;

	for (;;) {
		int64_t reports = atomic_load(&d->delivered) + atomic_load(&d->failed);

		if (reports >= n)
			break;
		rd_kafka_poll(rk, 50);
		ck_assert_msg(harness_now_ms() < deadline,
			      "only %" PRId64 " of %" PRId64 " delivery reports", reports, n);
	}
	ck_assert_msg(atomic_load(&d->failed) == 0, "%" PRId64 " deliveries failed: %s",
		      atomic_load(&d->failed), d->last_error);
}

rd_kafka_t *producer_new(const char *bootstrap, struct broker_view *view, struct delivery *d)
{
	char errstr[256];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, producer_conf(bootstrap, view, d),
				      errstr, sizeof(errstr));

	ck_assert_msg(rk != NULL, "producer: %s", errstr);
	return rk;
}

rd_kafka_t *consumer_from_start(const char *bootstrap, struct broker_view *view,
				const char *topic, int partitions)
{
	rd_kafka_conf_t *conf = client_conf(bootstrap, view);

	/* group.id only names the handle: partitions are assigned, not joined. */
	conf_set(conf, "group.id", "kgate-test-reader");
	return consumer_assign_from_start(conf, topic, partitions);
}

rd_kafka_t *consumer_assign_from_start(rd_kafka_conf_t *conf, const char *topic,
				       int partitions)
{
	rd_kafka_topic_partition_list_t *parts;
	char errstr[256];
	rd_kafka_t *rk;

	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	ck_assert_msg(rk != NULL, "consumer: %s", errstr);
	rd_kafka_poll_set_consumer(rk);
	parts = rd_kafka_topic_partition_list_new(partitions);
	for (int p = 0; p < partitions; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	ck_assert_int_eq(rd_kafka_assign(rk, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);
	return rk;
}

void consume_exactly_once(rd_kafka_t *consumer, int64_t n, int deadline_s)
{
	struct ledger ledger;

	ledger_init(&ledger, n);
	consume_until(consumer, &ledger, n, deadline_s);
	ledger_assert_exactly_once(&ledger);
	ledger_free(&ledger);
}

void consumer_destroy(rd_kafka_t *consumer)
{
	rd_kafka_consumer_close(consumer);
	rd_kafka_destroy(consumer);
}

void consume_until(rd_kafka_t *rk, struct ledger *l, int64_t target, int deadline_s)
{
	int64_t deadline = harness_now_ms() + (int64_t)deadline_s * 1000;

	for (;;) {
		rd_kafka_message_t *m;
		int64_t got = ledger_received(l);

		if (got >= target)
			return;
		ck_assert_msg(harness_now_ms() < deadline,
			      "consumed %" PRId64 " of %" PRId64 " messages", got, target);
		m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (!m->err)
			ledger_record(l, m);
		else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			ck_abort_msg("consumer error: %s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
}

int64_t ledger_received(struct ledger *l)
{
	int64_t got;

	pthread_mutex_lock(&l->lock);
	got = l->received;
	pthread_mutex_unlock(&l->lock);
	return got;
}

/* ---- consumer group members ---- */

/* Commits before giving partitions up: everything this member's poll
 * returned is already in the ledger and its offset stored. */
static void member_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
				rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		rd_kafka_assign(rk, parts);
		return;
	}
	/* Nothing stored yet is not an error here (_NO_OFFSET). */
	rd_kafka_commit(rk, NULL, 0);
	rd_kafka_assign(rk, NULL);
}

static void *member_loop(void *arg)
{
	struct group_member *m = arg;

	for (int i = 0; !atomic_load(&m->stop); i++) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(m->rk, 50);
		rd_kafka_topic_partition_list_t *parts;

		if (msg) {
			if (!msg->err)
				ledger_record(m->ledger, msg);
			rd_kafka_message_destroy(msg);
		}
		if (i % 10 == 0 && rd_kafka_assignment(m->rk, &parts) == 0) {
			atomic_store(&m->assigned, parts->cnt);
			rd_kafka_topic_partition_list_destroy(parts);
		}
	}
	return NULL;
}

void group_member_start(struct group_member *m, const char *bootstrap, const char *group,
			const char *topic, struct ledger *l)
{
	rd_kafka_conf_t *conf;
	rd_kafka_topic_partition_list_t *topics;
	char errstr[256];

	memset(m, 0, sizeof(*m));
	atomic_init(&m->assigned, 0);
	atomic_init(&m->stop, 0);
	view_init(&m->view);
	m->ledger = l;
	conf = client_conf(bootstrap, &m->view);
	conf_set(conf, "group.id", group);
	conf_set(conf, "auto.offset.reset", "earliest");
	conf_set(conf, "enable.partition.eof", "false");
	/* librdkafka 2.0.2's mock coordinator often lets a rebalance wait for
	 * a member's whole session timeout before it completes (measured
	 * against the mock directly: 3 s or 47 s with the default 45 s, one in
	 * four joins; with a member joining an existing group, every time).
	 * A short session bounds that wait; heartbeats every second keep a
	 * member that is merely slow (a sanitized kgate) in the group. */
	conf_set(conf, "session.timeout.ms", "10000");
	conf_set(conf, "heartbeat.interval.ms", "1000");
	rd_kafka_conf_set_rebalance_cb(conf, member_rebalance_cb);
	m->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	ck_assert_msg(m->rk != NULL, "%s", errstr);
	rd_kafka_poll_set_consumer(m->rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
	ck_assert_int_eq(rd_kafka_subscribe(m->rk, topics), 0);
	rd_kafka_topic_partition_list_destroy(topics);
	ck_assert_int_eq(pthread_create(&m->thread, NULL, member_loop, m), 0);
}

void group_member_stop(struct group_member *m)
{
	atomic_store(&m->stop, 1);
	pthread_join(m->thread, NULL);
	rd_kafka_consumer_close(m->rk);
	rd_kafka_destroy(m->rk);
}

void group_wait_settled(struct group_member *members, int n, int partitions, int deadline_s)
{
	int64_t deadline = harness_now_ms() + (int64_t)deadline_s * 1000;

	for (;;) {
		int total = 0, each = 1;
		char held[128] = "";
		size_t len = 0;

		for (int i = 0; i < n; i++) {
			int a = atomic_load(&members[i].assigned);

			total += a;
			each = each && a > 0;
			len += (size_t)snprintf(held + len, sizeof(held) - len, "%s%d",
						i ? " + " : "", a);
			if (len >= sizeof(held))
				len = sizeof(held) - 1;
		}
		if (each && total == partitions)
			return;
		ck_assert_msg(harness_now_ms() < deadline, "group never settled (%s of %d)", held,
			      partitions);
		usleep(10000);
	}
}

void round_trip_gateway_only(const struct kgate *k, const char *bootstrap, const char *topic,
			     int messages, int partitions)
{
	struct broker_view pview, cview;
	struct delivery d;
	rd_kafka_t *producer, *consumer;

	view_init(&pview);
	producer = producer_new(bootstrap, &pview, &d);
	produce_ids(producer, topic, 0, messages);
	wait_deliveries(producer, &d, messages, 60);
	metadata_assert_gateway_only(producer, k);
	view_refresh(producer, &pview);
	view_assert_gateway_only(&pview, k);
	rd_kafka_destroy(producer);

	view_init(&cview);
	consumer = consumer_from_start(bootstrap, &cview, topic, partitions);
	consume_exactly_once(consumer, messages, 60);
	view_refresh(consumer, &cview);
	view_assert_gateway_only(&cview, k);
	consumer_destroy(consumer);
}
