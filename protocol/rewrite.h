/* rewrite.h — the response rewriters kgate applies, one per API.
 *
 * Each takes a whole response frame after its 4-byte size (header and body),
 * decodes all of it with bounded reads, substitutes Host and Port of broker
 * endpoints through the kmap, and keeps every other byte as it was (unknown
 * tagged fields included).
 */
#ifndef KGATE_REWRITE_H
#define KGATE_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "kbuf.h"
#include "kmap.h"

/* Rewriter result.  KRW_TOO_MANY: well-formed so far, but it lists more
 * brokers than the map's max_nodes, so it was not processed. */
enum krw_result { KRW_TOO_MANY = -2, KRW_ERROR = -1, KRW_UNCHANGED = 0, KRW_CHANGED = 1 };

/* A whole-frame rewriter: in is the response after its 4-byte size (header
 * and body).  On KRW_CHANGED out holds the new frame (without size); on
 * KRW_UNCHANGED the input is to be forwarded as it is. */
typedef int (*krw_fn)(const uint8_t *in, size_t len, int16_t version,
		      struct kwbuf *out, const struct kmap *map);

int krw_metadata(const uint8_t *in, size_t len, int16_t version, struct kwbuf *out,
		 const struct kmap *map);
int krw_find_coordinator(const uint8_t *in, size_t len, int16_t version,
			 struct kwbuf *out, const struct kmap *map);
int krw_describe_cluster(const uint8_t *in, size_t len, int16_t version,
			 struct kwbuf *out, const struct kmap *map);
int krw_produce(const uint8_t *in, size_t len, int16_t version, struct kwbuf *out,
		const struct kmap *map);
int krw_api_versions(const uint8_t *in, size_t len, int16_t version,
		     struct kwbuf *out, const struct kmap *map);
/* What becomes of one ApiVersions entry: -1 to drop it (no
 * version kgate forwards), else its MaxVersion, capped. */
int krw_api_versions_cap(int16_t key, int16_t min_version, int16_t max_version);

/* The trailing top-level tagged section of a Fetch response, rewritten in
 * place without changing its length (see fetch_walk.h for how the gateway
 * finds it).  out must hold len bytes.  NodeEndpoints (tag 0, v16+) is
 * rewritten; if the new form is shorter the section is padded with an
 * unknown tagged field, and if it cannot be made to fit NodeEndpoints is
 * dropped (clients then refresh Metadata, as before KIP-951).  Returns
 * KRW_UNCHANGED, KRW_CHANGED (out filled) or KRW_ERROR.  *dropped is set to 1
 * when NodeEndpoints had to be removed. */
int krw_fetch_tail(const uint8_t *in, size_t len, int16_t version, uint8_t *out,
		   const struct kmap *map, int *dropped);

/* ShareAcknowledge (v0-2), decoded whole: NodeEndpoints rewritten. */
int krw_share_acknowledge(const uint8_t *in, size_t len, int16_t version,
			  struct kwbuf *out, const struct kmap *map);
/* The tail of a ShareFetch response (v0-2): NodeEndpoints, an ordinary
 * field, then the top-level tagged section (see share_walk.h), rewritten in
 * place like krw_fetch_tail: same length, padding in the tagged section
 * for a shorter NodeEndpoints, and an empty NodeEndpoints (*dropped = 1)
 * when the rewritten one would be longer. */
int krw_share_fetch_tail(const uint8_t *in, size_t len, int16_t version, uint8_t *out,
			 const struct kmap *map, int *dropped);

/* Tag number of the padding fields krw_fetch_tail adds: far above any tag
 * Kafka assigns, so clients skip it as unknown. */
#define KRW_PAD_TAG 16383

#endif
