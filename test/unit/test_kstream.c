/* test_kstream.c — the framing between a client and its upstream, driven
 * with byte streams and no sockets: every rewrite vector answered to a
 * request kgate framed, its response cut at every offset and in random
 * pieces; pipelined frames; acks=0; correlation faults; sizes out of range;
 * back-pressure; and the defects found by fuzzing.
 */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/kstream.h"
#include "../../protocol/fetch_walk.h"
#include "../../protocol/frame.h"
#include "../../protocol/requests.h"
#include "tests.h"
#include "vectors.h"

/* Asserts without Check's bookkeeping: every ck_assert records its
 * location with a write(2), and the vector tests run millions of checks. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* A kstream with its four buffers: requests in/out, responses in/out. */
struct fx {
	struct kg_stats stats, local;
	struct kg_api_stats apis[KG_API_SLOTS];
	struct kwbuf scratch;
	struct kstream_env env;
	struct cfg_limits limits;
	struct kstream ks;
	struct evbuffer *req_in, *req_out, *resp_in, *resp_out;
	char upstream[32];
};

static void fx_init_limits(struct fx *f, const struct kmap *map, int64_t max_frame,
			   int64_t buffer_bytes, int64_t max_inflight)
{
	struct kstream_names names = {1, "127.0.0.1:50000", "127.0.0.1:9094", "bootstrap",
				      f->upstream};

	memset(f, 0, sizeof(*f));
	snprintf(f->upstream, sizeof(f->upstream), "broker:9092");
	kw_init(&f->scratch);
	f->env.stats = &f->stats;
	f->env.apis = f->apis;
	f->env.scratch = &f->scratch;
	f->env.map = map;
	f->limits.max_frame_bytes = max_frame;
	f->limits.buffer_bytes = buffer_bytes;
	f->limits.connect_timeout_ms = 1000;
	f->limits.max_inflight = max_inflight;
	kstream_init(&f->ks, &f->env, &f->local, &names, &f->limits);
	f->req_in = evbuffer_new();
	f->req_out = evbuffer_new();
	f->resp_in = evbuffer_new();
	f->resp_out = evbuffer_new();
	EXPECT(f->req_in && f->req_out && f->resp_in && f->resp_out, "out of memory");
}

/* The defaults kgate runs with. */
static void fx_init(struct fx *f, const struct kmap *map)
{
	fx_init_limits(f, map, 100 << 20, 1 << 20, 1024);
}

static void fx_free(struct fx *f)
{
	kstream_free(&f->ks);
	kw_free(&f->scratch);
	evbuffer_free(f->req_in);
	evbuffer_free(f->req_out);
	evbuffer_free(f->resp_in);
	evbuffer_free(f->resp_out);
}

/* Adds bytes arriving from the client and lets the stream work. */
static int send_requests(struct fx *f, const void *p, size_t n)
{
	EXPECT(evbuffer_add(f->req_in, p, n) == 0, "out of memory");
	return kstream_requests(&f->ks, f->req_in, f->req_out, 0);
}

/* Adds bytes arriving from the broker and lets the stream work. */
static int send_responses(struct fx *f, const void *p, size_t n)
{
	EXPECT(evbuffer_add(f->resp_in, p, n) == 0, "out of memory");
	return kstream_responses(&f->ks, f->resp_in, f->resp_out, 0);
}

/* 1 if buf holds exactly want (compared chain by chain: no copy). */
static int holds(struct evbuffer *buf, const uint8_t *want, size_t len)
{
	struct evbuffer_iovec v[64];
	struct evbuffer_ptr at;
	size_t off = 0;

	if (evbuffer_get_length(buf) != len)
		return 0;
	evbuffer_ptr_set(buf, &at, 0, EVBUFFER_PTR_SET);
	while (off < len) {
		int n = evbuffer_peek(buf, -1, &at, v, 64);

		for (int i = 0; i < n && i < 64; i++) {
			if (memcmp(v[i].iov_base, want + off, v[i].iov_len) != 0)
				return 0;
			off += v[i].iov_len;
		}
		if (off < len)
			evbuffer_ptr_set(buf, &at, off, EVBUFFER_PTR_SET);
	}
	return 1;
}

