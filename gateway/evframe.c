/* evframe.c — whole frames out of an evbuffer (see evframe.h). */
#include "evframe.h"

#include <event2/buffer.h>

#include "../protocol/frame.h"
#include "../protocol/kbuf.h"

int evframe_peek(struct evbuffer *in, int64_t min, int64_t max, uint8_t **frame, size_t *len)
{
	uint8_t size_be[KFRAME_SIZE_LEN], *p;
	int32_t size;

	if (evbuffer_get_length(in) < sizeof(size_be))
		return EVFRAME_MORE;
	evbuffer_copyout(in, size_be, sizeof(size_be));
	size = kbuf_get_i32(size_be);
	if (size < min || size > max)
		return EVFRAME_BAD;
	if (evbuffer_get_length(in) < (size_t)size + sizeof(size_be))
		return EVFRAME_MORE;
	p = evbuffer_pullup(in, (ssize_t)size + KFRAME_SIZE_LEN);
	if (!p)
		return EVFRAME_NOMEM;
	*frame = p + KFRAME_SIZE_LEN;
	*len = (size_t)size;
	return EVFRAME_OK;
}

void evframe_drain(struct evbuffer *in, size_t len)
{
	evbuffer_drain(in, len + KFRAME_SIZE_LEN);
}
