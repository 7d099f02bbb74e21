/* requests.h — the requests kgate sends on its own behalf (today: learning
 * the cluster's broker addresses) and decoders for their answers.
 *
 * A request is a header (kreq_begin) then a body; kreq_end writes the size
 * back.  Answers are read from the frame after its 4-byte size, header
 * included, like the rewriters' input.
 */
#ifndef KGATE_REQUESTS_H
#define KGATE_REQUESTS_H

#include "kbuf.h"
#include "kdefs.h"

/* Appends a size placeholder and a request header (v1, or v2 when the
 * version is flexible); returns the offset kreq_end needs. */
size_t kreq_begin(struct kwbuf *w, int16_t api_key, int16_t version, int32_t correlation_id,
		  const char *client_id);
/* Writes the frame's size once its body is complete. */
void kreq_end(struct kwbuf *w, size_t off);

/* Body of a Metadata request at version (1-13) asking for no topics, so the
 * answer lists brokers only.  ApiVersions v0 has an empty body. */
void kreq_metadata_body(struct kwbuf *w, int16_t version);

/* Whole frames (size included), for callers that need no more. */
void kreq_api_versions(struct kwbuf *w, int32_t correlation_id, const char *client_id);
void kreq_metadata(struct kwbuf *w, int16_t version, int32_t correlation_id, const char *client_id);

/* Calls fn for each ApiKeys[] entry of an ApiVersions v0 response, until
 * fn returns non-zero; -1 if malformed or failed (fn may have been called
 * for the entries before a fault). */
typedef int (*kresp_api_fn)(void *ctx, int16_t key, int16_t min, int16_t max);
KG_MUSTCHECK int kresp_api_versions_each(const uint8_t *in, size_t len, kresp_api_fn fn,
					 void *ctx);
/* Reads an ApiVersions v0 response and finds key's version range; -1 if
 * malformed, failed, or key is not supported. */
KG_MUSTCHECK int kresp_api_versions_range(const uint8_t *in, size_t len, int16_t key, int16_t *min,
					  int16_t *max);

/* Called for each broker a Metadata answer lists (host not NUL-terminated). */
typedef void (*kresp_broker_fn)(void *ctx, int32_t node_id, const struct kstr *host, int32_t port);
/* Called with end 0 before the brokers of a non-empty Brokers[], and with
 * end 1 once the whole answer decoded: only then does the answer say which
 * brokers are gone.  An empty list (an error answer) says nothing of that,
 * as in the rewriters (kmap.h's listing hook). */
typedef void (*kresp_listing_fn)(void *ctx, int end);
/* Decodes a whole Metadata response at version (validated as strictly as the
 * rewriter does) and reports each of Brokers[]; 0, or -1 if malformed or
 * listing more than max_nodes brokers (0: no bound; fn may have been called
 * for the brokers before a fault).  listing may be NULL. */
KG_MUSTCHECK int kresp_metadata_brokers(const uint8_t *in, size_t len, int16_t version,
					int32_t max_nodes, kresp_broker_fn fn,
					kresp_listing_fn listing, void *ctx);

#endif
