/* conn.c — the data path: framing, forwarding and rewriting for one pair.
 *
 * Bytes move between the two sides' evbuffers with evbuffer_remove_buffer,
 * which hands over whole chains: records are never copied by kgate.  Only the
 * responses the API table marks for rewriting are held whole (bounded by
 * limits.max_frame_bytes), and Fetch v16+ responses hold only their trailing
 * tagged section.  A side stops reading while its peer's output is above
 * limits.buffer_bytes, so a slow reader slows its writer instead of growing
 * memory.
 *
 * Plaintext sockets are read by kgate's own read events rather than the
 * bufferevents': libevent 2.1 (Debian 12's) reads at most 4096 bytes per
 * readiness event (EVBUFFER_MAX_READ), which left kgate several times slower
 * than a plain TCP relay.  TLS connections are read by their OpenSSL
 * bufferevents (a TLS record at a time).  Either way what is read lands in the
 * side's own input buffer; the bufferevents write and report errors.
 */
#include "conn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../protocol/frame.h"
#include "../protocol/kapi.h"
#include "../protocol/rewrite.h"
#include "dial.h"
#include "gateway.h"
#include "log.h"
#include "stats.h"
#include "tls.h"

/* Largest trailing tagged section of a Fetch response kgate will hold: a
 * NodeEndpoints list for thousands of brokers fits many times over. */
#define TAIL_MAX (1024 * 1024)
/* Bytes of a Produce request examined for Acks: the header and
 * TransactionalId (each at most 32767 bytes) with room to spare. */
#define PRODUCE_PEEK (128 * 1024)
/* How long a closing pair may take to flush what its peer is owed. */
#define DRAIN_TIMEOUT_S 10
/* Most bytes read from, or written to, a socket per event. */
#define MAX_SINGLE_IO (256 * 1024)

#define pair_log(p, lvl, fmt, ...)                                                 \
	LOG(lvl, "[%" PRIu64 " %s via %s] " fmt, (p)->id, (p)->client_addr,        \
	    (p)->lst->name, ##__VA_ARGS__)

static void pair_dial(struct pair *p);
static void reading_off(struct conn *c);
static int process_requests(struct pair *p, int final);
static int process_responses(struct pair *p, int final);

/* Works through what side c has read: requests from the client, responses
 * from the upstream.  -1 = the pair closed. */
static int conn_process(struct conn *c, int final)
{
	return c == &c->pair->client ? process_requests(c->pair, final)
				     : process_responses(c->pair, final);
}

/* The side of p that bev belongs to. */
static struct conn *conn_of(struct pair *p, const struct bufferevent *bev)
{
	return bev == p->client.bev ? &p->client : &p->upstream;
}

static int64_t max_frame(const struct pair *p)
{
	return p->gw->cfg->limits.max_frame_bytes;
}

static size_t high_water(const struct pair *p)
{
	return (size_t)p->gw->cfg->limits.buffer_bytes;
}

/* ---- lifetime ---- */

static void conn_free(struct conn *c)
{
	if (c->rev)
		event_free(c->rev);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->in)
		evbuffer_free(c->in);
	c->rev = NULL;
	c->bev = NULL;
	c->in = NULL;
}

/* Creates a side's connection state around bev; -1 if out of memory. */
static int conn_init(struct conn *c, struct bufferevent *bev)
{
	c->bev = bev;
	c->in = evbuffer_new();
	c->rstate = RS_FRAME;
	c->paused = 0;
	c->tls = tls_is(bev);
	return bev && c->in ? 0 : -1;
}

static void pair_free_conns(struct pair *p)
{
	conn_free(&p->client);
	conn_free(&p->upstream);
}

/* Ends the pair now; memory is reclaimed later by pair_reap because the
 * caller may still be inside one of this pair's callbacks. */
static void pair_end(struct pair *p, enum log_level lvl, const char *reason)
{
	struct gateway *gw = p->gw;

	if (p->state == PAIR_CLOSED)
		return;
	pair_log(p, lvl, "closed: %s", reason);
	if (p->state == PAIR_RESOLVING)
		cluster_cancel_wait(&gw->cluster, p);
	dial_cancel(p->dialer);
	p->dialer = NULL;
	p->state = PAIR_CLOSED;
	pair_free_conns(p);
	if (p->timer) {
		event_free(p->timer);
		p->timer = NULL;
	}
	if (p->hs_timer) {
		event_free(p->hs_timer);
		p->hs_timer = NULL;
	}
	fifo_free(&p->inflight);
	if (p->prev)
		p->prev->next = p->next;
	else
		gw->pairs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = gw->dead;
	gw->dead = p;
	event_active(gw->reaper, EV_TIMEOUT, 0);
	kg_stats.connections_open--;
}

