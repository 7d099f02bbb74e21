/* 0005_fake_broker.c — kgate against a scripted broker, for what neither
 * librdkafka's mock nor its client exercises: KIP-951 NodeEndpoints in a
 * streamed Fetch v16, a Produce v10 response, and share groups' ShareFetch
 * (streamed) and ShareAcknowledge, Produce acks=0, responses
 * that are malformed, mismatched or TLS, unreachable upstreams, and
 * back-pressure in both directions with memory measured.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../protocol/kbuf.h"
#include "../lib/fake_broker.h"
#include "../lib/harness.h"
#include "itests.h"

/* What the scripted broker should do, and what it saw. */
struct script {
	int mode;
	size_t records_len;
	size_t frame_len[4];   /* sizes of the responses it sent */
	size_t tail_off[4];    /* where each one's top-level tags start */
	uint64_t checksum;     /* of bytes received (back-pressure test) */
	/* Bytes received so far; the broker's thread adds to it after
	 * updating checksum, so a test that sees the last count sees the
	 * final checksum. */
	_Atomic uint64_t received;
	/* Responses whose frame_len and tail_off are set: the broker's thread
	 * counts one before it sends it, and the test reads them only once
	 * this says so (recorded()), so the two threads never race. */
	_Atomic int recorded;
};

/* Waits (failsafe deadline) until the broker's thread has recorded
 * response i: it did before sending it, so this returns at once. */
static void recorded(struct script *s, int i)
{
	int64_t deadline = harness_now_ms() + 20000;

	while (atomic_load(&s->recorded) <= i) {
		ck_assert_msg(harness_now_ms() < deadline, "response %d never recorded", i);
		usleep(1000);
	}
}

/* 1 if req is one the script answers (api key a or b); else it is
 * kgate's own (a Metadata refresh the leader hints set off, on a
 * connection of its own): freed, unanswered, and the script's record of
 * what it sent left alone. */
static int scripted(struct fake_request *req, int16_t a, int16_t b)
{
	if (req->api_key == a || req->api_key == b)
		return 1;
	fake_request_free(req);
	return 0;
}

enum {
	FETCH16,        /* Fetch v16 twice (pad, then drop) and v15 once */
	PRODUCE10,      /* Produce v10 with NodeEndpoints */
	ACKS0,          /* Produce acks=0 then Metadata */
	MISMATCH,       /* wrong correlation id */
	MALFORMED,      /* truncated Metadata */
	TLS_ANSWER,     /* a TLS record instead of a response */
	FLOOD,          /* 64 x 8 MiB Fetch v11 responses */
	SINK,           /* reads everything, answers nothing */
	NO_TAIL,        /* Fetch v16 without its top-level tagged section */
	ANSWER_ONE,     /* answers one request (any), then hangs up */
	SILENT,         /* accepts, reads, never answers */
	SHARE           /* ShareFetch v1 (pad), v2 (empty), ShareAcknowledge v2 */
};

/* The gateway of these tests: two brokers (ids 1 and 2, so 9 is unmapped),
 * every upstream the scripted broker. */
static void start_gateway(struct kgate *kg, int upstream_port)
{
	kgate_start_static(kg, 2, upstream_port, NULL);
}

/* ---- encoding helpers ---- */

static size_t frame_begin(struct kwbuf *w, int32_t correlation_id, int flexible)
{
	size_t off = kw_reserve_i32(w);

	kw_i32(w, correlation_id);
	if (flexible)
		kw_uvarint(w, 0);
	return off;
}

static void frame_end(struct kwbuf *w, size_t off)
{
	kw_patch_i32(w, off, (int32_t)(w->len - off - 4));
}

/* NodeEndpoints for ids 1, 2 (mapped) and 9 (not). */
static void node_endpoints(struct kwbuf *w, const char *const hosts[3])
{
	static const int32_t ids[3] = {1, 2, 9};

	kw_array_len(w, 1, 3);
	for (int i = 0; i < 3; i++) {
		kw_i32(w, ids[i]);
		kw_string(w, 1, hosts[i], (int32_t)strlen(hosts[i]));
		kw_i32(w, 9094);
		kw_uvarint(w, 0); /* Rack: null */
		kw_uvarint(w, 0);
	}
}

/* The same as a tagged field 0 (Produce, Fetch). */
static void node_endpoints_field(struct kwbuf *w, const char *const hosts[3])
{
	struct kwbuf f;

	kw_init(&f);
	node_endpoints(&f, hosts);
	kw_uvarint(w, 0);
	kw_uvarint(w, (uint32_t)f.len);
	kw_put(w, f.buf, f.len);
	kw_free(&f);
}

