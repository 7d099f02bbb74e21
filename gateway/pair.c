/* pair.c — a pair's life once it is accepted: the flow between its sides,
 * and its end (drain, fail, stop, timeouts, close).  Accepting, routing
 * and dialling are pair_open.c's.  See pair.h. */
#include "pair.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dial.h"
#include "listener.h"
#include "log.h"
#include "pair_internal.h"
#include "upauth.h"

/* How long a closing pair may take to flush what its peer is owed. */
#define DRAIN_TIMEOUT_S 10
/* Least opaque bytes worth a splice (two system calls and a pipe). */
#define SPLICE_MIN (16 * 1024)

static int settle(struct pair *p);

const struct cfg_limits *pair_limits(const struct pair *p)
{
	return &p->gen->cfg.limits;
}

static int is_client(const struct pair *p, const struct side *s)
{
	return s == &p->client;
}

static struct side *peer_of(struct pair *p, const struct side *s)
{
	return is_client(p, s) ? &p->upstream : &p->client;
}

static const char *role(const struct pair *p, const struct side *s)
{
	return is_client(p, s) ? "client" : "upstream";
}

/* ---- the end ---- */

void pair_release(struct gw_node *n)
{
	struct pair *p = pair_of(n, node);

	free(p->sign_name);
	listener_unref(p->lst);
	cfg_gen_unref(p->gen);
	free(p);
}

/* Ends the pair now; its memory is released later, because the caller may
 * still be inside one of this pair's callbacks. */
void pair_end(struct pair *p, enum log_level lvl, const char *reason)
{
	if (p->state == PAIR_CLOSED)
		return;
	pair_log(p, lvl, "closed: %s", reason);
	if (p->state == PAIR_RESOLVING)
		cluster_cancel_wait(&p->gw->cluster, &p->waiter);
	dial_cancel(p->dialer);
	p->dialer = NULL;
	p->state = PAIR_CLOSED;
	side_free(&p->client);
	side_free(&p->upstream);
	if (p->timer) {
		event_free(p->timer);
		p->timer = NULL;
	}
	if (p->hs_timer) {
		event_free(p->hs_timer);
		p->hs_timer = NULL;
	}
	upauth_conn_cancel(p->auth);
	p->auth = NULL;
	pair_reauth_free(p);
	pair_login_free(p);
	kstream_free(&p->ks);
	gateway_pair_closed(p->gw, &p->node);
	p->gw->stats.connections_open--;
	p->lst->stats->connections_open--;
}

void pair_close_all(struct gateway *gw, const char *reason)
{
	struct gw_node *n;

	while ((n = gateway_first_pair(gw)))
		pair_end(pair_of(n, node), LOG_DEBUG, reason);
}

/* A framing or decoding failure: count it, say why, close.  Returns -1 so
 * callers can `return pair_fail(...)`. */
static int pair_fail(struct pair *p, const char *why)
{
	p->gw->stats.protocol_errors++;
	pair_end(p, LOG_WARN, why);
	return -1;
}

/* TLS failed on one side (handshake, certificate, record): count, close. */
void pair_fail_tls(struct pair *p, const char *why)
{
	if (p->await_sni && cfg_sni_refused(side_ssl(&p->client))) {
		pair_sni_refused(p);
		return;
	}
	p->gw->stats.tls_failures++;
	pair_end(p, LOG_WARN, why);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pair_end(arg, LOG_INFO, "peer did not take the rest of its data in time");
}

/* ---- the flow between the sides ---- */

/* Acts on what the kstream reported for side s; -1 = the pair closed. */
static int flow(struct pair *p, struct side *s, int rc)
{
	switch (rc) {
	case KS_ERROR:
		return pair_fail(p, kstream_why(&p->ks));
	case KS_OUT_FULL:
	case KS_FIFO_FULL:
		side_pause(s);
		return 0;
	case KS_HELD:
		/* Stopping: what the client sends next stays unforwarded. */
		side_pause(s);
		return settle(p);
	default:
		return 0;
	}
}

static int process(struct pair *p, struct side *s, int final);

/* What direction d forwards next without looking at it goes from `from`'s
 * socket to `to`'s without entering kgate, when both are plaintext and
 * `from` has nothing read and waiting. */
