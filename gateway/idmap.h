/* idmap.h — node id -> pointer in O(1).
 *
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full, and backward-shift deletion (no tombstones), so lookups
 * stay short however often entries come and go.  A broker's large Metadata
 * answer is looked up id by id on a worker's event loop: this is what keeps
 * that linear in the number of brokers.
 */
#ifndef KGATE_IDMAP_H
#define KGATE_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "../protocol/kdefs.h"

struct idmap_slot {
	int32_t key;
	void *val; /* NULL: the slot is empty */
};

struct idmap {
	struct idmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* idmap_free, after handing every value to free_val. */
void idmap_free_values(struct idmap *m, void (*free_val)(void *val));
/* The value for key, or NULL. */
void *idmap_get(const struct idmap *m, int32_t key);
/* Sets key's value (val not NULL), replacing any; -1 if out of memory. */
KG_MUSTCHECK int idmap_put(struct idmap *m, int32_t key, void *val);
/* Removes key; returns its value, or NULL if it was not there. */
void *idmap_del(struct idmap *m, int32_t key);
/* Removes every entry drop() says goes, then hands each value to gone()
 * (which may free it); -1 if out of memory, nothing removed then. */
KG_MUSTCHECK int idmap_filter(struct idmap *m, int (*drop)(int32_t key, const void *val, void *ctx),
			      void (*gone)(void *val, void *ctx), void *ctx);

#endif
