/* http_fetch.c — one blocking HTTP/1.1 request over plain TCP or TLS (see
 * http_fetch.h).  No libcurl: the credential providers need GET, PUT and
 * POST with a few headers, and a bounded body back. */
#include "http_fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Headers beyond this are refused too: the services answer with a handful. */
#define HTTP_MAX_HEAD (16 * 1024)
/* The whole response within this many timeouts: a peer dripping a byte
 * at a time must not hold the credentials thread for long. */
#define HTTP_MAX_TIMEOUTS 3

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct http_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

int http_url_split(const char *url, int *https, char *host, size_t hostlen, char *port,
		   size_t portlen, const char **path)
{
	const char *p, *end, *h, *he;
	size_t n;

	if (strncmp(url, "https://", 8) == 0) {
		*https = 1;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		*https = 0;
		p = url + 7;
	} else {
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (*p == '[') { /* an IPv6 literal */
		h = p + 1;
		he = memchr(h, ']', (size_t)(end - h));
		if (!he)
			return -1;
		p = he + 1;
	} else {
		h = p;
		he = memchr(p, ':', (size_t)(end - p));
		if (!he)
			he = end;
		p = he;
	}
	n = (size_t)(he - h);
	if (n == 0 || n >= hostlen || memchr(h, '@', n))
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (p < end && *p == ':') {
		n = (size_t)(end - p - 1);
		if (n == 0 || n >= portlen || strspn(p + 1, "0123456789") < n)
			return -1;
		memcpy(port, p + 1, n);
		port[n] = '\0';
	} else if (p == end) {
		snprintf(port, portlen, "%s", *https ? "443" : "80");
	} else {
		return -1;
	}
	*path = *end == '/' ? end : "/";
	return 0;
}

/* Connects to host:port within timeout_ms (each address in turn), then
 * leaves the socket blocking with that timeout on every read and write. */
static int conn_tcp(const char *host, const char *port, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int rc, fd = -1, last = 0;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(last);

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last = errno;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, timeout_ms);
			if (rc == 0)
				last = ETIMEDOUT;
			else if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &sl) == 0 &&
				 last == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port,
			 last == ETIMEDOUT ? "timed out" : strerror(last));
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(err, errlen, "socket options: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void ssl_error(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "connection closed or timed out");
	ERR_clear_error();
}

/* TLS on c->fd, checking the certificate chain (system trust store) and
 * that it names host. */
static int conn_tls(struct http_conn *c, const char *host, char *err, size_t errlen)
{
	struct in6_addr a6;
	int is_ip = inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx || SSL_CTX_set_default_verify_paths(c->ctx) != 1 ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		ssl_error("TLS setup", err, errlen);
		return -1;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* A peer closing without close_notify ends the stream like EOF does;
	 * Content-Length still catches a truncated body. */
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host)
		   : SSL_set1_host(c->ssl, host) && SSL_set_tlsext_host_name(c->ssl, host)) != 1) {
		ssl_error("TLS setup", err, errlen);
		return -1;
	}
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK) {
			snprintf(err, errlen, "TLS handshake with %s: certificate: %s", host,
				 X509_verify_cert_error_string(v));
			ERR_clear_error();
			return -1;
		}
		ssl_error("TLS handshake", err, errlen);
		return -1;
	}
	return 0;
}

static void conn_close(struct http_conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
}

