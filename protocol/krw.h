/* krw.h — shared machinery of the rewriters (internal to protocol/).
 *
 * A rewriter walks its input with a bounded reader and copies it to the
 * output lazily, as spans: nothing is written until the first substitution,
 * and then only the bytes between substitutions are copied.  So a response
 * that needs no change costs no copy, and every byte not substituted is
 * reproduced exactly, whatever it contains.
 */
#ifndef KGATE_KRW_H
#define KGATE_KRW_H

#include "kapi.h"

struct krw {
	struct kreader r;       /* cursor over the input */
	struct kwbuf *out;      /* output, written from the first substitution */
	size_t copied;          /* input [0, copied) is already in out */
	const struct kmap *map;
	int changed;
	int listing;  /* a complete broker list was begun (krw_list_begin) */
	int too_many; /* ... and refused for its length */
};

/* A broker endpoint as decoded: where its Host starts and its Port ends. */
struct krw_endpoint {
	int32_t node_id;
	struct kstr host;
	int32_t port;
	size_t host_off;
	size_t end_off;
};

void krw_init(struct krw *x, const uint8_t *in, size_t len, struct kwbuf *out,
	      const struct kmap *map);
/* Reads the response header: CorrelationId, then tagged fields if flexible. */
int krw_header(struct krw *x, int flexible);
/* Reads Host (STRING or COMPACT_STRING) and Port at the cursor. */
int krw_read_endpoint(struct krw *x, int flexible, int32_t node_id,
		      struct krw_endpoint *ep);
/* Substitutes the endpoint's Host/Port if the map knows its node id.  Must be
 * called in input order (after every earlier substitution). */
void krw_substitute(struct krw *x, int flexible, const struct krw_endpoint *ep);
/* Reads NodeId, Host, Port (and substitutes) in one go. */
int krw_node_host_port(struct krw *x, int flexible);
/* Reads a NodeEndpoints array ({NodeId, Host, Port, Rack, tags}, always
 * compact) and substitutes every mapped entry. */
int krw_node_endpoints(struct krw *x);
/* Reads a top-level tagged section in which tag 0 is NodeEndpoints (Produce
 * v10+), rewriting it and re-encoding that field's size. */
int krw_tags_with_node_endpoints(struct krw *x);
/* The response's complete list of n brokers starts here: tells the map
 * (its listing hook), or refuses a list longer than map->max_nodes. */
int krw_list_begin(struct krw *x, int32_t n);
/* What a rewriter that failed returns: KRW_TOO_MANY or KRW_ERROR. */
int krw_failed(const struct krw *x);
/* Emits input [copied, off) to the output. */
void krw_emit_to(struct krw *x, size_t off);
/* Writes a tagged section of count fields (their bytes in body) into out
 * as exactly target bytes, adding padding fields (tag KRW_PAD_TAG) to fill
 * the difference; -1 if no padding can (a gap of 1 or 2 bytes, or body too
 * long).  The same-length rewrites of streamed tails use it. */
int krw_tags_fit(const struct kwbuf *body, uint32_t count, size_t target, uint8_t *out);
/* Requires the whole input consumed; returns the krw_result (and ends a
 * listing begun with krw_list_begin). */
int krw_finish(struct krw *x);

#endif
