/* kstream.c — request and response framing, correlation, and the three ways
 * a response is forwarded: cut through, rewritten whole, or streamed with
 * its tail rewritten in place.  See kstream.h.
 */
#include "kstream.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/frame.h"
#include "chunk.h"
#include "log.h"

/* Largest trailing tagged section of a streamed response kgate will hold: a
 * NodeEndpoints list for thousands of brokers fits many times over. */
#define TAIL_MAX (1024 * 1024)
/* Bytes of a Produce request examined for Acks: the header and
 * TransactionalId (each at most 32767 bytes) with room to spare. */
#define PRODUCE_PEEK (128 * 1024)
/* Bytes a walker is offered at a time (it keeps no pointers into them). */
#define WALK_WINDOW 256
_Static_assert(WALK_WINDOW >= KFW_MAX_PRIMITIVE, "a walker window it could stall in");
/* What a step returns, besides a kstream_result that ends the run: it made
 * progress, take the next. */
#define KS_GO_ON 0x100

/* One step of a direction: KS_GO_ON, or the result to stop with. */
typedef int (*step_fn)(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
		       size_t avail);

/* Runs a direction's steps while input waits and the output has room (or
 * regardless of room when final). */
static int run(struct kstream *ks, struct evbuffer *in, struct evbuffer *out, int final,
	       step_fn step)
{
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		int rc;

		if (avail == 0)
			return KS_IDLE;
		if (!final && evbuffer_get_length(out) >= ks->high_water)
			return KS_OUT_FULL;
		rc = step(ks, in, out, avail);
		if (rc != KS_GO_ON)
			return rc;
	}
}

void kstream_init(struct kstream *ks, struct kstream_env *env, struct kg_stats *local,
		  const struct kstream_names *names, const struct cfg_limits *limits)
{
	memset(ks, 0, sizeof(*ks));
	ks->env = env;
	ks->local = local;
	ks->names = *names;
	ks->map = env->map;
	ks->max_frame = limits->max_frame_bytes;
	ks->high_water = (size_t)limits->buffer_bytes;
	fifo_init(&ks->inflight, (size_t)limits->max_inflight);
	ks->up.state = ks->down.state = KS_FRAME;
}

void kstream_free(struct kstream *ks)
{
	fifo_free(&ks->inflight);
}

/* Records why the stream cannot go on; returns KS_ERROR. */
static int fail(struct kstream *ks, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct kstream *ks, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ks->env->why, sizeof(ks->env->why), fmt, ap);
	va_end(ap);
	return KS_ERROR;
}

/* Counts n bytes forwarded in direction d. */
static void count_bytes(struct kstream *ks, const struct kstream_dir *d, uint64_t n)
{
	if (d == &ks->up) {
		ks->env->stats->bytes_to_upstream += n;
		ks->local->bytes_to_upstream += n;
	} else {
		ks->env->stats->bytes_to_client += n;
		ks->local->bytes_to_client += n;
	}
}

/* Moves n bytes from in to out (chains, not copies) and counts them. */
static int forward(struct kstream *ks, const struct kstream_dir *d, struct evbuffer *in,
		   struct evbuffer *out, size_t n)
{
	if (d->chunked ? chunk_move(in, out, n) < 0 : evbuffer_remove_buffer(in, out, n) != (int)n)
		return fail(ks, "cannot forward %zu bytes (out of memory)", n);
	count_bytes(ks, d, n);
	return 0;
}

/* Direction d is at a frame boundary again. */
static void frame_done(struct kstream_dir *d)
{
	d->state = KS_FRAME;
	d->done++;
}

/* Cuts through up to d->left bytes of the current frame. */
static int pass_through(struct kstream *ks, struct kstream_dir *d, struct evbuffer *in,
			struct evbuffer *out, size_t avail)
{
	size_t n = avail < d->left ? avail : (size_t)d->left;

	if (forward(ks, d, in, out, n) < 0)
		return KS_ERROR;
	d->left -= n;
	if (d->left == 0)
		frame_done(d);
	return KS_GO_ON;
}

/* Writes a replacement for a frame's bytes (the rewritten frame or tail)
 * to out, then drops the original from in. */
static int replace(struct kstream *ks, struct evbuffer *in, size_t in_len, struct evbuffer *out,
		   const void *head, size_t head_len, const void *body, size_t body_len)
{
	if ((head_len && evbuffer_add(out, head, head_len) < 0) ||
	    evbuffer_add(out, body, body_len) < 0)
		return fail(ks, "out of memory forwarding a rewritten response");
	evbuffer_drain(in, in_len);
	ks->env->stats->bytes_to_client += head_len + body_len;
	ks->local->bytes_to_client += head_len + body_len;
	return 0;
}

