/* http_fetch.h — one blocking HTTP/1.1 request over plain TCP or TLS.
 *
 * Just enough HTTP for the AWS credential providers (instance metadata,
 * container credentials, STS): one request per connection, bounded
 * response, short timeouts.  It blocks, so only the credentials thread and
 * the `kgate aws-credentials` command call it, never an event loop.
 */
#ifndef KGATE_HTTP_FETCH_H
#define KGATE_HTTP_FETCH_H

#include <stddef.h>

/* Responses larger than this are refused (credentials are a few KiB). */
#define HTTP_FETCH_MAX_BODY (64 * 1024)

struct http_request {
	const char *method;  /* "GET", "PUT", "POST" */
	const char *url;     /* http://host[:port]/path or https://...; IPv6 in [] */
	const char *headers; /* extra header lines, each ending "\r\n"; or NULL */
	const char *body;    /* NULL: none */
	size_t body_len;
	int timeout_ms;      /* for the connect, and for each read or write */
};

struct http_response {
	int status;
	char *body; /* malloc'd, NUL-terminated */
	size_t len;
};

/* Sends req and reads the whole response.  https verifies the peer against
 * the system trust store and the URL's host name.  0 with resp filled in
 * (any status); -1 with err saying what failed (resp left empty). */
int http_fetch(const struct http_request *req, struct http_response *resp, char *err,
	       size_t errlen);
void http_response_free(struct http_response *resp);

/* Splits url into its scheme's verdict (*https), host (without brackets),
 * port and path (the rest, "/" if none).  -1 if it is not an http(s) URL
 * this client can use. */
int http_url_split(const char *url, int *https, char *host, size_t hostlen, char *port,
		   size_t portlen, const char **path);

#endif
