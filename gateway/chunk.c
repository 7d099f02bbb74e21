/* chunk.c — the chunk pool, reads into chunks, and moves that share them.
 * See chunk.h.
 */
#include "chunk.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>

/* Most chunks one read fills: MAX_SINGLE_IO's 256 KiB and the rest of *cur. */
#define CHUNK_MAX_IOV 6
/* A current chunk with less room than this is let go before a read: the
 * read would be cut into a sliver and another chunk. */
#define CHUNK_MIN_ROOM 4096
/* Free chunks kept at most (16 MiB), and how often (in ticks of a second)
 * those the free list never needed are returned to the system. */
#define CHUNK_MAX_FREE 256
#define CHUNK_TRIM_TICKS 10

struct chunk_pool {
	struct chunk *free; /* reusable, most recently used first */
	size_t n_free;
	size_t low;       /* fewest on the free list since the last trim */
	size_t out;       /* chunks handed out and not back */
	unsigned ticks;
	int closed;       /* chunk_pool_close was called */
	struct kg_stats *stats;
};

struct chunk {
	struct chunk_pool *pool;
	struct chunk *next;   /* on the free list */
	struct chunk **owner; /* the side slot filling it, or NULL */
	unsigned refs;        /* evbuffer references, plus one for an owner */
	size_t used;          /* bytes of data[] handed out */
	_Alignas(64) unsigned char data[];
};

#define CHUNK_DATA (CHUNK_SIZE - offsetof(struct chunk, data))

static struct chunk *chunk_of(const void *p)
{
	return (struct chunk *)((uintptr_t)p & ~(uintptr_t)(CHUNK_SIZE - 1));
}

struct chunk_pool *chunk_pool_new(struct kg_stats *stats)
{
	struct chunk_pool *p = calloc(1, sizeof(*p));

	if (p)
		p->stats = stats;
	return p;
}

static void set_free_gauge(struct chunk_pool *p)
{
	if (!p->closed)
		p->stats->buffer_bytes_free = p->n_free * CHUNK_SIZE;
}

/* Returns n chunks of the free list to the system. */
static void drop_free(struct chunk_pool *p, size_t n)
{
	while (n-- && p->free) {
		struct chunk *c = p->free;

		p->free = c->next;
		p->n_free--;
		free(c);
	}
	set_free_gauge(p);
}

void chunk_pool_close(struct chunk_pool *p)
{
	if (!p)
		return;
	drop_free(p, p->n_free);
	p->closed = 1;
	if (p->out == 0)
		free(p);
}

void chunk_pool_tick(struct chunk_pool *p)
{
	if (++p->ticks < CHUNK_TRIM_TICKS)
		return;
	p->ticks = 0;
	drop_free(p, p->low);
	p->low = p->n_free;
}

static struct chunk *chunk_get(struct chunk_pool *p)
{
	struct chunk *c = p->free;
	void *mem;

	if (c) {
		p->free = c->next;
		if (--p->n_free < p->low)
			p->low = p->n_free;
		set_free_gauge(p);
	} else {
		if (posix_memalign(&mem, CHUNK_SIZE, CHUNK_SIZE))
			return NULL;
		c = mem;
		c->pool = p;
		p->stats->buffer_allocations++;
	}
	c->next = NULL;
	c->owner = NULL;
	c->refs = 0;
	c->used = 0;
	p->out++;
	p->stats->buffer_bytes_in_use += CHUNK_SIZE;
	return c;
}

static void chunk_put(struct chunk *c)
{
	struct chunk_pool *p = c->pool;

	p->out--;
	if (p->closed) {
		free(c);
		if (p->out == 0)
			free(p);
		return;
	}
	p->stats->buffer_bytes_in_use -= CHUNK_SIZE;
	if (p->n_free >= CHUNK_MAX_FREE) {
		free(c);
		return;
	}
	c->next = p->free;
	p->free = c;
	p->n_free++;
	set_free_gauge(p);
}

/* One reference fewer; the owner's is given up too once it is the last,
 * so a chunk whose bytes have all been written is free again. */
static void chunk_unref(struct chunk *c)
{
	if (--c->refs == 1 && c->owner) {
		*c->owner = NULL;
		c->owner = NULL;
		c->refs = 0;
	}
	if (c->refs == 0)
		chunk_put(c);
}

/* evbuffer's cleanup of a reference: the bytes are written or dropped. */
static void chunk_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	chunk_unref(arg);
}

