/* cmd_demo.c — kgate-client demo: produce tagged messages, consume them, each exactly once. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kc.h"

/* What the demo's consumer saw; seen[i - 1] counts message #i of this run. */
struct kc_consumed {
	struct kc_handle *h;
	const char *run_id;
	int n;
	int *seen;
	int distinct;
	int duplicates;
	int unexpected;
	int foreign;
	bool verbose;
};

/* Counts one consumed message against this run's; prints it. */
static void kc_demo_take(void *ctx, const rd_kafka_message_t *m)
{
	struct kc_consumed *c = ctx;
	rd_kafka_headers_t *hdrs;
	const void *run = NULL;
	size_t run_len = 0;
	char value[128], key[32];
	int i = 0, end = 0, vlen = (int)(m->len < sizeof(value) - 1 ? m->len : sizeof(value) - 1);

	if (m->err) {
		/* Mostly transient (topic or coordinator not yet known): keep
		 * polling; the deadline bounds it. */
		kc_note_error(c->h, rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
		return;
	}
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, KC_RUN_HEADER, &run, &run_len) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR ||
	    run_len != strlen(c->run_id) || memcmp(run, c->run_id, run_len) != 0) {
		c->foreign++;
		if (c->verbose)
			printf("skipped partition %d offset %lld: not from this run\n",
			       m->partition, (long long)m->offset);
		return;
	}
	memcpy(value, m->payload ? m->payload : "", (size_t)vlen);
	value[vlen] = '\0';
	printf("consumed partition %d offset %lld: %s\n", m->partition, (long long)m->offset,
	       value);
	if (sscanf(value, "hello from kgate demo #%d%n", &i, &end) != 1 || end != vlen ||
	    (size_t)vlen != m->len || i < 1 || i > c->n) {
		c->unexpected++;
		printf("  ^ unexpected value\n");
		return;
	}
	snprintf(key, sizeof(key), "key-%d", i);
	if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) != 0) {
		c->unexpected++;
		printf("  ^ wrong key (expected %s)\n", key);
		return;
	}
	if (c->seen[i - 1]++ == 0)
		c->distinct++;
	else
		c->duplicates++;
}

static int kc_demo_produce(const struct kc_opts *o, const char *run_id, struct kc_check *chk)
{
	struct kc_handle h = {0};
	char key[32], value[64];
	int rc = -1;

	/* message.timeout.ms below the deadline: a gateway nobody answers on
	 * fails with librdkafka's own delivery error. */
	if (kc_producer_new(&h, o, KC_DEMO_MESSAGE_TIMEOUT_MS, true) < 0)
		return -1;
	for (int i = 1; i <= o->messages; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		snprintf(value, sizeof(value), "hello from kgate demo #%d", i);
		if (kc_produce_msg(&h, o->topic, key, value, strlen(value), run_id) < 0)
			goto out;
	}
	if (kc_producer_wait(&h, o->messages) < 0)
		goto out;
	printf("produced %lld messages to \"%s\" (acks=all, idempotent): all delivered\n",
	       o->messages, o->topic);
	if (kc_wait_stats(&h, NULL, NULL) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
out:
	/* Outstanding messages (failure paths) are abandoned with the handle. */
	rd_kafka_destroy(h.rk);
	return rc;
}

static int kc_demo_consume(const struct kc_opts *o, struct kc_consumed *c, struct kc_check *chk)
{
	struct kc_handle h = {.role = "consumer"};
	char group[96];
	const char *const extra[][2] = {
		{"group.id", group},
		{"auto.offset.reset", "earliest"},
	};
	rd_kafka_message_t *m;
	rd_kafka_resp_err_t err;
	int rc = -1;

	c->h = &h;
	snprintf(group, sizeof(group), "kgate-client-%s", c->run_id);
	if (kc_handle_new(&h, RD_KAFKA_CONSUMER, o, extra, 2, NULL) < 0)
		return -1;
	if (kc_subscribe(&h, o->topic) < 0) {
		rd_kafka_destroy(h.rk);
		return -1;
	}
	while (c->distinct < c->n && !h.fatal && !kc_past_deadline()) {
		m = rd_kafka_consumer_poll(h.rk, 200);
		if (m) {
			kc_demo_take(c, m);
			rd_kafka_message_destroy(m);
		}
	}
	if (c->distinct < c->n)
		kc_fail("consumer: %s: consumed %d of %d messages; last librdkafka error: %s",
			h.fatal ? "fatal error" : "gave up at the --timeout deadline", c->distinct,
			c->n, kc_last_error(&h));
	else if (kc_wait_stats(&h, kc_demo_take, c) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
	err = rd_kafka_consumer_close(h.rk);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_fail("consumer: close: %s", rd_kafka_err2str(err));
		rc = -1;
	}
	rd_kafka_destroy(h.rk);
	return rc;
}

/* Prints what arrived against what was produced; 0 when exactly once each. */
static int kc_demo_verify(const struct kc_consumed *c)
{
	int missing = 0;

	for (int i = 0; i < c->n; i++)
		if (c->seen[i] == 0 && missing++ < 20)
			printf("missing: hello from kgate demo #%d\n", i + 1);
	printf("summary: produced %d, consumed %d distinct, %d missing, %d duplicates, "
	       "%d unexpected (%d from earlier runs skipped)\n",
	       c->n, c->distinct, missing, c->duplicates, c->unexpected, c->foreign);
	if (missing || c->duplicates || c->unexpected) {
		printf("FAIL: the messages consumed are not exactly the ones produced\n");
		return -1;
	}
	printf("OK: all %d messages consumed exactly once\n", c->n);
	return 0;
}

int kc_cmd_demo(const struct kc_opts *o, struct kc_check *chk)
{
	char run_id[64];
	struct kc_consumed c;
	bool ok = false;

	snprintf(run_id, sizeof(run_id), "%ld-%ld", (long)getpid(), (long)time(NULL));
	c = (struct kc_consumed){.run_id = run_id, .n = o->messages, .verbose = o->verbose,
				 .seen = calloc((size_t)o->messages, sizeof(int))};
	if (!c.seen) {
		kc_fail("out of memory");
		return -1;
	}
	printf("kgate-client (librdkafka %s): bootstrap %s, topic \"%s\", %lld messages, run %s\n",
	       rd_kafka_version_str(), o->bootstrap, o->topic, o->messages, run_id);
	/* Nothing to consume or verify when producing failed. */
	if (kc_demo_produce(o, run_id, chk) == 0) {
		ok = kc_demo_consume(o, &c, chk) == 0;
		ok = kc_demo_verify(&c) == 0 && ok;
	}
	if (chk->expect && chk->n_bad) {
		printf("FAIL: the client used broker addresses that are not the gateway's:");
		for (int i = 0; i < chk->n_bad; i++)
			printf(" %s", chk->bad[i]);
		printf("\n");
		ok = false;
	} else if (chk->expect && chk->n_reports == 2) {
		printf("OK: every broker address the client used is the gateway's\n");
	}
	free(c.seen);
	printf("%s\n", ok ? "kgate-client: PASS" : "kgate-client: FAIL");
	return ok ? 0 : -1;
}
