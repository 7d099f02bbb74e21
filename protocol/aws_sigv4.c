/* aws_sigv4.c — AWS Signature Version 4: canonical request, string to sign,
 * signing key, signature; into an Authorization header or a presigned query
 * string.  The rules followed are those of AWS's "Create a signed AWS API
 * request" guide and its published test suite (test/unit/test_sigv4.c runs
 * the vectors).  OpenSSL gives SHA-256 and HMAC; nothing else is used.
 */
#include "aws_sigv4.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_EXPIRES 604800 /* SigV4's own limit: seven days */

/* A growing string with a ceiling: any overflow or failed allocation sets
 * err, and later appends do nothing, so a builder is checked once, at the
 * end (like kbuf's writer). */
struct sb {
	char *p;
	size_t len;
	size_t cap;
	int err;
};

static void sb_reserve(struct sb *b, size_t more)
{
	size_t want;
	char *np;

	if (b->err)
		return;
	if (more > AWS_SIGV4_MAX_OUTPUT || b->len + more >= AWS_SIGV4_MAX_OUTPUT) {
		b->err = 1;
		return;
	}
	want = b->len + more + 1;
	if (want <= b->cap)
		return;
	want = want < 256 ? 256 : want * 2;
	if (want > AWS_SIGV4_MAX_OUTPUT)
		want = AWS_SIGV4_MAX_OUTPUT;
	np = realloc(b->p, want);
	if (!np) {
		b->err = 1;
		return;
	}
	b->p = np;
	b->cap = want;
}

static void sb_putn(struct sb *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	if (b->err)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_putc(struct sb *b, char c) { sb_putn(b, &c, 1); }

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* Appends s URI-encoded (see aws_uri_encode). */
static void sb_enc(struct sb *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);

	sb_reserve(b, 3 * n);
	if (b->err)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			b->p[b->len++] = (char)c;
		} else {
			b->p[b->len++] = '%';
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
		}
	}
	b->p[b->len] = '\0';
}

/* The builder's string (the caller frees it), or NULL if anything failed. */
static char *sb_take(struct sb *b)
{
	if (b->err || !b->p) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	return b->p;
}

int aws_uri_encode(const char *s, size_t n, int keep_slash, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* A string of 1..max bytes with no control character (they would split or
 * change the lines the signature covers). */
static int field_ok(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* A scope component (region, service) or access key: it sits between '/'
 * in the credential and unencoded in an Authorization header. */
static int scope_ok(const char *s)
{
	if (!field_ok(s, 128))
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == ',' || *s == ' ' || *s == '\t' || *s == '=')
			return 0;
	return 1;
}

static void hex_of(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const void *d, size_t n, char out[AWS_SIGV4_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(d, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	hex_of(md, 32, out);
	return 0;
}

static int hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out,
		  &len) ||
	    len != 32)
		return -1;
	return 0;
}

int aws_sigv4_amz_date(int64_t now, char *out, size_t outlen)
{
	struct tm tm;
	time_t t;

	/* 253402300799: 9999-12-31T23:59:59Z, the last time with 4 digits. */
	if (now < 0 || now > INT64_C(253402300799) || outlen < AWS_SIGV4_AMZ_DATE_LEN + 1)
		return -1;
	t = (time_t)now;
	if (!gmtime_r(&t, &tm))
		return -1;
	if (strftime(out, outlen, "%Y%m%dT%H%M%SZ", &tm) != AWS_SIGV4_AMZ_DATE_LEN)
		return -1;
	return 0;
}

/* --- canonical headers ------------------------------------------------ */

/* One signed header: lower-case name, value trimmed with inner runs of
 * spaces made one; pos keeps equal names in their given order. */
