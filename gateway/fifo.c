/* fifo.c — growable ring buffer of in-flight requests. */
#include "fifo.h"

#include <stdlib.h>
#include <string.h>

void fifo_init(struct fifo *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

void fifo_free(struct fifo *f)
{
	free(f->v);
	f->v = NULL;
	f->cap = f->len = f->head = 0;
}

/* Doubles the ring, unwrapping it so the oldest entry is at index 0. */
static int fifo_grow(struct fifo *f)
{
	size_t cap = f->cap ? f->cap * 2 : 8;
	struct fifo_entry *v = malloc(cap * sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i < f->len; i++)
		v[i] = f->v[(f->head + i) & (f->cap - 1)];
	free(f->v);
	f->v = v;
	f->cap = cap;
	f->head = 0;
	return 0;
}

int fifo_push(struct fifo *f, const struct fifo_entry *e)
{
	if (fifo_full(f) || (f->len == f->cap && fifo_grow(f) < 0))
		return -1;
	f->v[(f->head + f->len) & (f->cap - 1)] = *e;
	f->len++;
	return 0;
}

int fifo_pop(struct fifo *f, struct fifo_entry *e)
{
	if (f->len == 0)
		return -1;
	*e = f->v[f->head];
	f->head = (f->head + 1) & (f->cap - 1);
	f->len--;
	return 0;
}