/* A frame: 4-byte size, then body. */
static uint8_t *framed(const uint8_t *body, size_t len, size_t *out_len)
{
	uint8_t *f = malloc(len + 4);

	ck_assert_ptr_nonnull(f);
	kbuf_put_i32(f, (int32_t)len);
	memcpy(f + 4, body, len);
	*out_len = len + 4;
	return f;
}

/* A request for (key, version, correlation id) that kgate frames and
 * remembers: for Produce a real header up to Acks (-1), for the rest a
 * header and a few body bytes nobody looks at. */
static void request(struct kwbuf *w, int16_t key, int16_t version, int32_t correlation_id,
		    int16_t acks, const char *client_id)
{
	size_t off = kreq_begin(w, key, version, correlation_id, client_id);

	if (key == KAPI_PRODUCE) {
		int flexible = kapi_request_header_flexible(key, version);

		if (version >= 3)
			kw_string(w, flexible, NULL, -1); /* TransactionalId */
		kw_i16(w, acks);
		kw_i32(w, 30000); /* TimeoutMs; records follow, unexamined */
	}
	kw_put(w, "records-or-body", 15);
	kreq_end(w, off);
	ck_assert(!w->failed);
}

/* Vector v as the stream sees it: its request, its response frame and the
 * frame the client must get. */
struct vframes {
	struct kwbuf req;
	uint8_t *resp, *want;
	size_t resp_len, want_len;
};

static void vframes_make(const struct vec *v, struct vframes *vf)
{
	kw_init(&vf->req);
	request(&vf->req, v->api_key, v->version, kbuf_get_i32(v->in), -1, "vector");
	vf->resp = framed(v->in, v->in_len, &vf->resp_len);
	vf->want = framed(v->want, v->want_len, &vf->want_len);
}

static void vframes_free(struct vframes *vf)
{
	kw_free(&vf->req);
	free(vf->resp);
	free(vf->want);
}

/* Frames v's request, then feeds v's response in pieces that end at cuts[]
 * (the rest in one piece), each piece referenced rather than copied, as
 * socket reads land in chains; asserts the client gets exactly the
 * expected frame and the stream is back at a frame boundary. */
static void run_vector(const struct vec *v, const struct vframes *vf, const size_t *cuts,
		       size_t n_cuts, const char *how)
{
	struct fx f;
	size_t at = 0;
	int rc;

	fx_init(&f, &vec_map);
	rc = send_requests(&f, vf->req.buf, vf->req.len);
	EXPECT(rc == KS_IDLE, "%s: request refused: %s", v->name, kstream_why(&f.ks));
	EXPECT(holds(f.req_out, vf->req.buf, vf->req.len), "%s: request changed", v->name);
	EXPECT(f.ks.inflight.len == 1, "%s: request not remembered", v->name);
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : vf->resp_len;

		if (end > vf->resp_len)
			end = vf->resp_len;
		if (end < at)
			continue;
		EXPECT(evbuffer_add_reference(f.resp_in, vf->resp + at, end - at, NULL, NULL) == 0,
		       "out of memory");
		rc = kstream_responses(&f.ks, f.resp_in, f.resp_out, 0);
		EXPECT(rc == KS_IDLE, "%s (%s, piece ending at %zu): %d %s", v->name, how, end, rc,
		       kstream_why(&f.ks));
		at = end;
	}
	EXPECT(holds(f.resp_out, vf->want, vf->want_len), "%s (%s): client got %zu bytes, want %zu",
	       v->name, how, evbuffer_get_length(f.resp_out), vf->want_len);
	EXPECT(evbuffer_get_length(f.resp_in) == 0, "%s (%s): input left over", v->name, how);
	EXPECT(f.ks.inflight.len == 0 && f.ks.down.state == KS_FRAME,
	       "%s (%s): not at a frame boundary", v->name, how);
	EXPECT(f.stats.bytes_to_client == vf->want_len && f.stats.responses == 1,
	       "%s (%s): counted %" PRIu64 " bytes, %" PRIu64 " responses", v->name, how,
	       f.stats.bytes_to_client, f.stats.responses);
	fx_free(&f);
}

