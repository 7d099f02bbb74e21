/* common.c — see common.h. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: fuzz invariant broken: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* libFuzzer reads (and clears before each input) every byte of this
 * section as a coverage counter. */
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t fuzz_marks[FUZZ_MARKS];

void fuzz_mark(size_t i)
{
	if (fuzz_marks[i % FUZZ_MARKS] < 255)
		fuzz_marks[i % FUZZ_MARKS]++;
}

static const char long_host[] =
	"a-gateway-host-name-long-enough-that-its-compact-length-takes-two-bytes."
	"0123456789012345678901234567890123456789012345678901234567890123456789."
	"nlb.eu-west-1.example.internal";

int fuzz_map_addr(int32_t node_id, struct kmap_addr *out)
{
	static const struct {
		int32_t id;
		const char *host;
		int32_t port;
	} addrs[] = {
		{1, "kgate-1.example.com", 8443},
		{2, "10.0.0.2", 8444},
		{3, "a-much-longer-gateway-host-name.nlb.us-east-1.example.internal", 19445},
		{4, long_host, 65535},
		{5, "h", 0},
	};

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		if (addrs[i].id == node_id) {
			out->host = addrs[i].host;
			out->host_len = (int32_t)strlen(addrs[i].host);
			out->port = addrs[i].port;
			return 1;
		}
	}
	return 0;
}

static int map_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host, int32_t orig_port,
		      struct kmap_addr *out)
{
	(void)ctx;
	(void)orig_host;
	(void)orig_port;
	return fuzz_map_addr(node_id, out);
}

const struct kmap fuzz_map = {.lookup = map_lookup, .ctx = NULL};

uint64_t fuzz_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

void fuzz_record_add(struct fuzz_record *r, int32_t node_id, const struct kstr *host, int32_t port)
{
	FUZZ_CHECK(host->len >= 0, "endpoint of node %d with a null host", node_id);
	if (r->kept < FUZZ_SEEN_MAX) {
		struct fuzz_seen *s = &r->seen[r->kept++];

		s->node_id = node_id;
		s->host_len = host->len;
		s->host_hash = fuzz_hash(host->ptr, (size_t)host->len);
		s->port = port;
	}
	r->n++;
}

static int record_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host,
			 int32_t orig_port, struct kmap_addr *out)
{
	struct fuzz_record *r = ctx;

	fuzz_record_add(r, node_id, orig_host, orig_port);
	return r->substitute ? fuzz_map_addr(node_id, out) : 0;
}

void fuzz_record_listing(void *ctx, int end)
{
	struct fuzz_record *r = ctx;

	FUZZ_CHECK(end ? r->listing : !r->listing, "a listing %s", end ? "ended twice" : "begun twice");
	r->listing = !end;
	r->listings += !end;
}

void fuzz_record_init(struct fuzz_record *r, int substitute, struct kmap *map)
{
	r->substitute = substitute;
	r->n = r->kept = 0;
	r->listing = 0;
	r->listings = 0;
	*map = (struct kmap){.lookup = record_lookup, .ctx = r, .listing = fuzz_record_listing};
}

void fuzz_check_mapped(const struct fuzz_record *before, const struct fuzz_record *after,
		       const char *what)
{
	FUZZ_CHECK(before->n == after->n, "%s: %zu endpoints in, %zu out", what, before->n,
		   after->n);
	for (size_t i = 0; i < before->kept && i < after->kept; i++) {
		const struct fuzz_seen *b = &before->seen[i], *a = &after->seen[i];
		struct kmap_addr m;

		FUZZ_CHECK(a->node_id == b->node_id, "%s: endpoint %zu is node %d, was node %d",
			   what, i, a->node_id, b->node_id);
		if (fuzz_map_addr(b->node_id, &m)) {
			FUZZ_CHECK(a->host_len == m.host_len &&
					   a->host_hash == fuzz_hash(m.host, (size_t)m.host_len) &&
					   a->port == m.port,
				   "%s: node %d not at its mapped address", what, b->node_id);
		} else {
			FUZZ_CHECK(a->host_len == b->host_len && a->host_hash == b->host_hash &&
					   a->port == b->port,
				   "%s: unmapped node %d changed", what, b->node_id);
		}
	}
}