/* ---- requests: client -> upstream ---- */

/* Finds a Produce request's Acks by copying out only its first bytes: the
 * records behind them are neither copied nor waited for.  Headers almost
 * always fit the small window; long client or transactional ids get up to
 * PRODUCE_PEEK. */
static int produce_acks(struct evbuffer *in, size_t avail, int32_t size, int16_t version,
			int16_t *acks)
{
	uint8_t small[512], *big;
	size_t want = (size_t)size + KFRAME_SIZE_LEN, n, m;
	int rc;

	if (want > PRODUCE_PEEK)
		want = PRODUCE_PEEK;
	n = avail < want ? avail : want;
	m = n < sizeof(small) ? n : sizeof(small);
	evbuffer_copyout(in, small, m);
	rc = kframe_produce_acks(small + KFRAME_SIZE_LEN, m - KFRAME_SIZE_LEN, version, acks);
	if (rc == KFRAME_NEED_MORE && m < n) {
		big = malloc(n);
		if (!big)
			return KFRAME_ERROR;
		evbuffer_copyout(in, big, n);
		rc = kframe_produce_acks(big + KFRAME_SIZE_LEN, n - KFRAME_SIZE_LEN, version, acks);
		free(big);
	}
	/* Out of bytes only matters while more of the window can arrive. */
	if (rc == KFRAME_NEED_MORE && n == want)
		rc = KFRAME_ERROR;
	return rc;
}

/* Reads one request header: KS_GO_ON once framed, KS_IDLE for more bytes,
 * KS_ERROR.
 * The size is judged as soon as its 4 bytes are in. */
static int frame_request(struct kstream *ks, struct evbuffer *in, size_t avail)
{
	uint8_t hdr[KFRAME_SIZE_LEN + KFRAME_REQ_PEEK];
	struct kframe_req req;
	struct fifo_entry e;
	const char *why, *foreign;
	char scratch[32];
	int32_t size;
	int16_t acks = -1;

	if (avail < KFRAME_SIZE_LEN)
		return KS_IDLE;
	evbuffer_copyout(in, hdr, KFRAME_SIZE_LEN);
	size = kbuf_get_i32(hdr);
	if (size < KFRAME_REQ_MIN || size > ks->max_frame) {
		foreign = kframe_guess_foreign(hdr);
		if (foreign)
			return fail(ks,
				    "client sent %s to plaintext listener %s (%s): "
				    "not Kafka's framing",
				    foreign, ks->names.listener, ks->names.listener_name);
		return fail(ks, "request size %" PRId32 " outside [%d, %" PRId64 "]", size,
			    KFRAME_REQ_MIN, ks->max_frame);
	}
	if (avail < sizeof(hdr))
		return KS_IDLE;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	kframe_req_parse(hdr + KFRAME_SIZE_LEN, &req);
	if (ks->own_sasl &&
	    (req.api_key == KAPI_SASL_HANDSHAKE || req.api_key == KAPI_SASL_AUTHENTICATE))
		why = "the connection's SASL session is kgate's here (upstream_sasl or "
		      "client_auth): a client's own would sign kgate in again at the broker";
	else if (kapi_request_check(req.api_key, req.api_version, &why) == 0)
		why = NULL;
	if (why) {
		ks->env->stats->requests_refused++;
		return fail(ks, "refused %s v%d request: %s",
			    kapi_name(req.api_key, scratch, sizeof(scratch)), req.api_version, why);
	}
	if (req.api_key == KAPI_PRODUCE) {
		/* acks=0 gets no response, so it must not wait in the FIFO. */
		int rc = produce_acks(in, avail, size, req.api_version, &acks);

		if (rc == KFRAME_NEED_MORE)
			return KS_IDLE;
		if (rc != KFRAME_OK)
			return fail(ks, "malformed Produce v%d request header", req.api_version);
	}
	if (acks != 0) {
		e.correlation_id = req.correlation_id;
		e.api_key = req.api_key;
		e.api_version = req.api_version;
		e.sent_ns = kg_now_ns();
		if (fifo_push(&ks->inflight, &e) < 0)
			return fail(ks, "cannot track request (out of memory)");
	}
	LOG(LOG_DEBUG,
	    "[%" PRIu64 " %s via %s] request %s v%d correlation %" PRId32 " (%" PRId32 " bytes)",
	    ks->names.id, ks->names.client, ks->names.listener_name,
	    kapi_name(req.api_key, scratch, sizeof(scratch)), req.api_version, req.correlation_id,
	    size);
	ks->env->stats->requests++;
	ks->env->apis[kg_api_slot(req.api_key)].c.requests++;
	ks->up.left = (uint64_t)size + KFRAME_SIZE_LEN;
	ks->up.state = KS_PASS;
	return KS_GO_ON;
}