START_TEST(test_vector_cut_everywhere)
{
	struct vframes vf;
	struct vec v;
	size_t cut;

	vec_get((size_t)_i, &v);
	vframes_make(&v, &vf);
	/* Every offset of the frame, size field included. */
	for (cut = 0; cut <= vf.resp_len; cut++)
		run_vector(&v, &vf, &cut, 1, "cut");
	vframes_free(&vf);
	vec_free(&v);
}
END_TEST

START_TEST(test_vector_random_pieces)
{
	static size_t cuts[1 << 18];
	struct vframes vf;
	struct vec v;
	unsigned seed = 1234u + (unsigned)_i;

	vec_get((size_t)_i, &v);
	vframes_make(&v, &vf);
	for (int round = 0; round < 8; round++) {
		size_t n = 0, at = 0, max_piece = round < 4 ? 7 : 900;

		while (n < sizeof(cuts) / sizeof(cuts[0]) && at < v.in_len + 4) {
			at += 1 + (size_t)rand_r(&seed) % max_piece;
			cuts[n++] = at;
		}
		run_vector(&v, &vf, cuts, n,
			   round < 4 ? "pieces of 1-7 bytes" : "pieces of 1-900 bytes");
	}
	vframes_free(&vf);
	vec_free(&v);
}
END_TEST

/* A response whose size says it ends early must never reach the client
 * whole: rewritten and streamed APIs refuse it (passed-through versions are
 * not decoded, so they are forwarded as framed). */
START_TEST(test_vector_truncated_frame)
{
	struct vec v;
	size_t step;

	vec_get((size_t)_i, &v);
	step = v.in_len > 16384 ? v.in_len / 4096 : 1;
	for (size_t cut = 4; cut < v.in_len; cut += step) {
		struct fx f;
		struct kwbuf req;
		uint8_t *resp;
		size_t resp_len;
		int rc;

		if (vec_undecoded_after_error(&v) && cut >= 6)
			break;
		fx_init(&f, &vec_map);
		kw_init(&req);
		request(&req, v.api_key, v.version, kbuf_get_i32(v.in), -1, "vector");
		ck_assert_int_eq(send_requests(&f, req.buf, req.len), KS_IDLE);
		resp = framed(v.in, cut, &resp_len);
		rc = send_responses(&f, resp, resp_len);
		if (strcmp(v.mode, "unchanged") == 0) {
			ck_assert_int_eq(rc, KS_IDLE);
			ck_assert(holds(f.resp_out, resp, resp_len));
		} else {
			ck_assert_msg(rc == KS_ERROR,
				      "%s: accepted when its frame ends at %zu of %zu", v.name, cut,
				      v.in_len);
			/* Only a streamed response's header may have gone. */
			ck_assert_uint_le(evbuffer_get_length(f.resp_out),
					  kapi_mode_for(v.api_key, v.version) == KAPI_TAIL ? resp_len - 1 : 0);
		}
		free(resp);
		kw_free(&req);
		fx_free(&f);
	}
	vec_free(&v);
}
END_TEST

/* Every vector's request sent back to back, then every response in one
 * stream cut into random pieces: the FIFO pairs them in order across APIs
 * and modes. */
START_TEST(test_pipelined_vectors)
{
	size_t n = vectors_count(), resp_len = 0, want_len = 0, at = 0;
	struct kwbuf reqs, resps, wants;
	unsigned seed = 99;
	struct fx f;

	fx_init_limits(&f, &vec_map, 100 << 20, 1 << 30, 4096);
	kw_init(&reqs);
	kw_init(&resps);
	kw_init(&wants);
	for (size_t i = 0; i < n; i++) {
		struct vec v;

		vec_get(i, &v);
		request(&reqs, v.api_key, v.version, kbuf_get_i32(v.in), -1, "pipelined");
		kw_i32(&resps, (int32_t)v.in_len);
		kw_put(&resps, v.in, v.in_len);
		kw_i32(&wants, (int32_t)v.want_len);
		kw_put(&wants, v.want, v.want_len);
		vec_free(&v);
	}
	ck_assert_int_eq(send_requests(&f, reqs.buf, reqs.len), KS_IDLE);
	ck_assert(holds(f.req_out, reqs.buf, reqs.len));
	ck_assert_uint_eq(f.ks.inflight.len, n);
	ck_assert_uint_eq(f.stats.requests, n);
	resp_len = resps.len;
	want_len = wants.len;
	while (at < resp_len) {
		size_t piece = 1 + (size_t)rand_r(&seed) % 3000;

		if (piece > resp_len - at)
			piece = resp_len - at;
		ck_assert_msg(send_responses(&f, resps.buf + at, piece) == KS_IDLE, "%s", kstream_why(&f.ks));
		at += piece;
	}
	ck_assert(holds(f.resp_out, wants.buf, want_len));
	ck_assert_uint_eq(f.ks.inflight.len, 0);
	ck_assert_uint_eq(f.stats.responses, n);
	kw_free(&reqs);
	kw_free(&resps);
	kw_free(&wants);
	fx_free(&f);
}
END_TEST

