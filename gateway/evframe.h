/* evframe.h — the next whole Kafka frame in an evbuffer, for the places
 * that read frames whole and in kgate's own exchanges (sessions, signing
 * in to brokers, clients logging in to kgate); the data path frames in
 * pieces instead (kstream.h).  The size is judged from its four bytes,
 * before anything more is waited for. */
#ifndef KGATE_EVFRAME_H
#define KGATE_EVFRAME_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum evframe_rc {
	EVFRAME_BAD = -2,  /* its size is outside [min, max] */
	EVFRAME_NOMEM = -1,
	EVFRAME_MORE = 0,  /* not all in yet */
	EVFRAME_OK = 1     /* *frame, *len: the frame after its size, left in */
};

/* Looks at the frame at the front of in; it stays there until
 * evframe_drain (the pointer is valid until then). */
int evframe_peek(struct evbuffer *in, int64_t min, int64_t max, uint8_t **frame, size_t *len);
/* Removes the frame evframe_peek returned (len: as it said). */
void evframe_drain(struct evbuffer *in, size_t len);

#endif
