/* chunk.h — read buffers that are reused, and bytes moved between evbuffers
 * without copying.
 *
 * A plaintext side reads straight into 64 KiB chunks and hands the bytes
 * to its input evbuffer as references (evbuffer_add_reference), each
 * holding a count on its chunk.  Forwarding part of a chunk to the other
 * side adds another reference to the same bytes instead of copying them, so
 * a frame boundary in the middle of a chunk costs nothing; once the last
 * reference is written out the chunk goes back to a free list and the next
 * read fills it again — no page faults, no trips to the kernel for memory,
 * which is where a relay's time went with a fresh 256 KiB allocation per
 * read (glibc hands large blocks back to the kernel on free and the next
 * read faults them in zeroed again).
 *
 * A side fills one chunk across reads while some of its bytes are still
 * on their way out, and lets it go as soon as they are all written, so an
 * idle connection holds none.  The free list is bounded, and chunks it has
 * not needed for a while are returned to the system (chunk_pool_tick).
 * One pool per event loop: nothing here is locked.
 */
#ifndef KGATE_CHUNK_H
#define KGATE_CHUNK_H

#include <stddef.h>
#include <sys/types.h>

#include "../protocol/kdefs.h"
#include "stats.h"

struct evbuffer;
struct chunk;

/* Every chunk is this size and aligned to it: a pointer into one finds its
 * header by masking. */
#define CHUNK_SIZE ((size_t)64 * 1024)

struct chunk_pool;

/* A pool counting into stats (buffer_* gauges and counters); NULL if out
 * of memory. */
struct chunk_pool *chunk_pool_new(struct kg_stats *stats);
/* The pool's owner is done with it (and with stats): the free list goes
 * now, the pool itself once the last chunk out comes back (a bufferevent
 * freed late, as libevent may, still returns its chunks safely).  NULL is
 * fine. */
void chunk_pool_close(struct chunk_pool *p);
/* Once a second: every CHUNK_TRIM_TICKS ticks, chunks the free list kept
 * unused throughout are returned to the system. */
void chunk_pool_tick(struct chunk_pool *p);

/* Reads up to want bytes from fd into chunks — *cur first, if it has room
 * — and appends them to in as references.  *cur is the chunk the caller
 * goes on filling: set or cleared here, released with chunk_release.
 * Returns readv's result (errno set on -1; ENOMEM if no chunk could be had
 * or the bytes could not be appended). */
KG_MUSTCHECK ssize_t chunk_read(struct chunk_pool *p, struct chunk **cur, int fd, size_t want,
				struct evbuffer *in);
/* For bytes made rather than read (TLS plaintext): room in *cur (taken
 * from the pool if need be) for at least CHUNK_MIN_ROOM bytes, its size in
 * *room; NULL out of memory.  Then chunk_commit. */
void *chunk_space(struct chunk_pool *p, struct chunk **cur, size_t *room);
/* n bytes written at chunk_space's pointer are appended to in as a
 * reference; n may be 0.  A *cur left with too little room, or holding
 * nothing in flight, is let go.  0, or -1 out of memory. */
KG_MUSTCHECK int chunk_commit(struct chunk **cur, struct evbuffer *in, size_t n);
/* The caller stops filling *cur (NULL is fine). */
void chunk_release(struct chunk **cur);
/* Moves n bytes from in to out; in must hold nothing but chunk_read's
 * references.  Whole chains move; a chain cut by n is shared, not copied.
 * 0, or -1 out of memory. */
KG_MUSTCHECK int chunk_move(struct evbuffer *in, struct evbuffer *out, size_t n);

#endif
