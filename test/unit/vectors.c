/* vectors.c — loading test/vectors/rewrite.json (see vectors.h). */
#include "vectors.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/kapi.h"
#include "tests.h"

static json_t *vectors_root;

/* The mapping every vector was generated with. */
struct vmap {
	int32_t id;
	char host[128];
	int32_t port;
};
static struct vmap vmaps[8];
static size_t n_vmaps;

static int vec_lookup(void *ctx, int32_t node_id, const struct kstr *orig_host, int32_t orig_port,
		      struct kmap_addr *out)
{
	(void)ctx;
	(void)orig_host;
	(void)orig_port;
	for (size_t i = 0; i < n_vmaps; i++) {
		if (vmaps[i].id == node_id) {
			out->host = vmaps[i].host;
			out->host_len = (int32_t)strlen(vmaps[i].host);
			out->port = vmaps[i].port;
			return 1;
		}
	}
	return 0;
}

const struct kmap vec_map = {.lookup = vec_lookup, .ctx = NULL};

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex by hand: sscanf per byte measures the rest of the string each
 * time, which made a 200 KB vector quadratic. */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			ck_abort_msg("bad hex at %zu", 2 * i);
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n;
	return b;
}

static void vectors_unload(void)
{
	json_decref(vectors_root);
	vectors_root = NULL;
}

void vectors_load(void)
{
	char path[1024];
	json_error_t err;
	json_t *m;
	size_t i;

	if (vectors_root)
		return;
	vectors_root = json_load_file(
		test_src_path("test/vectors/rewrite.json", path, sizeof(path)), 0, &err);
	if (!vectors_root) {
		fprintf(stderr, "cannot load %s: %s\n", path, err.text);
		abort();
	}
	n_vmaps = 0;
	json_array_foreach(json_object_get(vectors_root, "mapping"), i, m) {
		struct vmap *v = &vmaps[n_vmaps++];

		v->id = (int32_t)json_integer_value(json_object_get(m, "node_id"));
		snprintf(v->host, sizeof(v->host), "%s",
			 json_string_value(json_object_get(m, "host")));
		v->port = (int32_t)json_integer_value(json_object_get(m, "port"));
	}
	atexit(vectors_unload);
}

size_t vectors_count(void)
{
	return json_array_size(json_object_get(vectors_root, "vectors"));
}

void vec_get(size_t i, struct vec *v)
{
	json_t *j = json_array_get(json_object_get(vectors_root, "vectors"), i);
	json_t *t = json_object_get(j, "tail_offset");

	snprintf(v->name, sizeof(v->name), "%s", json_string_value(json_object_get(j, "name")));
	v->api_key = (int16_t)json_integer_value(json_object_get(j, "api_key"));
	v->version = (int16_t)json_integer_value(json_object_get(j, "api_version"));
	v->mode = json_string_value(json_object_get(j, "mode"));
	v->in = unhex(json_string_value(json_object_get(j, "input")), &v->in_len);
	v->want = unhex(json_string_value(json_object_get(j, "expected")), &v->want_len);
	v->tail_offset = t ? (long)json_integer_value(t) : -1;
}

void vec_free(struct vec *v)
{
	free(v->in);
	free(v->want);
}

int vec_undecoded_after_error(const struct vec *v)
{
	return v->api_key == KAPI_API_VERSIONS && v->in_len >= 6 &&
	       (v->in[4] != 0 || v->in[5] != 0);
}
