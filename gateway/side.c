/* side.c — a connection's reading, writing and events, and the plaintext
 * ops: kgate's own read event, sized to what the socket holds. */
#include "side.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chunk.h"
#include "side_internal.h"
#include "tls.h"

/* Least a read reserves, so a trickle still goes in one chain. */
#define MIN_READ 4096

/* ---- plaintext ---- */

void side_read_failed(struct side *s, ssize_t r)
{
	int err = errno;

	if (r < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
		return;
	s->err = r < 0 ? err : 0;
	s->cb(s, r == 0 ? SIDE_EOF : SIDE_ERROR, s->arg);
}

size_t side_read_size(evutil_socket_t fd)
{
	int avail = 0;

	/* Sized to what is there, so an idle connection does not pin a
	 * large chain. */
	if (ioctl(fd, FIONREAD, &avail) < 0 || avail < MIN_READ)
		avail = MIN_READ;
	return avail > MAX_SINGLE_IO ? MAX_SINGLE_IO : (size_t)avail;
}

/* The socket is readable: take what it has (up to MAX_SINGLE_IO) straight
 * into the side's input buffer. */
static void plain_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct side *s = arg;
	struct evbuffer_iovec v[2];
	size_t avail;
	ssize_t r;
	int n;

	(void)what;
	if (s->splice_to) {
		side_splice_read(s);
		return;
	}
	avail = side_read_size(fd);
	if (side_chunked(s)) {
		r = chunk_read(s->pool, &s->cur, fd, avail, s->in);
		if (r > 0)
			s->cb(s, SIDE_READ, s->arg);
		else
			side_read_failed(s, r);
		return;
	}
	n = evbuffer_reserve_space(s->in, (ev_ssize_t)avail, v, 2);
	if (n <= 0) {
		s->err = ENOMEM;
		s->cb(s, SIDE_ERROR, s->arg);
		return;
	}
	r = readv(fd, (struct iovec *)v, n);
	if (r <= 0) {
		int err = errno;

		evbuffer_commit_space(s->in, v, 0);
		errno = err;
		side_read_failed(s, r);
		return;
	}
	if ((size_t)r <= v[0].iov_len) {
		v[0].iov_len = (size_t)r;
		n = 1;
	} else {
		v[1].iov_len = (size_t)r - v[0].iov_len;
	}
	evbuffer_commit_space(s->in, v, n);
	s->cb(s, SIDE_READ, s->arg);
}

int side_read_event_on(struct side *s, void (*cb)(evutil_socket_t, short, void *))
{
	if (!s->rev) {
		s->rev = event_new(bufferevent_get_base(s->bev), bufferevent_getfd(s->bev),
				   EV_READ | EV_PERSIST, cb, s);
		if (!s->rev)
			return -1;
	}
	return event_add(s->rev, NULL);
}

void side_read_event_off(struct side *s)
{
	if (s->rev)
		event_del(s->rev);
}

static int plain_read_on(struct side *s)
{
	return side_read_event_on(s, plain_read_cb);
}

static int plain_failure(struct side *s, const char *peer, int serving, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s", serving ? "client" : peer,
		 evutil_socket_error_to_string(s->err));
	return 0;
}

static void plain_describe(const struct side *s, char *buf, size_t len)
{
	(void)s;
	snprintf(buf, len, "plaintext");
}

static const struct side_ops side_plain_ops = {
	.name = "plaintext",
	.read_on = plain_read_on,
	.read_off = side_read_event_off,
	.failure = plain_failure,
	.describe = plain_describe,
	.chunked = 1,
	.splice = 1,
};

/* ---- what every side does ---- */

/* Bytes the bufferevent read itself (TLS: decrypted records): take them
 * over, chains moved, nothing copied. */
static void bev_read_cb(struct bufferevent *bev, void *arg)
{
	struct side *s = arg;

	evbuffer_add_buffer(s->in, bufferevent_get_input(bev));
	s->cb(s, SIDE_READ, s->arg);
}

void side_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct side *s = arg;

	(void)bev;
	/* Spliced bytes were waiting for the output to empty. */
	if (s->pipe_len) {
		side_pipe_flush(s);
		return;
	}
	if (s->ops->writable && !s->ops->writable(s))
		return;
	s->cb(s, SIDE_FLUSHED, s->arg);
}

