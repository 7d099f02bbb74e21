/* kbuf.h — bounded reader and growable writer for Kafka wire primitives.
 *
 * The reader never reads past its end: every read checks the remaining length
 * first and returns -1 (and latches r->err) on short or invalid data, so a
 * decoder can chain reads and jump to a single error label.  The writer has a
 * sticky failure flag (allocation failure or an over-large value) so callers
 * check once at the end instead of after every write.
 */
#ifndef KGATE_KBUF_H
#define KGATE_KBUF_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's own limit on the length of a STRING (int16 length prefix). */
#define KBUF_MAX_STRING 32767

/* A read cursor over a contiguous byte range. */
struct kreader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int err; /* KR_ERR_* of the first failed read; later reads fail too */
};

/* Why a read failed: the bytes ran out (more may come), or they are wrong. */
#define KR_ERR_SHORT 1
#define KR_ERR_INVALID 2

/* A byte string inside a reader's buffer (not NUL-terminated). */
struct kstr {
	const uint8_t *ptr;
	int32_t len; /* -1 for a null string */
};

void kr_init(struct kreader *r, const uint8_t *buf, size_t len);
static inline size_t kr_remaining(const struct kreader *r) { return r->len - r->pos; }

int kr_i8(struct kreader *r, int8_t *v);
int kr_i16(struct kreader *r, int16_t *v);
int kr_u16(struct kreader *r, uint16_t *v);
int kr_i32(struct kreader *r, int32_t *v);
int kr_i64(struct kreader *r, int64_t *v);
int kr_uuid(struct kreader *r, uint8_t out[16]);
/* Unsigned varint of at most 5 bytes (a uint32), as Kafka encodes them. */
int kr_uvarint(struct kreader *r, uint32_t *v);
/* Zig-zag signed varint of at most 5 bytes. */
int kr_varint(struct kreader *r, int32_t *v);
int kr_skip(struct kreader *r, size_t n);

/* STRING / COMPACT_STRING (flexible != 0); nullable variants accept null. */
int kr_string(struct kreader *r, int flexible, struct kstr *s);
int kr_nullable_string(struct kreader *r, int flexible, struct kstr *s);
/* BYTES / COMPACT_BYTES and RECORDS (nullable), skipped without looking. */
int kr_skip_bytes(struct kreader *r, int flexible, int nullable);
/* A bytes field (int32 length, or compact when flexible); null refused. */
int kr_bytes(struct kreader *r, int flexible, struct kstr *s);

/* ARRAY / COMPACT_ARRAY element count, bounded by what the remaining bytes
 * could hold when each element takes at least min_elem bytes.  Nullable
 * arrays report null as *n == -1. */
int kr_array(struct kreader *r, int flexible, size_t min_elem, int32_t *n);
int kr_nullable_array(struct kreader *r, int flexible, size_t min_elem, int32_t *n);

/* Skips a whole tagged-field section (count, then tag/size/data each). */
int kr_skip_tags(struct kreader *r);

/* A growable output buffer. */
struct kwbuf {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int failed; /* sticky: an allocation or encoding failed */
};

void kw_init(struct kwbuf *w);
void kw_free(struct kwbuf *w);
void kw_reset(struct kwbuf *w);
/* Makes room for n more bytes; returns a pointer to them or NULL (and fails). */
uint8_t *kw_extend(struct kwbuf *w, size_t n);
void kw_put(struct kwbuf *w, const void *p, size_t n);
void kw_i8(struct kwbuf *w, int8_t v);
void kw_i16(struct kwbuf *w, int16_t v);
void kw_i32(struct kwbuf *w, int32_t v);
void kw_i64(struct kwbuf *w, int64_t v);
void kw_uvarint(struct kwbuf *w, uint32_t v);
/* STRING or COMPACT_STRING; len -1 writes null. */
void kw_string(struct kwbuf *w, int flexible, const void *s, int32_t len);
/* A bytes field: int32 length, or compact when flexible. */
void kw_bytes(struct kwbuf *w, int flexible, const void *s, size_t len);
/* Array count (int32 or compact count+1). */
void kw_array_len(struct kwbuf *w, int flexible, int32_t n);
/* Reserve 4 bytes for a length written later with kw_patch_i32. */
size_t kw_reserve_i32(struct kwbuf *w);
void kw_patch_i32(struct kwbuf *w, size_t off, int32_t v);

/* Encoded size of an unsigned varint. */
size_t kbuf_uvarint_len(uint32_t v);

/* Big-endian helpers for code that peeks at raw headers. */
static inline int16_t kbuf_get_i16(const uint8_t *p)
{
	return (int16_t)(((uint16_t)p[0] << 8) | p[1]);
}
static inline int32_t kbuf_get_i32(const uint8_t *p)
{
	return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
			 ((uint32_t)p[2] << 8) | p[3]);
}
static inline void kbuf_put_i32(uint8_t *p, int32_t v)
{
	p[0] = (uint8_t)((uint32_t)v >> 24);
	p[1] = (uint8_t)((uint32_t)v >> 16);
	p[2] = (uint8_t)((uint32_t)v >> 8);
	p[3] = (uint8_t)v;
}

/* For decoders: evaluate a read and jump to the function's err label. */
#define KR_TRY(expr)                                                          \
	do {                                                                  \
		if ((expr) < 0)                                               \
			goto err;                                             \
	} while (0)

#endif
