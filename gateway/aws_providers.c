/* aws_providers.c — AWS credentials from STS (web identity), the container
 * credentials endpoint and EC2 instance metadata (see aws_providers.h).
 *
 * The endpoints are on the local link or loopback (IMDS, ECS, EKS Pod
 * Identity), so they get a 1 s timeout: a host that is not in AWS must
 * get past them quickly.  STS is a real network service: a few seconds.
 */
#include "aws_providers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_fetch.h"

#define LINK_TIMEOUT_MS 1000
#define STS_TIMEOUT_MS 5000
/* A web identity token (a JWT) is a few KiB. */
#define TOKEN_FILE_MAX (64 * 1024)

int aws_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	int off = 0, n = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h, m;

		if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
			return -1;
		off = (h * 60 + m) * 60 * (*p == '+' ? 1 : -1);
	} else if (strcmp(p, "Z") != 0) {
		return -1;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t - off;
	return 0;
}

/* Copies the three secrets and the expiry into c; -1 (why) if one is
 * missing or does not fit. */
static int set_creds(struct aws_creds *c, const char *provider, const char *key,
		     const char *secret, const char *token, const char *expiration, char *why,
		     size_t len)
{
	memset(c, 0, sizeof(*c));
	if (!key || !*key || !secret || !*secret) {
		snprintf(why, len, "no AccessKeyId/SecretAccessKey in the answer");
		return -1;
	}
	if (strlen(key) >= sizeof(c->access_key) || strlen(secret) >= sizeof(c->secret_key) ||
	    (token && strlen(token) >= sizeof(c->session_token))) {
		snprintf(why, len, "a credential in the answer is too long");
		return -1;
	}
	if (expiration && aws_time_parse(expiration, &c->expires) < 0) {
		snprintf(why, len, "unreadable Expiration in the answer");
		return -1;
	}
	snprintf(c->access_key, sizeof(c->access_key), "%s", key);
	snprintf(c->secret_key, sizeof(c->secret_key), "%s", secret);
	snprintf(c->session_token, sizeof(c->session_token), "%s", token ? token : "");
	snprintf(c->provider, sizeof(c->provider), "%s", provider);
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The JSON the container endpoint and IMDS answer with. */
static int creds_from_json(struct aws_creds *c, const char *provider, const char *body,
			   size_t n, char *why, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(body, n, 0, &jerr);
	const char *code;
	int rc;

	if (!json_is_object(o)) {
		snprintf(why, len, "the answer is not a JSON object");
		json_decref(o);
		return -1;
	}
	code = jstr(o, "Code");
	if (code && strcmp(code, "Success") != 0) {
		char m[200];
		const char *msg = jstr(o, "Message");

		snprintf(m, sizeof(m), "%s", msg ? msg : "");
		snprintf(why, len, "answer says %s%s%s", code, *m ? ": " : "", m);
		json_decref(o);
		return -1;
	}
	rc = set_creds(c, provider, jstr(o, "AccessKeyId"), jstr(o, "SecretAccessKey"),
		       jstr(o, "Token"), jstr(o, "Expiration"), why, len);
	json_decref(o);
	return rc;
}

/* The text of the first <tag>…</tag> in xml, entities decoded, into buf;
 * NULL if absent or too long. */
static const char *xml_text(const char *xml, const char *tag, char *buf, size_t len)
{
	char open[64], close[64];
	const char *s, *e;
	size_t o = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(xml, open);
	if (!s)
		return NULL;
	s += strlen(open);
	e = strstr(s, close);
	if (!e)
		return NULL;
	while (s < e) {
		static const char *const ent[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"},
						     {"&quot;", "\""}, {"&apos;", "'"}};
		char ch = *s;
		size_t step = 1;

		for (size_t i = 0; ch == '&' && i < 5; i++)
			if (strncmp(s, ent[i][0], strlen(ent[i][0])) == 0) {
				ch = ent[i][1][0];
				step = strlen(ent[i][0]);
			}
		if (o + 1 >= len)
			return NULL;
		buf[o++] = ch;
		s += step;
	}
	buf[o] = '\0';
	return buf;
}

/* Appends "&name=" and value, percent-encoded, to the form in b. */
static void form_add(char *b, size_t cap, size_t *n, const char *name, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	*n += (size_t)snprintf(b + *n, cap - *n, "%s%s=", *n ? "&" : "", name);
	for (; *v && *n + 4 < cap; v++) {
		unsigned char ch = (unsigned char)*v;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			b[(*n)++] = (char)ch;
		} else {
			b[(*n)++] = '%';
			b[(*n)++] = hex[ch >> 4];
			b[(*n)++] = hex[ch & 15];
		}
	}
	b[*n] = '\0';
}

/* The first line of the file at path (at most TOKEN_FILE_MAX bytes),
 * malloc'd; NULL with why if it cannot be read or is empty. */
