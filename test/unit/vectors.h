/* vectors.h — the rewrite vectors of test/vectors/rewrite.json, generated
 * from Kafka's schemas by an independent encoder (scripts/gen_vectors.py),
 * shared by the suites that check rewriters and the framing that drives
 * them. */
#ifndef KGATE_TEST_VECTORS_H
#define KGATE_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "../../protocol/kmap.h"

/* One decoded vector: a response frame after its size, and what kgate must
 * make of it. */
struct vec {
	char name[96];
	int16_t api_key, version;
	const char *mode; /* "unchanged", "rewrite", "tail_same_size" */
	uint8_t *in, *want;
	size_t in_len, want_len;
	long tail_offset; /* tail_same_size: where the tagged section starts */
};

/* Loads the file once (aborts if it cannot be read); later calls do
 * nothing. */
void vectors_load(void);
size_t vectors_count(void);
/* Decodes vector i; free with vec_free. */
void vec_get(size_t i, struct vec *v);
void vec_free(struct vec *v);
/* The node-id mapping every vector was generated with. */
extern const struct kmap vec_map;
/* 1 if v is an ApiVersions answer with an error: forwarded undecoded. */
int vec_undecoded_after_error(const struct vec *v);

#endif
