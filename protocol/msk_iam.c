/* msk_iam.c — MSK's IAM proofs built on SigV4 presigning: the OAUTHBEARER
 * token and the AWS_MSK_IAM JSON message.  The bytes follow the two AWS
 * libraries clients use (aws-msk-iam-sasl-signer-python 1.0.2 for the
 * token, aws-msk-iam-auth for the message); test/iam/ compares the token
 * with the Python library's own, byte for byte.
 */
#include "msk_iam.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KGATE_VERSION
#define DEFAULT_USER_AGENT "kgate/" KGATE_VERSION
#else
#define DEFAULT_USER_AGENT "kgate"
#endif

#define MAX_REGION 64
#define MAX_HOST 253 /* a DNS name */

/* A growing string with a ceiling; err latches (see aws_sigv4.c's sb). */
struct out {
	char *p;
	size_t len;
	size_t cap;
	int err;
};

static char *out_room(struct out *o, size_t more)
{
	size_t want;
	char *np;

	if (o->err)
		return NULL;
	if (more > AWS_SIGV4_MAX_OUTPUT || o->len + more >= AWS_SIGV4_MAX_OUTPUT) {
		o->err = 1;
		return NULL;
	}
	want = o->len + more + 1;
	if (want > o->cap) {
		want = want < 512 ? 512 : want * 2;
		if (want > AWS_SIGV4_MAX_OUTPUT)
			want = AWS_SIGV4_MAX_OUTPUT;
		np = realloc(o->p, want);
		if (!np) {
			o->err = 1;
			return NULL;
		}
		o->p = np;
		o->cap = want;
	}
	return o->p + o->len;
}

static void out_putn(struct out *o, const char *s, size_t n)
{
	char *d = out_room(o, n);

	if (!d)
		return;
	memcpy(d, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void out_puts(struct out *o, const char *s) { out_putn(o, s, strlen(s)); }

static char *out_take(struct out *o)
{
	if (o->err || !o->p) {
		free(o->p);
		o->p = NULL;
		return NULL;
	}
	return o->p;
}

/* A region as it appears in a host name: "us-east-1", "cn-north-1". */
static int region_ok(const char *r)
{
	size_t n;

	if (!r)
		return 0;
	n = strnlen(r, MAX_REGION + 1);
	if (n == 0 || n > MAX_REGION)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return 0;
	return 1;
}

static int user_agent_ok(const char *ua)
{
	return strnlen(ua, MSK_IAM_MAX_USER_AGENT + 1) <= MSK_IAM_MAX_USER_AGENT;
}

/* s form-encoded the way Python's urlencode (quote_plus) writes it, which
 * the signer uses for the User-Agent it appends: unreserved bytes as they
 * are, ' ' as '+', every other byte %XX. */
static void put_form_encoded(struct out *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *d = out_room(o, 3 * n);

	if (!d)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*d++ = (char)c;
		} else if (c == ' ') {
			*d++ = '+';
		} else {
			*d++ = '%';
			*d++ = hex[c >> 4];
			*d++ = hex[c & 15];
		}
	}
	o->len = (size_t)(d - o->p);
	o->p[o->len] = '\0';
}

/* base64url of n bytes, without '=' padding (RFC 4648 section 5). */
static char *base64url(const char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *u = (const unsigned char *)s;
	char *r = malloc(n / 3 * 4 + 4 + 1), *d = r;
	size_t i = 0;

	if (!r)
		return NULL;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];

		*d++ = tab[v >> 18 & 63];
		*d++ = tab[v >> 12 & 63];
		*d++ = tab[v >> 6 & 63];
		*d++ = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)u[i] << 16;

		*d++ = tab[v >> 18 & 63];
		*d++ = tab[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8;

		*d++ = tab[v >> 18 & 63];
		*d++ = tab[v >> 12 & 63];
		*d++ = tab[v >> 6 & 63];
	}
	*d = '\0';
	return r;
}

/* The presigned query string of MSK's connect request to host. */
static char *presign_connect(const struct aws_creds *c, const char *region, const char *host,
			     int64_t now, int64_t expires_s)
{
	static const struct aws_kv action = {"Action", MSK_IAM_ACTION};
	struct aws_sigv4_req r = {
		.method = "GET",
		.host = host,
		.path = "/",
		.query = &action,
		.nquery = 1,
		.region = region,
		.service = MSK_IAM_SERVICE,
	};

	return aws_sigv4_presign(c, &r, now, expires_s);
}