struct hdr {
	char *name;
	char *value;
	size_t pos;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int hdr_add(struct hdr *h, size_t pos, const char *name, const char *value)
{
	size_t nl, vl, o = 0, i = 0;

	if (!field_ok(name, AWS_SIGV4_MAX_FIELD) ||
	    !(value[0] == '\0' || field_ok(value, AWS_SIGV4_MAX_FIELD)))
		return -1;
	nl = strlen(name);
	vl = strlen(value);
	h->pos = pos;
	h->name = malloc(nl + 1);
	h->value = malloc(vl + 1);
	if (!h->name || !h->value)
		return -1;
	for (size_t k = 0; k < nl; k++) {
		unsigned char c = (unsigned char)name[k];

		if (c == ':' || c == ' ' || c == '\t' || c == ';')
			return -1;
		h->name[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	h->name[nl] = '\0';
	while (i < vl && (value[i] == ' ' || value[i] == '\t'))
		i++;
	while (vl > i && (value[vl - 1] == ' ' || value[vl - 1] == '\t'))
		vl--;
	for (; i < vl; i++) {
		char c = value[i] == '\t' ? ' ' : value[i];

		if (c == ' ' && o > 0 && h->value[o - 1] == ' ')
			continue;
		h->value[o++] = c;
	}
	h->value[o] = '\0';
	return 0;
}

static void hdrs_free(struct hdr *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* r's signed headers (host first, then r->headers), sorted by name; NULL
 * when one is invalid or memory ran out. */
static struct hdr *hdrs_collect(const struct aws_sigv4_req *r, size_t *n)
{
	struct hdr *h;

	if (r->nheaders > AWS_SIGV4_MAX_HEADERS || (r->nheaders && !r->headers))
		return NULL;
	h = calloc(r->nheaders + 1, sizeof(*h));
	if (!h)
		return NULL;
	*n = r->nheaders + 1;
	if (!field_ok(r->host, AWS_SIGV4_MAX_FIELD) || hdr_add(&h[0], 0, "host", r->host) < 0)
		goto fail;
	for (size_t i = 0; i < r->nheaders; i++)
		if (!r->headers[i].name || !r->headers[i].value ||
		    hdr_add(&h[i + 1], i + 1, r->headers[i].name, r->headers[i].value) < 0)
			goto fail;
	qsort(h, *n, sizeof(*h), hdr_cmp);
	return h;
fail:
	hdrs_free(h, *n);
	return NULL;
}

/* "host;x-amz-date": the names of sorted headers h, each once. */
static void put_signed_headers(struct sb *b, const struct hdr *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0)
			continue;
		if (i > 0)
			sb_putc(b, ';');
		sb_puts(b, h[i].name);
	}
}

/* --- canonical query string ------------------------------------------- */

struct qp {
	char *kv; /* "name=value", both encoded */
	size_t klen;
};

static int qp_cmp(const void *a, const void *b)
{
	const struct qp *x = a, *y = b;
	size_t m = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->kv, y->kv, m);

	/* By encoded name, then (a repeated name) by encoded value. */
	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return strcmp(x->kv + x->klen, y->kv + y->klen);
}

static int params_ok(const struct aws_kv *q, size_t n)
{
	if (n && !q)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!q[i].name || !q[i].value || strnlen(q[i].name, AWS_SIGV4_MAX_FIELD + 1) >
							  AWS_SIGV4_MAX_FIELD ||
		    strnlen(q[i].value, AWS_SIGV4_MAX_FIELD + 1) > AWS_SIGV4_MAX_FIELD)
			return 0;
	return 1;
}

/* The canonical query string of q then extra, appended to b. */
static void put_canonical_query(struct sb *b, const struct aws_kv *q, size_t nq,
				const struct aws_kv *extra, size_t nextra)
{
	size_t n = nq + nextra, made = 0;
	struct qp *v;

	if (n == 0)
		return;
	v = calloc(n, sizeof(*v));
	if (!v) {
		b->err = 1;
		return;
	}
	for (; made < n; made++) {
		const struct aws_kv *p = made < nq ? &q[made] : &extra[made - nq];
		struct sb e = {0};

		sb_enc(&e, p->name, 0);
		v[made].klen = e.len;
		sb_putc(&e, '=');
		sb_enc(&e, p->value, 0);
		v[made].kv = sb_take(&e);
		if (!v[made].kv) {
			b->err = 1;
			break;
		}
	}
	if (!b->err) {
		qsort(v, n, sizeof(*v), qp_cmp);
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_putc(b, '&');
			sb_puts(b, v[i].kv);
		}
	}
	for (size_t i = 0; i < made; i++)
		free(v[i].kv);
	free(v);
}

/* --- canonical request -------------------------------------------------- */

static int req_ok(const struct aws_sigv4_req *r)
{
	return r && field_ok(r->method, 32) && r->path && (!r->path[0] || r->path[0] == '/') &&
	       strnlen(r->path, AWS_SIGV4_MAX_FIELD + 1) <= AWS_SIGV4_MAX_FIELD &&
	       r->nquery <= AWS_SIGV4_MAX_PARAMS && params_ok(r->query, r->nquery) &&
	       r->payload_len <= AWS_SIGV4_MAX_PAYLOAD && (r->payload || !r->payload_len) &&
	       (!r->payload_hash || field_ok(r->payload_hash, 128)) && scope_ok(r->region) &&
	       scope_ok(r->service);
}

