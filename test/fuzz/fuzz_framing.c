/* fuzz_framing.c — the framing of gateway/kstream.c, driven with no
 * sockets: arbitrary request bytes from a client and response bytes from a
 * broker, each fed whole to one stream and cut into pieces for another; and
 * kframe_produce_acks (protocol/frame.c) on every prefix of each Produce
 * request in the stream.
 *
 * Input: [cfg] [k] [k piece sizes] [request bytes' length, 2 bytes big
 * endian] [request bytes] [response bytes ...].  cfg & 3 picks the limits
 * (0, 1: kgate's defaults; 2: 1 KiB frames, 64-byte watermark, 2 requests
 * in flight; 3: 64 KiB frames, 128-byte watermark), cfg & 4 a map that
 * moves nothing instead of the fuzz map; pieces are piece + 1 bytes long,
 * the k sizes used in turn.  Outputs are drained after every call, as a
 * socket would, and a response that frees a slot of a full FIFO lets the
 * requests go on, as gateway/pair.c does.
 *
 * Why: kgate must never crash or forward what did not arrive, whatever
 * either peer sends and however TCP cuts it:
 *   - requests are forwarded byte for byte: what went up is always a prefix
 *     of what the client sent, and with what still waits it is all of it;
 *   - a prefix of a request stream that is accepted whole is never refused
 *     (cutting must not change the verdict), and cut or whole the stream
 *     ends with the same verdict, output and requests awaiting answers;
 *   - a stream idle for want of bytes needs them: the bytes at hand never
 *     hold all the current frame (or step) waits for, else it would hang;
 *   - a response stream ends with the same verdict and output cut or whole
 *     (when errors end both, one output is a prefix of the other: a
 *     streamed frame goes as it is walked); with nothing rewritten what
 *     reached the client is exactly a prefix of what the broker sent, and
 *     the counters agree with the bytes;
 *   - kframe_produce_acks never calls a prefix malformed when the whole
 *     header is fine, and finds the same Acks once it has enough.
 */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/kstream.h"
#include "../../protocol/frame.h"
#include "common.h"

/* One stream with its buffers, and everything it sent each way. */
struct side {
	struct kg_stats stats, local;
	struct kg_api_stats apis[KG_API_SLOTS];
	struct kwbuf scratch;
	struct kstream_env env;
	struct kstream ks;
	struct evbuffer *req_in, *req_out, *resp_in, *resp_out;
	struct kwbuf req_got, resp_got; /* drained from req_out, resp_out */
	size_t req_fed, resp_fed;
	int req_rc; /* last verdict on requests */
};

static void side_init(struct side *s, const struct kmap *map, const struct cfg_limits *limits)
{
	struct kstream_names names = {.id = 1,
				      .client = "127.0.0.1:50000",
				      .listener = "127.0.0.1:9094",
				      .listener_name = "bootstrap",
				      .upstream = "broker:9092"};

	memset(s, 0, sizeof(*s));
	kw_init(&s->scratch);
	kw_init(&s->req_got);
	kw_init(&s->resp_got);
	s->env.stats = &s->stats;
	s->env.apis = s->apis;
	s->env.scratch = &s->scratch;
	s->env.map = map;
	kstream_init(&s->ks, &s->env, &s->local, &names, limits);
	s->req_in = evbuffer_new();
	s->req_out = evbuffer_new();
	s->resp_in = evbuffer_new();
	s->resp_out = evbuffer_new();
	FUZZ_CHECK(s->req_in && s->req_out && s->resp_in && s->resp_out, "out of memory");
}

static void side_free(struct side *s)
{
	kstream_free(&s->ks);
	kw_free(&s->scratch);
	kw_free(&s->req_got);
	kw_free(&s->resp_got);
	evbuffer_free(s->req_in);
	evbuffer_free(s->req_out);
	evbuffer_free(s->resp_in);
	evbuffer_free(s->resp_out);
}