/* Requests of every shape kgate peeks at, pipelined and cut at every offset:
 * forwarded byte for byte, each remembered (acks=0 Produce excepted). */
START_TEST(test_requests_cut_everywhere)
{
	static const char long_id[] = "a-client-id-long-enough-to-leave-the-first-peek-window-"
				      "0123456789012345678901234567890123456789012345678901234"
				      "5678901234567890123456789012345678901234567890123456789"
				      "0123456789012345678901234567890123456789012345678901234"
				      "5678901234567890123456789012345678901234567890123456789"
				      "0123456789012345678901234567890123456789012345678901234"
				      "5678901234567890123456789012345678901234567890123456789";
	struct kwbuf w;
	size_t remembered = 0;

	kw_init(&w);
	request(&w, KAPI_METADATA, 12, 1, 0, "c");
	request(&w, KAPI_PRODUCE, 3, 2, 0, "c"); /* acks=0: no answer coming */
	request(&w, KAPI_PRODUCE, 9, 3, -1, "c");
	request(&w, KAPI_PRODUCE, 13, 4, 1, long_id);
	request(&w, KAPI_PRODUCE, 13, 5, 0, long_id);
	request(&w, KAPI_FETCH, 18, 6, 0, "c");
	request(&w, KAPI_API_VERSIONS, 9, 7, 0, "c"); /* newer than known: forwarded */
	request(&w, 200, 0, 8, 0, "c");               /* unknown key: forwarded */
	remembered = 6;
	for (size_t cut = 0; cut <= w.len; cut++) {
		struct fx f;
		struct fifo_entry e;
		static const int32_t order[] = {1, 3, 4, 6, 7, 8};

		fx_init(&f, &vec_map);
		ck_assert_int_eq(send_requests(&f, w.buf, cut), KS_IDLE);
		ck_assert_int_eq(send_requests(&f, w.buf + cut, w.len - cut), KS_IDLE);
		ck_assert(holds(f.req_out, w.buf, w.len));
		ck_assert_uint_eq(f.ks.inflight.len, remembered);
		ck_assert_uint_eq(f.stats.requests, 8);
		for (size_t i = 0; i < remembered; i++) {
			ck_assert_int_eq(fifo_pop(&f.ks.inflight, &e), 0);
			ck_assert_int_eq(e.correlation_id, order[i]);
		}
		fx_free(&f);
	}
	kw_free(&w);
}
END_TEST

/* acks=0 gets no answer: the next response answers the next request. */
START_TEST(test_acks0_takes_no_fifo_slot)
{
	static const uint8_t meta_resp[] = {0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0};
	struct fx f;
	struct kwbuf w;

	fx_init(&f, &vec_map);
	kw_init(&w);
	request(&w, KAPI_PRODUCE, 9, 6, 0, "c");
	request(&w, KAPI_METADATA, 0, 7, 0, "c");
	ck_assert_int_eq(send_requests(&f, w.buf, w.len), KS_IDLE);
	ck_assert_uint_eq(f.ks.inflight.len, 1);
	/* Metadata v0: CorrelationId 7, no brokers, no topics. */
	{
		uint8_t frame[4 + sizeof(meta_resp)];

		kbuf_put_i32(frame, sizeof(meta_resp));
		memcpy(frame + 4, meta_resp, sizeof(meta_resp));
		ck_assert_int_eq(send_responses(&f, frame, sizeof(frame)), KS_IDLE);
		ck_assert(holds(f.resp_out, frame, sizeof(frame)));
	}
	kw_free(&w);
	fx_free(&f);
}
END_TEST

