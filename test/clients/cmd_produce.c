/* cmd_produce.c — kgate-client produce: ids S..S+N-1, idempotently; may create the topic. */
#include <stdatomic.h>

#include "kc.h"

/* Is the topic's Metadata ready: 1 with all `want` partitions led, 0 not
 * yet, -1 when it has another partition count (explained). */
static int kc_topic_ready(struct kc_handle *h, rd_kafka_topic_t *rkt, int want)
{
	const struct rd_kafka_metadata *md;
	const struct rd_kafka_metadata_topic *t;
	rd_kafka_resp_err_t err;
	int rc = 1;

	err = rd_kafka_metadata(h->rk, 0, rkt, &md, kc_call_timeout_ms(KC_METADATA_TIMEOUT_MS));
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_note_error(h, rd_kafka_err2name(err), "metadata request failed");
		return 0;
	}
	t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
	if (!t || t->err != RD_KAFKA_RESP_ERR_NO_ERROR || t->partition_cnt == 0) {
		rc = 0;
	} else if (t->partition_cnt != want) {
		kc_fail("topic \"%s\" exists with %d partitions, not --partitions %d", t->topic,
			t->partition_cnt, want);
		rc = -1;
	} else {
		for (int i = 0; i < t->partition_cnt; i++)
			if (t->partitions[i].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
			    t->partitions[i].leader < 0)
				rc = 0;
	}
	rd_kafka_metadata_destroy(md);
	return rc;
}

/* Asks for the topic with P partitions and the broker's default replication
 * factor; retriable errors (a broker restarting) are retried until the
 * deadline.  Returns the topic error, or an admin request's error. */
static rd_kafka_resp_err_t kc_create_topic(struct kc_handle *h, const struct kc_opts *o,
					   char *errstr, size_t errstr_size)
{
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *ao;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **res;
	size_t n_res = 0;
	rd_kafka_resp_err_t err;
	int timeout_ms = kc_call_timeout_ms(30000);

	nt = rd_kafka_NewTopic_new(o->topic, o->partitions, -1, errstr, errstr_size);
	if (!nt)
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	ao = rd_kafka_AdminOptions_new(h->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (!ao) {
		rd_kafka_NewTopic_destroy(nt);
		snprintf(errstr, errstr_size, "cannot make CreateTopics options");
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	}
	q = rd_kafka_queue_new(h->rk);
	/* The operation timeout has the controller answer once the topic is
	 * created, not merely accepted. */
	err = rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, errstr, errstr_size);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		err = rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, errstr,
								  errstr_size);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_CreateTopics(h->rk, &nt, 1, ao, q);
		/* The request timeout above guarantees a result event. */
		ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
		if (!ev) {
			err = RD_KAFKA_RESP_ERR__TIMED_OUT;
			snprintf(errstr, errstr_size, "no CreateTopics result");
		} else if ((err = rd_kafka_event_error(ev)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(errstr, errstr_size, "%s", rd_kafka_event_error_string(ev));
		} else {
			res = rd_kafka_CreateTopics_result_topics(
				rd_kafka_event_CreateTopics_result(ev), &n_res);
			err = n_res == 1 ? rd_kafka_topic_result_error(res[0])
					 : RD_KAFKA_RESP_ERR__BAD_MSG;
			snprintf(errstr, errstr_size, "%s",
				 n_res == 1 && rd_kafka_topic_result_error_string(res[0])
					 ? rd_kafka_topic_result_error_string(res[0])
					 : rd_kafka_err2str(err));
		}
		if (ev)
			rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_NewTopic_destroy(nt);
	return err;
}

/* Makes sure --topic exists with --partitions partitions, all led, before
 * anything is produced (so auto-creation cannot pick another count). */
