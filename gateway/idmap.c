/* idmap.c — open-addressing map from node ids to pointers (see idmap.h). */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
}

void idmap_free(struct idmap *m)
{
	free(m->slots);
	idmap_init(m);
}

void idmap_free_values(struct idmap *m, void (*free_val)(void *val))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].val)
			free_val(m->slots[i].val);
	idmap_free(m);
}

/* Fibonacci hashing: ids are often small and consecutive. */
static size_t home(const struct idmap *m, int32_t key)
{
	return (size_t)(((uint32_t)key * 2654435769u) & (uint32_t)(m->cap - 1));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct idmap *m, int32_t key)
{
	size_t i = home(m, key);

	while (m->slots[i].val && m->slots[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *idmap_get(const struct idmap *m, int32_t key)
{
	return m->cap ? m->slots[probe(m, key)].val : NULL;
}

static int grow(struct idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct idmap old = *m;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].val)
			m->slots[probe(m, old.slots[i].key)] = old.slots[i];
	free(old.slots);
	return 0;
}

int idmap_put(struct idmap *m, int32_t key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	i = probe(m, key);
	if (!m->slots[i].val)
		m->n++;
	m->slots[i].key = key;
	m->slots[i].val = val;
	return 0;
}

void *idmap_del(struct idmap *m, int32_t key)
{
	size_t i, j;
	void *val;

	if (!m->cap || !m->slots[i = probe(m, key)].val)
		return NULL;
	val = m->slots[i].val;
	m->n--;
	/* Shift back every entry of the run after i that may move into the
	 * hole: one whose home is not cyclically within (i, j]. */
	for (j = (i + 1) & (m->cap - 1); m->slots[j].val; j = (j + 1) & (m->cap - 1)) {
		size_t h = home(m, m->slots[j].key);

		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].val = NULL;
	return val;
}

int idmap_filter(struct idmap *m, int (*drop)(int32_t key, const void *val, void *ctx),
		 void (*gone)(void *val, void *ctx), void *ctx)
{
	int32_t *keys = NULL;
	size_t n = 0;

	/* Keys first: each deletion shifts entries under the scan. */
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].val || !drop(m->slots[i].key, m->slots[i].val, ctx))
			continue;
		if (!keys && !(keys = malloc(m->n * sizeof(*keys))))
			return -1;
		keys[n++] = m->slots[i].key;
	}
	for (size_t i = 0; i < n; i++)
		gone(idmap_del(m, keys[i]), ctx);
	free(keys);
	return 0;
}