static uint8_t record_byte(size_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

/* A Fetch response (v15 or v16) with one partition of records_len bytes;
 * *tail is where the top-level tagged section starts in the frame. */
static void fetch_response(struct kwbuf *w, int32_t corr, int16_t v, size_t records_len,
			   const char *const hosts[3], size_t *tail)
{
	size_t off = frame_begin(w, corr, 1);
	uint8_t topic_id[16];

	memset(topic_id, 0xab, sizeof(topic_id));
	kw_i32(w, 0); /* ThrottleTimeMs */
	kw_i16(w, 0);
	kw_i32(w, 0); /* SessionId */
	kw_array_len(w, 1, 1);
	kw_put(w, topic_id, sizeof(topic_id));
	kw_array_len(w, 1, 1);
	kw_i32(w, 0);
	kw_i16(w, 6); /* NOT_LEADER_OR_FOLLOWER: when NodeEndpoints is sent */
	kw_i64(w, 100);
	kw_i64(w, 100);
	kw_i64(w, 0);
	kw_uvarint(w, 0); /* AbortedTransactions: null */
	kw_i32(w, -1);
	kw_uvarint(w, (uint32_t)records_len + 1);
	for (size_t i = 0; i < records_len; i++)
		kw_i8(w, (int8_t)record_byte(i));
	/* Partition tags: CurrentLeader (tag 1). */
	kw_uvarint(w, 1);
	kw_uvarint(w, 1);
	kw_uvarint(w, 9);
	kw_i32(w, 2);
	kw_i32(w, 7);
	kw_uvarint(w, 0);
	kw_uvarint(w, 0); /* topic tags */
	*tail = w->len - off - 4;
	if (v >= 16) {
		kw_uvarint(w, 1);
		node_endpoints_field(w, hosts);
	} else {
		/* Before v16 tag 0 is not NodeEndpoints: opaque bytes. */
		kw_uvarint(w, 1);
		kw_uvarint(w, 0);
		kw_uvarint(w, 3);
		kw_put(w, "xyz", 3);
	}
	frame_end(w, off);
}

/* A ShareFetch (v1+) or ShareAcknowledge (v2) answer: partition 0 with
 * records_len bytes of records (ShareFetch only), partition 1
 * NOT_LEADER_OR_FOLLOWER; then NodeEndpoints, an ordinary field (*ne is
 * where it starts in the frame), and top-level tags holding an unknown
 * field (tag 7, "xyz"). */
static void share_response(struct kwbuf *w, int16_t key, int32_t corr, size_t records_len,
			   const char *const hosts[3], size_t *ne)
{
	size_t off = frame_begin(w, corr, 1);
	uint8_t topic_id[16];

	memset(topic_id, 0xcd, sizeof(topic_id));
	kw_i32(w, 0);     /* ThrottleTimeMs */
	kw_i16(w, 0);
	kw_uvarint(w, 0); /* ErrorMessage: null */
	kw_i32(w, 30000); /* AcquisitionLockTimeoutMs */
	kw_array_len(w, 1, 1);
	kw_put(w, topic_id, sizeof(topic_id));
	kw_array_len(w, 1, 2);
	for (int p = 0; p < 2; p++) {
		kw_i32(w, p);
		kw_i16(w, p ? 6 : 0);
		kw_uvarint(w, 0);
		if (key == 78) {
			kw_i16(w, 0); /* AcknowledgeErrorCode, AcknowledgeErrorMessage */
			kw_uvarint(w, 0);
		}
		kw_i32(w, 2); /* CurrentLeader */
		kw_i32(w, 7);
		kw_uvarint(w, 0);
		if (key == 78) {
			size_t n = p ? 0 : records_len;

			kw_uvarint(w, (uint32_t)n + 1);
			for (size_t i = 0; i < n; i++)
				kw_i8(w, (int8_t)record_byte(i));
			kw_array_len(w, 1, p ? 0 : 1); /* AcquiredRecords */
			if (!p) {
				kw_i64(w, 0);
				kw_i64(w, 99);
				kw_i16(w, 1);
				kw_uvarint(w, 0);
			}
		}
		kw_uvarint(w, 0);
	}
	kw_uvarint(w, 0); /* topic tags */
	*ne = w->len - off - 4;
	node_endpoints(w, hosts);
	kw_uvarint(w, 1);
	kw_uvarint(w, 7);
	kw_uvarint(w, 3);
	kw_put(w, "xyz", 3);
	frame_end(w, off);
}

/* ---- the scripted broker ---- */

static void send_buf(int fd, struct kwbuf *w, size_t chunk)
{
	fake_send(fd, w->buf, w->len, chunk);
	kw_reset(w);
}

static void handler(struct fake_broker *fb, int fd)
{
	static const char *const long_hosts[3] = {"b-1.msk.internal", "b-2.msk.internal",
						  "b-9.unmapped.internal"};
	static const char *const short_hosts[3] = {"b1", "b2", "b9"};
	struct script *s = fb->ctx;
	struct fake_request req;
	struct kwbuf w;
	size_t off;

	kw_init(&w);
	switch (s->mode) {
	case FETCH16:
		for (int i = 0; i < 3 && fake_read_request(fd, &req) == 0; i++) {
			if (!scripted(&req, 1, 1))
				break;
			fetch_response(&w, req.correlation_id, req.api_version, s->records_len,
				       i == 1 ? short_hosts : long_hosts, &s->tail_off[i]);
			s->frame_len[i] = w.len - 4;
			atomic_fetch_add(&s->recorded, 1);
			/* Small pieces: the gateway must stream across reads. */
			send_buf(fd, &w, 997);
			fake_request_free(&req);
		}
		break;
	case PRODUCE10:
		if (fake_read_request(fd, &req) == 0) {
			off = frame_begin(&w, req.correlation_id, 1);
			kw_array_len(&w, 1, 1);
			kw_string(&w, 1, "t", 1);
			kw_array_len(&w, 1, 1);
			kw_i32(&w, 0);
			kw_i16(&w, 6);
			kw_i64(&w, -1);
			kw_i64(&w, -1);
			kw_i64(&w, -1);
			kw_array_len(&w, 1, 0);
			kw_uvarint(&w, 0); /* ErrorMessage null */
			kw_uvarint(&w, 0);
			kw_uvarint(&w, 0);
			kw_i32(&w, 0);
			kw_uvarint(&w, 1);
			node_endpoints_field(&w, long_hosts);
			frame_end(&w, off);
			send_buf(fd, &w, 0);
			fake_request_free(&req);
		}
		break;
	case ACKS0:
		/* The Produce gets no answer; the Metadata after it does. */
		if (fake_read_request(fd, &req) == 0) {
			ck_assert_int_eq(req.api_key, 0);
			fake_request_free(&req);
		}
		if (fake_read_request(fd, &req) == 0) {
			off = frame_begin(&w, req.correlation_id, 0);
			kw_i32(&w, 1);
			kw_i32(&w, 1);
			kw_string(&w, 0, "b-1.msk.internal", 16);
			kw_i32(&w, 9094);
			kw_string(&w, 0, NULL, -1);
			kw_i32(&w, 1);  /* ControllerId */
			kw_i32(&w, 0);  /* Topics */
			frame_end(&w, off);
			send_buf(fd, &w, 0);
			fake_request_free(&req);
		}
		break;
	case MISMATCH:
	case MALFORMED:
		if (fake_read_request(fd, &req) == 0) {
			off = frame_begin(&w, req.correlation_id + (s->mode == MISMATCH), 0);
			kw_i32(&w, 1);
			kw_i32(&w, 1);
			kw_string(&w, 0, "b-1.msk.internal", 16);
			if (s->mode == MISMATCH) {
				kw_i32(&w, 9094);
				kw_string(&w, 0, NULL, -1);
				kw_i32(&w, 1);
				kw_i32(&w, 0);
			}
			frame_end(&w, off);
			send_buf(fd, &w, 0);
			fake_request_free(&req);
			/* Hold the connection until the gateway drops it. */
			raw_wait_closed(fd, 20000);
		}
		break;
	case TLS_ANSWER:
		if (fake_read_request(fd, &req) == 0) {
			static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46};

			fake_send(fd, alert, sizeof(alert), 0);
			fake_request_free(&req);
			raw_wait_closed(fd, 20000);
		}
		break;
	case FLOOD: {
		/* 64 Fetch v11 answers of 8 MiB: cut through, never held. */
		const size_t body = 8u << 20;
		uint8_t *chunk = malloc(body);

		for (size_t i = 0; i < body; i++)
			chunk[i] = record_byte(i);
		for (int i = 0; i < 64 && fake_read_request(fd, &req) == 0; i++) {
			uint8_t hdr[8];

			kbuf_put_i32(hdr, (int32_t)(body + 4));
			kbuf_put_i32(hdr + 4, req.correlation_id);
			if (fake_send(fd, hdr, 8, 0) < 0 || fake_send(fd, chunk, body, 0) < 0)
				break;
			fake_request_free(&req);
		}
		free(chunk);
		break;
	}
	case NO_TAIL:
		if (fake_read_request(fd, &req) == 0 && scripted(&req, 1, 1)) {
			fetch_response(&w, req.correlation_id, 16, 1000, long_hosts,
				       &s->tail_off[0]);
			/* Cut the tagged section off and fix up the size. */
			w.len = s->tail_off[0] + 4;
			kw_patch_i32(&w, 0, (int32_t)(w.len - 4));
			s->frame_len[0] = w.len - 4;
			atomic_fetch_add(&s->recorded, 1);
			send_buf(fd, &w, 100);
			fake_request_free(&req);
			raw_wait_closed(fd, 20000);
		}
		break;
	case ANSWER_ONE:
		if (fake_read_request(fd, &req) == 0) {
			off = frame_begin(&w, req.correlation_id, 0);
			kw_i16(&w, 0);  /* ApiVersions v0: no error, no keys */
			kw_i32(&w, 0);
			frame_end(&w, off);
			send_buf(fd, &w, 0);
			fake_request_free(&req);
		}
		break;
	case SILENT:
		raw_wait_closed(fd, 20000);
		break;
	case SHARE:
		for (int i = 0; i < 3 && fake_read_request(fd, &req) == 0; i++) {
			if (!scripted(&req, 78, 79))
				break;
			share_response(&w, req.api_key, req.correlation_id, s->records_len,
				       i == 1 ? short_hosts : long_hosts, &s->tail_off[i]);
			s->frame_len[i] = w.len - 4;
			atomic_fetch_add(&s->recorded, 1);
			send_buf(fd, &w, 997);
			fake_request_free(&req);
		}
		break;
	case SINK: {
		/* Reads nothing for a second, then everything. */
		uint8_t buf[65536];
		ssize_t n;

		sleep(1);
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				s->checksum = s->checksum * 31 + buf[i];
			atomic_fetch_add(&s->received, (uint64_t)n);
		}
		break;
	}
	}
	kw_free(&w);
}