void pair_close(struct pair *p, const char *reason)
{
	pair_end(p, LOG_DEBUG, reason);
}

void pair_reap(struct gateway *gw)
{
	while (gw->dead) {
		struct pair *p = gw->dead;

		gw->dead = p->next;
		free(p);
	}
}

/* A framing or decoding failure: count it, say why, close. Returns -1 so
 * callers can `return pair_fail(...)`. */
static int pair_fail(struct pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pair_fail(struct pair *p, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	kg_stats.protocol_errors++;
	pair_end(p, LOG_WARN, why);
	return -1;
}

/* TLS failed on one side (handshake, certificate, record): count, close. */
static void pair_fail_tls(struct pair *p, const char *why)
{
	kg_stats.tls_failures++;
	pair_end(p, LOG_WARN, why);
}

static void handshake_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pair *p = arg;
	char why[128];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "client did not complete the TLS handshake within %" PRId64 " ms",
		 p->lst->tls_cfg->handshake_timeout_ms);
	pair_fail_tls(p, why);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pair_end(arg, LOG_INFO, "peer did not take the rest of its data in time");
}

/* Side `done` has ended: forward what it already sent, let the other side
 * flush it, then close. */
static void pair_drain(struct pair *p, struct conn *done, const char *reason)
{
	struct conn *other = done->link;

	if (conn_process(done, 1) < 0)
		return;
	if (!other->bev || evbuffer_get_length(bufferevent_get_output(other->bev)) == 0) {
		pair_end(p, LOG_DEBUG, reason);
		return;
	}
	pair_log(p, LOG_DEBUG, "%s; flushing %zu bytes to %s", reason,
		 evbuffer_get_length(bufferevent_get_output(other->bev)), other->role);
	p->state = PAIR_DRAINING;
	conn_free(done);
	reading_off(other);
	bufferevent_setwatermark(other->bev, EV_WRITE, 0, 0);
	if (p->timer)
		event_free(p->timer);
	p->timer = evtimer_new(p->gw->base, drain_timeout_cb, p);
	if (p->timer) {
		struct timeval tv = {DRAIN_TIMEOUT_S, 0};

		evtimer_add(p->timer, &tv);
	}
}

/* ---- moving bytes ---- */