/* The canonical request of r with extra query parameters (a presign's);
 * signed, when not NULL, gets the signed headers' names. */
static char *canonical(const struct aws_sigv4_req *r, const struct aws_kv *extra, size_t nextra,
		       struct sb *signed_names)
{
	char hash[AWS_SIGV4_HEX_LEN + 1];
	struct sb b = {0};
	struct hdr *h;
	size_t nh = 0;

	if (!req_ok(r))
		return NULL;
	h = hdrs_collect(r, &nh);
	if (!h)
		return NULL;
	sb_puts(&b, r->method);
	sb_putc(&b, '\n');
	sb_enc(&b, r->path[0] ? r->path : "/", 1);
	sb_putc(&b, '\n');
	put_canonical_query(&b, r->query, r->nquery, extra, nextra);
	sb_putc(&b, '\n');
	for (size_t i = 0; i < nh; i++) {
		/* A repeated name: one line, values in order, joined by ','. */
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			sb_putc(&b, ',');
		} else {
			if (i > 0)
				sb_putc(&b, '\n');
			sb_puts(&b, h[i].name);
			sb_putc(&b, ':');
		}
		sb_puts(&b, h[i].value);
	}
	sb_puts(&b, "\n\n");
	put_signed_headers(&b, h, nh);
	if (signed_names)
		put_signed_headers(signed_names, h, nh);
	hdrs_free(h, nh);
	sb_putc(&b, '\n');
	if (r->payload_hash) {
		sb_puts(&b, r->payload_hash);
	} else {
		if (sha256_hex(r->payload ? r->payload : "", r->payload_len, hash) < 0)
			b.err = 1;
		else
			sb_puts(&b, hash);
	}
	return sb_take(&b);
}

char *aws_sigv4_canonical_request(const struct aws_sigv4_req *r)
{
	return canonical(r, NULL, 0, NULL);
}

/* --- string to sign, key, signature ------------------------------------- */