static int kc_ensure_topic(struct kc_handle *h, const struct kc_opts *o)
{
	char errstr[512];
	rd_kafka_resp_err_t err;
	rd_kafka_topic_t *rkt;
	int ready = 0;

	atomic_store(&kc_phase, "creating the topic");
	for (;;) {
		err = kc_create_topic(h, o, errstr, sizeof(errstr));
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			break;
		kc_note_error(h, rd_kafka_err2name(err), errstr);
		if (err == RD_KAFKA_RESP_ERR__INVALID_ARG ||
		    err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ||
		    err == RD_KAFKA_RESP_ERR_INVALID_CONFIG ||
		    err == RD_KAFKA_RESP_ERR_POLICY_VIOLATION ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
		    err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION || kc_past_deadline()) {
			kc_fail("cannot create topic \"%s\" with %lld partitions: %s", o->topic,
				o->partitions, errstr);
			return -1;
		}
		rd_kafka_poll(h->rk, 1000);
	}
	printf("topic \"%s\": %s\n", o->topic,
	       err ? "already exists" : "created (broker's default replication factor)");
	rkt = rd_kafka_topic_new(h->rk, o->topic, NULL);
	if (!rkt) {
		kc_fail("topic \"%s\": %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	/* A new topic takes a moment to reach every broker's metadata. */
	while ((ready = kc_topic_ready(h, rkt, o->partitions)) == 0 && !kc_past_deadline())
		rd_kafka_poll(h->rk, 200);
	rd_kafka_topic_destroy(rkt);
	if (ready == 0)
		kc_fail("topic \"%s\" has no leader for all %lld partitions by the --timeout "
			"deadline; last librdkafka error: %s", o->topic, o->partitions,
			kc_last_error(h));
	else if (ready > 0)
		printf("topic \"%s\": %lld partitions, all with a leader\n", o->topic,
		       o->partitions);
	return ready > 0 ? 0 : -1;
}

/* Waits for message k's turn under --rate, serving delivery reports. */
static void kc_pace(struct kc_handle *h, const struct kc_opts *o, double t0, long long k)
{
	double due = t0 + (double)k / (double)o->rate, wait;

	while ((wait = due - kc_now()) > 0 && !kc_past_deadline())
		rd_kafka_poll(h->rk, wait > 0.1 ? 100 : (int)(wait * 1000.0) + 1);
}

int kc_cmd_produce(const struct kc_opts *o, struct kc_check *chk)
{
	struct kc_handle h = {0};
	char key[32], value[KC_VALUE_LEN];
	double t0, next_progress;
	long long k;
	int rc = -1;

	if (kc_producer_new(&h, o, (long long)o->timeout_s * 1000, true) < 0)
		return -1;
	if (o->partitions && kc_ensure_topic(&h, o) < 0)
		goto out;
	atomic_store(&kc_phase, "producing");
	t0 = kc_now();
	next_progress = t0 + KC_PROGRESS_S;
	for (k = 0; k < o->count && !h.failed && !h.fatal && !kc_past_deadline(); k++) {
		if (o->rate > 0)
			kc_pace(&h, o, t0, k);
		kc_format_id(o->start + k, key, sizeof(key), value);
		if (kc_produce_msg(&h, o->topic, key, value, KC_VALUE_LEN, NULL) < 0)
			goto out;
		/* Serves delivery reports while producing flat out. */
		if ((k & 1023) == 0)
			rd_kafka_poll(h.rk, 0);
		if (kc_now() >= next_progress) {
			printf("producer: %lld of %lld queued, %lld delivered\n", k + 1, o->count,
			       h.delivered);
			next_progress += KC_PROGRESS_S;
		}
	}
	if (kc_producer_wait(&h, o->count) < 0) {
		(void)kc_report_stats(&h, chk); /* shows whom it was trying */
		goto out;
	}
	printf("produced %lld messages (first %lld, last %lld) in %.2f s\n", o->count, o->start,
	       o->start + o->count - 1, kc_now() - t0);
	atomic_store(&kc_phase, "reporting broker addresses");
	if (kc_wait_stats(&h, NULL, NULL) == 0 && kc_report(&h, chk) == 0)
		rc = 0;
out:
	/* Outstanding messages (failure paths) are abandoned with the handle. */
	atomic_store(&kc_phase, "destroying the producer");
	rd_kafka_destroy(h.rk);
	return rc;
}