static size_t out_len(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Moves n bytes from c's input to its peer's output (chains, not copies). */
static void forward(struct conn *c, size_t n)
{
	evbuffer_remove_buffer(c->in,
			       bufferevent_get_output(c->link->bev), n);
	if (c == &c->pair->client)
		kg_stats.bytes_to_upstream += n;
	else
		kg_stats.bytes_to_client += n;
}

/* A side's reading, whichever does it: kgate's read event or OpenSSL's. */
static int reading_on(struct conn *c)
{
	if (c->tls)
		return bufferevent_enable(c->bev, EV_READ);
	return c->rev ? event_add(c->rev, NULL) : -1;
}

static void reading_off(struct conn *c)
{
	if (c->tls && c->bev)
		bufferevent_disable(c->bev, EV_READ);
	else if (c->rev)
		event_del(c->rev);
}

static void pause_reading(struct conn *c)
{
	if (!c->paused) {
		c->paused = 1;
		reading_off(c);
	}
}

/* Starts reading c again and works through what is already buffered. */
static int resume_reading(struct conn *c)
{
	struct pair *p = c->pair;

	if (!c->paused || p->state != PAIR_OPEN)
		return 0;
	c->paused = 0;
	reading_on(c);
	return conn_process(c, 0);
}

/* Cuts through up to c->left bytes of the current frame. */
static void pass_through(struct conn *c, size_t avail)
{
	size_t n = avail < c->left ? avail : (size_t)c->left;

	forward(c, n);
	c->left -= n;
	if (c->left == 0)
		c->rstate = RS_FRAME;
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

/* Reads one request header; 1 = framed, 0 = need more bytes, -1 = closed.
 * The size is judged as soon as its 4 bytes are in. */
static int frame_request(struct pair *p, struct evbuffer *in, size_t avail)
{
	struct conn *c = &p->client;
	uint8_t hdr[KFRAME_SIZE_LEN + KFRAME_REQ_PEEK];
	struct kframe_req req;
	struct fifo_entry e;
	const char *why, *foreign;
	char scratch[32];
	int32_t size;
	int16_t acks = -1;

	if (avail < KFRAME_SIZE_LEN)
		return 0;
	evbuffer_copyout(in, hdr, KFRAME_SIZE_LEN);
	size = kbuf_get_i32(hdr);
	if (size < KFRAME_REQ_MIN || size > max_frame(p)) {
		foreign = kframe_guess_foreign(hdr);
		if (foreign)
			return pair_fail(p, "client sent %s to plaintext listener %s (%s): "
					    "not Kafka's framing",
					 foreign, p->lst->addr->text, p->lst->name);
		return pair_fail(p, "request size %" PRId32 " outside [%d, %" PRId64 "]",
				 size, KFRAME_REQ_MIN, max_frame(p));
	}
	if (avail < sizeof(hdr))
		return 0;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	kframe_req_parse(hdr + KFRAME_SIZE_LEN, &req);
	if (kapi_request_check(req.api_key, req.api_version, &why) < 0) {
		kg_stats.requests_refused++;
		return pair_fail(p, "refused %s v%d request: %s",
				 kapi_name(req.api_key, scratch, sizeof(scratch)),
				 req.api_version, why);
	}
	if (req.api_key == KAPI_PRODUCE) {
		/* acks=0 gets no response, so it must not wait in the FIFO. */
		int rc = produce_acks(in, avail, size, req.api_version, &acks);

		if (rc == KFRAME_NEED_MORE)
			return 0;
		if (rc != KFRAME_OK)
			return pair_fail(p, "malformed Produce v%d request header",
					 req.api_version);
	}
	if (acks != 0) {
		e.correlation_id = req.correlation_id;
		e.api_key = req.api_key;
		e.api_version = req.api_version;
		if (fifo_push(&p->inflight, &e) < 0)
			return pair_fail(p, "cannot track request (out of memory)");
	}
	pair_log(p, LOG_DEBUG, "request %s v%d correlation %" PRId32 " (%" PRId32 " bytes)",
		 kapi_name(req.api_key, scratch, sizeof(scratch)), req.api_version,
		 req.correlation_id, size);
	kg_stats.requests++;
	c->left = (uint64_t)size + KFRAME_SIZE_LEN;
	c->rstate = RS_PASS;
	return 1;
}

/* Forwards requests until the client's input is used up or something
 * stops it: back-pressure, a full FIFO, or an error.  final: the client has
 * gone, forward what it sent regardless of back-pressure.  -1 = closed. */
static int process_requests(struct pair *p, int final)
{
	struct conn *c = &p->client;
	struct evbuffer *in = c->in;

	if (p->state != PAIR_OPEN && !final) {
		/* No upstream yet: let what waits grow only so far. */
		if (evbuffer_get_length(in) >= high_water(p))
			pause_reading(c);
		return p->state == PAIR_CLOSED ? -1 : 0;
	}
	while (p->state == PAIR_OPEN || (final && p->state != PAIR_CLOSED)) {
		size_t avail = evbuffer_get_length(in);
		int rc;

		if (avail == 0)
			return 0;
		if (!final && out_len(&p->upstream) >= high_water(p)) {
			pause_reading(c);
			return 0;
		}
		if (c->rstate == RS_PASS) {
			pass_through(c, avail);
			continue;
		}
		if (fifo_full(&p->inflight)) {
			pause_reading(c);
			return 0;
		}
		rc = frame_request(p, in, avail);
		if (rc <= 0)
			return rc;
	}
	return p->state == PAIR_CLOSED ? -1 : 0;
}

/* ---- responses: upstream -> client ---- */

/* Reads one response header and decides how to forward the frame.  The
 * size is judged as soon as its 4 bytes are in, before waiting for more. */
static int frame_response(struct pair *p, struct evbuffer *in, size_t avail)
{
	struct conn *u = &p->upstream;
	uint8_t hdr[KFRAME_SIZE_LEN + KFRAME_RESP_PEEK];
	const char *foreign;
	char scratch[32];
	int32_t size, correlation_id;
	int was_full;

	if (avail < KFRAME_SIZE_LEN)
		return 0;
	evbuffer_copyout(in, hdr, KFRAME_SIZE_LEN);
	size = kbuf_get_i32(hdr);
	if (size < KFRAME_RESP_MIN || size > max_frame(p)) {
		foreign = kframe_guess_foreign(hdr);
		if (foreign)
			return pair_fail(p, "broker %s answered with %s: set upstream tls or "
					    "point kgate at a plaintext listener",
					 p->target, foreign);
		return pair_fail(p, "response size %" PRId32 " from %s outside [%d, %" PRId64 "]",
				 size, p->target, KFRAME_RESP_MIN, max_frame(p));
	}
	if (avail < sizeof(hdr))
		return 0;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	correlation_id = kbuf_get_i32(hdr + KFRAME_SIZE_LEN);
	was_full = fifo_full(&p->inflight);
	if (fifo_pop(&p->inflight, &u->req) < 0)
		return pair_fail(p, "%s sent a response (correlation %" PRId32 ") to no request",
				 p->target, correlation_id);
	if (correlation_id != u->req.correlation_id)
		return pair_fail(p, "%s answered correlation %" PRId32 " but %s v%d "
				    "correlation %" PRId32 " was next",
				 p->target, correlation_id,
				 kapi_name(u->req.api_key, scratch, sizeof(scratch)),
				 u->req.api_version, u->req.correlation_id);
	kg_stats.responses++;
	u->frame_size = size;
	switch (kapi_mode_for(u->req.api_key, u->req.api_version)) {
	case KAPI_PASS:
		u->left = (uint64_t)size + KFRAME_SIZE_LEN;
		u->rstate = RS_PASS;
		break;
	case KAPI_REWRITE:
		u->rstate = RS_WHOLE;
		break;
	case KAPI_TAIL:
		/* Size and CorrelationId go now: the length will not change. */
		forward(u, sizeof(hdr));
		u->left = (uint64_t)size - KFRAME_RESP_PEEK;
		u->skip = 0;
		kfw_init(&u->walk, u->req.api_version);
		u->rstate = RS_WALK;
		break;
	}
	if (was_full && resume_reading(&p->client) < 0)
		return -1;
	return 1;
}

/* RS_WHOLE: rewrite a complete response. 1 = done, 0 = need more, -1 = closed. */
static int rewrite_whole(struct pair *p, struct evbuffer *in, size_t avail)
{
	struct conn *u = &p->upstream;
	struct kwbuf *out = &p->gw->scratch;
	size_t total = (size_t)u->frame_size + KFRAME_SIZE_LEN;
	const struct kapi *api = kapi_get(u->req.api_key);
	uint8_t *frame, size_be[KFRAME_SIZE_LEN];
	char scratch[32];
	int rc;

	if (avail < total)
		return 0;
	frame = evbuffer_pullup(in, (ssize_t)total);
	if (!frame)
		return pair_fail(p, "out of memory holding a %zu-byte response", total);
	kw_reset(out);
	rc = api->rewrite(frame + KFRAME_SIZE_LEN, (size_t)u->frame_size, u->req.api_version,
			  out, &p->gw->map);
	if (rc == KRW_ERROR)
		return pair_fail(p, "malformed %s v%d response (%" PRId32 " bytes) from %s",
				 kapi_name(u->req.api_key, scratch, sizeof(scratch)),
				 u->req.api_version, u->frame_size, p->target);
	if (rc == KRW_UNCHANGED) {
		forward(u, total);
	} else {
		if (out->len > INT32_MAX)
			return pair_fail(p, "rewritten response too large");
		kbuf_put_i32(size_be, (int32_t)out->len);
		evbuffer_drain(in, total);
		evbuffer_add(bufferevent_get_output(p->client.bev), size_be, sizeof(size_be));
		evbuffer_add(bufferevent_get_output(p->client.bev), out->buf, out->len);
		kg_stats.bytes_to_client += out->len + sizeof(size_be);
		kg_stats.responses_rewritten++;
		if (api->flags & KAPI_F_LEADER_HINTS)
			kg_stats.leader_hints_rewritten++;
	}
	u->rstate = RS_FRAME;
	return 1;
}

/* RS_WALK: one step through a streamed Fetch response. */
static int walk_fetch(struct pair *p, size_t avail)
{
	struct conn *u = &p->upstream;
	uint8_t window[256];
	size_t n, used;
	uint64_t skip;
	int rc;

	if (u->skip) {
		n = avail < u->skip ? avail : (size_t)u->skip;
		forward(u, n);
		u->skip -= n;
		u->left -= n;
		return 1;
	}
	/* The trailing tagged section takes at least its count byte, so the
	 * frame's last byte is never forwarded before the tail is reached:
	 * a response that lacks one is refused, not passed on whole. */
	if (u->left <= 1)
		return pair_fail(p, "Fetch v%d response from %s ended inside its structure",
				 u->req.api_version, p->target);
	n = avail;
	if (n > u->left - 1)
		n = (size_t)u->left - 1;
	if (n > sizeof(window))
		n = sizeof(window);
	evbuffer_copyout(u->in, window, n);
	rc = kfw_walk(&u->walk, window, n, &used, &skip);
	if (used) {
		forward(u, used);
		u->left -= used;
	}
	switch (rc) {
	case KFW_NEED_MORE:
		if (used)
			return 1;
		if (n == u->left - 1)
			return pair_fail(p, "truncated Fetch v%d response from %s",
					 u->req.api_version, p->target);
		return 0; /* wait for more bytes */
	case KFW_SKIP:
		if (skip >= u->left)
			return pair_fail(p, "Fetch v%d response from %s: a length runs past "
					    "the frame",
					 u->req.api_version, p->target);
		u->skip = skip;
		return 1;
	case KFW_TAIL:
		if (u->left > TAIL_MAX)
			return pair_fail(p, "Fetch v%d response from %s: %" PRIu64 "-byte "
					    "tagged section",
					 u->req.api_version, p->target, u->left);
		u->rstate = RS_TAIL;
		return 1;
	default:
		return pair_fail(p, "malformed Fetch v%d response from %s", u->req.api_version,
				 p->target);
	}
}

/* RS_TAIL: rewrite the trailing tagged section in place. */
static int rewrite_tail(struct pair *p, struct evbuffer *in, size_t avail)
{
	struct conn *u = &p->upstream;
	const struct kapi *api = kapi_get(u->req.api_key);
	struct kwbuf *scratch = &p->gw->scratch;
	size_t len = (size_t)u->left;
	uint8_t *tail, *out;
	int rc, dropped;

	if (avail < len)
		return 0;
	tail = evbuffer_pullup(in, (ssize_t)len);
	/* The rewritten section has the same length; it is written into the
	 * buffer whole-frame rewrites reuse. */
	kw_reset(scratch);
	out = kw_extend(scratch, len ? len : 1);
	if (!tail || !out)
		return pair_fail(p, "out of memory holding a Fetch tagged section");
	rc = krw_fetch_tail(tail, len, u->req.api_version, out, &p->gw->map, &dropped);
	if (rc == KRW_CHANGED) {
		evbuffer_drain(in, len);
		evbuffer_add(bufferevent_get_output(p->client.bev), out, len);
		kg_stats.bytes_to_client += len;
		kg_stats.responses_rewritten++;
		if (api->flags & KAPI_F_LEADER_HINTS)
			kg_stats.leader_hints_rewritten++;
		if (dropped) {
			kg_stats.node_endpoints_dropped++;
			pair_log(p, LOG_DEBUG, "Fetch NodeEndpoints dropped: the rewritten "
					       "form would not fit");
		}
	} else if (rc == KRW_UNCHANGED) {
		forward(u, len);
	}
	if (rc == KRW_ERROR)
		return pair_fail(p, "malformed tagged section in Fetch v%d response from %s",
				 u->req.api_version, p->target);
	u->left = 0;
	u->rstate = RS_FRAME;
	return 1;
}

/* Forwards responses until the input is used up or something stops it.
 * final: upstream has gone, forward what it sent regardless of
 * back-pressure.  -1 = closed. */
static int process_responses(struct pair *p, int final)
{
	struct conn *u = &p->upstream;
	struct evbuffer *in = u->in;

	while (p->state == PAIR_OPEN || (final && p->state != PAIR_CLOSED)) {
		size_t avail = evbuffer_get_length(in);
		int rc;

		if (avail == 0)
			return 0;
		if (!final && out_len(&p->client) >= high_water(p)) {
			pause_reading(u);
			return 0;
		}
		switch (u->rstate) {
		case RS_PASS:
			pass_through(u, avail);
			rc = 1;
			break;
		case RS_FRAME:
			rc = frame_response(p, in, avail);
			break;
		case RS_WHOLE:
			rc = rewrite_whole(p, in, avail);
			break;
		case RS_WALK:
			rc = walk_fetch(p, avail);
			break;
		case RS_TAIL:
			rc = rewrite_tail(p, in, avail);
			break;
		default:
			rc = pair_fail(p, "bad state");
		}
		if (rc <= 0)
			return rc;
	}
	return p->state == PAIR_CLOSED ? -1 : 0;
}

/* ---- libevent callbacks ---- */

static void conn_ended(struct conn *c, int eof);

/* A socket is readable: take what it has (up to MAX_SINGLE_IO) straight
 * into the side's input buffer, then forward. */
static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct pair *p = c->pair;
	struct evbuffer *in = c->in;
	struct evbuffer_iovec v[2];
	int avail = 0, n;
	ssize_t r;

	(void)what;
	/* Size the buffer to what is there, so an idle connection does not
	 * pin a large chain. */
	if (ioctl(fd, FIONREAD, &avail) < 0 || avail < 4096)
		avail = 4096;
	if (avail > MAX_SINGLE_IO)
		avail = MAX_SINGLE_IO;
	n = evbuffer_reserve_space(in, avail, v, 2);
	if (n <= 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return;
	}
	r = readv(fd, (struct iovec *)v, n);
	if (r <= 0) {
		evbuffer_commit_space(in, v, 0);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		conn_ended(c, r == 0);
		return;
	}
	if ((size_t)r <= v[0].iov_len) {
		v[0].iov_len = (size_t)r;
		n = 1;
	} else {
		v[1].iov_len = (size_t)r - v[0].iov_len;
	}
	evbuffer_commit_space(in, v, n);
	conn_process(c, 0);
}

/* A TLS connection decrypted some bytes: take them into the side's input
 * (chains move, nothing is copied) and forward. */
static void tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = conn_of(arg, bev);

	evbuffer_add_buffer(c->in, bufferevent_get_input(bev));
	conn_process(c, 0);
}

