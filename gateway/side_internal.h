/* side_internal.h — what side.c and side_splice.c share: the splice
 * halves of reading, writing and freeing a side. */
#ifndef KGATE_SIDE_INTERNAL_H
#define KGATE_SIDE_INTERNAL_H

#include <event2/util.h>
#include <sys/types.h>

#include "side.h"

/* Most bytes read from, or written to, a socket per event. */
#define MAX_SINGLE_IO (256 * 1024)

/* How much one read of fd takes: what it holds, within [4 KiB,
 * MAX_SINGLE_IO]. */
size_t side_read_size(evutil_socket_t fd);
/* A read that returned r <= 0 (errno set): nothing yet (ignored), the end
 * (SIDE_EOF) or a failure (SIDE_ERROR). */
void side_read_failed(struct side *s, ssize_t r);
/* kgate's own read event on the side's socket, calling cb: started (0, or
 * -1 out of memory) or stopped. */
int side_read_event_on(struct side *s, void (*cb)(evutil_socket_t, short, void *));
void side_read_event_off(struct side *s);
/* The socket is readable while a splice runs: into the peer's pipe. */
void side_splice_read(struct side *s);
/* Writes what s's pipe holds, once its output ahead of it is written. */
void side_pipe_flush(struct side *s);
/* While reading is off: watch (on) for the peer hanging up, if the owner
 * asked to (side_watch_hangup), or stop watching (off). */
void side_watch_closed(struct side *s, int on);
/* The bufferevent callbacks every side's bufferevent has. */
void side_bev_write_cb(struct bufferevent *bev, void *arg);
void side_bev_event_cb(struct bufferevent *bev, short events, void *arg);
/* A TLS side whose handshake is done and which has pools: kgate drives
 * OpenSSL itself from now on.  1 taken over, 0 not (no pools, or still
 * handshaking), -1 failed (out of memory: the side must close). */
int side_tls_take_over(struct side *s);
void side_tls_free(struct side *s);
/* A taken-over side's plaintext output. */
struct evbuffer *side_tls_output(const struct side *s);
/* Ends what s takes part in (as feeder or as pipe holder). */
void side_splice_free(struct side *s);

#endif