static void splice_opaque(struct pair *p, struct side *from, struct side *to,
			  const struct kstream_dir *d)
{
	uint64_t n;

	if (p->state != PAIR_OPEN || from->splice_to || side_held(from) ||
	    evbuffer_get_length(from->in))
		return;
	n = kstream_opaque(&p->ks, d);
	if (n >= SPLICE_MIN)
		side_splice(from, to, n);
}

/* Starts reading s again after back-pressure and works through what it
 * already holds; -1 = the pair closed. */
int pair_resume(struct pair *p, struct side *s)
{
	int rc;

	if (p->state != PAIR_OPEN)
		return 0;
	rc = side_resume(s);
	if (rc < 0) {
		pair_end(p, LOG_ERROR, "cannot watch sockets (out of memory)");
		return -1;
	}
	return rc ? process(p, s, 0) : 0;
}

/* Forwards requests from the client.  final: the client has gone, forward
 * what it sent regardless of back-pressure. */
int pair_process_requests(struct pair *p, int final)
{
	int rc;

	if (p->login) {
		/* Waiting for the cluster's APIs: what waits grows only so far. */
		if (p->state != PAIR_NEW &&
		    evbuffer_get_length(p->client.in) >= (size_t)pair_limits(p)->buffer_bytes)
			side_pause(&p->client);
		return final ? 0 : pair_login_read(p);
	}
	if (p->state != PAIR_OPEN && !final) {
		/* No upstream yet: let what waits grow only so far. */
		if (evbuffer_get_length(p->client.in) >= (size_t)pair_limits(p)->buffer_bytes)
			side_pause(&p->client);
		return 0;
	}
	/* How the input is cut follows what the side reads into now (a TLS
	 * side changes once kgate takes its handshake's result over). */
	p->ks.up.chunked = side_chunked(&p->client);
	rc = flow(p, &p->client,
		  kstream_requests(&p->ks, p->client.in, side_output(&p->upstream),
				   final || p->client_left));
	if (rc == 0 && !final)
		splice_opaque(p, &p->client, &p->upstream, &p->ks.up);
	/* A request begun and waiting for the client's next bytes is timed
	 * (limits.frame_timeout_ms), each request on its own: when one ended
	 * in this read, the unfinished one began in it, however busy the
	 * stream.  One held up by back-pressure is not the client's doing. */
	if (rc == 0 && p->state == PAIR_OPEN) {
		if (side_held(&p->client) ||
		    (p->ks.up.state == KS_FRAME && !evbuffer_get_length(p->client.in)))
			p->frame_ns = 0;
		else if (!p->frame_ns || p->frame_done != p->ks.up.done)
			p->frame_ns = kg_now_ns();
		p->frame_done = p->ks.up.done;
	}
	return rc;
}

/* Forwards responses from the upstream; a response that freed a slot in a
 * full FIFO lets the client's requests go on. */
static int process_responses(struct pair *p, int final)
{
	int rc;

	if (p->reauth)
		return pair_reauth_read(p);
	p->ks.down.chunked = side_chunked(&p->upstream);
	rc = flow(p, &p->upstream,
		  kstream_responses(&p->ks, p->upstream.in, side_output(&p->client), final));

	if (rc == 0 && !final)
		splice_opaque(p, &p->upstream, &p->client, &p->ks.down);
	if (rc == 0 && p->ks.unblocked) {
		p->ks.unblocked = 0;
		rc = pair_resume(p, &p->client);
	}
	return rc == 0 ? settle(p) : rc;
}

/* Works through what side s has read; -1 = the pair closed. */
static int process(struct pair *p, struct side *s, int final)
{
	return is_client(p, s) ? pair_process_requests(p, final) : process_responses(p, final);
}

/* The pair closes in DRAIN_TIMEOUT_S unless it ends before. */
static void drain_deadline(struct pair *p)
{
	struct timeval tv = {DRAIN_TIMEOUT_S, 0};

	if (p->timer)
		event_free(p->timer);
	p->timer = evtimer_new(p->gw->base, drain_timeout_cb, p);
	if (p->timer)
		evtimer_add(p->timer, &tv);
}

/* Closes side done now and the pair once its peer has flushed what it is
 * owed (within DRAIN_TIMEOUT_S). */
