/* users.c — loading and looking up the credentials file (see users.h). */
#include "users.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One user: a secret per mechanism it has one for. */
struct users_entry {
	char *name;
	int has[2]; /* indexed by enum scram_hash */
	struct scram_secret secret[2];
};

struct users {
	struct users_entry *v; /* sorted by name, for bsearch */
	size_t n;
};

#define ERR(...) (err && errlen ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

/* A base64 string member of a mechanism object, decoded into out; exactly
 * `want` bytes unless want is 0 (then 1 to cap). */
static int users_b64(const json_t *obj, const char *key, uint8_t *out, size_t cap, size_t want,
		     size_t *len, const char *path, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	int n;

	if (!v) {
		ERR("%s.%s: missing", path, key);
		return -1;
	}
	if (!json_is_string(v)) {
		ERR("%s.%s: expected a base64 string", path, key);
		return -1;
	}
	s = json_string_value(v);
	n = scram_b64_decode(s, json_string_length(v), out, cap);
	if (n < 0) {
		ERR("%s.%s: not valid base64", path, key);
		return -1;
	}
	if (want ? (size_t)n != want : n == 0) {
		if (want)
			ERR("%s.%s: %d bytes, expected %zu", path, key, n, want);
		else
			ERR("%s.%s: expected 1 to %zu bytes", path, key, cap);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* One mechanism's object: users.<name>.<mechanism>. */
static int users_secret(const json_t *obj, enum scram_hash h, struct scram_secret *s,
			const char *path, char *err, size_t errlen)
{
	static const char *const keys[] = {"salt", "iterations", "stored_key", "server_key"};
	size_t hl = scram_hash_len(h), len, i;
	const char *key;
	const json_t *v;
	json_int_t it;

	if (!json_is_object(obj)) {
		ERR("%s: expected an object", path);
		return -1;
	}
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			ERR("%s.%s: unknown key (expected salt, iterations, stored_key, server_key)",
			    path, key);
			return -1;
		}
	}
	memset(s, 0, sizeof(*s));
	s->hash = h;
	if (users_b64(obj, "salt", s->salt, sizeof(s->salt), 0, &s->salt_len, path, err, errlen) <
		    0 ||
	    users_b64(obj, "stored_key", s->stored_key, sizeof(s->stored_key), hl, &len, path, err,
		      errlen) < 0 ||
	    users_b64(obj, "server_key", s->server_key, sizeof(s->server_key), hl, &len, path, err,
		      errlen) < 0)
		return -1;
	v = json_object_get(obj, "iterations");
	if (!v) {
		ERR("%s.iterations: missing", path);
		return -1;
	}
	it = json_is_integer(v) ? json_integer_value(v) : -1;
	if (it < SCRAM_MIN_ITERATIONS || it > SCRAM_MAX_ITERATIONS) {
		ERR("%s.iterations: expected an integer from %d to %d", path, SCRAM_MIN_ITERATIONS,
		    SCRAM_MAX_ITERATIONS);
		return -1;
	}
	s->iterations = (uint32_t)it;
	return 0;
}

static int users_cmp(const void *a, const void *b)
{
	return strcmp(((const struct users_entry *)a)->name, ((const struct users_entry *)b)->name);
}

struct users *users_from_json(const json_t *root, const char *what, char *err, size_t errlen)
{
	const json_t *all, *uobj, *mobj;
	const char *name, *key;
	struct users *u;
	size_t cap;
	char path[SCRAM_MAX_USER + 64];
	char e[320];

	if (!json_is_object(root)) {
		ERR("%s: expected an object with \"users\"", what);
		return NULL;
	}
	json_object_foreach((json_t *)root, key, mobj) {
		if (strcmp(key, "users") != 0) {
			ERR("%s: %s: unknown key (expected users)", what, key);
			return NULL;
		}
	}
	all = json_object_get(root, "users");
	if (!json_is_object(all)) {
		ERR("%s: users: %s", what, all ? "expected an object" : "missing");
		return NULL;
	}
	cap = json_object_size(all);
	u = calloc(1, sizeof(*u));
	if (!u || !(u->v = calloc(cap ? cap : 1, sizeof(*u->v)))) {
		ERR("%s: out of memory", what);
		free(u);
		return NULL;
	}
	json_object_foreach((json_t *)all, name, uobj) {
		struct users_entry *ent;
		size_t nlen = strlen(name);

		if (u->n >= cap)
			break; /* jansson's size and its iteration agree; never trust it */
		ent = &u->v[u->n];

		if (nlen == 0 || nlen > SCRAM_MAX_USER) {
			ERR("%s: users: the user name \"%.40s\": expected 1 to %d bytes", what,
			    name, SCRAM_MAX_USER);
			goto fail;
		}
		snprintf(path, sizeof(path), "users.%s", name);
		if (!json_is_object(uobj) || json_object_size(uobj) == 0) {
			ERR("%s: %s: expected an object with SCRAM-SHA-256 and/or SCRAM-SHA-512",
			    what, path);
			goto fail;
		}
		ent->name = strdup(name);
		if (!ent->name) {
			ERR("%s: out of memory", what);
			goto fail;
		}
		u->n++;
		json_object_foreach((json_t *)uobj, key, mobj) {
			enum scram_hash h;

			snprintf(path, sizeof(path), "users.%s.%s", name, key);
			if (scram_hash_parse(key, &h) < 0) {
				ERR("%s: %s: unknown mechanism (expected SCRAM-SHA-256 or "
				    "SCRAM-SHA-512)",
				    what, path);
				goto fail;
			}
			if (users_secret(mobj, h, &ent->secret[h], path, e, sizeof(e)) < 0) {
				ERR("%s: %s", what, e);
				goto fail;
			}
			ent->has[h] = 1;
		}
	}
	if (u->n > 1)
		qsort(u->v, u->n, sizeof(*u->v), users_cmp);
	return u;
fail:
	users_free(u);
	return NULL;
}

struct users *users_load_string(const char *json, const char *what, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	struct users *u;

	if (!root) {
		ERR("%s:%d:%d: %s", what, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	u = users_from_json(root, what, err, errlen);
	json_decref(root);
	return u;
}

struct users *users_load_file(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	struct stat st;
	json_t *root;
	struct users *u;

	if (stat(path, &st) < 0) {
		ERR("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > USERS_MAX_FILE) {
		ERR("%s: expected a regular file of at most %d bytes", path, USERS_MAX_FILE);
		return NULL;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ERR("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	u = users_from_json(root, path, err, errlen);
	json_decref(root);
	return u;
}

const struct scram_secret *users_lookup(const struct users *u, const char *user, enum scram_hash h)
{
	struct users_entry key = {.name = (char *)user};
	const struct users_entry *e;

	if (!u || !user || u->n == 0)
		return NULL;
	e = bsearch(&key, u->v, u->n, sizeof(*u->v), users_cmp);
	return e && e->has[h] ? &e->secret[h] : NULL;
}

size_t users_count(const struct users *u)
{
	return u ? u->n : 0;
}

void users_free(struct users *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->n; i++)
		free(u->v[i].name);
	if (u->v)
		OPENSSL_cleanse(u->v, u->n * sizeof(*u->v));
	free(u->v);
	free(u);
}