static char *read_token(const char *path, const char *what, char *why, size_t len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f) {
		snprintf(why, len, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	buf = malloc(TOKEN_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(why, len, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, TOKEN_FILE_MAX + 1, f);
	fclose(f);
	if (n > TOKEN_FILE_MAX) {
		snprintf(why, len, "%s %s: larger than %d bytes", what, path, TOKEN_FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf) {
		snprintf(why, len, "%s %s is empty", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* STS's endpoint: an override (which may be http, for tests and private
 * endpoints), else the regional one, else the global one. */
static void sts_url(const char *region, char *buf, size_t len)
{
	const char *o = getenv("AWS_ENDPOINT_URL_STS");

	if (!o || !*o)
		o = getenv("AWS_ENDPOINT_URL");
	if (o && *o)
		snprintf(buf, len, "%s", o);
	else if (region && *region)
		snprintf(buf, len, "https://sts.%s.amazonaws.com%s/", region,
			 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	else
		snprintf(buf, len, "https://sts.amazonaws.com/");
}

int aws_from_web_identity(const char *region, struct aws_creds *c, char *why, size_t len)
{
	const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = getenv("AWS_ROLE_ARN");
	const char *session = getenv("AWS_ROLE_SESSION_NAME");
	struct http_request req = {.method = "POST", .timeout_ms = STS_TIMEOUT_MS};
	struct http_response resp;
	char url[512], err[300], name[64], *token, *form, *x = NULL;
	size_t cap, n = 0;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (!file || !*file) {
		snprintf(why, len, "not set");
		return -1;
	}
	if (!role || !*role) {
		snprintf(why, len, "AWS_WEB_IDENTITY_TOKEN_FILE set but not AWS_ROLE_ARN");
		return -1;
	}
	token = read_token(file, "token file", why, len);
	if (!token)
		return -1;
	if (!session || !*session) {
		snprintf(name, sizeof(name), "kgate-%lld", (long long)time(NULL));
		session = name;
	}
	cap = 3 * (strlen(token) + strlen(role) + strlen(session)) + 200;
	form = malloc(cap);
	if (!form) {
		free(token);
		snprintf(why, len, "out of memory");
		return -1;
	}
	form_add(form, cap, &n, "Action", "AssumeRoleWithWebIdentity");
	form_add(form, cap, &n, "Version", "2011-06-15");
	form_add(form, cap, &n, "RoleArn", role);
	form_add(form, cap, &n, "RoleSessionName", session);
	form_add(form, cap, &n, "WebIdentityToken", token);
	explicit_bzero(token, strlen(token));
	free(token);
	sts_url(region, url, sizeof(url));
	req.url = url;
	req.headers = "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n";
	req.body = form;
	req.body_len = n;
	if (http_fetch(&req, &resp, err, sizeof(err)) < 0) {
		snprintf(why, len, "STS %s: %s", url, err);
		goto out;
	}
	x = malloc(2 * sizeof(c->session_token));
	if (!x) {
		snprintf(why, len, "out of memory");
	} else if (resp.status != 200) {
		char code[100], msg[200];

		snprintf(why, len, "STS %s: HTTP %d %s: %s", url, resp.status,
			 xml_text(resp.body, "Code", code, sizeof(code)) ? code : "",
			 xml_text(resp.body, "Message", msg, sizeof(msg)) ? msg : "");
	} else {
		/* One buffer, four fields: each fits its struct aws_creds field. */
		char *k = x, *s = k + 128, *t = s + 128, *e = t + sizeof(c->session_token);

		rc = set_creds(c, "web identity", xml_text(resp.body, "AccessKeyId", k, 128),
			       xml_text(resp.body, "SecretAccessKey", s, 128),
			       xml_text(resp.body, "SessionToken", t, sizeof(c->session_token)),
			       xml_text(resp.body, "Expiration", e, 64), why, len);
		if (rc < 0)
			snprintf(why + strlen(why), len - strlen(why), " (STS %s)", url);
		explicit_bzero(x, 2 * sizeof(c->session_token));
	}
	explicit_bzero(resp.body, resp.len);
	http_response_free(&resp);
out:
	free(x);
	free(form);
	return rc;
}

/* Plain http to the container endpoint is allowed only where the SDKs
 * allow it: loopback, or the ECS and EKS Pod Identity link-local agents. */
static int container_host_ok(const char *url)
{
	static const char *const hosts[] = {"localhost", "169.254.170.2", "169.254.170.23",
					    "fd00:ec2::23", "::1"};
	char host[256], port[8];
	const char *path;
	struct in_addr a4;
	int https;

	if (http_url_split(url, &https, host, sizeof(host), port, sizeof(port), &path) < 0)
		return 0;
	if (https)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
		return 1;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcmp(host, hosts[i]) == 0)
			return 1;
	return 0;
}

int aws_from_container(struct aws_creds *c, char *why, size_t len)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tfile = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tenv = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct http_request req = {.method = "GET", .timeout_ms = LINK_TIMEOUT_MS};
	struct http_response resp;
	char url[1024], err[300], *token = NULL, *hdr = NULL;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (rel && *rel) {
		snprintf(url, sizeof(url), "http://169.254.170.2%s%s", *rel == '/' ? "" : "/", rel);
	} else if (full && *full) {
		snprintf(url, sizeof(url), "%s", full);
		if (!container_host_ok(url)) {
			snprintf(why, len, "AWS_CONTAINER_CREDENTIALS_FULL_URI %s: plain http only "
					   "to loopback or the ECS/EKS agent addresses", url);
			return -1;
		}
	} else {
		snprintf(why, len, "not set");
		return -1;
	}
	/* The file wins (EKS Pod Identity rotates it); read on every fetch. */
	if (tfile && *tfile) {
		token = read_token(tfile, "authorization token file", why, len);
		if (!token)
			return -1;
	} else if (tenv && *tenv) {
		token = strdup(tenv);
		if (!token) {
			snprintf(why, len, "out of memory");
			return -1;
		}
	}
	if (token) {
		size_t n = strlen(token) + 32;

		hdr = strchr(token, '\r') || strchr(token, '\n') ? NULL : malloc(n);
		if (!hdr) {
			snprintf(why, len, "unusable authorization token");
			goto out;
		}
		snprintf(hdr, n, "Authorization: %s\r\n", token);
		req.headers = hdr;
	}
	req.url = url;
	if (http_fetch(&req, &resp, err, sizeof(err)) < 0) {
		snprintf(why, len, "%s: %s", url, err);
		goto out;
	}
	if (resp.status != 200)
		snprintf(why, len, "%s: HTTP %d", url, resp.status);
	else if (creds_from_json(c, "container", resp.body, resp.len, why, len) == 0)
		rc = 0;
	else
		snprintf(why + strlen(why), len - strlen(why), " (%s)", url);
	explicit_bzero(resp.body, resp.len);
	http_response_free(&resp);
out:
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	free(hdr);
	return rc;
}

/* One IMDS request: its body in resp when the status is 200; else why. */
static int imds_get(const char *method, const char *url, const char *headers,
		    struct http_response *resp, char *why, size_t len)
{
	struct http_request req = {.method = method, .url = url, .headers = headers,
				   .timeout_ms = LINK_TIMEOUT_MS};
	char err[300];

	if (http_fetch(&req, resp, err, sizeof(err)) < 0) {
		snprintf(why, len, "%s: %s", url, err);
		return -1;
	}
	if (resp->status == 200)
		return 0;
	snprintf(why, len, "%s: HTTP %d%s", url, resp->status,
		 resp->status == 404 && strstr(url, "security-credentials")
			 ? " (no IAM role attached to the instance)"
			 : "");
	http_response_free(resp);
	return -1;
}

int aws_from_imds(struct aws_creds *c, char *why, size_t len)
{
	const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	struct http_response resp;
	char base[512], url[1024], hdr[256], role[256];
	size_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	if (dis && strcasecmp(dis, "true") == 0) {
		snprintf(why, len, "disabled (AWS_EC2_METADATA_DISABLED)");
		return -1;
	}
	if (!ep || !*ep)
		ep = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]"
							   : "http://169.254.169.254";
	snprintf(base, sizeof(base), "%s", ep);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	/* IMDSv2: a session token first (v1's unauthenticated GETs are not
	 * tried: instances should require v2). */
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	if (imds_get("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n", &resp, why,
		     len) < 0)
		return -1;
	if (resp.len == 0 || resp.len > 200 || strpbrk(resp.body, "\r\n")) {
		snprintf(why, len, "%s: unusable token", url);
		http_response_free(&resp);
		return -1;
	}
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s\r\n", resp.body);
	http_response_free(&resp);
	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/", base);
	if (imds_get("GET", url, hdr, &resp, why, len) < 0)
		return -1;
	resp.body[strcspn(resp.body, "\r\n")] = '\0'; /* the first role */
	rc = resp.body[0] && strlen(resp.body) < sizeof(role) && !strchr(resp.body, '/');
	snprintf(role, sizeof(role), "%s", rc ? resp.body : "");
	http_response_free(&resp);
	if (!rc) {
		snprintf(why, len, "%s: no usable role name", url);
		return -1;
	}
	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", base, role);
	if (imds_get("GET", url, hdr, &resp, why, len) < 0)
		return -1;
	rc = creds_from_json(c, "imds", resp.body, resp.len, why, len);
	if (rc < 0)
		snprintf(why + strlen(why), len - strlen(why), " (%s)", url);
	explicit_bzero(resp.body, resp.len);
	http_response_free(&resp);
	return rc;
}
