/* side.h — one connection's I/O behind an ops table.
 *
 * A side is a socket kgate reads into its own input buffer and writes
 * through a bufferevent.  How it is read differs: a plaintext socket by
 * kgate's own read event — libevent 2.1 (Debian 12's) bufferevents read at
 * most 4096 bytes per readiness event, which left kgate several times slower
 * than a plain TCP relay — into reused chunks (chunk.h) whose bytes are
 * forwarded without a copy; a TLS connection by its OpenSSL bufferevent
 * during the handshake, then by kgate driving OpenSSL over its own chunks
 * (side_tls.c).  Between two plaintext sides, bytes the owner will not
 * look at can skip user space altogether: side_splice has the next n bytes
 * read go through a pipe straight to the other socket (side_splice.c).
 * That difference, and how a failure is put into words, is all the ops
 * table holds; the owner sees the same side either way and hears of it
 * through one callback (pgbouncer's SBufIO and redis' ConnectionType are
 * the models).
 */
#ifndef KGATE_SIDE_H
#define KGATE_SIDE_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/kdefs.h"

struct bufferevent;
struct chunk;
struct chunk_pool;
struct event;
struct pipe_pool;
struct side_tls;
struct evbuffer;
struct side;

/* What a side tells its owner. */
enum side_event {
	SIDE_READ,    /* new bytes wait in side->in */
	SIDE_FLUSHED, /* the output fell to its low watermark */
	SIDE_READY,   /* a client's TLS handshake completed */
	SIDE_EOF,     /* the peer closed its end (everything it sent was read) */
	SIDE_HANGUP,  /* the peer hung up while paused (side_watch_hangup) */
	SIDE_ERROR,   /* the connection failed: side_failure() says why */
	SIDE_SPLICED  /* side->spliced bytes of a side_splice went to the peer's pipe */
};

/* What a gateway lends its sides; NULL members are not lent. */
struct side_pools {
	struct chunk_pool *chunks; /* read buffers (plaintext) */
	struct pipe_pool *pipes;   /* pipes for splice (plaintext to plaintext) */
};

typedef void (*side_cb_fn)(struct side *s, enum side_event ev, void *arg);

/* How one kind of connection is read and explained. */
struct side_ops {
	const char *name;
	/* Starts or stops delivering SIDE_READ; read_on: 0 or -1. */
	int (*read_on)(struct side *s);
	void (*read_off)(struct side *s);
	/* Puts the failure behind SIDE_ERROR into words for a log line (peer:
	 * the listener's address when serving a client, else the upstream's);
	 * returns 1 if TLS itself failed, 0 for a plain socket error. */
	int (*failure)(struct side *s, const char *peer, int serving, char *buf, size_t len);
	/* The negotiated protocol and cipher, or "plaintext". */
	void (*describe)(const struct side *s, char *buf, size_t len);
	/* The bufferevent wrote: may SIDE_FLUSHED be said now?  (NULL: yes.) */
	int (*writable)(struct side *s);
	/* Reads into chunks when the side has a pool (see side_chunked). */
	int chunked;
	/* Its socket carries the bytes themselves: side_splice may move them. */
	int splice;
};

struct side {
	const struct side_ops *ops;
	struct bufferevent *bev; /* writes, connects, reports errors */
	struct event *rev;       /* plaintext: kgate's own read event */
	struct event *closed;    /* while paused: the peer hanging up */
	struct evbuffer *in;     /* read and not yet consumed */
	struct chunk_pool *pool; /* where reads get chunks, or NULL */
	struct chunk *cur;       /* the chunk reads go on filling */
	struct pipe_pool *pipes; /* where splices get pipes, or NULL */
	side_cb_fn cb;
	void *arg;
	int paused; /* reading stopped for back-pressure */
	int hangup; /* watch for the peer hanging up while paused */
	int err;    /* errno of a failed read, for side_failure */
	int stopped; /* side_stop_reading: for good */
	int started; /* side_start was called */
	struct side_tls *tls; /* TLS kgate drives itself (side_tls.c), or NULL */
	size_t write_low;  /* SIDE_FLUSHED's output level */
	int flush_all;     /* side_flush_all: SIDE_FLUSHED only when empty */
	/* Reading, while a splice runs: the next splice_left bytes go to
	 * splice_to's pipe; reading is off (splice_wait) while that pipe is
	 * full, or holds the splice's last bytes. */
	struct side *splice_to;
	uint64_t splice_left;
	size_t spliced; /* SIDE_SPLICED: bytes just moved */
	int splice_wait;
	/* Writing: bytes spliced in for this socket, written before anything
	 * added to the output after them; the feeder is the side splicing. */
	int pipe[2];
	size_t pipe_len, pipe_cap;
	struct event *pipe_wev;
	struct side *pipe_feeder;
};