char *msk_iam_token(const struct aws_creds *c, const char *region, int64_t now,
		    int64_t expires_s, const char *user_agent)
{
	struct out url = {0};
	char host[MAX_REGION + 32];
	char *q, *token;

	if (!user_agent)
		user_agent = DEFAULT_USER_AGENT;
	if (!region_ok(region) || !user_agent_ok(user_agent))
		return NULL;
	if (expires_s <= 0)
		expires_s = MSK_IAM_DEFAULT_EXPIRES;
	snprintf(host, sizeof(host), "kafka.%s.amazonaws.com", region);
	q = presign_connect(c, region, host, now, expires_s);
	if (!q)
		return NULL;
	out_puts(&url, "https://");
	out_puts(&url, host);
	out_puts(&url, "/?");
	out_puts(&url, q);
	out_puts(&url, "&User-Agent=");
	put_form_encoded(&url, user_agent);
	free(q);
	if (!out_take(&url))
		return NULL;
	token = base64url(url.p, url.len);
	free(url.p);
	return token;
}

/* "key":"value" (with a leading ',' after the first), value escaped for
 * JSON: '"', '\' and control bytes escaped, other bytes as they are. */
static void put_json_field(struct out *o, const char *key, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(value);
	char *d;

	if (o->p && o->len && o->p[o->len - 1] != '{')
		out_puts(o, ",");
	out_puts(o, "\"");
	out_puts(o, key);
	out_puts(o, "\":\"");
	d = out_room(o, 6 * n + 1);
	if (!d)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];

		if (ch == '"' || ch == '\\') {
			*d++ = '\\';
			*d++ = (char)ch;
		} else if (ch < 0x20) {
			memcpy(d, "\\u00", 4);
			d[4] = hex[ch >> 4];
			d[5] = hex[ch & 15];
			d += 6;
		} else {
			*d++ = (char)ch;
		}
	}
	*d++ = '"';
	o->len = (size_t)(d - o->p);
	o->p[o->len] = '\0';
}

char *msk_iam_payload(const struct aws_creds *c, const char *region, const char *host,
		      int64_t now, const char *user_agent)
{
	char date[AWS_SIGV4_AMZ_DATE_LEN + 1], expires[24];
	struct out json = {0}, cred = {0};
	const char *sig;
	size_t qlen;
	char *q;

	if (!user_agent)
		user_agent = DEFAULT_USER_AGENT;
	if (!c || !region_ok(region) || !host || strnlen(host, MAX_HOST + 1) > MAX_HOST ||
	    !user_agent_ok(user_agent) || aws_sigv4_amz_date(now, date, sizeof(date)) < 0)
		return NULL;
	q = presign_connect(c, region, host, now, MSK_IAM_DEFAULT_EXPIRES);
	if (!q)
		return NULL;
	/* The presign ends "&X-Amz-Signature=<64 hex>"; the other values are
	 * what it was computed from, written here unencoded. */
	qlen = strlen(q);
	if (qlen < AWS_SIGV4_HEX_LEN) {
		free(q);
		return NULL;
	}
	sig = q + qlen - AWS_SIGV4_HEX_LEN;
	out_puts(&cred, c->access_key);
	out_puts(&cred, "/");
	out_putn(&cred, date, 8);
	out_puts(&cred, "/");
	out_puts(&cred, region);
	out_puts(&cred, "/" MSK_IAM_SERVICE "/aws4_request");
	snprintf(expires, sizeof(expires), "%d", MSK_IAM_DEFAULT_EXPIRES);
	if (out_take(&cred)) {
		out_puts(&json, "{");
		put_json_field(&json, "version", MSK_IAM_PAYLOAD_VERSION);
		put_json_field(&json, "host", host);
		put_json_field(&json, "user-agent", user_agent);
		put_json_field(&json, "action", MSK_IAM_ACTION);
		put_json_field(&json, "x-amz-algorithm", "AWS4-HMAC-SHA256");
		put_json_field(&json, "x-amz-credential", cred.p);
		put_json_field(&json, "x-amz-date", date);
		if (c->session_token[0])
			put_json_field(&json, "x-amz-security-token", c->session_token);
		put_json_field(&json, "x-amz-signedheaders", "host");
		put_json_field(&json, "x-amz-expires", expires);
		put_json_field(&json, "x-amz-signature", sig);
		out_puts(&json, "}");
	} else {
		json.err = 1;
	}
	free(cred.p);
	free(q);
	return out_take(&json);
}