static int conn_write(struct http_conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (c->ssl) {
			size_t done = 0;

			if (SSL_write_ex(c->ssl, p, n, &done) != 1)
				return -1;
			w = (ssize_t)done;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes read into buf, 0 at the end of the stream, -1 on an error or a
 * timeout. */
static ssize_t conn_read(struct http_conn *c, char *buf, size_t n)
{
	if (c->ssl) {
		size_t got = 0;
		int e;

		if (SSL_read_ex(c->ssl, buf, n, &got) == 1)
			return (ssize_t)got;
		e = SSL_get_error(c->ssl, 0);
		ERR_clear_error();
		return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	for (;;) {
		ssize_t r = recv(c->fd, buf, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

/* The value of header name in head (headers only, CRLF separated), copied
 * into val; 0 if found. */
static int header_value(const char *head, const char *name, char *val, size_t len)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *eol = strstr(line, "\r\n");

		if (!eol)
			return -1;
		if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vn;

			while (*v == ' ' || *v == '\t')
				v++;
			vn = (size_t)(eol - v);
			while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
				vn--;
			if (vn >= len)
				vn = len - 1;
			memcpy(val, v, vn);
			val[vn] = '\0';
			return 0;
		}
		p = eol;
	}
	return -1;
}

/* Decodes a chunked body in place; its new length, or -1 if malformed. */
static long dechunk(char *b, size_t n)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long sz;
		const char *eol = memmem(b + in, n - in, "\r\n", 2);

		if (!eol)
			return -1;
		sz = strtoul(b + in, &end, 16);
		if (end == b + in || sz > n)
			return -1;
		in = (size_t)(eol - b) + 2;
		if (sz == 0)
			return (long)out;
		if (n - in < sz + 2 || memcmp(b + in + sz, "\r\n", 2) != 0)
			return -1;
		memmove(b + out, b + in, sz);
		out += sz;
		in += sz + 2;
	}
}

/* Splits the response in buf[0..n) into status and body (moved to the
 * start of buf).  1 when complete, 0 when more is needed, -1 if invalid. */
static int parse_response(char *buf, size_t n, int eof, struct http_response *resp, char *err,
			  size_t errlen)
{
	char *hend = memmem(buf, n, "\r\n\r\n", 4), val[64];
	size_t hlen, blen;
	int status;

	if (!hend)
		return eof || n >= HTTP_MAX_HEAD ? (snprintf(err, errlen, "no HTTP response"), -1)
						 : 0;
	hend[2] = '\0'; /* the headers as a string, ending with one CRLF */
	hlen = (size_t)(hend - buf) + 4;
	blen = n - hlen;
	if (sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100) {
		snprintf(err, errlen, "no HTTP response");
		return -1;
	}
	if (header_value(buf, "Transfer-Encoding", val, sizeof(val)) == 0 &&
	    strcasecmp(val, "identity") != 0) {
		long dl;

		if (!eof) {
			hend[2] = '\r';
			return 0;
		}
		dl = dechunk(buf + hlen, blen);
		if (dl < 0) {
			snprintf(err, errlen, "malformed chunked response");
			return -1;
		}
		blen = (size_t)dl;
	} else if (header_value(buf, "Content-Length", val, sizeof(val)) == 0) {
		char *end;
		unsigned long cl = strtoul(val, &end, 10);

		if (end == val || *end || cl > HTTP_FETCH_MAX_BODY) {
			snprintf(err, errlen, "response too large or bad Content-Length");
			return -1;
		}
		if (blen < cl) {
			hend[2] = '\r';
			if (eof) {
				snprintf(err, errlen, "response cut short");
				return -1;
			}
			return 0;
		}
		blen = cl;
	} else if (!eof) {
		hend[2] = '\r';
		return 0;
	}
	resp->status = status;
	memmove(buf, buf + hlen, blen);
	buf[blen] = '\0';
	resp->len = blen;
	return 1;
}

static int send_request(struct http_conn *c, const struct http_request *req, const char *host,
			const char *port, int https, const char *path)
{
	char head[8192];
	int dflt = strcmp(port, https ? "443" : "80") == 0;
	int v6 = strchr(host, ':') != NULL;
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nConnection: close\r\n"
			 "User-Agent: kgate\r\nAccept: */*\r\n%s",
			 req->method, path, v6 ? "[" : "", host, v6 ? "]" : "", dflt ? "" : ":",
			 dflt ? "" : port, req->headers ? req->headers : "");

	if (n < 0 || (size_t)n >= sizeof(head) - 40)
		return -1;
	if (req->body || strcmp(req->method, "GET") != 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n",
			      req->body ? req->body_len : 0);
	memcpy(head + n, "\r\n", 2);
	if (conn_write(c, head, (size_t)n + 2) < 0)
		return -1;
	return req->body ? conn_write(c, req->body, req->body_len) : 0;
}

int http_fetch(const struct http_request *req, struct http_response *resp, char *err,
	       size_t errlen)
{
	struct http_conn c = {.fd = -1};
	char host[256], port[8];
	const char *path;
	size_t cap = HTTP_MAX_HEAD + HTTP_FETCH_MAX_BODY, n = 0;
	int64_t deadline = now_ms() + (int64_t)req->timeout_ms * HTTP_MAX_TIMEOUTS;
	char *buf = NULL;
	int https, rc = -1;

	memset(resp, 0, sizeof(*resp));
	if (http_url_split(req->url, &https, host, sizeof(host), port, sizeof(port), &path) < 0) {
		snprintf(err, errlen, "not a usable http(s) URL");
		return -1;
	}
	c.fd = conn_tcp(host, port, req->timeout_ms, err, errlen);
	if (c.fd < 0)
		return -1;
	if (https && conn_tls(&c, host, err, errlen) < 0)
		goto out;
	if (send_request(&c, req, host, port, https, path) < 0) {
		snprintf(err, errlen, "cannot send the request to %s:%s", host, port);
		goto out;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = n < cap ? conn_read(&c, buf + n, cap - n) : 0;
		int done;

		if (r < 0) {
			snprintf(err, errlen, "reading the response from %s:%s: %s", host, port,
				 errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
									 : "connection failed");
			goto out;
		}
		if (r == 0 && n == cap) {
			snprintf(err, errlen, "response larger than %d bytes", HTTP_FETCH_MAX_BODY);
			goto out;
		}
		n += (size_t)r;
		done = parse_response(buf, n, r == 0, resp, err, errlen);
		if (done < 0)
			goto out;
		if (done > 0)
			break;
		if (now_ms() > deadline) {
			snprintf(err, errlen, "reading the response from %s:%s: timed out", host,
				 port);
			goto out;
		}
	}
	resp->body = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	conn_close(&c);
	return rc;
}

void http_response_free(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}