/* The TLS ops (side_tls.c); side_init picks them for OpenSSL bufferevents. */
extern const struct side_ops side_tls_ops;

/* Takes over bev (a connected or accepting socket, plaintext or TLS);
 * write_low is the output level at which SIDE_FLUSHED fires; pools, if not
 * NULL, lend a plaintext side its read buffers and pipes.  Not reading
 * yet.  -1 if out of memory (bev is then the side's to free). */
KG_MUSTCHECK int side_init(struct side *s, struct bufferevent *bev, size_t write_low,
			   const struct side_pools *pools, side_cb_fn cb, void *arg);
/* Frees what the side holds; safe on a side never initialised (zeroed). */
void side_free(struct side *s);
/* 1 if the side has a connection. */
static inline int side_open(const struct side *s)
{
	return s->bev != NULL;
}
/* 1 if side->in holds only chunk references: chunk_move forwards them. */
static inline int side_chunked(const struct side *s)
{
	return s->pool && s->ops->chunked;
}
/* 1 while reading is off for back-pressure: paused by the owner, or a
 * splice waiting for its pipe to be written. */
static inline int side_held(const struct side *s)
{
	return s->paused || s->splice_wait;
}
/* Starts reading (and writing): 0, or -1 if it cannot be watched. */
KG_MUSTCHECK int side_start(struct side *s);
/* Stops reading until side_resume (back-pressure).  With side_watch_hangup,
 * a peer that hangs up meanwhile is still noticed (SIDE_HANGUP), where the
 * event loop can tell (epoll's EPOLLRDHUP); what it sent and kgate has not
 * read is then lost, so this is for clients, never for brokers. */
void side_pause(struct side *s);
/* Reading again after side_pause: 1 if it was paused, 0 if not, -1 if it
 * cannot be watched. */
KG_MUSTCHECK int side_resume(struct side *s);
static inline void side_watch_hangup(struct side *s) { s->hangup = 1; }
/* Stops reading for good (a closing pair flushes its other side). */
void side_stop_reading(struct side *s);
/* Where to put bytes for this side's peer to read. */
struct evbuffer *side_output(const struct side *s);
/* What waits to be written: the output, and a splice's pipe. */
size_t side_output_len(const struct side *s);
/* The next n bytes from's socket delivers go to to's socket through a pipe,
 * without being read into kgate (SIDE_SPLICED tells how many moved, as they
 * move), after what to's output holds now; what is added to to's output
 * meanwhile waits for them.  Both sides plaintext with pools, from's input
 * empty, no splice running: 1 if it started, 0 if not (no pipe to be had:
 * the bytes are read as usual). */
int side_splice(struct side *from, struct side *to, uint64_t n);
/* SIDE_FLUSHED fires only once the output is empty. */
void side_flush_all(struct side *s);
/* TCP_NODELAY and keepalive on the socket. */
void side_tune_tcp(struct side *s);
/* The common name of a TLS peer's verified certificate: 0, or -1 if
 * there is none (plaintext, no certificate, no CN). */
int side_peer_name(const struct side *s, char *buf, size_t len);
/* s's TLS connection (during the handshake or after), or NULL. */
SSL *side_ssl(const struct side *s);
/* See side_ops. */
int side_failure(struct side *s, const char *peer, int serving, char *buf, size_t len);
void side_describe(const struct side *s, char *buf, size_t len);

#endif