/* ---- client side helpers ---- */

/* Sends a request with just a header (kgate never parses request bodies
 * other than Produce's first fields). */
static void send_request(int fd, int16_t key, int16_t v, int32_t corr, int flexible)
{
	uint8_t b[16];
	size_t n = 0;

	kbuf_put_i32(b, flexible ? 11 : 10);
	b[4] = (uint8_t)(key >> 8);
	b[5] = (uint8_t)key;
	b[6] = (uint8_t)(v >> 8);
	b[7] = (uint8_t)v;
	kbuf_put_i32(b + 8, corr);
	b[12] = b[13] = 0; /* ClientId "" */
	n = 14;
	if (flexible)
		b[n++] = 0;
	ck_assert_int_eq(raw_send(fd, b, n), 0);
}

/* Reads one response frame (after its size) into a malloc'd buffer. */
static uint8_t *read_frame(int fd, size_t *len)
{
	uint8_t size_be[4], *frame;
	int32_t size;

	ck_assert_int_eq(raw_recv(fd, size_be, 4), 0);
	size = kbuf_get_i32(size_be);
	ck_assert_int_gt(size, 0);
	frame = malloc((size_t)size);
	ck_assert_ptr_nonnull(frame);
	ck_assert_int_eq(raw_recv(fd, frame, (size_t)size), 0);
	*len = (size_t)size;
	return frame;
}