START_TEST(test_correlation_faults)
{
	static const uint8_t answer9[] = {0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 0};
	struct fx f;
	struct kwbuf w;

	/* An answer to no request. */
	fx_init(&f, &vec_map);
	ck_assert_int_eq(send_responses(&f, answer9, sizeof(answer9)), KS_ERROR);
	ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "sent a response (correlation 9) to no request"));
	ck_assert_int_eq(evbuffer_get_length(f.resp_out), 0);
	fx_free(&f);
	/* An answer out of order. */
	fx_init(&f, &vec_map);
	kw_init(&w);
	request(&w, KAPI_METADATA, 0, 7, 0, "c");
	ck_assert_int_eq(send_requests(&f, w.buf, w.len), KS_IDLE);
	ck_assert_int_eq(send_responses(&f, answer9, sizeof(answer9)), KS_ERROR);
	ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "answered correlation 9 but Metadata v0 "
					       "correlation 7 was next"));
	ck_assert_int_eq(evbuffer_get_length(f.resp_out), 0);
	kw_free(&w);
	fx_free(&f);
}
END_TEST

/* Sizes are judged from their four bytes alone, before anything else of
 * the frame is waited for. */
START_TEST(test_sizes_out_of_range)
{
	static const int32_t bad_requests[] = {-1, INT32_MIN, 0, 9, 1025};
	static const int32_t bad_responses[] = {-5, INT32_MIN, 0, 3, 1025};
	static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
	uint8_t b[4];
	struct fx f;

	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		fx_init_limits(&f, &vec_map, 1024, 1 << 20, 16);
		kbuf_put_i32(b, bad_requests[i]);
		ck_assert_int_eq(send_requests(&f, b, 3), KS_IDLE);
		ck_assert_int_eq(send_requests(&f, b + 3, 1), KS_ERROR);
		ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "request size"));
		ck_assert_int_eq(evbuffer_get_length(f.req_out), 0);
		fx_free(&f);
	}
	for (size_t i = 0; i < sizeof(bad_responses) / sizeof(bad_responses[0]); i++) {
		fx_init_limits(&f, &vec_map, 1024, 1 << 20, 16);
		kbuf_put_i32(b, bad_responses[i]);
		ck_assert_int_eq(send_responses(&f, b, sizeof(b)), KS_ERROR);
		ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "response size"));
		ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "from broker:9092"));
		fx_free(&f);
	}
	/* A TLS ClientHello where a request belongs is named as such. */
	fx_init(&f, &vec_map);
	ck_assert_int_eq(send_requests(&f, tls_hello, sizeof(tls_hello)), KS_ERROR);
	ck_assert_str_eq(kstream_why(&f.ks), "client sent a TLS record to plaintext listener "
				   "127.0.0.1:9094 (bootstrap): not Kafka's framing");
	fx_free(&f);
	/* ... and a TLS record where a response belongs. */
	fx_init(&f, &vec_map);
	ck_assert_int_eq(send_responses(&f, tls_hello, sizeof(tls_hello)), KS_ERROR);
	ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "broker broker:9092 answered with a TLS record"));
	fx_free(&f);
}
END_TEST

START_TEST(test_refused_requests)
{
	struct fx f;
	struct kwbuf w;

	fx_init(&f, &vec_map);
	kw_init(&w);
	/* DescribeQuorum v2 lists controllers, which kgate does not front. */
	request(&w, KAPI_DESCRIBE_QUORUM, 2, 1, 0, "c");
	ck_assert_int_eq(send_requests(&f, w.buf, w.len), KS_ERROR);
	ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks),
				     "refused DescribeQuorum v2 request: version newer"));
	ck_assert_uint_eq(f.stats.requests_refused, 1);
	ck_assert_int_eq(evbuffer_get_length(f.req_out), 0);
	kw_free(&w);
	fx_free(&f);
}
END_TEST

