/* pipes.h — spare pipes for splice(2), one pool per event loop.
 *
 * A pipe is what splice moves bytes through between two sockets.  A side
 * holds one only while a splice into it is under way, and gives it back
 * empty, so a busy gateway holds as many pipes as it has splices running,
 * not one per connection (each costs two descriptors); spares nobody took
 * for a second are closed (pipe_pool_tick), so an idle gateway holds none.
 */
#ifndef KGATE_PIPES_H
#define KGATE_PIPES_H

#include <stddef.h>

#include "../protocol/kdefs.h"

struct pipe_pool;

/* What one pipe holds at most: asked of the kernel, which may give less. */
#define PIPE_WANT_SIZE (256 * 1024)

struct pipe_pool *pipe_pool_new(void);
/* Closes the spares; NULL is fine. */
void pipe_pool_free(struct pipe_pool *p);
/* Once a second: closes the spares that were not needed since the last
 * tick. */
void pipe_pool_tick(struct pipe_pool *p);
/* A pipe (fd[0] reads, fd[1] writes, both non-blocking) and its capacity
 * in *cap: a spare, or a new one.  -1 with errno if none can be had. */
KG_MUSTCHECK int pipe_get(struct pipe_pool *p, int fd[2], size_t *cap);
/* An empty pipe of capacity cap (pipe_get's) back to p, or closed if p
 * has spares enough or is NULL; fd[] is set to -1. */
void pipe_put(struct pipe_pool *p, int fd[2], size_t cap);

#endif