/* Walks a NodeEndpoints array, checking ids 1, 2 went to kgate and 9 kept
 * original_host9; returns bytes consumed. */
static size_t check_endpoints(const uint8_t *p, size_t len, const struct kgate *kg,
			      const char *original_host9)
{
	struct kreader r;
	int32_t n, id, port;
	struct kstr host, rack;
	char addr[300];

	kr_init(&r, p, len);
	ck_assert_int_eq(kr_array(&r, 1, 1, &n), 0);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(kr_i32(&r, &id), 0);
		ck_assert_int_eq(kr_string(&r, 1, &host), 0);
		ck_assert_int_eq(kr_i32(&r, &port), 0);
		ck_assert_int_eq(kr_nullable_string(&r, 1, &rack), 0);
		ck_assert_int_eq(kr_skip_tags(&r), 0);
		snprintf(addr, sizeof(addr), "%.*s:%d", (int)host.len, host.ptr, port);
		if (id == 9)
			ck_assert_msg(strncmp(addr, original_host9, strlen(original_host9)) == 0,
				      "unmapped node rewritten to %s", addr);
		else
			ck_assert_str_eq(addr, kg->broker_addr[id - 1]);
	}
	return r.pos;
}

/* Checks a tagged section: NodeEndpoints rewritten (or, if dropped, absent)
 * and only padding besides. */