static int request_step(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
			size_t avail)
{
	if (ks->up.state == KS_PASS)
		return pass_through(ks, &ks->up, in, out, avail);
	if (ks->hold)
		return KS_HELD;
	if (fifo_full(&ks->inflight))
		return KS_FIFO_FULL;
	return frame_request(ks, in, avail);
}

int kstream_requests(struct kstream *ks, struct evbuffer *in, struct evbuffer *out, int final)
{
	return run(ks, in, out, final, request_step);
}

/* ---- responses: upstream -> client ---- */

/* Reads one response header and decides how to forward the frame.  The
 * size is judged as soon as its 4 bytes are in, before waiting for more. */
static int frame_response(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
			  size_t avail)
{
	struct kstream_dir *d = &ks->down;
	uint8_t hdr[KFRAME_SIZE_LEN + KFRAME_RESP_PEEK];
	struct kg_api_stats *api;
	const char *foreign;
	char scratch[32];
	int32_t size, correlation_id;
	int was_full;

	if (avail < KFRAME_SIZE_LEN)
		return KS_IDLE;
	evbuffer_copyout(in, hdr, KFRAME_SIZE_LEN);
	size = kbuf_get_i32(hdr);
	if (size < KFRAME_RESP_MIN || size > ks->max_frame) {
		foreign = kframe_guess_foreign(hdr);
		if (foreign)
			return fail(ks,
				    "broker %s answered with %s: set upstream tls or "
				    "point kgate at a plaintext listener",
				    ks->names.upstream, foreign);
		return fail(ks, "response size %" PRId32 " from %s outside [%d, %" PRId64 "]", size,
			    ks->names.upstream, KFRAME_RESP_MIN, ks->max_frame);
	}
	if (avail < sizeof(hdr))
		return KS_IDLE;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	correlation_id = kbuf_get_i32(hdr + KFRAME_SIZE_LEN);
	was_full = fifo_full(&ks->inflight);
	if (fifo_pop(&ks->inflight, &ks->req) < 0)
		return fail(ks, "%s sent a response (correlation %" PRId32 ") to no request",
			    ks->names.upstream, correlation_id);
	if (correlation_id != ks->req.correlation_id)
		return fail(ks,
			    "%s answered correlation %" PRId32 " but %s v%d correlation %" PRId32
			    " was next",
			    ks->names.upstream, correlation_id,
			    kapi_name(ks->req.api_key, scratch, sizeof(scratch)), ks->req.api_version,
			    ks->req.correlation_id);
	ks->env->stats->responses++;
	api = &ks->env->apis[kg_api_slot(ks->req.api_key)];
	api->c.responses++;
	kg_latency_observe(&api->latency, (double)(kg_now_ns() - ks->req.sent_ns) / 1e9);
	if (was_full)
		ks->unblocked = 1;
	ks->frame_size = size;
	switch (kapi_mode_for(ks->req.api_key, ks->req.api_version)) {
	case KAPI_PASS:
		d->left = (uint64_t)size + KFRAME_SIZE_LEN;
		d->state = KS_PASS;
		break;
	case KAPI_REWRITE:
		d->state = KS_WHOLE;
		break;
	case KAPI_TAIL:
		/* The structure and the tagged section after it take two bytes
		 * at the very least (see walk_step). */
		if (size - KFRAME_RESP_PEEK <= 1)
			return fail(ks, "%s v%d response from %s ended inside its structure",
				    kapi_name(ks->req.api_key, scratch, sizeof(scratch)),
				    ks->req.api_version, ks->names.upstream);
		/* Size and CorrelationId go now: the length will not change. */
		if (forward(ks, d, in, out, sizeof(hdr)) < 0)
			return KS_ERROR;
		d->left = (uint64_t)size - KFRAME_RESP_PEEK;
		ks->skip = 0;
		kapi_get(ks->req.api_key)->stream->init(&ks->walk, ks->req.api_version);
		d->state = KS_WALK;
		break;
	}
	return KS_GO_ON;
}