static void flush_and_end(struct pair *p, struct side *done, const char *reason)
{
	struct side *other = peer_of(p, done);

	if (!side_open(other) || side_output_len(other) == 0) {
		pair_end(p, LOG_DEBUG, reason);
		return;
	}
	pair_log(p, LOG_DEBUG, "%s; flushing %zu bytes to %s", reason, side_output_len(other),
		 role(p, other));
	p->state = PAIR_DRAINING;
	side_free(done);
	side_stop_reading(other);
	side_flush_all(other);
	drain_deadline(p);
}

/* Side `done` has ended: forward what it already sent, let the other side
 * flush it, then close. */
static void pair_drain(struct pair *p, struct side *done, const char *reason)
{
	if (process(p, done, 1) < 0)
		return;
	if (p->state == PAIR_OPEN)
		flush_and_end(p, done, reason);
}

/* A held pair with nothing in flight acts between two requests, once the
 * client has every response it is owed: a stopping one closes, one whose
 * session is due signs in again.  -1 = the pair closed. */
static int settle(struct pair *p)
{
	if (!p->ks.hold || p->state != PAIR_OPEN || !kstream_at_rest(&p->ks) || p->reauth)
		return 0;
	if (p->stopping) {
		flush_and_end(p, &p->upstream, "stopped between two requests");
		return -1;
	}
	return p->reauth_due ? pair_reauth_start(p) : 0;
}

void pair_finish(struct pair *p, const char *reason)
{
	flush_and_end(p, &p->upstream, reason);
}

int pair_settle(struct pair *p)
{
	return settle(p);
}

void pair_stop(struct pair *p)
{
	if (p->state == PAIR_DRAINING || p->state == PAIR_CLOSED)
		return;
	if (p->state != PAIR_OPEN) {
		pair_end(p, LOG_DEBUG, "kgate is stopping before this client's upstream was there");
		return;
	}
	p->stopping = 1;
	p->ks.hold = 1;
	settle(p);
}

size_t pair_stop_all(struct gateway *gw, int retired_only)
{
	size_t in_flight = 0;

	for (struct gw_node *n = gateway_first_pair(gw), *next; n; n = next) {
		struct pair *p = pair_of(n, node);

		next = n->next; /* p may close now; nothing else does */
		if (retired_only && !p->lst->retired)
			continue;
		in_flight += p->ks.inflight.len;
		pair_stop(p);
	}
	return in_flight;
}

void pair_sweep(struct gateway *gw)
{
	int64_t now = kg_now_ns();

	for (struct gw_node *n = gateway_first_pair(gw), *next; n; n = next) {
		struct pair *p = pair_of(n, node);
		const struct cfg_limits *l = pair_limits(p);
		char why[128];

		next = n->next;
		if (p->login && (now - p->login_ns) / 1000000 > l->frame_timeout_ms) {
			/* A login is a few small frames: one that takes longer than
			 * a request may is not coming. */
			snprintf(why, sizeof(why),
				 "did not log in within %" PRId64 " ms (limits.frame_timeout_ms)",
				 l->frame_timeout_ms);
			gw->stats.timeouts++;
			pair_end(p, LOG_INFO, why);
			continue;
		}
		if (p->state != PAIR_OPEN)
			continue;
		if (p->frame_ns && (now - p->frame_ns) / 1000000 > l->frame_timeout_ms) {
			snprintf(why, sizeof(why),
				 "a request begun %" PRId64 " ms ago is not complete "
				 "(limits.frame_timeout_ms)",
				 (now - p->frame_ns) / 1000000);
		} else if ((now - p->active_ns) / 1000000 > l->idle_timeout_ms &&
			   !side_output_len(&p->client) && !side_output_len(&p->upstream) &&
			   p->ks.inflight.len == 0) {
			/* Not while a request awaits its answer: a JoinGroup or a
			 * Fetch may wait long, and the client times it out. */
			snprintf(why, sizeof(why), "idle for %" PRId64 " s (limits.idle_timeout_ms)",
				 (now - p->active_ns) / 1000000000);
		} else {
			continue;
		}
		gw->stats.timeouts++;
		pair_end(p, LOG_INFO, why);
	}
}