static void check_fetch_tail(const uint8_t *p, size_t len, const struct kgate *kg,
			     int expect_endpoints)
{
	struct kreader r;
	uint32_t count, tag, size;
	int saw_endpoints = 0;

	kr_init(&r, p, len);
	ck_assert_int_eq(kr_uvarint(&r, &count), 0);
	for (uint32_t i = 0; i < count; i++) {
		ck_assert_int_eq(kr_uvarint(&r, &tag), 0);
		ck_assert_int_eq(kr_uvarint(&r, &size), 0);
		if (tag == 0) {
			ck_assert_uint_eq(check_endpoints(p + r.pos, size, kg, "b-9"), size);
			saw_endpoints = 1;
		} else {
			ck_assert_uint_eq(tag, 16383); /* padding */
		}
		ck_assert_int_eq(kr_skip(&r, size), 0);
	}
	ck_assert_uint_eq(r.pos, len);
	ck_assert_int_eq(saw_endpoints, expect_endpoints);
}

/* ---- tests ---- */

START_TEST(test_fetch_v16_streamed_and_rewritten_in_place)
{
	struct script s = {.mode = FETCH16, .records_len = 3u << 20};
	struct fake_broker fb;
	struct kgate kg;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[0]);
	send_request(fd, 1, 16, 100, 1);
	send_request(fd, 1, 16, 101, 1);
	send_request(fd, 1, 15, 102, 1);
	for (int i = 0; i < 3; i++) {
		size_t len, rec_off;
		uint8_t *f = read_frame(fd, &len);

		recorded(&s, i);
		/* Same length as the broker sent: streamed, not re-framed. */
		ck_assert_uint_eq(len, s.frame_len[i]);
		ck_assert_int_eq(kbuf_get_i32(f), 100 + i);
		/* Records intact (they sit right before the partition tags). */
		rec_off = s.tail_off[i] - 1 - 12 - s.records_len;
		for (size_t j = 0; j < s.records_len; j += 4099)
			ck_assert_uint_eq(f[rec_off + j], record_byte(j));
		if (i < 2)
			/* Long original names: padded; short ones: dropped. */
			check_fetch_tail(f + s.tail_off[i], len - s.tail_off[i], &kg, i == 0);
		else
			ck_assert(memcmp(f + s.tail_off[i], "\x01\x00\x03xyz", 6) == 0);
		free(f);
	}
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "leader_hints_rewritten=2 "));
	ck_assert(kgate_log_contains(&kg, "node_endpoints_dropped=1 "));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	fake_broker_stop(&fb);
}
END_TEST

/* Share groups: ShareFetch streamed (same length, records intact) with its
 * NodeEndpoints rewritten in place (long names: padded) or sent empty
 * (short names: would not fit), and ShareAcknowledge rewritten whole. */
