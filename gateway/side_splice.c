/* side_splice.c — bytes from one plaintext socket to another through a
 * pipe, never copied into kgate: splice(2) socket -> pipe, then pipe ->
 * socket.  See side_splice in side.h.
 *
 * Order is what needs care.  The pipe belongs to the side that will write
 * it (the target): its bytes go after what the target's output held when
 * the splice began (they wait, with SIDE_FLUSHED held back, until the
 * bufferevent has written that), and before anything added later — which
 * the feeder guarantees by reading nothing else until its pipe is empty:
 * the feeder's reading is off (splice_wait) while the pipe is full or
 * holds the splice's last bytes.  Nothing else writes to the target's
 * output meanwhile: each output has one writer, the direction feeding it.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <unistd.h>

#include "pipes.h"
#include "side_internal.h"

static int fd_of(const struct side *s)
{
	return (int)bufferevent_getfd(s->bev);
}

/* Reading off until the pipe it feeds allows again. */
static void feeder_wait(struct side *s)
{
	if (!s->splice_wait) {
		s->splice_wait = 1;
		s->ops->read_off(s);
		side_watch_closed(s, 1);
	}
}

/* The pipe allows reading again: if the splice is complete, it ends and
 * the feeder reads as usual from here. */
static void feeder_go(struct side *s)
{
	if (s->splice_left == 0)
		s->splice_to = NULL;
	if (!s->splice_wait)
		return;
	s->splice_wait = 0;
	if (s->bev && !s->paused)
		side_watch_closed(s, 0);
	if (s->bev && !s->paused && !s->stopped && s->ops->read_on(s) < 0) {
		s->err = ENOMEM;
		s->cb(s, SIDE_ERROR, s->arg);
	}
}

static void pipe_wev_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	side_pipe_flush(arg);
}

int side_splice(struct side *from, struct side *to, uint64_t n)
{
	if (!side_chunked(from) || !side_chunked(to) || !from->ops->splice || !to->ops->splice ||
	    !from->pipes || from->splice_to ||
	    to->pipe_feeder || evbuffer_get_length(from->in) || n == 0)
		return 0;
	if (!to->pipe_cap && pipe_get(from->pipes, to->pipe, &to->pipe_cap) < 0)
		return 0;
	if (!to->pipe_wev) {
		to->pipe_wev = event_new(bufferevent_get_base(to->bev), fd_of(to), EV_WRITE,
					 pipe_wev_cb, to);
		if (!to->pipe_wev)
			return 0;
	}
	to->pipe_feeder = from;
	from->splice_to = to;
	from->splice_left = n;
	return 1;
}

void side_splice_read(struct side *s)
{
	struct side *to = s->splice_to;
	size_t want = to->pipe_cap - to->pipe_len;
	ssize_t r;

	if (want > s->splice_left)
		want = (size_t)s->splice_left;
	if (want > MAX_SINGLE_IO)
		want = MAX_SINGLE_IO;
	if (want == 0) {
		feeder_wait(s);
		return;
	}
	r = splice(fd_of(s), NULL, to->pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		s->err = r < 0 ? errno : 0;
		s->cb(s, r == 0 ? SIDE_EOF : SIDE_ERROR, s->arg);
		return;
	}
	to->pipe_len += (size_t)r;
	s->splice_left -= (uint64_t)r;
	if (s->splice_left == 0 || to->pipe_len == to->pipe_cap)
		feeder_wait(s);
	s->spliced = (size_t)r;
	s->cb(s, SIDE_SPLICED, s->arg);
	/* The owner may have closed both sides. */
	if (to->bev && to->pipe_len)
		side_pipe_flush(to);
}

void side_pipe_flush(struct side *s)
{
	struct side *feeder;

	while (s->pipe_len) {
		ssize_t w;

		if (evbuffer_get_length(bufferevent_get_output(s->bev))) {
			/* Bytes ahead of the pipe's: the write callback comes
			 * back here once they are all written. */
			bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
			return;
		}
		/* More of the frame to come: TCP may hold a partial segment
		 * back for it (MSG_MORE), even with TCP_NODELAY. */
		w = splice(s->pipe[0], NULL, fd_of(s), NULL, s->pipe_len,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK |
				   (s->pipe_feeder && s->pipe_feeder->splice_left ? SPLICE_F_MORE
										  : 0));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			event_add(s->pipe_wev, NULL);
			return;
		}
		if (w <= 0) {
			s->err = w < 0 ? errno : EPIPE;
			s->cb(s, SIDE_ERROR, s->arg);
			return;
		}
		s->pipe_len -= (size_t)w;
	}
	bufferevent_setwatermark(s->bev, EV_WRITE, s->flush_all ? 0 : s->write_low, 0);
	feeder = s->pipe_feeder;
	if (feeder) {
		feeder_go(feeder);
		if (!feeder->splice_to) {
			/* Done: the pipe goes back until the next splice. */
			s->pipe_feeder = NULL;
			pipe_put(feeder->pipes, s->pipe, s->pipe_cap);
			s->pipe_cap = 0;
		}
	}
	/* What the output's write callback would have said. */
	if (s->bev && !evbuffer_get_length(bufferevent_get_output(s->bev)))
		s->cb(s, SIDE_FLUSHED, s->arg);
}

void side_splice_free(struct side *s)
{
	if (s->splice_to) {
		s->splice_to->pipe_feeder = NULL;
		s->splice_to = NULL;
	}
	if (s->pipe_feeder) {
		s->pipe_feeder->splice_to = NULL;
		s->pipe_feeder = NULL;
	}
	if (s->pipe_wev) {
		event_free(s->pipe_wev);
		s->pipe_wev = NULL;
	}
	if (s->pipe_cap) {
		/* Bytes still in it are lost with the connection: close it. */
		if (s->pipe_len)
			pipe_put(NULL, s->pipe, 0);
		else
			pipe_put(s->pipes, s->pipe, s->pipe_cap);
		s->pipe_cap = 0;
		s->pipe_len = 0;
	}
}