void chunk_release(struct chunk **cur)
{
	struct chunk *c = *cur;

	if (!c)
		return;
	*cur = NULL;
	c->owner = NULL;
	chunk_unref(c);
}

/* Appends len bytes at p (inside chunk c) to buf as a reference. */
static int add_ref(struct evbuffer *buf, struct chunk *c, const void *p, size_t len)
{
	c->refs++;
	if (evbuffer_add_reference(buf, p, len, chunk_cleanup, c) < 0) {
		c->refs--;
		return -1;
	}
	return 0;
}

ssize_t chunk_read(struct chunk_pool *p, struct chunk **cur, int fd, size_t want,
		   struct evbuffer *in)
{
	struct iovec iov[CHUNK_MAX_IOV];
	struct chunk *c[CHUNK_MAX_IOV], *keep = NULL;
	size_t room = 0, left;
	int k = 0, fresh, failed = 0, err;
	ssize_t r;

	if (*cur && CHUNK_DATA - (*cur)->used < CHUNK_MIN_ROOM)
		chunk_release(cur);
	if (*cur) {
		c[k] = *cur;
		iov[k].iov_base = c[k]->data + c[k]->used;
		iov[k].iov_len = CHUNK_DATA - c[k]->used;
		room += iov[k++].iov_len;
	}
	fresh = k; /* c[fresh..] came from the pool for this read */
	while (room < want && k < CHUNK_MAX_IOV && (c[k] = chunk_get(p))) {
		iov[k].iov_base = c[k]->data;
		iov[k].iov_len = CHUNK_DATA;
		room += iov[k++].iov_len;
	}
	if (k == 0) {
		errno = ENOMEM;
		return -1;
	}
	r = readv(fd, iov, k);
	err = errno;
	left = r > 0 ? (size_t)r : 0;
	for (int i = 0; i < k; i++) {
		size_t len = left < iov[i].iov_len ? left : iov[i].iov_len;

		left -= len;
		if (len && !failed && add_ref(in, c[i], iov[i].iov_base, len) < 0)
			failed = 1;
		if (!failed)
			c[i]->used += len;
		/* The last chunk that took bytes and has room goes on being
		 * filled (an empty *cur stays too). */
		if ((len || c[i] == *cur) && CHUNK_DATA - c[i]->used >= CHUNK_MIN_ROOM)
			keep = c[i];
	}
	if (keep != *cur) {
		chunk_release(cur);
		if (keep) {
			keep->refs++;
			keep->owner = cur;
			*cur = keep;
		}
	}
	for (int i = fresh; i < k; i++)
		if (c[i]->refs == 0)
			chunk_put(c[i]);
	if (failed) {
		errno = ENOMEM;
		return -1;
	}
	errno = err;
	return r;
}

void *chunk_space(struct chunk_pool *p, struct chunk **cur, size_t *room)
{
	struct chunk *c = *cur;

	if (c && CHUNK_DATA - c->used < CHUNK_MIN_ROOM)
		chunk_release(cur);
	if (!*cur) {
		c = chunk_get(p);
		if (!c)
			return NULL;
		c->refs = 1;
		c->owner = cur;
		*cur = c;
	}
	*room = CHUNK_DATA - c->used;
	return c->data + c->used;
}

int chunk_commit(struct chunk **cur, struct evbuffer *in, size_t n)
{
	struct chunk *c = *cur;
	int rc = 0;

	if (n) {
		rc = add_ref(in, c, c->data + c->used, n);
		if (rc == 0)
			c->used += n;
	}
	if (CHUNK_DATA - c->used < CHUNK_MIN_ROOM || c->refs == 1)
		chunk_release(cur);
	return rc;
}

int chunk_move(struct evbuffer *in, struct evbuffer *out, size_t n)
{
	struct evbuffer_iovec v[16];

	while (n) {
		size_t whole = 0;
		int got = evbuffer_peek(in, (ssize_t)n, NULL, v, 16), i;

		if (got <= 0)
			return -1;
		if (got > 16)
			got = 16;
		/* Whole chains move as they are. */
		for (i = 0; i < got && whole + v[i].iov_len <= n; i++)
			whole += v[i].iov_len;
		if (whole) {
			if (evbuffer_remove_buffer(in, out, whole) != (int)whole)
				return -1;
			n -= whole;
			continue;
		}
		/* The chain n ends in: its first n bytes are shared. */
		if (add_ref(out, chunk_of(v[0].iov_base), v[0].iov_base, n) < 0)
			return -1;
		if (evbuffer_drain(in, n) < 0)
			return -1;
		n = 0;
	}
	return 0;
}
