/* fake_cluster.c — the scripted cluster of fake_cluster.h. */
#include "fake_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"

/* Answers ApiVersions v0 (Metadata 1 only) and Metadata v1 with the
 * advertised brokers, whatever it is asked; hangs up on anything else. */
void cluster_handler(struct fake_broker *fb, int fd)
{
	struct advert *a = fb->ctx;
	struct fake_request req;
	struct kwbuf w;

	kw_init(&w);
	while (fake_read_request(fd, &req) == 0) {
		size_t off = kw_reserve_i32(&w);

		kw_i32(&w, req.correlation_id);
		if (req.api_key == 18) {
			kw_i16(&w, 0);
			kw_i32(&w, 1);
			kw_i16(&w, 3);
			kw_i16(&w, 1);
			kw_i16(&w, 1);
		} else if (req.api_key == 3) {
			int n = __atomic_load_n(&a->n, __ATOMIC_SEQ_CST);

			kw_i32(&w, n);
			for (int i = 0; i < n; i++) {
				kw_i32(&w, a->ids[i]);
				kw_string(&w, 0, a->hosts[i], (int32_t)strlen(a->hosts[i]));
				kw_i32(&w, __atomic_load_n(&a->ports[i], __ATOMIC_SEQ_CST));
				kw_string(&w, 0, NULL, -1);
			}
			kw_i32(&w, 1); /* ControllerId */
			kw_i32(&w, 0); /* Topics */
		} else if (req.api_key == 0 && req.api_version == 10) {
			/* One topic, one partition, NOT_LEADER_OR_FOLLOWER
			 * (flexible: header and body tags, compact arrays). */
			kw_i8(&w, 0);   /* header tags */
			kw_i8(&w, 2);   /* Responses: 1 */
			kw_string(&w, 1, "t", 1);
			kw_i8(&w, 2);   /* PartitionResponses: 1 */
			kw_i32(&w, 0);  /* Index */
			kw_i16(&w, 6);  /* ErrorCode */
			kw_i64(&w, -1); /* BaseOffset */
			kw_i64(&w, -1); /* LogAppendTimeMs */
			kw_i64(&w, 0);  /* LogStartOffset */
			kw_i8(&w, 1);   /* RecordErrors: none */
			kw_i8(&w, 0);   /* ErrorMessage: null */
			kw_i8(&w, 0);   /* partition tags */
			kw_i8(&w, 0);   /* topic tags */
			kw_i32(&w, 0);  /* ThrottleTimeMs */
			kw_i8(&w, 0);   /* tags: no NodeEndpoints */
		} else {
			fake_request_free(&req);
			break;
		}
		kw_patch_i32(&w, off, (int32_t)(w.len - off - 4));
		fake_send(fd, w.buf, w.len, 0);
		if (req.api_key == 3)
			__atomic_add_fetch((int *)&a->metadata_answers, 1, __ATOMIC_SEQ_CST);
		if (req.api_key == 0)
			__atomic_add_fetch((int *)&a->produce_answers, 1, __ATOMIC_SEQ_CST);
		kw_reset(&w);
		fake_request_free(&req);
	}
	kw_free(&w);
}

/* A scripted cluster whose one broker, 1, advertises itself: a's first
 * entry is its own address. */
void start_self_advertising(struct fake_broker *fb, struct advert *a)
{
	snprintf(a->hosts[0], sizeof(a->hosts[0]), "127.0.0.1");
	fake_broker_start(fb, cluster_handler, a);
	/* Known only now, and read by the broker's thread: no other
	 * ordering than the atomics' (kgate's requests come through another
	 * process). */
	__atomic_store_n(&a->ports[0], fb->port, __ATOMIC_SEQ_CST);
}

/* kgate's configuration fronting brokers 1 and 2 (kg's ports), both
 * learned from the cluster at port.  One worker: what a worker learns is
 * its own (gateway/workers.h), and these tests count what kgate asks the
 * scripted cluster and what it learned from one client for the next. */
void learning_config(char *cfg, size_t len, const struct kgate *kg, int port,
			    const char *extra)
{
	snprintf(cfg, len,
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"127.0.0.1:%d\"] },\n"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\" },\n"
		 "                 { \"id\": 2, \"listen\": \"%s\", \"advertise\": \"%s\" } ],\n"
		 "  \"workers\": 1%s%s }\n",
		 kg->bootstrap, port, kg->broker_addr[0], kg->broker_addr[0], kg->broker_addr[1],
		 kg->broker_addr[1], extra ? ",\n  " : "", extra ? extra : "");
}

void start_learning_gateway(struct kgate *kg, int port, const char *extra)
{
	char cfg[2048];

	kgate_plan(kg, 2);
	learning_config(cfg, sizeof(cfg), kg, port, extra);
	kgate_start(kg, cfg);
}

/* Waits until the scripted cluster has answered n more Metadata requests. */
void wait_metadata_answers(struct advert *a, int n)
{
	int64_t deadline = harness_now_ms() + 20000;
	int target = __atomic_load_n(&a->metadata_answers, __ATOMIC_SEQ_CST) + n;

	while (__atomic_load_n(&a->metadata_answers, __ATOMIC_SEQ_CST) < target) {
		ck_assert_msg(harness_now_ms() < deadline, "kgate asked the cluster nothing");
		usleep(10000);
	}
}

/* Metadata v1 through kgate's port; returns the answer's size (the frame is
 * read whole), or -1 if the connection closed. */
int ask_metadata(int port)
{
	static const uint8_t req[] = {0, 0, 0, 14, 0, 3, 0, 1, 0, 0, 0, 7,
				      0, 1, 'c', 0, 0, 0, 0};
	uint8_t size_be[4], *body;
	int fd = raw_connect(port), n;

	raw_send(fd, req, sizeof(req));
	if (raw_recv(fd, size_be, 4) < 0) {
		close(fd);
		return -1;
	}
	n = kbuf_get_i32(size_be);
	body = malloc((size_t)n);
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(raw_recv(fd, body, (size_t)n), 0);
	free(body);
	close(fd);
	return n;
}

/* 1 if an ApiVersions v0 sent to kgate's port is answered (kgate dialled
 * the broker behind it). */
int answered_at(int port)
{
	static const uint8_t req[] = {0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 9, 0, 1, 'c'};
	uint8_t size_be[4];
	int fd = raw_connect(port), ok;

	raw_send(fd, req, sizeof(req));
	ok = raw_recv(fd, size_be, 4) == 0;
	close(fd);
	return ok;
}

