/* kbuf.c — bounded reader and growable writer for Kafka wire primitives. */
#include "kbuf.h"

#include <stdlib.h>
#include <string.h>

void kr_init(struct kreader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

/* Every read goes through here: fail (and latch) unless n bytes remain. */
static inline const uint8_t *kr_take(struct kreader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->len - r->pos < n) {
		if (!r->err)
			r->err = KR_ERR_SHORT;
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline int kr_fail(struct kreader *r)
{
	if (!r->err)
		r->err = KR_ERR_INVALID;
	return -1;
}

int kr_i8(struct kreader *r, int8_t *v)
{
	const uint8_t *p = kr_take(r, 1);

	if (!p)
		return -1;
	*v = (int8_t)p[0];
	return 0;
}

int kr_i16(struct kreader *r, int16_t *v)
{
	const uint8_t *p = kr_take(r, 2);

	if (!p)
		return -1;
	*v = kbuf_get_i16(p);
	return 0;
}

int kr_u16(struct kreader *r, uint16_t *v)
{
	const uint8_t *p = kr_take(r, 2);

	if (!p)
		return -1;
	*v = (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
	return 0;
}

int kr_i32(struct kreader *r, int32_t *v)
{
	const uint8_t *p = kr_take(r, 4);

	if (!p)
		return -1;
	*v = kbuf_get_i32(p);
	return 0;
}

int kr_i64(struct kreader *r, int64_t *v)
{
	const uint8_t *p = kr_take(r, 8);
	uint64_t u = 0;

	if (!p)
		return -1;
	for (int i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	*v = (int64_t)u;
	return 0;
}

int kr_uuid(struct kreader *r, uint8_t out[16])
{
	const uint8_t *p = kr_take(r, 16);

	if (!p)
		return -1;
	memcpy(out, p, 16);
	return 0;
}

int kr_uvarint(struct kreader *r, uint32_t *v)
{
	uint32_t value = 0;

	for (int i = 0; i < 5; i++) {
		const uint8_t *p = kr_take(r, 1);

		if (!p)
			return -1;
		/* The fifth byte may only carry the top four bits of a uint32. */
		if (i == 4 && (p[0] & 0xf0))
			return kr_fail(r);
		value |= (uint32_t)(p[0] & 0x7f) << (7 * i);
		if (!(p[0] & 0x80)) {
			*v = value;
			return 0;
		}
	}
	return kr_fail(r);
}

int kr_varint(struct kreader *r, int32_t *v)
{
	uint32_t u;

	if (kr_uvarint(r, &u) < 0)
		return -1;
	*v = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
	return 0;
}

int kr_skip(struct kreader *r, size_t n)
{
	return kr_take(r, n) ? 0 : -1;
}

/* Reads a length prefix: int16 for STRING, uvarint(len+1) for COMPACT. */
static int kr_string_len(struct kreader *r, int flexible, int32_t *len)
{
	if (flexible) {
		uint32_t u;

		if (kr_uvarint(r, &u) < 0)
			return -1;
		if (u > KBUF_MAX_STRING + 1)
			return kr_fail(r);
		*len = (int32_t)u - 1;
	} else {
		int16_t l;

		if (kr_i16(r, &l) < 0)
			return -1;
		if (l < -1)
			return kr_fail(r);
		*len = l;
	}
	return 0;
}

int kr_nullable_string(struct kreader *r, int flexible, struct kstr *s)
{
	int32_t len;

	if (kr_string_len(r, flexible, &len) < 0)
		return -1;
	s->len = len;
	s->ptr = NULL;
	if (len < 0)
		return 0;
	s->ptr = kr_take(r, (size_t)len);
	return s->ptr ? 0 : -1;
}

int kr_string(struct kreader *r, int flexible, struct kstr *s)
{
	if (kr_nullable_string(r, flexible, s) < 0)
		return -1;
	return s->len < 0 ? kr_fail(r) : 0;
}

int kr_skip_bytes(struct kreader *r, int flexible, int nullable)
{
	int64_t len;

	if (flexible) {
		uint32_t u;

		if (kr_uvarint(r, &u) < 0)
			return -1;
		len = (int64_t)u - 1;
	} else {
		int32_t l;

		if (kr_i32(r, &l) < 0)
			return -1;
		len = l;
	}
	if (len < 0)
		return (len == -1 && nullable) ? 0 : kr_fail(r);
	return kr_skip(r, (size_t)len);
}

int kr_bytes(struct kreader *r, int flexible, struct kstr *s)
{
	size_t start;

	if (flexible) {
		uint32_t u;

		if (kr_uvarint(r, &u) < 0)
			return -1;
		if (u == 0 || u - 1 > INT32_MAX)
			return kr_fail(r);
		s->len = (int32_t)(u - 1);
	} else {
		if (kr_i32(r, &s->len) < 0)
			return -1;
		if (s->len < 0)
			return kr_fail(r);
	}
	start = r->pos;
	if (kr_skip(r, (size_t)s->len) < 0)
		return -1;
	s->ptr = r->buf + start;
	return 0;
}

int kr_nullable_array(struct kreader *r, int flexible, size_t min_elem, int32_t *n)
{
	int64_t count;

	if (flexible) {
		uint32_t u;

		if (kr_uvarint(r, &u) < 0)
			return -1;
		count = (int64_t)u - 1;
	} else {
		int32_t c;

		if (kr_i32(r, &c) < 0)
			return -1;
		count = c;
	}
	if (count < -1)
		return kr_fail(r);
	/* Don't believe a count the remaining bytes could not hold. */
	if (count > 0 && min_elem > 0 && (uint64_t)count > kr_remaining(r) / min_elem)
		return kr_fail(r);
	*n = (int32_t)count;
	return 0;
}

int kr_array(struct kreader *r, int flexible, size_t min_elem, int32_t *n)
{
	if (kr_nullable_array(r, flexible, min_elem, n) < 0)
		return -1;
	return *n < 0 ? kr_fail(r) : 0;
}

int kr_skip_tags(struct kreader *r)
{
	uint32_t count, tag, size;

	if (kr_uvarint(r, &count) < 0)
		return -1;
	/* Each field takes at least two bytes (tag and size).  A count the
	 * bytes present cannot hold is short, not malformed: a header read
	 * from a stream may have the rest of its fields still to come (and a
	 * whole buffer is refused either way). */
	if (count > kr_remaining(r) / 2) {
		if (!r->err)
			r->err = KR_ERR_SHORT;
		return -1;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (kr_uvarint(r, &tag) < 0 || kr_uvarint(r, &size) < 0 ||
		    kr_skip(r, size) < 0)
			return -1;
	}
	return 0;
}

/* ---- writer ---- */

void kw_init(struct kwbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void kw_free(struct kwbuf *w)
{
	free(w->buf);
	kw_init(w);
}

void kw_reset(struct kwbuf *w)
{
	w->len = 0;
	w->failed = 0;
}

uint8_t *kw_extend(struct kwbuf *w, size_t n)
{
	if (w->failed)
		return NULL;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *nb;

		while (cap - w->len < n) {
			if (cap > SIZE_MAX / 2) {
				w->failed = 1;
				return NULL;
			}
			cap *= 2;
		}
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->failed = 1;
			return NULL;
		}
		w->buf = nb;
		w->cap = cap;
	}
	w->len += n;
	return w->buf + w->len - n;
}

void kw_put(struct kwbuf *w, const void *p, size_t n)
{
	uint8_t *d;

	if (n == 0)
		return;
	d = kw_extend(w, n);
	if (d)
		memcpy(d, p, n);
}

void kw_i8(struct kwbuf *w, int8_t v)
{
	uint8_t b = (uint8_t)v;

	kw_put(w, &b, 1);
}

void kw_i16(struct kwbuf *w, int16_t v)
{
	uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};

	kw_put(w, b, 2);
}

void kw_i32(struct kwbuf *w, int32_t v)
{
	uint8_t b[4];

	kbuf_put_i32(b, v);
	kw_put(w, b, 4);
}

void kw_i64(struct kwbuf *w, int64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
	kw_put(w, b, 8);
}

size_t kbuf_uvarint_len(uint32_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void kw_uvarint(struct kwbuf *w, uint32_t v)
{
	uint8_t b[5];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	kw_put(w, b, n);
}

void kw_string(struct kwbuf *w, int flexible, const void *s, int32_t len)
{
	if (len > KBUF_MAX_STRING || len < -1) {
		w->failed = 1;
		return;
	}
	if (flexible)
		kw_uvarint(w, (uint32_t)(len + 1));
	else
		kw_i16(w, (int16_t)len);
	if (len > 0)
		kw_put(w, s, (size_t)len);
}

void kw_bytes(struct kwbuf *w, int flexible, const void *s, size_t len)
{
	if (len > INT32_MAX - 1) {
		w->failed = 1;
		return;
	}
	if (flexible)
		kw_uvarint(w, (uint32_t)len + 1);
	else
		kw_i32(w, (int32_t)len);
	if (len)
		kw_put(w, s, len);
}

void kw_array_len(struct kwbuf *w, int flexible, int32_t n)
{
	if (flexible)
		kw_uvarint(w, (uint32_t)n + 1);
	else
		kw_i32(w, n);
}

size_t kw_reserve_i32(struct kwbuf *w)
{
	size_t off = w->len;

	kw_extend(w, 4);
	return off;
}

void kw_patch_i32(struct kwbuf *w, size_t off, int32_t v)
{
	if (!w->failed && off + 4 <= w->len)
		kbuf_put_i32(w->buf + off, v);
}