int aws_sigv4_signature(const char *secret_key, const char *amz_date, const char *region,
			const char *service, const char *canonical_request, char *out,
			size_t outlen)
{
	unsigned char k[32], sig[32];
	char date[9], hash[AWS_SIGV4_HEX_LEN + 1];
	char key[4 + 128 + 1];
	struct sb sts = {0};
	int rc = -1;
	size_t sl;

	if (!secret_key || !amz_date || !canonical_request || !out ||
	    outlen < AWS_SIGV4_HEX_LEN + 1 || !scope_ok(region) || !scope_ok(service) ||
	    strnlen(amz_date, AWS_SIGV4_AMZ_DATE_LEN + 1) != AWS_SIGV4_AMZ_DATE_LEN)
		return -1;
	sl = strnlen(secret_key, 128);
	if (sl == 0 || sl >= 128)
		return -1;
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	if (sha256_hex(canonical_request, strlen(canonical_request), hash) < 0)
		return -1;
	sb_puts(&sts, ALGORITHM "\n");
	sb_puts(&sts, amz_date);
	sb_putc(&sts, '\n');
	sb_puts(&sts, date);
	sb_putc(&sts, '/');
	sb_puts(&sts, region);
	sb_putc(&sts, '/');
	sb_puts(&sts, service);
	sb_puts(&sts, "/aws4_request\n");
	sb_puts(&sts, hash);
	if (!sb_take(&sts))
		return -1;
	memcpy(key, "AWS4", 4);
	memcpy(key + 4, secret_key, sl);
	/* kDate = HMAC("AWS4" + secret, date), then region, service,
	 * "aws4_request"; the signature is HMAC(kSigning, string to sign). */
	if (hmac((const unsigned char *)key, 4 + sl, date, k) == 0 &&
	    hmac(k, sizeof(k), region, k) == 0 && hmac(k, sizeof(k), service, k) == 0 &&
	    hmac(k, sizeof(k), "aws4_request", k) == 0 && hmac(k, sizeof(k), sts.p, sig) == 0) {
		hex_of(sig, sizeof(sig), out);
		rc = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(k, sizeof(k));
	free(sts.p);
	return rc;
}

static int creds_ok(const struct aws_creds *c)
{
	return c && scope_ok(c->access_key) &&
	       strnlen(c->secret_key, sizeof(c->secret_key)) < sizeof(c->secret_key) &&
	       strnlen(c->session_token, sizeof(c->session_token)) < sizeof(c->session_token);
}

char *aws_sigv4_authorization(const struct aws_creds *c, const struct aws_sigv4_req *r,
			      int64_t now)
{
	char date[AWS_SIGV4_AMZ_DATE_LEN + 1], sig[AWS_SIGV4_HEX_LEN + 1];
	struct sb names = {0}, out = {0};
	char *creq;
	int rc;

	if (!creds_ok(c) || aws_sigv4_amz_date(now, date, sizeof(date)) < 0)
		return NULL;
	creq = canonical(r, NULL, 0, &names);
	if (!creq || !sb_take(&names)) {
		free(creq);
		free(names.p);
		return NULL;
	}
	rc = aws_sigv4_signature(c->secret_key, date, r->region, r->service, creq, sig,
				 sizeof(sig));
	free(creq);
	if (rc < 0) {
		free(names.p);
		return NULL;
	}
	sb_puts(&out, ALGORITHM " Credential=");
	sb_puts(&out, c->access_key);
	sb_putc(&out, '/');
	sb_putn(&out, date, 8);
	sb_putc(&out, '/');
	sb_puts(&out, r->region);
	sb_putc(&out, '/');
	sb_puts(&out, r->service);
	sb_puts(&out, "/aws4_request, SignedHeaders=");
	sb_puts(&out, names.p);
	sb_puts(&out, ", Signature=");
	sb_puts(&out, sig);
	free(names.p);
	return sb_take(&out);
}

char *aws_sigv4_presign(const struct aws_creds *c, const struct aws_sigv4_req *r, int64_t now,
			int64_t expires_s)
{
	char date[AWS_SIGV4_AMZ_DATE_LEN + 1], sig[AWS_SIGV4_HEX_LEN + 1], expires[24];
	struct sb names = {0}, cred = {0}, out = {0};
	struct aws_kv auth[6];
	size_t nauth = 0;
	char *creq = NULL, *result = NULL;
	struct hdr *h;
	size_t nh = 0;

	if (!creds_ok(c) || !req_ok(r) || expires_s < 1 || expires_s > MAX_EXPIRES ||
	    aws_sigv4_amz_date(now, date, sizeof(date)) < 0)
		return NULL;
	/* The signed headers' names go into the query, so before the
	 * canonical request that covers them. */
	h = hdrs_collect(r, &nh);
	if (!h)
		return NULL;
	put_signed_headers(&names, h, nh);
	hdrs_free(h, nh);
	sb_puts(&cred, c->access_key);
	sb_putc(&cred, '/');
	sb_putn(&cred, date, 8);
	sb_putc(&cred, '/');
	sb_puts(&cred, r->region);
	sb_putc(&cred, '/');
	sb_puts(&cred, r->service);
	sb_puts(&cred, "/aws4_request");
	snprintf(expires, sizeof(expires), "%" PRId64, expires_s);
	if (!sb_take(&names) || !sb_take(&cred))
		goto out;
	auth[nauth++] = (struct aws_kv){"X-Amz-Algorithm", ALGORITHM};
	auth[nauth++] = (struct aws_kv){"X-Amz-Credential", cred.p};
	auth[nauth++] = (struct aws_kv){"X-Amz-Date", date};
	auth[nauth++] = (struct aws_kv){"X-Amz-Expires", expires};
	auth[nauth++] = (struct aws_kv){"X-Amz-SignedHeaders", names.p};
	if (c->session_token[0])
		auth[nauth++] = (struct aws_kv){"X-Amz-Security-Token", c->session_token};
	creq = canonical(r, auth, nauth, NULL);
	if (!creq || aws_sigv4_signature(c->secret_key, date, r->region, r->service, creq, sig,
					 sizeof(sig)) < 0)
		goto out;
	for (size_t i = 0; i < r->nquery + nauth; i++) {
		const struct aws_kv *p = i < r->nquery ? &r->query[i] : &auth[i - r->nquery];

		if (i)
			sb_putc(&out, '&');
		sb_enc(&out, p->name, 0);
		sb_putc(&out, '=');
		sb_enc(&out, p->value, 0);
	}
	sb_puts(&out, "&X-Amz-Signature=");
	sb_puts(&out, sig);
	result = sb_take(&out);
out:
	free(creq);
	free(names.p);
	free(cred.p);
	return result;
}
