/* pipes.c — the spare pipe pool.  See pipes.h. */
#include "pipes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Spare pipes kept at most. */
#define PIPE_MAX_SPARE 32

struct spare {
	int fd[2];
	size_t cap;
};

struct pipe_pool {
	struct spare spare[PIPE_MAX_SPARE];
	size_t n;
	size_t low; /* fewest spares since the last tick */
};

struct pipe_pool *pipe_pool_new(void)
{
	return calloc(1, sizeof(struct pipe_pool));
}

static void close_pipe(int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	fd[0] = fd[1] = -1;
}

void pipe_pool_free(struct pipe_pool *p)
{
	if (!p)
		return;
	while (p->n)
		close_pipe(p->spare[--p->n].fd);
	free(p);
}

void pipe_pool_tick(struct pipe_pool *p)
{
	/* The oldest spares are at the bottom: close those. */
	size_t drop = p->low;

	for (size_t i = 0; i < drop; i++)
		close_pipe(p->spare[i].fd);
	for (size_t i = drop; i < p->n; i++)
		p->spare[i - drop] = p->spare[i];
	p->n -= drop;
	p->low = p->n;
}

int pipe_get(struct pipe_pool *p, int fd[2], size_t *cap)
{
	int got;

	if (p->n) {
		struct spare *s = &p->spare[--p->n];

		if (p->n < p->low)
			p->low = p->n;
		fd[0] = s->fd[0];
		fd[1] = s->fd[1];
		*cap = s->cap;
		return 0;
	}
	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	/* Larger than the 64 KiB default, so a splice moves what one read
	 * would; the kernel may refuse (pipe-user-pages-soft) and keep it. */
	(void)fcntl(fd[1], F_SETPIPE_SZ, PIPE_WANT_SIZE);
	got = fcntl(fd[1], F_GETPIPE_SZ);
	if (got <= 0) {
		close_pipe(fd);
		errno = EINVAL;
		return -1;
	}
	*cap = (size_t)got;
	return 0;
}

void pipe_put(struct pipe_pool *p, int fd[2], size_t cap)
{
	if (fd[0] < 0)
		return;
	if (p && p->n < PIPE_MAX_SPARE) {
		struct spare *s = &p->spare[p->n++];

		s->fd[0] = fd[0];
		s->fd[1] = fd[1];
		s->cap = cap;
		fd[0] = fd[1] = -1;
		return;
	}
	close_pipe(fd);
}
