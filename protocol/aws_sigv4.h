/* aws_sigv4.h — AWS credentials as an SDK holds them, and Signature Version 4
 * (the signing MSK IAM authentication rests on).
 *
 * Pure: the time is an argument, nothing is read from the environment or
 * the network (gateway/aws_creds.c finds credentials; protocol/msk_iam.c
 * builds MSK's tokens from them).  OpenSSL gives SHA-256 and HMAC; the rest
 * (canonical request, string to sign, key derivation, presigning) is here.
 *
 * Every input is bounded (AWS_SIGV4_MAX_*): a request over a bound is
 * refused (NULL or -1), never truncated, since a truncated canonical request
 * would sign something other than what is sent.
 */
#ifndef KGATE_AWS_SIGV4_H
#define KGATE_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

/* Credentials as an AWS SDK holds them. */
struct aws_creds {
	char access_key[128];
	char secret_key[128];
	char session_token[4096]; /* "" when long-term keys */
	int64_t expires;          /* unix seconds; 0: never */
	char provider[32];        /* "environment", "profile", "web identity",
	                           * "container", "imds", "config": for logs */
};

#define AWS_SIGV4_MAX_PARAMS 32   /* query parameters of one request */
#define AWS_SIGV4_MAX_HEADERS 32  /* signed headers besides host */
#define AWS_SIGV4_MAX_FIELD 8192  /* any one name, value, path or host */
#define AWS_SIGV4_MAX_PAYLOAD (1 << 20)
#define AWS_SIGV4_MAX_OUTPUT 65536 /* canonical request, header, query string */

/* Lengths of the fixed-size results, without their NUL. */
#define AWS_SIGV4_HEX_LEN 64      /* SHA-256 or HMAC-SHA256 in lower-case hex */
#define AWS_SIGV4_AMZ_DATE_LEN 16 /* 20150830T123600Z */

/* The payload hash presigned S3 URLs use instead of hashing a body. */
#define AWS_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* A header or query parameter: name and value as they are, not encoded. */
struct aws_kv {
	const char *name;
	const char *value;
};

/* One HTTP request to sign. */
struct aws_sigv4_req {
	const char *method;  /* "GET" */
	const char *host;    /* the Host header's value; always signed */
	const char *path;    /* "/" or "/a/b" ("" is "/"): not encoded (each
	                      * segment is encoded once here), normalised */
	const struct aws_kv *query; /* in the order they go on the URL */
	size_t nquery;
	const struct aws_kv *headers; /* signed besides host (e.g. X-Amz-Date
	                               * when signing into a header); names in
	                               * any case, repeated names joined by ',' */
	size_t nheaders;
	const void *payload; /* the body (NULL, 0: none) */
	size_t payload_len;
	const char *payload_hash; /* NULL: SHA-256 of the payload; else used as
	                           * is (AWS_SIGV4_UNSIGNED_PAYLOAD) */
	const char *region;       /* "us-east-1" */
	const char *service;      /* "kafka-cluster", "s3", ... */
};

/* X-Amz-Date of unix time now ("20150830T123600Z"): out holds at least
 * AWS_SIGV4_AMZ_DATE_LEN + 1 bytes.  0, or -1 for a time outside years
 * 1970..9999. */
int aws_sigv4_amz_date(int64_t now, char *out, size_t outlen);

/* AWS's URI encoding of n bytes of s into out (NUL-terminated): unreserved
 * characters (A-Z a-z 0-9 - _ . ~) as they are, every other byte as %XX in
 * upper-case hex; '/' kept when keep_slash (paths), encoded otherwise.
 * The length written, or -1 when out is too small. */
int aws_uri_encode(const char *s, size_t n, int keep_slash, char *out, size_t outlen);

/* The canonical request of r, the lines SigV4 hashes (malloc'd; NULL when r
 * is over a bound, has a control character in a header, or memory ran out).
 * Exposed for tests and for logging a failed signature. */
char *aws_sigv4_canonical_request(const struct aws_sigv4_req *r);

/* The signature (hex, NUL-terminated, AWS_SIGV4_HEX_LEN + 1 bytes in out)
 * of a canonical request: string to sign from amz_date and the scope
 * date/region/service/aws4_request, key derived from the secret by the HMAC
 * chain.  0, or -1 on bad input. */
int aws_sigv4_signature(const char *secret_key, const char *amz_date, const char *region,
			const char *service, const char *canonical_request, char *out,
			size_t outlen);

/* The Authorization header's value for r signed at now:
 * "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
 * SignedHeaders=a;b, Signature=hex".  r->headers must already hold what the
 * service wants signed besides host (X-Amz-Date of now, and
 * X-Amz-Security-Token when c has a session token): this signs the request
 * as given.  malloc'd, or NULL. */
char *aws_sigv4_authorization(const struct aws_creds *c, const struct aws_sigv4_req *r,
			      int64_t now);

/* Presigns r at now for expires_s seconds (1..604800): the query string
 * (no leading '?') to put on the URL: r's own parameters in their order,
 * then X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-SignedHeaders, X-Amz-Security-Token (when c has a session token),
 * and last X-Amz-Signature, every name and value URI-encoded (the order
 * botocore's SigV4QueryAuth writes).  malloc'd, or NULL. */
char *aws_sigv4_presign(const struct aws_creds *c, const struct aws_sigv4_req *r, int64_t now,
			int64_t expires_s);

#endif