/* Starts reading c: kgate's own read event on a plaintext socket, the
 * OpenSSL bufferevent's reading for TLS. */
static int start_reading(struct conn *c)
{
	if (!c->tls && !c->rev) {
		c->rev = event_new(c->pair->gw->base, bufferevent_getfd(c->bev),
				   EV_READ | EV_PERSIST, read_cb, c);
		if (!c->rev)
			return -1;
	}
	return reading_on(c);
}

/* Output drained below the low watermark: the peer may read again. */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct pair *p = arg;
	struct conn *c = conn_of(p, bev);

	if (p->state == PAIR_DRAINING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			pair_end(p, LOG_DEBUG, "flushed after peer closed");
		return;
	}
	resume_reading(c->link);
}

static void set_nodelay(struct bufferevent *bev)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	int one = 1;

	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
}

static void connect_failed(struct pair *p, const char *why)
{
	const struct cfg *cfg = p->gw->cfg;

	kg_stats.upstream_connect_failures++;
	pair_log(p, LOG_WARN, "cannot reach %s: %s", p->target, why);
	if (p->learned_id >= 0)
		cluster_forget(&p->gw->cluster, p->learned_id);
	if (!p->lst->broker && ++p->attempt < cfg->bootstrap_upstream.n) {
		pair_dial(p);
		return;
	}
	pair_end(p, LOG_INFO, "no upstream reachable; the client will retry");
}