/* Side s's connection ended: EOF (forward what it sent, then close) or an
 * error (close now; why says what it was). */
static void side_ended(struct pair *p, struct side *s, int eof, const char *why)
{
	char reason[512];

	if (p->state == PAIR_DRAINING) {
		pair_end(p, LOG_DEBUG, "peer closed while draining");
		return;
	}
	if (p->state != PAIR_OPEN) {
		/* Left before its upstream was there: nothing to hand over. */
		pair_end(p, LOG_INFO, "client left before the upstream was connected");
		return;
	}
	if (!eof) {
		pair_end(p, is_client(p, s) ? LOG_DEBUG : LOG_INFO, why);
		return;
	}
	snprintf(reason, sizeof(reason), "%s closed the connection",
		 is_client(p, s) ? "client" : p->upstream_addr);
	pair_drain(p, s, reason);
}

/* What a side tells its pair. */
void pair_side_cb(struct side *s, enum side_event ev, void *arg)
{
	struct pair *p = arg;
	char why[768];

	switch (ev) {
	case SIDE_READ:
		p->active_ns = kg_now_ns();
		process(p, s, 0);
		break;
	case SIDE_SPLICED:
		p->active_ns = kg_now_ns();
		kstream_forwarded(&p->ks, is_client(p, s) ? &p->ks.up : &p->ks.down, s->spliced);
		process(p, s, 0);
		break;
	case SIDE_FLUSHED:
		if (p->state == PAIR_DRAINING) {
			if (side_output_len(s) == 0)
				pair_end(p, LOG_DEBUG, "flushed after peer closed");
			return;
		}
		/* A client logging in is answered by kgate: its own output
		 * drained, it may be read again. */
		if (p->login && is_client(p, s)) {
			pair_login_read(p);
			break;
		}
		/* Output drained below the low watermark: its peer may read. */
		pair_resume(p, peer_of(p, s));
		break;
	case SIDE_READY:
		/* A client's TLS handshake is done. */
		if (p->hs_timer) {
			event_free(p->hs_timer);
			p->hs_timer = NULL;
		}
		if (log_enabled(LOG_DEBUG)) {
			side_describe(s, why, sizeof(why));
			pair_log(p, LOG_DEBUG, "TLS with client: %s", why);
		}
		if (p->await_sni)
			pair_sni_ready(p);
		if (p->await_cert && p->state != PAIR_CLOSED)
			pair_login_cert(p);
		break;
	case SIDE_EOF:
		side_ended(p, s, 1, NULL);
		break;
	case SIDE_HANGUP:
		/* The client is gone, and waiting for a slow upstream to take
		 * its bytes would hold both sockets for as long as that takes:
		 * read the rest it sent (what its socket holds), forward it
		 * regardless of back-pressure, and let the drain deadline
		 * bound the rest. */
		if (p->state != PAIR_OPEN) {
			pair_end(p, LOG_INFO, "client left before the upstream was connected");
			break;
		}
		pair_log(p, LOG_INFO, "client hung up while kgate was not reading it");
		p->client_left = 1;
		if (pair_resume(p, s) < 0 || process(p, s, 1) < 0 || p->state != PAIR_OPEN)
			break;
		/* A splice to the broker holds the client's reading until the
		 * broker takes what the pipe holds: the rest the client sent
		 * waits in its socket meanwhile, and is read and forwarded
		 * then, within the drain deadline. */
		if (p->client.splice_wait && !p->client.paused) {
			drain_deadline(p);
			break;
		}
		/* Still paused: a drain holds its next request, or
		 * limits.max_inflight requests await answers.  Nobody is left
		 * to read those answers: deliver what was forwarded and close. */
		if (p->client.paused)
			flush_and_end(p, &p->client,
				      "client hung up; what it sent after that was not forwarded "
				      "(draining, or limits.max_inflight requests unanswered)");
		break;
	case SIDE_ERROR:
		if (side_failure(s, is_client(p, s) ? p->lst->addr->text : p->upstream_addr,
				 is_client(p, s), why, sizeof(why))) {
			if (p->state == PAIR_DRAINING)
				pair_end(p, LOG_DEBUG, why);
			else
				pair_fail_tls(p, why);
			return;
		}
		side_ended(p, s, 0, why);
		break;
	}
}

