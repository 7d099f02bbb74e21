/* kc_handle.c — kgate-client's librdkafka handles: settings, callbacks, produce, subscribe. */
#include <stdatomic.h>
#include <string.h>

#include "kc.h"

/* How long kc_wait_stats waits for a fresh report, at the interval asked. */
#define KC_STATS_DEADLINE_S 15
#define KC_STATS_INTERVAL_MS "500"

/* Only with --verbose; rk may be NULL here. */
static void kc_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fprintf(stderr, "librdkafka %d %s %s: %s\n", level, rk ? rd_kafka_name(rk) : "-", fac,
		buf);
}

/* Keeps the error so a failure can say why, and shows each distinct one as
 * it comes: a client retrying against a dead broker is otherwise silent.
 * They go to stdout: stderr is for the reasons a check failed. */
void kc_note_error(struct kc_handle *h, const char *name, const char *reason)
{
	int i;

	snprintf(h->last_error, sizeof(h->last_error), "%s: %s", name, reason);
	for (i = 0; i < h->n_errors && strcmp(h->errors[i], h->last_error) != 0; i++)
		;
	if (i < h->n_errors || h->errors_capped)
		return;
	if (h->n_errors == KC_MAX_ERRORS) {
		h->errors_capped = true;
		printf("%s: (more distinct librdkafka errors not shown)\n", h->role);
		return;
	}
	snprintf(h->errors[h->n_errors++], sizeof(h->errors[0]), "%s", h->last_error);
	printf("%s: librdkafka error: %s\n", h->role, h->last_error);
}

/* Transient errors (a broker restarting, a gateway gone for a while) are
 * only noted: librdkafka retries them.  A fatal one ends the command. */
static void kc_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kc_handle *h = opaque;
	char fatal[256];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		h->fatal = true;
		err = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		reason = fatal;
	}
	kc_note_error(h, rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

const char *kc_last_error(const struct kc_handle *h)
{
	return h->last_error[0] ? h->last_error : "none";
}

/* Keeps the latest statistics' broker list: the client's own view of whom
 * it knows and has connected (or tried to connect) to. */
static int kc_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct kc_handle *h = opaque;
	char err[256];

	(void)rk;
	if (client_view_parse(json, len, &h->view, err, sizeof(err)) < 0)
		kc_note_error(h, "statistics", err);
	else
		h->stats_seen++;
	return 0; /* librdkafka frees json */
}

static void kc_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kc_handle *h = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		h->delivered++;
		h->dr_partition = m->partition;
		h->dr_offset = m->offset;
	} else if (h->failed++ == 0) {
		snprintf(h->first_delivery_error, sizeof(h->first_delivery_error),
			 "key %.*s: %s (%s)", m->key ? (int)m->key_len : 6,
			 m->key ? (const char *)m->key : "(none)", rd_kafka_err2str(m->err),
			 rd_kafka_err2name(m->err));
	}
}

/* Creates h->rk with the settings every handle shares plus extra[] pairs;
 * h->role must be set. */
int kc_handle_new(struct kc_handle *h, rd_kafka_type_t type, const struct kc_opts *o,
		  const char *const extra[][2], size_t n_extra, kc_rebalance_fn *rebalance_cb)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512], client_id[64];
	const char *const common[][2] = {
		{"bootstrap.servers", o->bootstrap},
		{"client.id", client_id},
		{"statistics.interval.ms", KC_STATS_INTERVAL_MS},
	};

	snprintf(client_id, sizeof(client_id), "kgate-client-%s", h->role);
	for (char *p = client_id; *p; p++)
		if (*p == ' ')
			*p = '-';
	for (size_t i = 0; i < 3 + n_extra; i++) {
		const char *const *kv = i < 3 ? common[i] : extra[i - 3];

		if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			kc_fail("%s: %s=%s: %s", h->role, kv[0], kv[1], errstr);
			rd_kafka_conf_destroy(conf);
			return -1;
		}
	}
	for (int i = 0; i < o->n_props; i++) {
		char name[128];
		const char *eq = strchr(o->props[i], '=');

		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->props[i]), o->props[i]);
		if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			kc_fail("%s: --set %s: %s", h->role, o->props[i], errstr);
			rd_kafka_conf_destroy(conf);
			return -1;
		}
	}
	/* NULL: librdkafka logs nothing. Its errors still reach kc_error_cb. */
	rd_kafka_conf_set_log_cb(conf, o->verbose ? kc_log_cb : NULL);
	rd_kafka_conf_set_error_cb(conf, kc_error_cb);
	rd_kafka_conf_set_stats_cb(conf, kc_stats_cb);
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, kc_dr_msg_cb);
	if (rebalance_cb)
		rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_opaque(conf, h);
	h->rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (!h->rk) {
		rd_kafka_conf_destroy(conf); /* rd_kafka_new only takes it on success */
		kc_fail("cannot create the %s: %s", h->role, errstr);
		return -1;
	}
	return 0;
}