/* memcmp that accepts empty (and so possibly null) ranges. */
static int same(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

/* What a socket would do with an output: take all of it. */
static void drain(struct evbuffer *out, struct kwbuf *got)
{
	size_t n = evbuffer_get_length(out);
	uint8_t *p;

	if (!n)
		return;
	p = kw_extend(got, n);
	FUZZ_CHECK(p && evbuffer_remove(out, p, n) == (int)n, "out of memory");
}

/* The request invariants that hold after every call. */
static void check_requests(const struct side *s, const uint8_t *reqs)
{
	FUZZ_CHECK(s->req_got.len + evbuffer_get_length(s->req_in) == s->req_fed,
		   "requests: %zu forwarded + %zu waiting != %zu arrived", s->req_got.len,
		   evbuffer_get_length(s->req_in), s->req_fed);
	FUZZ_CHECK(same(s->req_got.buf, reqs, s->req_got.len),
		   "requests: what went up is not what the client sent");
	FUZZ_CHECK(s->stats.bytes_to_upstream == s->req_got.len,
		   "requests: counted %llu bytes, forwarded %zu",
		   (unsigned long long)s->stats.bytes_to_upstream, s->req_got.len);
}

/* A stream that says it waits for bytes must need them: at KS_IDLE what
 * is left in `in` never holds all that the current step waits for, or the
 * connection would hang with its input at hand. */
static void check_waiting(const struct kstream *ks, const struct kstream_dir *d,
			  struct evbuffer *in, const char *what)
{
	size_t have = evbuffer_get_length(in);
	uint8_t size_be[KFRAME_SIZE_LEN];
	int32_t size;

	switch (d->state) {
	case KS_FRAME:
		if (have < KFRAME_SIZE_LEN)
			break;
		evbuffer_copyout(in, size_be, KFRAME_SIZE_LEN);
		size = kbuf_get_i32(size_be);
		FUZZ_CHECK(size >= 0 && have < (size_t)size + KFRAME_SIZE_LEN,
			   "%s: idle at a frame boundary with all %zu bytes of the next frame",
			   what, have);
		break;
	case KS_PASS:
		FUZZ_CHECK(have == 0, "%s: idle cutting through with %zu bytes waiting", what,
			   have);
		break;
	case KS_WHOLE:
		FUZZ_CHECK(have < (size_t)ks->frame_size + KFRAME_SIZE_LEN,
			   "%s: idle with the whole response to rewrite at hand", what);
		break;
	case KS_WALK:
	case KS_TAIL:
		FUZZ_CHECK(have < d->left, "%s: idle walking with the rest of the frame at hand",
			   what);
		break;
	}
}

static int run_requests(struct side *s, const uint8_t *reqs)
{
	int rc;

	do {
		rc = kstream_requests(&s->ks, s->req_in, s->req_out, 0);
		drain(s->req_out, &s->req_got);
		check_requests(s, reqs);
	} while (rc == KS_OUT_FULL);
	FUZZ_CHECK(rc == KS_IDLE || rc == KS_FIFO_FULL || rc == KS_ERROR, "requests: %d", rc);
	FUZZ_CHECK(rc != KS_ERROR || kstream_why(&s->ks)[0], "requests: an error without a reason");
	if (rc == KS_IDLE)
		check_waiting(&s->ks, &s->ks.up, s->req_in, "requests");
	s->req_rc = rc;
	return rc;
}

static void check_responses(const struct side *s, const uint8_t *resps)
{
	size_t consumed = s->resp_fed - evbuffer_get_length(s->resp_in);

	FUZZ_CHECK(evbuffer_get_length(s->resp_in) <= s->resp_fed,
		   "responses: more waiting than arrived");
	FUZZ_CHECK(s->stats.bytes_to_client == s->resp_got.len,
		   "responses: counted %llu bytes, forwarded %zu",
		   (unsigned long long)s->stats.bytes_to_client, s->resp_got.len);
	if (s->stats.responses_rewritten == 0)
		FUZZ_CHECK(s->resp_got.len == consumed && same(s->resp_got.buf, resps, consumed),
			   "responses: nothing rewritten, yet the client got %zu bytes for %zu "
			   "taken, or other bytes",
			   s->resp_got.len, consumed);
	FUZZ_CHECK(s->stats.responses_rewritten <= s->stats.responses,
		   "more responses rewritten than framed");
}

static int run_responses(struct side *s, const uint8_t *reqs, const uint8_t *resps)
{
	int rc;

	for (;;) {
		rc = kstream_responses(&s->ks, s->resp_in, s->resp_out, 0);
		drain(s->resp_out, &s->resp_got);
		check_responses(s, resps);
		if (s->ks.unblocked) {
			s->ks.unblocked = 0;
			if (s->req_rc != KS_ERROR)
				run_requests(s, reqs);
		}
		if (rc != KS_OUT_FULL)
			break;
	}
	FUZZ_CHECK(rc == KS_IDLE || rc == KS_ERROR, "responses: %d", rc);
	FUZZ_CHECK(rc != KS_ERROR || kstream_why(&s->ks)[0], "responses: an error without a reason");
	if (rc == KS_IDLE)
		check_waiting(&s->ks, &s->ks.down, s->resp_in, "responses");
	return rc;
}

static void feed(struct evbuffer *in, size_t *fed, const uint8_t *p, size_t n)
{
	FUZZ_CHECK(evbuffer_add(in, p, n) == 0, "out of memory");
	*fed += n;
}

/* Every prefix of a Produce request's header against the whole of it. */
static void check_produce_acks(const uint8_t *frame, size_t len, int16_t version)
{
	int16_t acks = -2, acks_p = -2;
	int rc = kframe_produce_acks(frame, len, version, &acks);

	FUZZ_CHECK(rc == KFRAME_OK || rc == KFRAME_NEED_MORE || rc == KFRAME_ERROR,
		   "produce acks: %d", rc);
	if (rc != KFRAME_OK)
		return;
	for (size_t p = 0; p <= len; p++) {
		int rcp = kframe_produce_acks(frame, p, version, &acks_p);

		FUZZ_CHECK(rcp != KFRAME_ERROR,
			   "Produce v%d: %zu of %zu bytes malformed, the whole header is fine",
			   version, p, len);
		if (rcp == KFRAME_OK) {
			FUZZ_CHECK(acks_p == acks, "Produce v%d: acks %d from %zu bytes, %d whole",
				   version, acks_p, p, acks);
			break;
		}
	}
}

/* kframe_produce_acks on each Produce frame of the request bytes. */
static void produce_frames(const uint8_t *reqs, size_t len)
{
	size_t at = 0;

	while (len - at >= KFRAME_SIZE_LEN + KFRAME_REQ_PEEK) {
		int32_t size = kbuf_get_i32(reqs + at);
		const uint8_t *frame = reqs + at + KFRAME_SIZE_LEN;
		size_t have = len - at - KFRAME_SIZE_LEN;

		if (size < KFRAME_REQ_PEEK)
			break;
		if (kbuf_get_i16(frame) == 0)
			check_produce_acks(frame, have < (size_t)size ? have : (size_t)size,
					   kbuf_get_i16(frame + 2));
		if ((size_t)size >= have)
			break;
		at += KFRAME_SIZE_LEN + (size_t)size;
	}
}

static int moves_nothing(void *ctx, int32_t node_id, const struct kstr *orig_host,
			 int32_t orig_port, struct kmap_addr *out)
{
	(void)ctx;
	(void)node_id;
	(void)orig_host;
	(void)orig_port;
	(void)out;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kmap nothing = {.lookup = moves_nothing};
	struct cfg_limits limits = {.max_frame_bytes = 100 << 20,
				    .buffer_bytes = 1 << 20,
				    .connect_timeout_ms = 1000,
				    .max_inflight = 4096};
	const uint8_t *sizes, *reqs, *resps;
	size_t k, req_len, resp_len, next = 0;
	struct side whole, cut;
	int rc_whole, rc = KS_IDLE, compare;
	size_t req_verdict, ways, resp_verdict = 2; /* error 0, idle 1, not run 2 */

	if (size < 2)
		return 0;
	k = (data[1] & 15) + 1;
	if (size < 2 + k + 2)
		return 0;
	sizes = data + 2;
	req_len = (size_t)data[2 + k] << 8 | data[3 + k];
	reqs = data + 4 + k;
	if (req_len > size - (4 + k))
		req_len = size - (4 + k);
	resps = reqs + req_len;
	resp_len = size - (4 + k) - req_len;
	switch (data[0] & 3) {
	case 2:
		limits = (struct cfg_limits){.max_frame_bytes = 1024,
					     .buffer_bytes = 64,
					     .connect_timeout_ms = 1000,
					     .max_inflight = 2};
		break;
	case 3:
		limits = (struct cfg_limits){.max_frame_bytes = 64 << 10,
					     .buffer_bytes = 128,
					     .connect_timeout_ms = 1000,
					     .max_inflight = 4096};
		break;
	}
	/* With two requests in flight, whether a response finds its request
	 * depends on when the harness lets requests go on: not compared. */
	compare = limits.max_inflight > 2;

	produce_frames(reqs, req_len);

	side_init(&whole, (data[0] & 4) ? &nothing : &fuzz_map, &limits);
	side_init(&cut, (data[0] & 4) ? &nothing : &fuzz_map, &limits);

	feed(whole.req_in, &whole.req_fed, reqs, req_len);
	rc_whole = run_requests(&whole, reqs);
	for (size_t at = 0; at < req_len;) {
		size_t n = (size_t)sizes[next++ % k] + 1;

		if (n > req_len - at)
			n = req_len - at;
		feed(cut.req_in, &cut.req_fed, reqs + at, n);
		at += n;
		rc = run_requests(&cut, reqs);
		FUZZ_CHECK(rc != KS_ERROR || rc_whole == KS_ERROR,
			   "requests: the first %zu bytes refused (%s), all %zu accepted", at,
			   kstream_why(&cut.ks), req_len);
		if (rc == KS_ERROR)
			break;
	}
	FUZZ_CHECK(rc == rc_whole, "requests: %d whole, %d cut", rc_whole, rc);
	FUZZ_CHECK(cut.req_got.len == whole.req_got.len,
		   "requests: %zu bytes went up whole, %zu cut", whole.req_got.len,
		   cut.req_got.len);
	FUZZ_CHECK(cut.ks.inflight.len == whole.ks.inflight.len &&
			   cut.stats.requests == whole.stats.requests,
		   "requests: %zu awaiting answers whole, %zu cut", whole.ks.inflight.len,
		   cut.ks.inflight.len);
	for (size_t i = 0; i < whole.ks.inflight.len; i++) {
		const struct fifo *a = &whole.ks.inflight, *b = &cut.ks.inflight;
		const struct fifo_entry *x = &a->v[(a->head + i) & (a->cap - 1)];
		const struct fifo_entry *y = &b->v[(b->head + i) & (b->cap - 1)];

		FUZZ_CHECK(x->correlation_id == y->correlation_id && x->api_key == y->api_key &&
				   x->api_version == y->api_version,
			   "requests: awaiting answer %zu differs whole and cut", i);
	}

	/* A refused request ends the connection: no answers then. */
	if (rc_whole != KS_ERROR) {
		int rr_whole, rr = KS_IDLE;

		feed(whole.resp_in, &whole.resp_fed, resps, resp_len);
		rr_whole = run_responses(&whole, reqs, resps);
		resp_verdict = rr_whole == KS_ERROR ? 0 : 1;
		for (size_t at = 0; at < resp_len;) {
			size_t n = (size_t)sizes[next++ % k] + 1;

			if (n > resp_len - at)
				n = resp_len - at;
			feed(cut.resp_in, &cut.resp_fed, resps + at, n);
			at += n;
			rr = run_responses(&cut, reqs, resps);
			if (rr == KS_ERROR)
				break;
		}
		if (compare) {
			size_t n = whole.resp_got.len < cut.resp_got.len ? whole.resp_got.len
									 : cut.resp_got.len;

			FUZZ_CHECK(rr == rr_whole, "responses: %d whole (%s), %d cut (%s)",
				   rr_whole, kstream_why(&whole.ks), rr, kstream_why(&cut.ks));
			FUZZ_CHECK(same(whole.resp_got.buf, cut.resp_got.buf, n),
				   "responses: the client got other bytes whole and cut");
			FUZZ_CHECK(rr == KS_ERROR || whole.resp_got.len == cut.resp_got.len,
				   "responses: the client got %zu bytes whole, %zu cut",
				   whole.resp_got.len, cut.resp_got.len);
		}
	}
	/* Which verdicts each way (requests: error, idle, FIFO full; responses:
	 * error, idle, not run), under which limits and map, and which ways
	 * responses went. */
	req_verdict = rc_whole == KS_FIFO_FULL ? 2 : (size_t)(rc_whole + 1);
	ways = (size_t)(whole.stats.responses_rewritten > 0) +
	       2 * (size_t)(whole.stats.leader_hints_rewritten > 0) +
	       4 * (size_t)(whole.stats.node_endpoints_dropped > 0);
	fuzz_mark(((size_t)(data[0] & 7) * 9 + req_verdict * 3 + resp_verdict) * 8 + ways);
	side_free(&whole);
	side_free(&cut);
	return 0;
}