START_TEST(test_share_groups_rewritten)
{
	struct script s = {.mode = SHARE, .records_len = 3u << 20};
	struct fake_broker fb;
	struct kgate kg;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[0]);
	send_request(fd, 78, 1, 200, 1);
	send_request(fd, 78, 2, 201, 1);
	send_request(fd, 79, 2, 202, 1);
	for (int i = 0; i < 3; i++) {
		size_t len, ne, used;
		uint8_t *f = read_frame(fd, &len);

		ck_assert_int_eq(kbuf_get_i32(f), 200 + i);
		recorded(&s, i);
		ne = s.tail_off[i];
		if (i < 2) {
			/* Streamed: the length the broker sent; records intact
			 * (after the header, fixed fields, topic and partition 0's
			 * own: 4+1+4+2+1+4+1+16+1 + 4+2+1+2+1+8+1, then their
			 * length). */
			size_t rec_off = 53 + kbuf_uvarint_len((uint32_t)s.records_len + 1);

			ck_assert_uint_eq(len, s.frame_len[i]);
			for (size_t j = 0; j < s.records_len; j += 4099)
				ck_assert_uint_eq(f[rec_off + j], record_byte(j));
		}
		if (i == 1) {
			ck_assert_uint_eq(f[ne], 1); /* empty: dropped */
			used = 1;
		} else {
			used = check_endpoints(f + ne, len - ne, &kg, "b-9");
		}
		/* Then the tags: the unknown field kept, padding only besides. */
		ck_assert(len - ne - used >= 6);
		ck_assert_mem_eq(f + ne + used + 1, "\x07\x03xyz", 5);
		free(f);
	}
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "leader_hints_rewritten=3 "));
	ck_assert(kgate_log_contains(&kg, "node_endpoints_dropped=1 "));
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_produce_v10_node_endpoints)
{
	struct script s = {.mode = PRODUCE10};
	struct fake_broker fb;
	struct kgate kg;
	struct kreader r;
	/* Produce v10, acks=1: header v2 (ClientId "", no tags), then
	 * TransactionalId null, Acks 1, TimeoutMs 30000, no topics, no tags. */
	static const uint8_t req[] = {0, 0, 0, 20, 0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0,
				      0, 0, 1, 0, 0, 0x75, 0x30, 1, 0};
	uint8_t *f;
	size_t len;
	int32_t i32;
	uint32_t count, tag, size;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[1]);
	ck_assert_int_eq(raw_send(fd, req, sizeof(req)), 0);
	f = read_frame(fd, &len);
	kr_init(&r, f, len);
	ck_assert_int_eq(kr_i32(&r, &i32), 0);
	ck_assert_int_eq(i32, 5);
	/* Skip to the top-level tags: header tags, one topic, ThrottleTimeMs. */
	ck_assert_int_eq(kr_skip_tags(&r), 0);
	ck_assert_int_eq(kr_skip(&r, 1 + 2 + 1 + 4 + 2 + 24 + 1 + 1 + 1 + 1 + 4), 0);
	ck_assert_int_eq(kr_uvarint(&r, &count), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(kr_uvarint(&r, &tag), 0);
	ck_assert_int_eq(kr_uvarint(&r, &size), 0);
	ck_assert_uint_eq(check_endpoints(f + r.pos, size, &kg, "b-9"), size);
	ck_assert_uint_eq(r.pos + size, len);
	free(f);
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "leader_hints_rewritten=1 "));
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_acks0_produce_gets_no_fifo_entry)
{
	struct script s = {.mode = ACKS0};
	struct fake_broker fb;
	struct kgate kg;
	uint8_t produce[] = {0, 0, 0, 22, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0,
			     0xff, 0xff, 0, 0, 0, 0, 0x75, 0x30, 0, 0, 0, 0};
	uint8_t *f;
	size_t len;
	struct kreader r;
	struct kstr host;
	int32_t corr, n, id, port;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[0]);
	/* Produce v7, TransactionalId null, Acks 0, TimeoutMs, no topics. */
	ck_assert_int_eq(raw_send(fd, produce, sizeof(produce)), 0);
	send_request(fd, 3, 1, 2, 0);
	f = read_frame(fd, &len);
	kr_init(&r, f, len);
	ck_assert_int_eq(kr_i32(&r, &corr), 0);
	ck_assert_int_eq(corr, 2);
	ck_assert_int_eq(kr_array(&r, 0, 1, &n), 0);
	ck_assert_int_eq(kr_i32(&r, &id), 0);
	ck_assert_int_eq(kr_string(&r, 0, &host), 0);
	ck_assert_int_eq(kr_i32(&r, &port), 0);
	ck_assert_int_eq(host.len, 9);
	ck_assert(memcmp(host.ptr, "127.0.0.1", 9) == 0);
	ck_assert_int_eq(port, kg.broker_port[0]);
	free(f);
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "protocol_errors=0"));
	fake_broker_stop(&fb);
}
END_TEST

/* The broker misbehaves; the client's pair is closed with a reason, and the
 * gateway keeps serving (a second connection is accepted and dialled). */
static void misbehaving_broker(int mode, const char *expected_log)
{
	struct script s = {.mode = mode};
	struct fake_broker fb;
	struct kgate kg;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	for (int round = 0; round < 2; round++) {
		fd = raw_connect(kg.broker_port[round]);
		send_request(fd, 3, 1, 40, 0);
		ck_assert_msg(raw_wait_closed(fd, 20000), "pair not closed");
		close(fd);
	}
	ck_assert_int_eq(atomic_load(&fb.connections), 2);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert_msg(kgate_log_count(&kg, expected_log) == 2, "expected \"%s\" twice",
		      expected_log);
	fake_broker_stop(&fb);
}

START_TEST(test_correlation_mismatch_closes)
{
	misbehaving_broker(MISMATCH, "answered correlation 41 but Metadata v1 correlation 40");
}
END_TEST

START_TEST(test_malformed_response_closes)
{
	misbehaving_broker(MALFORMED, "malformed Metadata v1 response");
}
END_TEST

START_TEST(test_tls_answer_named)
{
	misbehaving_broker(TLS_ANSWER, "answered with a TLS record: set upstream tls");
}
END_TEST

