/* krw.c — span-copying rewrite machinery shared by the rewriters. */
#include "krw.h"

#include <string.h>

void krw_init(struct krw *x, const uint8_t *in, size_t len, struct kwbuf *out,
	      const struct kmap *map)
{
	kr_init(&x->r, in, len);
	x->out = out;
	x->copied = 0;
	x->map = map;
	x->changed = 0;
	x->listing = 0;
	x->too_many = 0;
}

int krw_list_begin(struct krw *x, int32_t n)
{
	if (!x->map)
		return 0;
	if (x->map->max_nodes > 0 && n > x->map->max_nodes) {
		x->too_many = 1;
		return -1;
	}
	/* An empty list (an error answer) says nothing of who is gone. */
	if (n == 0)
		return 0;
	x->listing = 1;
	if (x->map->listing)
		x->map->listing(x->map->ctx, 0);
	return 0;
}

int krw_failed(const struct krw *x)
{
	return x->too_many ? KRW_TOO_MANY : KRW_ERROR;
}

void krw_emit_to(struct krw *x, size_t off)
{
	if (off > x->copied) {
		kw_put(x->out, x->r.buf + x->copied, off - x->copied);
		x->copied = off;
	}
}

int krw_header(struct krw *x, int flexible)
{
	int32_t correlation_id;

	KR_TRY(kr_i32(&x->r, &correlation_id));
	if (flexible)
		KR_TRY(kr_skip_tags(&x->r));
	return 0;
err:
	return -1;
}

int krw_read_endpoint(struct krw *x, int flexible, int32_t node_id,
		      struct krw_endpoint *ep)
{
	ep->node_id = node_id;
	ep->host_off = x->r.pos;
	KR_TRY(kr_string(&x->r, flexible, &ep->host));
	KR_TRY(kr_i32(&x->r, &ep->port));
	ep->end_off = x->r.pos;
	return 0;
err:
	return -1;
}

void krw_substitute(struct krw *x, int flexible, const struct krw_endpoint *ep)
{
	struct kmap_addr a;

	if (!x->map || !x->map->lookup(x->map->ctx, ep->node_id, &ep->host, ep->port, &a))
		return;
	/* Already what the client should see: nothing to do. */
	if (a.port == ep->port && a.host_len == ep->host.len &&
	    memcmp(a.host, ep->host.ptr, (size_t)a.host_len) == 0)
		return;
	krw_emit_to(x, ep->host_off);
	kw_string(x->out, flexible, a.host, a.host_len);
	kw_i32(x->out, a.port);
	x->copied = ep->end_off;
	x->changed = 1;
}

int krw_node_host_port(struct krw *x, int flexible)
{
	struct krw_endpoint ep;
	int32_t node_id;

	KR_TRY(kr_i32(&x->r, &node_id));
	KR_TRY(krw_read_endpoint(x, flexible, node_id, &ep));
	krw_substitute(x, flexible, &ep);
	return 0;
err:
	return -1;
}

int krw_node_endpoints(struct krw *x)
{
	struct kstr rack;
	int32_t n;

	/* NodeId 4 + Host 1 + Port 4 + Rack 1 + tags 1 */
	KR_TRY(kr_array(&x->r, 1, 11, &n));
	for (int32_t i = 0; i < n; i++) {
		KR_TRY(krw_node_host_port(x, 1));
		KR_TRY(kr_nullable_string(&x->r, 1, &rack));
		KR_TRY(kr_skip_tags(&x->r));
	}
	return 0;
err:
	return -1;
}

int krw_tags_with_node_endpoints(struct krw *x)
{
	uint32_t count, tag, size;

	KR_TRY(kr_uvarint(&x->r, &count));
	if (count > kr_remaining(&x->r) / 2)
		goto err;
	for (uint32_t i = 0; i < count; i++) {
		size_t field_off = x->r.pos, data_off;

		KR_TRY(kr_uvarint(&x->r, &tag));
		KR_TRY(kr_uvarint(&x->r, &size));
		data_off = x->r.pos;
		KR_TRY(kr_skip(&x->r, size));
		if (tag == 0) {
			/* The field's size prefix changes with its content, so
			 * rewrite it on its own and re-frame it. */
			struct kwbuf tmp;
			struct krw y;
			int rc;

			kw_init(&tmp);
			krw_init(&y, x->r.buf + data_off, size, &tmp, x->map);
			rc = krw_node_endpoints(&y) < 0 ? KRW_ERROR : krw_finish(&y);
			if (rc == KRW_CHANGED) {
				krw_emit_to(x, field_off);
				kw_uvarint(x->out, tag);
				kw_uvarint(x->out, (uint32_t)tmp.len);
				kw_put(x->out, tmp.buf, tmp.len);
				x->copied = data_off + size;
				x->changed = 1;
			}
			kw_free(&tmp);
			if (rc == KRW_ERROR)
				goto err;
		}
	}
	return 0;
err:
	x->r.err = KR_ERR_INVALID;
	return -1;
}

int krw_finish(struct krw *x)
{
	int rc;

	if (x->r.err || x->r.pos != x->r.len)
		return KRW_ERROR;
	rc = KRW_UNCHANGED;
	if (x->changed) {
		krw_emit_to(x, x->r.len);
		rc = x->out->failed ? KRW_ERROR : KRW_CHANGED;
	}
	/* Only a listing whose response decoded whole says who is gone. */
	if (rc != KRW_ERROR && x->listing && x->map->listing)
		x->map->listing(x->map->ctx, 1);
	return rc;
}