static void setup_bev(struct pair *p, struct bufferevent *bev);

/* The dialer's answer: an upstream connection, or why there is none. */
static void dialed(void *ctx, struct bufferevent *bev, const char *why)
{
	struct pair *p = ctx;

	p->dialer = NULL;
	if (!bev) {
		connect_failed(p, why);
		return;
	}
	if (conn_init(&p->upstream, bev) < 0) {
		pair_end(p, LOG_ERROR, "out of memory");
		return;
	}
	setup_bev(p, bev);
	p->state = PAIR_OPEN;
	kg_stats.upstream_connects++;
	set_nodelay(bev);
	if (log_enabled(LOG_DEBUG)) {
		char session[128];

		tls_session(bev, session, sizeof(session));
		pair_log(p, LOG_DEBUG, "connected to %s (%s)", p->target, session);
	}
	bufferevent_enable(bev, EV_WRITE);
	if (start_reading(&p->upstream) < 0) {
		pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
		return;
	}
	/* The client may have sent requests already; forward them. */
	if (p->client.paused)
		resume_reading(&p->client);
	else
		process_requests(p, 0);
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct pair *p = arg;
	struct conn *c = conn_of(p, bev);
	char why[768];

	if (events & BEV_EVENT_CONNECTED) {
		/* A client's TLS handshake is done. */
		if (p->hs_timer) {
			event_free(p->hs_timer);
			p->hs_timer = NULL;
		}
		if (log_enabled(LOG_DEBUG)) {
			tls_session(bev, why, sizeof(why));
			pair_log(p, LOG_DEBUG, "TLS with client: %s", why);
		}
		return;
	}
	if (c->tls && (events & BEV_EVENT_ERROR)) {
		tls_explain(bev, c == &p->client ? p->lst->addr->text : p->target, c == &p->client,
			    why, sizeof(why));
		if (p->state == PAIR_DRAINING)
			pair_end(p, LOG_DEBUG, why);
		else
			pair_fail_tls(p, why);
		return;
	}
	conn_ended(c, (events & BEV_EVENT_EOF) != 0);
}