START_TEST(test_unreachable_upstreams)
{
	struct kgate kg;
	char cfg[1024];
	int fd, closed_port;
	struct fake_broker fb;
	struct script s = {.mode = SINK};

	/* A port nothing listens on: take one, then free it. */
	fake_broker_start(&fb, handler, &s);
	closed_port = fb.port;
	fake_broker_stop(&fb);
	kgate_plan(&kg, 2);
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"127.0.0.1:%d\"] },"
		 "  \"brokers\": ["
		 "    { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\", "
		 "\"upstream\": \"127.0.0.1:%d\" },"
		 "    { \"id\": 2, \"listen\": \"%s\", \"advertise\": \"%s\" } ] }",
		 kg.bootstrap, closed_port, kg.broker_addr[0], kg.broker_addr[0], closed_port,
		 kg.broker_addr[1], kg.broker_addr[1]);
	kgate_start(&kg, cfg);
	/* Configured upstream down; learned upstream impossible to learn. */
	for (int i = 0; i < 3; i++) {
		fd = raw_connect(i == 0 ? kg.bootstrap_port : kg.broker_port[i - 1]);
		ck_assert(raw_wait_closed(fd, 20000));
		close(fd);
	}
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "cannot reach 127.0.0.1:"));
	ck_assert(kgate_log_contains(&kg, "could not learn the cluster's brokers"));
	ck_assert(kgate_log_contains(&kg, "upstream_connect_failures=2 "));
}
END_TEST

START_TEST(test_fetch_without_tagged_section_never_forwarded_whole)
{
	struct script s = {.mode = NO_TAIL};
	struct fake_broker fb;
	struct kgate kg;
	uint8_t buf[8192];
	size_t got = 0;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[0]);
	send_request(fd, 1, 16, 7, 1);
	/* Whatever arrives, it is less than the whole frame, then EOF. */
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	recorded(&s, 0);
	ck_assert_uint_lt(got, s.frame_len[0] + 4);
	close(fd);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(kgate_log_contains(&kg, "Fetch v16 response from"));
	fake_broker_stop(&fb);
}
END_TEST

/* Several clients at once, bootstrap upstreams [dead, live]: every one of
 * them must end up at the live one, whatever the others do meanwhile. */
START_TEST(test_bootstrap_tries_every_upstream)
{
	static const uint8_t req[] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 3, 0, 0};
	struct script s = {.mode = ANSWER_ONE}, off = {.mode = SINK};
	struct fake_broker live, dead;
	struct kgate kg;
	char cfg[1024];
	int fds[7], dead_port;

	fake_broker_start(&dead, handler, &off);
	dead_port = dead.port;
	fake_broker_stop(&dead); /* nothing listens there now */
	fake_broker_start(&live, handler, &s);
	kgate_plan(&kg, 1);
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": "
		 "[\"127.0.0.1:%d\", \"127.0.0.1:%d\"] },"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\", "
		 "\"upstream\": \"127.0.0.1:%d\" } ] }",
		 kg.bootstrap, dead_port, live.port, kg.broker_addr[0], kg.broker_addr[0],
		 live.port);
	kgate_start(&kg, cfg);
	/* An odd number, so the shared rotation cannot hide a retry that goes
	 * back to the dead upstream. */
	for (int i = 0; i < 7; i++) {
		fds[i] = raw_connect(kg.bootstrap_port);
		ck_assert_int_eq(raw_send(fds[i], req, sizeof(req)), 0);
	}
	for (int i = 0; i < 7; i++) {
		uint8_t hdr[10];

		ck_assert_msg(raw_recv(fds[i], hdr, sizeof(hdr)) == 0, "client %d not served", i);
		ck_assert_int_eq(kbuf_get_i32(hdr + 4), 3);
		close(fds[i]);
	}
	ck_assert_int_eq(kgate_stop(&kg), 0);
	ck_assert(!kgate_log_contains(&kg, "no upstream reachable"));
	fake_broker_stop(&live);
}
END_TEST

/* A client parked while kgate learns the cluster, which is slow to answer,
 * is let go as soon as it hangs up. */
START_TEST(test_parked_client_that_leaves_is_released)
{
	struct script s = {.mode = SILENT};
	struct fake_broker fb;
	struct kgate kg;
	char cfg[1024];
	int fd;

	fake_broker_start(&fb, handler, &s);
	kgate_plan(&kg, 1);
	snprintf(cfg, sizeof(cfg),
		 "{ \"bootstrap\": { \"listen\": \"%s\", \"upstream\": [\"127.0.0.1:%d\"] },"
		 "  \"brokers\": [ { \"id\": 1, \"listen\": \"%s\", \"advertise\": \"%s\" } ],"
		 "  \"limits\": { \"connect_timeout_ms\": 600000 } }",
		 kg.bootstrap, fb.port, kg.broker_addr[0], kg.broker_addr[0]);
	kgate_start(&kg, cfg);
	fd = raw_connect(kg.broker_port[0]);
	/* kgate is now asking the silent broker for Metadata. */
	ck_assert_msg(kgate_wait_log(&kg, "asking 127.0.0.1:", 1, 20000),
		      "kgate never asked the cluster");
	close(fd);
	ck_assert_msg(kgate_wait_log(&kg, "client left before the upstream was connected", 1, 20000),
		      "parked client never released");
	ck_assert_int_eq(kgate_stop(&kg), 0);
	fake_broker_stop(&fb);
}
END_TEST

