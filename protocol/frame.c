/* frame.c — request header peeking and foreign-protocol guesses. */
#include "frame.h"

#include <string.h>

#include "kapi.h"
#include "kbuf.h"

void kframe_req_parse(const uint8_t p[KFRAME_REQ_PEEK], struct kframe_req *h)
{
	h->api_key = kbuf_get_i16(p);
	h->api_version = kbuf_get_i16(p + 2);
	h->correlation_id = kbuf_get_i32(p + 4);
}

int kframe_produce_acks(const uint8_t *buf, size_t len, int16_t version, int16_t *acks)
{
	struct kreader r;
	struct kstr s;
	int flexible = kapi_request_header_flexible(KAPI_PRODUCE, version);

	kr_init(&r, buf, len);
	KR_TRY(kr_skip(&r, KFRAME_REQ_PEEK));
	/* ClientId keeps its int16 length even in header v2. */
	KR_TRY(kr_nullable_string(&r, 0, &s));
	if (flexible)
		KR_TRY(kr_skip_tags(&r));
	if (version >= 3)
		KR_TRY(kr_nullable_string(&r, flexible, &s)); /* TransactionalId */
	KR_TRY(kr_i16(&r, acks));
	return KFRAME_OK;
err:
	/* Running out of bytes is not an error until the frame is complete;
	 * the caller decides.  Anything else that failed is malformed. */
	return r.err == KR_ERR_SHORT ? KFRAME_NEED_MORE : KFRAME_ERROR;
}

const char *kframe_guess_foreign(const uint8_t p[KFRAME_SIZE_LEN])
{
	static const char *const http[] = {"GET ", "POST", "PUT ", "HEAD", "PRI ",
					   "DELE", "OPTI", "CONN", "PATC"};

	/* TLS record: ContentType handshake (22) or alert (21), version 3.x. */
	if ((p[0] == 0x16 || p[0] == 0x15) && p[1] == 0x03 && p[2] <= 0x04)
		return "a TLS record";
	for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++)
		if (memcmp(p, http[i], 4) == 0)
			return "an HTTP request";
	if (p[0] == 'S' && p[1] == 'S' && p[2] == 'H' && p[3] == '-')
		return "an SSH greeting";
	return NULL;
}