/* The FIFO bound stops requests; an answer frees a slot and says so. */
START_TEST(test_fifo_full_then_unblocked)
{
	/* Metadata v0: CorrelationId 1, no brokers, no topics. */
	static const uint8_t answer1[] = {0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
	struct fx f;
	struct kwbuf w;
	size_t first_two;

	fx_init_limits(&f, &vec_map, 1 << 20, 1 << 20, 2);
	kw_init(&w);
	request(&w, KAPI_METADATA, 0, 1, 0, "c");
	request(&w, KAPI_METADATA, 0, 2, 0, "c");
	first_two = w.len;
	request(&w, KAPI_METADATA, 0, 3, 0, "c");
	ck_assert_int_eq(send_requests(&f, w.buf, w.len), KS_FIFO_FULL);
	ck_assert(holds(f.req_out, w.buf, first_two));
	ck_assert_int_eq(send_responses(&f, answer1, sizeof(answer1)), KS_IDLE);
	ck_assert_int_eq(f.ks.unblocked, 1);
	ck_assert_int_eq(kstream_requests(&f.ks, f.req_in, f.req_out, 0), KS_IDLE);
	ck_assert(holds(f.req_out, w.buf, w.len));
	kw_free(&w);
	fx_free(&f);
}
END_TEST

/* Output at the high watermark stops each direction until it drains;
 * final (the reader has gone) forwards regardless. */
START_TEST(test_output_full)
{
	/* Metadata v0: CorrelationId 1, no brokers, no topics. */
	static const uint8_t answer1[] = {0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
	char filler[100];
	struct fx f;
	struct kwbuf w;

	memset(filler, 'x', sizeof(filler));
	fx_init_limits(&f, &vec_map, 1 << 20, 100, 16);
	kw_init(&w);
	request(&w, KAPI_METADATA, 0, 1, 0, "c");
	ck_assert_int_eq(evbuffer_add(f.req_out, filler, sizeof(filler)), 0);
	ck_assert_int_eq(send_requests(&f, w.buf, w.len), KS_OUT_FULL);
	ck_assert_uint_eq(evbuffer_get_length(f.req_out), sizeof(filler));
	ck_assert_int_eq(kstream_requests(&f.ks, f.req_in, f.req_out, 1), KS_IDLE);
	ck_assert_uint_eq(evbuffer_get_length(f.req_out), sizeof(filler) + w.len);
	ck_assert_int_eq(evbuffer_add(f.resp_out, filler, sizeof(filler)), 0);
	ck_assert_int_eq(send_responses(&f, answer1, sizeof(answer1)), KS_OUT_FULL);
	evbuffer_drain(f.resp_out, sizeof(filler));
	ck_assert_int_eq(kstream_responses(&f.ks, f.resp_in, f.resp_out, 0), KS_IDLE);
	ck_assert(holds(f.resp_out, answer1, sizeof(answer1)));
	kw_free(&w);
	fx_free(&f);
}
END_TEST

/* Fuzzing found: a Fetch walker error left `used` unset and the caller
 * forwarded that many bytes before looking at the error.  The walker now
 * defines its outputs on every path, and the stream refuses the frame
 * without forwarding a byte of the failed step. */
START_TEST(test_fetch_walker_error_forwards_nothing)
{
	static const char hex[] = "04000000010000000b0000000000000000000000000000000000000000";
	uint8_t body[sizeof(hex) / 2], *frame;
	size_t frame_len, used = 12345;
	uint64_t skip = 12345;
	struct kfetch_walk w;
	struct kwbuf req;
	struct fx f;

	for (size_t i = 0; i < sizeof(body); i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		body[i] = (uint8_t)v;
	}
	kfw_init(&w, 16);
	ck_assert_int_eq(kfw_walk(&w, body + 4, sizeof(body) - 4, &used, &skip), KFW_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(skip, 0);

	fx_init(&f, &vec_map);
	kw_init(&req);
	request(&req, KAPI_FETCH, 16, kbuf_get_i32(body), -1, "c");
	ck_assert_int_eq(send_requests(&f, req.buf, req.len), KS_IDLE);
	frame = framed(body, sizeof(body), &frame_len);
	ck_assert_int_eq(send_responses(&f, frame, frame_len), KS_ERROR);
	ck_assert_ptr_nonnull(strstr(kstream_why(&f.ks), "malformed Fetch v16 response"));
	/* Size and CorrelationId go first (the length never changes); nothing
	 * of the structure that failed. */
	ck_assert_uint_eq(evbuffer_get_length(f.resp_out), 8);
	free(frame);
	kw_free(&req);
	fx_free(&f);
}
END_TEST

/* Fuzzing found: a valid Produce v9+ request whose header carries tagged
 * fields was refused when it arrived split inside them, because the tag
 * count was judged against the bytes present so far. */
START_TEST(test_produce_header_tags_split_anywhere)
{
	static const char hex[] = "0000001a0000000900000005000163010003616263000001000075300100";
	uint8_t frame[sizeof(hex) / 2];

	for (size_t i = 0; i < sizeof(frame); i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		frame[i] = (uint8_t)v;
	}
	for (size_t cut = 0; cut <= sizeof(frame); cut++) {
		struct fx f;

		fx_init(&f, &vec_map);
		ck_assert_msg(send_requests(&f, frame, cut) == KS_IDLE, "cut %zu: %s", cut,
			      kstream_why(&f.ks));
		ck_assert_msg(send_requests(&f, frame + cut, sizeof(frame) - cut) == KS_IDLE,
			      "cut %zu: %s", cut, kstream_why(&f.ks));
		ck_assert(holds(f.req_out, frame, sizeof(frame)));
		ck_assert_uint_eq(f.ks.inflight.len, 1); /* acks=1 */
		fx_free(&f);
	}
}
END_TEST

/* ShareFetch streamed at every version: a record set of 300 KB arriving in
 * uneven reads passes byte for byte, the frame keeps its length, and only
 * the tail (NodeEndpoints and the top-level tags) is rewritten; then
 * ShareAcknowledge, rewritten whole, on the same connection. */
START_TEST(test_share_fetch_streamed)
{
	static struct kmap_addr h = {"h", 1, 1};
	static const struct kmap map = {.lookup = map_fixed, .ctx = &h};
	int16_t v = (int16_t)(_i / 2);
	int n_endpoints = (_i & 1) ? 3 : 0;
	struct kwbuf req, resp, ack;
	size_t tail, ack_tail, at = 0, len;
	unsigned seed = 77u + (unsigned)_i;
	uint8_t *got;
	struct fx f;

	fx_init(&f, &map);
	kw_init(&req);
	kw_init(&resp);
	kw_init(&ack);
	request(&req, KAPI_SHARE_FETCH, v, 9, -1, "share");
	request(&req, KAPI_SHARE_ACKNOWLEDGE, v, 10, -1, "share");
	ck_assert_int_eq(send_requests(&f, req.buf, req.len), KS_IDLE);
	kw_i32(&resp, 0);
	tail = share_fetch_frame(&resp, v, 9, 300000, n_endpoints, 1);
	kbuf_put_i32(resp.buf, (int32_t)(resp.len - 4));
	while (at < resp.len) {
		size_t n = 1 + (size_t)rand_r(&seed) % 9000;

		if (n > resp.len - at)
			n = resp.len - at;
		ck_assert_int_eq(send_responses(&f, resp.buf + at, n), KS_IDLE);
		at += n;
	}
	len = evbuffer_get_length(f.resp_out);
	ck_assert_uint_eq(len, resp.len);
	got = evbuffer_pullup(f.resp_out, -1);
	ck_assert_mem_eq(got, resp.buf, tail);
	ck_assert_uint_eq(f.stats.node_endpoints_dropped, 0);
	if (n_endpoints)
		share_check_tail(got + tail, len - tail, n_endpoints, 1, 0);
	else
		ck_assert_mem_eq(got + tail, resp.buf + tail, len - tail);
	ck_assert_uint_eq(f.apis[KAPI_SHARE_FETCH].c.responses_rewritten, n_endpoints ? 1 : 0);
	ck_assert_uint_eq(f.stats.leader_hints_rewritten, n_endpoints ? 1 : 0);
	evbuffer_drain(f.resp_out, len);

	kw_i32(&ack, 0);
	ack_tail = share_ack_frame(&ack, v, 10, n_endpoints, 0);
	kbuf_put_i32(ack.buf, (int32_t)(ack.len - 4));
	ck_assert_int_eq(send_responses(&f, ack.buf, ack.len), KS_IDLE);
	len = evbuffer_get_length(f.resp_out);
	got = evbuffer_pullup(f.resp_out, -1);
	ck_assert_uint_eq(len, ack.len - (n_endpoints ? 15u * (unsigned)n_endpoints : 0));
	ck_assert_int_eq(kbuf_get_i32(got), (int32_t)(len - 4));
	ck_assert_mem_eq(got + 4, ack.buf + 4, ack_tail - 4);
	if (n_endpoints)
		share_check_tail(got + ack_tail, len - ack_tail, n_endpoints, 0, 0);
	ck_assert_uint_eq(f.apis[KAPI_SHARE_ACKNOWLEDGE].c.responses_rewritten, n_endpoints ? 1 : 0);
	ck_assert(kstream_at_rest(&f.ks));
	kw_free(&req);
	kw_free(&resp);
	kw_free(&ack);
	fx_free(&f);
}
END_TEST

/* A small ShareFetch cut in two at every offset comes out the same; cut
 * short of its end, it is never forwarded whole. */
START_TEST(test_share_fetch_cut_everywhere)
{
	static struct kmap_addr h = {"h", 1, 1};
	static const struct kmap map = {.lookup = map_fixed, .ctx = &h};
	struct kwbuf req, resp;
	size_t tail;

	kw_init(&req);
	kw_init(&resp);
	request(&req, KAPI_SHARE_FETCH, 1, 3, -1, "share");
	kw_i32(&resp, 0);
	tail = share_fetch_frame(&resp, 1, 3, 40, 2, 1);
	kbuf_put_i32(resp.buf, (int32_t)(resp.len - 4));
	for (size_t cut = 1; cut < resp.len; cut++) {
		struct fx f;
		uint8_t *got;

		fx_init(&f, &map);
		ck_assert_int_eq(send_requests(&f, req.buf, req.len), KS_IDLE);
		ck_assert_int_eq(send_responses(&f, resp.buf, cut), KS_IDLE);
		ck_assert_uint_lt(evbuffer_get_length(f.resp_out), resp.len);
		ck_assert_int_eq(send_responses(&f, resp.buf + cut, resp.len - cut), KS_IDLE);
		ck_assert_uint_eq(evbuffer_get_length(f.resp_out), resp.len);
		got = evbuffer_pullup(f.resp_out, -1);
		ck_assert_mem_eq(got, resp.buf, tail);
		share_check_tail(got + tail, resp.len - tail, 2, 1, 0);
		fx_free(&f);
	}
	kw_free(&req);
	kw_free(&resp);
}
END_TEST

Suite *suite_kstream(void)
{
	Suite *s = suite_create("kstream");
	TCase *vectors = tcase_create("vectors through the stream");
	TCase *tc = tcase_create("framing");
	int n;

	vectors_load();
	n = (int)vectors_count();
	tcase_add_loop_test(vectors, test_vector_cut_everywhere, 0, n);
	tcase_add_loop_test(vectors, test_vector_random_pieces, 0, n);
	tcase_add_loop_test(vectors, test_vector_truncated_frame, 0, n);
	tcase_add_test(vectors, test_pipelined_vectors);
	tcase_set_timeout(vectors, 300);
	suite_add_tcase(s, vectors);
	tcase_add_test(tc, test_requests_cut_everywhere);
	tcase_add_test(tc, test_acks0_takes_no_fifo_slot);
	tcase_add_test(tc, test_correlation_faults);
	tcase_add_test(tc, test_sizes_out_of_range);
	tcase_add_test(tc, test_refused_requests);
	tcase_add_test(tc, test_fifo_full_then_unblocked);
	tcase_add_test(tc, test_output_full);
	tcase_add_test(tc, test_fetch_walker_error_forwards_nothing);
	tcase_add_test(tc, test_produce_header_tags_split_anywhere);
	tcase_add_loop_test(tc, test_share_fetch_streamed, 0, 6);
	tcase_add_test(tc, test_share_fetch_cut_everywhere);
	suite_add_tcase(s, tc);
	return s;
}