/* ---- back-pressure ---- */

START_TEST(test_slow_client_bounded_memory)
{
	struct script s = {.mode = FLOOD};
	struct fake_broker fb;
	struct kgate kg;
	const size_t body = 8u << 20;
	uint8_t *buf = malloc(body + 8);
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[0]);
	for (int i = 0; i < 64; i++)
		send_request(fd, 1, 11, i, 0);
	/* Read nothing for a while: 512 MiB are waiting upstream. */
	sleep(1);
	for (int i = 0; i < 64; i++) {
		ck_assert_int_eq(raw_recv(fd, buf, 8), 0);
		ck_assert_int_eq(kbuf_get_i32(buf), (int32_t)body + 4);
		ck_assert_int_eq(kbuf_get_i32(buf + 4), i);
		ck_assert_int_eq(raw_recv(fd, buf, body), 0);
		for (size_t j = 0; j < body; j += 65537)
			ck_assert_uint_eq(buf[j], record_byte(j));
	}
	/* Without back-pressure the whole 512 MiB would pile up in kgate. */
	kgate_assert_peak_rss(&kg, "0005: 512 MiB to a stalled client", 64 * 1024);
	close(fd);
	free(buf);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	fake_broker_stop(&fb);
}
END_TEST

START_TEST(test_slow_broker_bounded_memory)
{
	struct script s = {.mode = SINK};
	struct fake_broker fb;
	struct kgate kg;
	const size_t body = 8u << 20;
	uint8_t *req = malloc(body);
	uint64_t checksum = 0;
	int fd;

	fake_broker_start(&fb, handler, &s);
	start_gateway(&kg, fb.port);
	fd = raw_connect(kg.broker_port[0]);
	/* 32 Produce v7 requests of 8 MiB with acks=0: nothing comes back. */
	for (int i = 0; i < 32; i++) {
		uint8_t hdr[26] = {0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0,
				   0xff, 0xff, 0, 0, 0, 0, 0x75, 0x30, 0, 0, 0, 0};
		size_t payload = body - sizeof(hdr);

		kbuf_put_i32(hdr, (int32_t)(body - 4));
		kbuf_put_i32(hdr + 8, i);
		memcpy(req, hdr, sizeof(hdr));
		for (size_t j = 0; j < payload; j++)
			req[sizeof(hdr) + j] = record_byte(j + (size_t)i);
		for (size_t j = 0; j < body; j++)
			checksum = checksum * 31 + req[j];
		/* Blocks while the broker is not reading: back-pressure. */
		ck_assert_int_eq(raw_send(fd, req, body), 0);
	}
	close(fd);
	while (atomic_load(&s.received) < 32 * (uint64_t)body) {
		usleep(10000);
	}
	ck_assert_msg(s.checksum == checksum, "bytes changed on the way");
	kgate_assert_peak_rss(&kg, "0005: 256 MiB to a stalled broker", 64 * 1024);
	free(req);
	ck_assert_int_eq(kgate_stop(&kg), 0);
	fake_broker_stop(&fb);
}
END_TEST

TCase *tcase_0005_fake_broker(void)
{
	TCase *tc = tcase_create("0005 scripted broker");

	tcase_add_test(tc, test_fetch_v16_streamed_and_rewritten_in_place);
	tcase_add_test(tc, test_share_groups_rewritten);
	tcase_add_test(tc, test_produce_v10_node_endpoints);
	tcase_add_test(tc, test_acks0_produce_gets_no_fifo_entry);
	tcase_add_test(tc, test_correlation_mismatch_closes);
	tcase_add_test(tc, test_malformed_response_closes);
	tcase_add_test(tc, test_tls_answer_named);
	tcase_add_test(tc, test_unreachable_upstreams);
	tcase_add_test(tc, test_fetch_without_tagged_section_never_forwarded_whole);
	tcase_add_test(tc, test_bootstrap_tries_every_upstream);
	tcase_add_test(tc, test_parked_client_that_leaves_is_released);
	tcase_add_test(tc, test_slow_client_bounded_memory);
	tcase_add_test(tc, test_slow_broker_bounded_memory);
	tcase_set_timeout(tc, 300);
	return tc;
}