/* Counts a response whose addresses were rewritten. */
static void count_rewritten(struct kstream *ks, const struct kapi *api)
{
	ks->env->stats->responses_rewritten++;
	ks->env->apis[kg_api_slot(ks->req.api_key)].c.responses_rewritten++;
	if (api->flags & KAPI_F_LEADER_HINTS)
		ks->env->stats->leader_hints_rewritten++;
}

/* KS_WHOLE: rewrite a complete response once it is all in. */
static int rewrite_whole(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
			 size_t avail)
{
	struct kstream_dir *d = &ks->down;
	struct kwbuf *w = ks->env->scratch;
	size_t total = (size_t)ks->frame_size + KFRAME_SIZE_LEN;
	const struct kapi *api = kapi_get(ks->req.api_key);
	uint8_t *frame, size_be[KFRAME_SIZE_LEN];
	char scratch[32];
	int rc;

	if (avail < total)
		return KS_IDLE;
	frame = evbuffer_pullup(in, (ssize_t)total);
	if (!frame)
		return fail(ks, "out of memory holding a %zu-byte response", total);
	kw_reset(w);
	rc = api->rewrite(frame + KFRAME_SIZE_LEN, (size_t)ks->frame_size, ks->req.api_version, w,
			  ks->map);
	if (rc == KRW_TOO_MANY)
		return fail(ks, "%s v%d response from %s lists more than %" PRId32 " brokers "
				"(limits.max_brokers): refused",
			    kapi_name(ks->req.api_key, scratch, sizeof(scratch)), ks->req.api_version,
			    ks->names.upstream, ks->map->max_nodes);
	if (rc == KRW_ERROR)
		return fail(ks, "malformed %s v%d response (%" PRId32 " bytes) from %s",
			    kapi_name(ks->req.api_key, scratch, sizeof(scratch)), ks->req.api_version,
			    ks->frame_size, ks->names.upstream);
	if (rc == KRW_UNCHANGED) {
		if (forward(ks, d, in, out, total) < 0)
			return KS_ERROR;
	} else {
		if (w->len > INT32_MAX)
			return fail(ks, "rewritten response too large");
		kbuf_put_i32(size_be, (int32_t)w->len);
		if (replace(ks, in, total, out, size_be, sizeof(size_be), w->buf, w->len) < 0)
			return KS_ERROR;
		count_rewritten(ks, api);
	}
	frame_done(d);
	return KS_GO_ON;
}

/* KS_WALK: one step through a streamed response. */
static int walk_step(struct kstream *ks, struct evbuffer *in, struct evbuffer *out, size_t avail)
{
	struct kstream_dir *d = &ks->down;
	const struct kapi *api = kapi_get(ks->req.api_key);
	uint8_t window[WALK_WINDOW];
	char name[32];
	size_t n, used;
	uint64_t skip;
	int rc;

	if (ks->skip) {
		n = avail < ks->skip ? avail : (size_t)ks->skip;
		if (forward(ks, d, in, out, n) < 0)
			return KS_ERROR;
		ks->skip -= n;
		d->left -= n;
		return KS_GO_ON;
	}
	/* The trailing tagged section takes at least its count byte, so the
	 * frame's last byte is never forwarded before the tail is reached:
	 * a response that lacks one is refused, not passed on whole. */
	if (d->left <= 1)
		return fail(ks, "%s v%d response from %s ended inside its structure",
			    kapi_name(ks->req.api_key, name, sizeof(name)), ks->req.api_version,
			    ks->names.upstream);
	n = avail;
	if (n > d->left - 1)
		n = (size_t)d->left - 1;
	if (n > sizeof(window))
		n = sizeof(window);
	evbuffer_copyout(in, window, n);
	rc = api->stream->walk(&ks->walk, window, n, &used, &skip);
	/* A malformed structure is refused before a byte of this step moves. */
	if (rc == KFW_ERROR)
		return fail(ks, "malformed %s v%d response from %s",
			    kapi_name(ks->req.api_key, name, sizeof(name)), ks->req.api_version,
			    ks->names.upstream);
	if (used) {
		if (forward(ks, d, in, out, used) < 0)
			return KS_ERROR;
		d->left -= used;
	}
	switch (rc) {
	case KFW_NEED_MORE:
		if (used)
			return KS_GO_ON;
		if (n == d->left - 1)
			return fail(ks, "truncated %s v%d response from %s",
				    kapi_name(ks->req.api_key, name, sizeof(name)),
				    ks->req.api_version, ks->names.upstream);
		return KS_IDLE; /* wait for more bytes */
	case KFW_SKIP:
		if (skip >= d->left)
			return fail(ks, "%s v%d response from %s: a length runs past the frame",
				    kapi_name(ks->req.api_key, name, sizeof(name)),
				    ks->req.api_version, ks->names.upstream);
		ks->skip = skip;
		return KS_GO_ON;
	case KFW_TAIL:
		if (d->left > TAIL_MAX)
			return fail(ks, "%s v%d response from %s: %" PRIu64 "-byte tagged section",
				    kapi_name(ks->req.api_key, name, sizeof(name)),
				    ks->req.api_version, ks->names.upstream, d->left);
		d->state = KS_TAIL;
		return KS_GO_ON;
	default:
		return fail(ks, "walker of %s v%d answered %d",
			    kapi_name(ks->req.api_key, name, sizeof(name)), ks->req.api_version, rc);
	}
}

