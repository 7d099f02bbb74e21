/* common.h — what the fuzz targets share: libFuzzer's entry point, an
 * invariant check that aborts (so libFuzzer and the replay driver both
 * report it, with the input that broke it), the node-id map rewriters are
 * fuzzed with, and a map that records what a rewriter looked up.
 */
#ifndef KGATE_FUZZ_COMMON_H
#define KGATE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "../../protocol/kmap.h"

/* Called once per input by libFuzzer, or by replay.c for each corpus file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken invariant and aborts. */
void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define FUZZ_CHECK(cond, ...)                                       \
	do {                                                        \
		if (!(cond))                                        \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* Marks that an input reached case i of what its target checks (an API,
 * version and verdict, say).  libFuzzer counts each mark as coverage of its
 * own (its extra counters), so minimizing a corpus keeps an input for each
 * case: otherwise the smallest input reaching a decoder's code tends to be
 * one that fails later, and the invariants checked on what succeeds are
 * left without an input that exercises them.  Outside libFuzzer a mark is
 * only a count. */
#define FUZZ_MARKS 4096
void fuzz_mark(size_t i);

/* Where the fuzz map sends node id; 0 if it leaves the node as it is.
 * Nodes 1-3 get the addresses the rewrite vectors were generated with;
 * 4 one whose host needs a two-byte compact length; 5 a one-byte host and
 * port 0; every other id stays as the cluster sent it. */
int fuzz_map_addr(int32_t node_id, struct kmap_addr *out);
extern const struct kmap fuzz_map;

/* One endpoint a rewriter asked the map about. */
struct fuzz_seen {
	int32_t node_id;
	int32_t host_len;
	uint64_t host_hash;
	int32_t port;
};

/* A map that records every lookup (reading every host byte it is shown,
 * so a host outside the frame is caught) and then answers as fuzz_map does,
 * or, with substitute 0, leaves every node as it is. */
#define FUZZ_SEEN_MAX 4096
struct fuzz_record {
	int substitute;
	size_t n;    /* lookups seen */
	size_t kept; /* of them stored in seen[] */
	struct fuzz_seen seen[FUZZ_SEEN_MAX];
	int listing;     /* a listing of the cluster's brokers begun, not ended */
	size_t listings; /* listings begun */
};
/* A map that records every lookup in r (and substitutes fuzz_map_addr's
 * answer if substitute), and checks the listing hook is called in pairs: a
 * listing ends only after it began, and never begins inside another. */
void fuzz_record_init(struct fuzz_record *r, int substitute, struct kmap *map);
/* The listing hook of that map (ctx: the fuzz_record). */
void fuzz_record_listing(void *ctx, int end);
/* Records one endpoint (what the map's lookup does before it answers). */
void fuzz_record_add(struct fuzz_record *r, int32_t node_id, const struct kstr *host, int32_t port);
/* The hash fuzz_record keeps of a host. */
uint64_t fuzz_hash(const void *p, size_t n);

/* Checks that `after` (the endpoints a rewritten output holds) is `before`
 * (those of its input) with every node the fuzz map knows moved to its
 * address, in the same order.  what names the caller in the message. */
void fuzz_check_mapped(const struct fuzz_record *before, const struct fuzz_record *after,
		       const char *what);

#endif
