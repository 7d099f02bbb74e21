/* requests.h — the few requests kgate sends on its own behalf (to learn the
 * cluster's broker addresses), and reading the answer to ApiVersions.
 */
#ifndef KGATE_REQUESTS_H
#define KGATE_REQUESTS_H

#include "kbuf.h"

/* Appends a whole frame (size included): ApiVersions v0. */
void kreq_api_versions(struct kwbuf *w, int32_t correlation_id, const char *client_id);
/* Appends a whole frame: Metadata at version (1-13) asking for no topics,
 * so the answer lists brokers only. */
void kreq_metadata(struct kwbuf *w, int16_t version, int32_t correlation_id,
		   const char *client_id);
/* Reads an ApiVersions v0 response (after its size) and finds key's version
 * range; -1 if malformed, failed, or key is not supported. */
int kresp_api_versions_range(const uint8_t *in, size_t len, int16_t key, int16_t *min,
			     int16_t *max);

#endif
