/* fifo.h — the requests a connection is waiting answers for, in order.
 *
 * Kafka answers requests on a connection in the order they were sent, so a
 * ring buffer of {correlation id, api key, version} is enough to know what
 * each response is (and when it was asked: the upstream's response time).  It grows on demand up to a configured bound.
 */
#ifndef KGATE_FIFO_H
#define KGATE_FIFO_H

#include <stddef.h>
#include <stdint.h>

#include "../protocol/kdefs.h"

struct fifo_entry {
	int32_t correlation_id;
	int16_t api_key;
	int16_t api_version;
	int64_t sent_ns; /* when it was forwarded (kg_now_ns) */
};

struct fifo {
	struct fifo_entry *v;
	size_t cap;  /* power of two, or 0 */
	size_t head; /* index of the oldest entry */
	size_t len;
	size_t max;  /* bound on len */
};

void fifo_init(struct fifo *f, size_t max);
void fifo_free(struct fifo *f);
static inline int fifo_full(const struct fifo *f) { return f->len >= f->max; }
/* 0, or -1 when full or out of memory. */
KG_MUSTCHECK int fifo_push(struct fifo *f, const struct fifo_entry *e);
/* 0, or -1 when empty. */
KG_MUSTCHECK int fifo_pop(struct fifo *f, struct fifo_entry *e);

#endif