/* KS_TAIL: rewrite the trailing tagged section in place. */
static int rewrite_tail(struct kstream *ks, struct evbuffer *in, struct evbuffer *out, size_t avail)
{
	struct kstream_dir *d = &ks->down;
	const struct kapi *api = kapi_get(ks->req.api_key);
	struct kwbuf *w = ks->env->scratch;
	size_t len = (size_t)d->left;
	uint8_t *tail, *rewritten;
	char name[32];
	int rc, dropped;

	if (avail < len)
		return KS_IDLE;
	tail = evbuffer_pullup(in, (ssize_t)len);
	/* The rewritten section has the same length; it is written into the
	 * buffer whole-frame rewrites reuse. */
	kw_reset(w);
	rewritten = kw_extend(w, len ? len : 1);
	if (!tail || !rewritten)
		return fail(ks, "out of memory holding a %s tagged section",
			    kapi_name(ks->req.api_key, name, sizeof(name)));
	rc = api->stream->rewrite_tail(tail, len, ks->req.api_version, rewritten, ks->map,
				       &dropped);
	if (rc == KRW_ERROR)
		return fail(ks, "malformed tagged section in %s v%d response from %s",
			    kapi_name(ks->req.api_key, name, sizeof(name)), ks->req.api_version,
			    ks->names.upstream);
	if (rc == KRW_CHANGED) {
		if (replace(ks, in, len, out, NULL, 0, rewritten, len) < 0)
			return KS_ERROR;
		count_rewritten(ks, api);
		if (dropped) {
			ks->env->stats->node_endpoints_dropped++;
			LOG(LOG_DEBUG,
			    "[%" PRIu64 " %s via %s] %s NodeEndpoints dropped: the rewritten form "
			    "would not fit",
			    ks->names.id, ks->names.client, ks->names.listener_name,
			    kapi_name(ks->req.api_key, name, sizeof(name)));
		}
	} else if (forward(ks, d, in, out, len) < 0) {
		return KS_ERROR;
	}
	d->left = 0;
	frame_done(d);
	return KS_GO_ON;
}

static int response_step(struct kstream *ks, struct evbuffer *in, struct evbuffer *out,
			 size_t avail)
{
	switch (ks->down.state) {
	case KS_PASS:
		return pass_through(ks, &ks->down, in, out, avail);
	case KS_FRAME:
		return frame_response(ks, in, out, avail);
	case KS_WHOLE:
		return rewrite_whole(ks, in, out, avail);
	case KS_WALK:
		return walk_step(ks, in, out, avail);
	case KS_TAIL:
		return rewrite_tail(ks, in, out, avail);
	}
	return fail(ks, "bad state");
}

int kstream_responses(struct kstream *ks, struct evbuffer *in, struct evbuffer *out, int final)
{
	return run(ks, in, out, final, response_step);
}

/* ---- bytes the caller moves itself ---- */

uint64_t kstream_opaque(const struct kstream *ks, const struct kstream_dir *d)
{
	if (d->state == KS_PASS)
		return d->left;
	if (d == &ks->down && d->state == KS_WALK)
		return ks->skip;
	return 0;
}

void kstream_forwarded(struct kstream *ks, struct kstream_dir *d, uint64_t n)
{
	count_bytes(ks, d, n);
	ks->env->stats->bytes_spliced += n;
	d->left -= n;
	if (d->state == KS_WALK)
		ks->skip -= n;
	else if (d->left == 0)
		frame_done(d);
}