void side_bev_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct side *s = arg;
	int rc;

	(void)bev;
	if (events & BEV_EVENT_CONNECTED) {
		/* A client's handshake is done: from here kgate drives TLS. */
		rc = side_tls_take_over(s);
		if (rc < 0) {
			s->err = ENOMEM;
			s->cb(s, SIDE_ERROR, s->arg);
			return;
		}
		s->cb(s, SIDE_READY, s->arg);
		/* What came right behind the handshake. */
		if (rc > 0 && s->bev && evbuffer_get_length(s->in))
			s->cb(s, SIDE_READ, s->arg);
		return;
	}
	if (events & BEV_EVENT_ERROR) {
		s->err = EVUTIL_SOCKET_ERROR();
		s->cb(s, SIDE_ERROR, s->arg);
		return;
	}
	s->cb(s, SIDE_EOF, s->arg);
}

int side_init(struct side *s, struct bufferevent *bev, size_t write_low,
	      const struct side_pools *pools, side_cb_fn cb, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->bev = bev;
	s->pool = pools ? pools->chunks : NULL;
	s->pipes = pools ? pools->pipes : NULL;
	s->pipe[0] = s->pipe[1] = -1;
	s->write_low = write_low;
	s->cb = cb;
	s->arg = arg;
	if (!bev)
		return -1;
	s->ops = tls_is(bev) ? &side_tls_ops : &side_plain_ops;
	s->in = evbuffer_new();
	if (!s->in)
		return -1;
	bufferevent_setcb(bev, bev_read_cb, side_bev_write_cb, side_bev_event_cb, s);
	/* Write callbacks fire when output falls to write_low. */
	bufferevent_setwatermark(bev, EV_WRITE, write_low, 0);
	bufferevent_set_max_single_write(bev, MAX_SINGLE_IO);
	/* An upstream's handshake is done before it becomes a side. */
	return side_tls_take_over(s) < 0 ? -1 : 0;
}

void side_free(struct side *s)
{
	if (s->rev)
		event_free(s->rev);
	if (s->closed)
		event_free(s->closed);
	s->closed = NULL;
	side_splice_free(s);
	if (s->bev)
		bufferevent_free(s->bev);
	side_tls_free(s);
	chunk_release(&s->cur);
	if (s->in)
		evbuffer_free(s->in);
	s->rev = NULL;
	s->bev = NULL;
	s->in = NULL;
}

int side_start(struct side *s)
{
	s->started = 1;
	if (bufferevent_enable(s->bev, EV_WRITE) < 0)
		return -1;
	return s->ops->read_on(s);
}

/* The peer hung up while this side was not read (EPOLLRDHUP). */
static void closed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct side *s = arg;

	(void)fd;
	(void)what;
	/* Once: the hangup stays visible (level-triggered) until the socket
	 * is read, and a side paused again must not hear it every loop pass. */
	s->hangup = 0;
	s->cb(s, SIDE_HANGUP, s->arg);
}

/* Watches for the peer hanging up while reading is off: without it a
 * client that leaves while its upstream is slow keeps both sockets open. */
void side_watch_closed(struct side *s, int on)
{
	struct event_base *base = bufferevent_get_base(s->bev);

	if (!on) {
		if (s->closed)
			event_del(s->closed);
		return;
	}
	if (!s->hangup || !(event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE))
		return;
	if (!s->closed)
		s->closed = event_new(base, bufferevent_getfd(s->bev), EV_CLOSED,
				      closed_cb, s);
	if (s->closed)
		event_add(s->closed, NULL);
}

void side_pause(struct side *s)
{
	if (!s->paused) {
		s->paused = 1;
		s->ops->read_off(s);
		side_watch_closed(s, 1);
	}
}

int side_resume(struct side *s)
{
	if (!s->paused)
		return 0;
	s->paused = 0;
	if (s->splice_wait)
		return 1; /* reading resumes once the splice's pipe allows */
	if (s->closed)
		event_del(s->closed);
	return s->ops->read_on(s) < 0 ? -1 : 1;
}

void side_stop_reading(struct side *s)
{
	s->stopped = 1;
	if (s->closed)
		event_del(s->closed);
	if (s->bev)
		s->ops->read_off(s);
}

struct evbuffer *side_output(const struct side *s)
{
	return s->tls ? side_tls_output(s) : bufferevent_get_output(s->bev);
}

size_t side_output_len(const struct side *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev)) + s->pipe_len +
	       (s->tls ? evbuffer_get_length(side_tls_output(s)) : 0);
}

void side_flush_all(struct side *s)
{
	s->flush_all = 1;
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
}

void side_tune_tcp(struct side *s)
{
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	int one = 1;

	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
}

int side_failure(struct side *s, const char *peer, int serving, char *buf, size_t len)
{
	return s->ops->failure(s, peer, serving, buf, len);
}

void side_describe(const struct side *s, char *buf, size_t len)
{
	s->ops->describe(s, buf, len);
}