/* A side's connection ended: EOF (forward what it sent, then close) or an
 * error (close now). */
static void conn_ended(struct conn *c, int eof)
{
	struct pair *p = c->pair;
	int is_client = c == &p->client;
	char why[512];

	if (p->state == PAIR_DRAINING) {
		pair_end(p, LOG_DEBUG, "peer closed while draining");
		return;
	}
	if (p->state != PAIR_OPEN) {
		/* Left before its upstream was there: nothing to hand over. */
		pair_end(p, LOG_INFO, "client left before the upstream was connected");
		return;
	}
	if (eof) {
		snprintf(why, sizeof(why), "%s closed the connection",
			 is_client ? "client" : p->target);
		pair_drain(p, c, why);
		return;
	}
	snprintf(why, sizeof(why), "%s: %s", is_client ? "client" : p->target,
		 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	pair_end(p, is_client ? LOG_DEBUG : LOG_INFO, why);
}

static void setup_bev(struct pair *p, struct bufferevent *bev)
{
	/* Plaintext is read by read_cb; TLS by the bufferevent, which hands
	 * it over in tls_read_cb. */
	bufferevent_setcb(bev, tls_read_cb, write_cb, event_cb, p);
	/* Write callbacks fire when output falls to half the limit. */
	bufferevent_setwatermark(bev, EV_WRITE, high_water(p) / 2, 0);
	bufferevent_set_max_single_write(bev, MAX_SINGLE_IO);
}

/* ---- dialling ---- */

/* 1 if the pair's upstream certificate is checked against the broker's own
 * name (TLS, verification on, no server_name configured). */
static int needs_own_name(const struct pair *p)
{
	const struct listener *lst = p->lst;

	return lst->broker && lst->upstream_tls && lst->upstream_tls_cfg->verify &&
	       !lst->upstream_tls_cfg->server_name;
}

/* Picks where this pair's upstream is; 0 = target set, 1 = parked until the
 * cluster is known, -1 = closed. */
static int pick_target(struct pair *p, const char **host, uint16_t *port)
{
	struct gateway *gw = p->gw;
	const struct cfg_broker *b = p->lst->broker;
	const struct cluster_node *node;

	p->learned_id = -1;
	if (!b) {
		const struct cfg_addr_list *ups = &gw->cfg->bootstrap_upstream;
		const struct cfg_addr *a;

		/* Each connection starts one further along, then tries the
		 * rest in order from there. */
		if (p->attempt == 0)
			p->first_upstream = gw->bootstrap_next++;
		a = &ups->v[(p->first_upstream + p->attempt) % ups->n];
		*host = a->host;
		*port = a->port;
		return 0;
	}
	if (b->upstream.host) {
		/* A TLS broker's certificate carries the name the cluster
		 * advertises for it, not the NLB's: learn that name first. */
		if (needs_own_name(p) && !cluster_find(&gw->cluster, b->id) &&
		    p->state != PAIR_RESOLVING) {
			p->state = PAIR_RESOLVING;
			cluster_wait(&gw->cluster, p);
			return 1;
		}
		*host = b->upstream.host;
		*port = b->upstream.port;
		return 0;
	}
	node = cluster_find(&gw->cluster, b->id);
	if (!node) {
		if (p->state == PAIR_RESOLVING) {
			pair_end(p, LOG_WARN, "the cluster's Metadata does not list this "
					      "broker id (configure its upstream if it exists)");
			return -1;
		}
		p->state = PAIR_RESOLVING;
		cluster_wait(&gw->cluster, p);
		return 1;
	}
	p->learned_id = b->id;
	*host = node->host;
	*port = node->port;
	return 0;
}

static void pair_dial(struct pair *p)
{
	const char *host, *tls_name;
	uint16_t port;
	SSL_CTX *tls;

	if (pick_target(p, &host, &port) != 0)
		return;
	p->state = PAIR_CONNECTING;
	cfg_addr_format(p->target, sizeof(p->target), host, port);
	pair_log(p, LOG_DEBUG, "dialling %s", p->target);
	tls = listener_upstream_tls(p->lst, host, &tls_name);
	p->dialer = dial_start(p->gw, host, port, tls, tls_name, dialed, p);
	if (!p->dialer)
		pair_end(p, LOG_ERROR, "out of memory");
}

void pair_cluster_ready(struct pair *p, const char *failure)
{
	char why[512];

	if (failure && !p->lst->broker->upstream.host) {
		snprintf(why, sizeof(why), "cannot learn where broker %" PRId32 " is: %s",
			 p->lst->broker->id, failure);
		pair_end(p, LOG_WARN, why);
		return;
	}
	if (failure)
		pair_log(p, LOG_INFO, "cannot learn broker %" PRId32 "'s own name (%s): its "
				      "certificate is checked against %s",
			 p->lst->broker->id, failure, p->lst->broker->upstream.host);
	pair_dial(p);
}

void pair_accept(struct listener *lst, evutil_socket_t fd, const struct sockaddr *sa,
		 int socklen)
{
	struct gateway *gw = lst->gw;
	struct pair *p = calloc(1, sizeof(*p));
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	(void)socklen;
	if (!p) {
		evutil_closesocket(fd);
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(p->client_addr, sizeof(p->client_addr), "%s:%u", host, port);
	p->gw = gw;
	p->lst = lst;
	p->id = ++gw->next_pair_id;
	p->client.pair = p->upstream.pair = p;
	p->client.link = &p->upstream;
	p->upstream.link = &p->client;
	p->client.role = "client";
	p->upstream.role = "upstream";
	fifo_init(&p->inflight, (size_t)gw->cfg->limits.max_inflight);
	p->next = gw->pairs;
	if (gw->pairs)
		gw->pairs->prev = p;
	gw->pairs = p;
	kg_stats.connections_accepted++;
	kg_stats.connections_open++;

	if (conn_init(&p->client, lst->tls ? tls_accept(gw->base, fd, lst->tls)
					   : bufferevent_socket_new(gw->base, fd,
								    BEV_OPT_CLOSE_ON_FREE |
									    BEV_OPT_DEFER_CALLBACKS)) < 0) {
		if (!p->client.bev)
			evutil_closesocket(fd);
		pair_end(p, LOG_ERROR, "out of memory");
		return;
	}
	if (lst->tls) {
		/* A client that never finishes its handshake must not hold a
		 * connection (and its buffers) for ever. */
		int64_t ms = lst->tls_cfg->handshake_timeout_ms;
		struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

		p->hs_timer = evtimer_new(gw->base, handshake_timeout_cb, p);
		if (!p->hs_timer || evtimer_add(p->hs_timer, &tv) < 0) {
			pair_end(p, LOG_ERROR, "out of memory");
			return;
		}
	}
	setup_bev(p, p->client.bev);
	set_nodelay(p->client.bev);
	bufferevent_enable(p->client.bev, EV_WRITE);
	/* Read from the start, so a client that leaves is noticed; what it
	 * sends waits in its input until the upstream is connected. */
	if (start_reading(&p->client) < 0) {
		pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
		return;
	}
	pair_log(p, LOG_DEBUG, "accepted");
	pair_dial(p);
}