/* Polls until a statistics callback newer than now has fired, so the view
 * printed afterwards is current.  A consumer hands what it polls to take. */
int kc_wait_stats(struct kc_handle *h, kc_take_fn *take, void *ctx)
{
	int before = h->stats_seen;
	double deadline = kc_now() + KC_STATS_DEADLINE_S;
	rd_kafka_message_t *m;

	while (h->stats_seen == before) {
		if (kc_now() > deadline) {
			kc_fail("%s: no statistics callback within %d s", h->role,
				KC_STATS_DEADLINE_S);
			return -1;
		}
		if (!take) {
			rd_kafka_poll(h->rk, 100);
		} else if ((m = rd_kafka_consumer_poll(h->rk, 100)) != NULL) {
			take(ctx, m);
			rd_kafka_message_destroy(m);
		}
	}
	return 0;
}

/* A producer with acks=all; message_timeout_ms bounds librdkafka's retries. */
int kc_producer_new(struct kc_handle *h, const struct kc_opts *o,
		    long long message_timeout_ms, bool idempotent)
{
	char timeout[32];
	const char *const extra[][2] = {
		{"acks", "all"},
		{"enable.idempotence", idempotent ? "true" : "false"},
		{"message.timeout.ms", timeout},
	};

	snprintf(timeout, sizeof(timeout), "%lld", message_timeout_ms);
	snprintf(h->role, sizeof(h->role), "producer");
	return kc_handle_new(h, RD_KAFKA_PRODUCER, o, extra, 3, NULL);
}

/* Queues one message (with a run header unless run_id is NULL), waiting
 * while the local queue is full. */
int kc_produce_msg(struct kc_handle *h, const char *topic, const char *key,
		   const char *value, size_t len, const char *run_id)
{
	rd_kafka_vu_t vu[5] = {
		{.vtype = RD_KAFKA_VTYPE_TOPIC, .u.cstr = topic},
		{.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {(void *)key, strlen(key)}},
		{.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {(void *)value, len}},
		{.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
		{.vtype = RD_KAFKA_VTYPE_HEADER, .u.header = {KC_RUN_HEADER, run_id, -1}},
	};
	rd_kafka_resp_err_t err;
	rd_kafka_error_t *error;

	for (;;) {
		error = rd_kafka_produceva(h->rk, vu, run_id ? 5 : 4);
		if (!error)
			return 0;
		err = rd_kafka_error_code(error);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || kc_past_deadline()) {
			kc_fail("%s: cannot produce message with key %s: %s", h->role, key,
				rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			return -1;
		}
		rd_kafka_error_destroy(error);
		/* A full local queue drains as deliveries are reported. */
		rd_kafka_poll(h->rk, 100);
	}
}

/* Serves delivery reports until all `expected` are in; 0 only when every
 * one succeeded.  A failed report, a fatal error or the deadline end it. */
int kc_producer_wait(struct kc_handle *h, long long expected)
{
	atomic_store(&kc_phase, "waiting for delivery reports");
	/* The counts decide, not rd_kafka_flush's result: a short flush serves
	 * the callbacks and lets the deadline be checked. */
	while (h->delivered + h->failed < expected && !h->failed && !h->fatal &&
	       !kc_past_deadline())
		rd_kafka_flush(h->rk, 100);
	if (h->fatal)
		kc_fail("%s: fatal client error: %s", h->role, kc_last_error(h));
	else if (h->failed)
		kc_fail("%s: message not delivered: %s; last librdkafka error: %s", h->role,
			h->first_delivery_error, kc_last_error(h));
	else if (h->delivered < expected)
		kc_fail("%s: gave up at the --timeout deadline (%d s) with %lld of %lld messages "
			"delivered; last librdkafka error: %s", h->role, kc_timeout_s,
			h->delivered, expected, kc_last_error(h));
	else
		return 0;
	return -1;
}

/* Subscribes a consumer handle; its callbacks are then served by
 * rd_kafka_consumer_poll. */
int kc_subscribe(struct kc_handle *h, const char *topic)
{
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_resp_err_t err;

	err = rd_kafka_poll_set_consumer(h->rk);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		topics = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
		err = rd_kafka_subscribe(h->rk, topics);
		rd_kafka_topic_partition_list_destroy(topics);
	}
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_fail("%s: cannot subscribe to \"%s\": %s", h->role, topic,
			rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}
