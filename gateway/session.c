/* session.c — framing kgate's own requests and matching their answers. */
#include "session.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/frame.h"
#include "../protocol/requests.h"
#include "evframe.h"
#include "side.h"

#define CLIENT_ID "kgate"
/* Requests a session keeps outstanding at once: kgate's exchanges are a
 * few requests in a row. */
#define SESSION_MAX_PENDING 8

/* A request awaiting its answer. */
struct session_req {
	int32_t correlation_id;
	session_answer_fn answer;
};

struct session {
	struct side side;
	struct event *timer; /* deadline of the oldest outstanding request */
	int64_t max_frame, timeout_ms;
	session_fail_fn fail;
	void *ctx;
	char peer[320];
	int32_t next_id;
	struct session_req pending[SESSION_MAX_PENDING];
	size_t n_pending;
	int busy;   /* inside a callback: freeing waits until it returns */
	int doomed; /* session_free was called from inside a callback */
	int failed; /* fail was called */
};

static void session_destroy(struct session *s)
{
	side_free(&s->side);
	if (s->timer)
		event_free(s->timer);
	free(s);
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->busy) {
		s->doomed = 1;
		return;
	}
	session_destroy(s);
}

/* Brackets a callback of the owner's, which may free the session: leave
 * returns 0 if it did (and the session is gone now). */
static void enter(struct session *s)
{
	s->busy++;
}

static int leave(struct session *s)
{
	if (--s->busy == 0 && s->doomed) {
		session_destroy(s);
		return 0;
	}
	return 1;
}

static void session_failed(struct session *s, const char *why)
{
	if (s->failed)
		return;
	s->failed = 1;
	side_stop_reading(&s->side);
	evtimer_del(s->timer);
	enter(s);
	s->fail(s->ctx, why);
	leave(s);
}

static void arm(struct session *s)
{
	struct timeval tv = {s->timeout_ms / 1000, (s->timeout_ms % 1000) * 1000};

	if (s->n_pending)
		evtimer_add(s->timer, &tv);
	else
		evtimer_del(s->timer);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_failed(arg, "no answer in time");
}

/* Handles every complete answer in the input; stops if the session fails or
 * is freed meanwhile. */
static void read_answers(struct session *s)
{
	struct evbuffer *in = s->side.in;

	while (!s->failed && !s->doomed) {
		struct session_req req;
		uint8_t *frame;
		size_t size;
		int alive;

		switch (evframe_peek(in, KFRAME_RESP_MIN, s->max_frame, &frame, &size)) {
		case EVFRAME_MORE:
			return;
		case EVFRAME_BAD:
			session_failed(s, "bad response size");
			return;
		case EVFRAME_NOMEM:
			session_failed(s, "out of memory");
			return;
		}
		if (s->n_pending == 0) {
			session_failed(s, "an answer to no request");
			return;
		}
		if (kbuf_get_i32(frame) != s->pending[0].correlation_id) {
			session_failed(s, "an answer with another correlation id");
			return;
		}
		req = s->pending[0];
		memmove(s->pending, s->pending + 1, --s->n_pending * sizeof(s->pending[0]));
		arm(s);
		/* The frame stays in the buffer while the owner reads it. */
		enter(s);
		req.answer(s->ctx, frame, size);
		evframe_drain(in, size);
		alive = leave(s);
		if (!alive)
			return;
	}
}

static void side_cb(struct side *sd, enum side_event ev, void *arg)
{
	struct session *s = arg;
	char why[768];

	switch (ev) {
	case SIDE_READ:
		read_answers(s);
		break;
	case SIDE_EOF:
		session_failed(s, "connection closed");
		break;
	case SIDE_ERROR:
		side_failure(sd, s->peer, 0, why, sizeof(why));
		session_failed(s, why);
		break;
	case SIDE_FLUSHED:
	case SIDE_READY:
	case SIDE_HANGUP:  /* not watched here */
	case SIDE_SPLICED: /* no pools: never spliced */
		break;
	}
}

struct session *session_new(struct bufferevent *bev, const char *peer, int64_t max_frame,
			    int64_t timeout_ms, session_fail_fn fail, void *ctx)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s) {
		bufferevent_free(bev);
		return NULL;
	}
	if (side_init(&s->side, bev, 0, NULL, side_cb, s) < 0 ||
	    !(s->timer = evtimer_new(bufferevent_get_base(bev), timeout_cb, s)) ||
	    side_start(&s->side) < 0) {
		session_destroy(s);
		return NULL;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->max_frame = max_frame;
	s->timeout_ms = timeout_ms;
	s->fail = fail;
	s->ctx = ctx;
	s->next_id = 1;
	return s;
}

int session_send(struct session *s, int16_t api_key, int16_t version, session_body_fn body,
		 session_answer_fn answer)
{
	struct kwbuf w;
	size_t off;
	int rc = -1;

	if (s->failed || s->n_pending == SESSION_MAX_PENDING)
		return -1;
	kw_init(&w);
	off = kreq_begin(&w, api_key, version, s->next_id, CLIENT_ID);
	if (body)
		body(&w, version);
	kreq_end(&w, off);
	if (!w.failed && evbuffer_add(side_output(&s->side), w.buf, w.len) == 0) {
		s->pending[s->n_pending].correlation_id = s->next_id++;
		s->pending[s->n_pending].answer = answer;
		s->n_pending++;
		if (s->n_pending == 1)
			arm(s);
		rc = 0;
	}
	kw_free(&w);
	return rc;
}
