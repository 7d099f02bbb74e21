/* frame.h — Kafka frame and header facts the gateway needs before it decides
 * how to forward a frame: sizes, request headers, Produce acks.
 */
#ifndef KGATE_FRAME_H
#define KGATE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define KFRAME_SIZE_LEN 4
/* ApiKey, ApiVersion, CorrelationId: what every request starts with. */
#define KFRAME_REQ_PEEK 8
/* ... and a request header v1 adds at least ClientId's int16 length. */
#define KFRAME_REQ_MIN 10
/* A response header is at least its CorrelationId. */
#define KFRAME_RESP_PEEK 4
#define KFRAME_RESP_MIN 4

enum kframe_result { KFRAME_OK = 0, KFRAME_NEED_MORE = 1, KFRAME_ERROR = -1 };

/* The fixed start of a request header. */
struct kframe_req {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
};

void kframe_req_parse(const uint8_t p[KFRAME_REQ_PEEK], struct kframe_req *h);

/* Finds Acks in a Produce request.  buf starts at the request header (after
 * the size) and holds len of its bytes.  KFRAME_NEED_MORE if len is not yet
 * enough.  Acks == 0 means the broker sends no response at all. */
int kframe_produce_acks(const uint8_t *buf, size_t len, int16_t version, int16_t *acks);

/* When a "size" is absurd, says what the four bytes most likely were
 * ("a TLS record", "an HTTP request"), or NULL. */
const char *kframe_guess_foreign(const uint8_t p[KFRAME_SIZE_LEN]);

#endif
