/* tls.c — OpenSSL bufferevents for kgate's two sides, and failure messages
 * that say what is wrong rather than which function failed. */
#include "tls.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static struct bufferevent *wrap(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				enum bufferevent_ssl_state state)
{
	struct bufferevent *bev;

	bev = bufferevent_openssl_socket_new(base, fd, ssl, state,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* Kafka clients and brokers often just close the socket: that is an
	 * end of stream, not an attack. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *tls_accept(struct event_base *base, evutil_socket_t fd, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);

	return ssl ? wrap(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING) : NULL;
}

struct bufferevent *tls_connect(struct event_base *base, evutil_socket_t fd, SSL_CTX *ctx,
				const char *name)
{
	SSL *ssl = SSL_new(ctx);
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;

	if (!ssl)
		return NULL;
	/* SNI carries DNS names only.  Each of these can fail (memory, a name
	 * OpenSSL will not take): going on would send no SNI, or verify no
	 * name at all, so a failure is no connection. */
	if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		goto fail;
	if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

		if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1
			  : SSL_set1_host(ssl, name) != 1)
			goto fail;
	}
	return wrap(base, fd, ssl, BUFFEREVENT_SSL_CONNECTING);
fail:
	SSL_free(ssl);
	return NULL;
}

int tls_is(struct bufferevent *bev)
{
	return bev && bufferevent_openssl_get_ssl(bev) != NULL;
}

/* Reasons OpenSSL gives when the other side did not speak TLS at all. */
static int not_tls(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_UNKNOWN_PROTOCOL:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_UNEXPECTED_RECORD:
		return 1;
	default:
		return 0;
	}
}

void tls_explain(struct bufferevent *bev, const char *peer, int serving, char *buf, size_t len)
{
	unsigned long errs[TLS_MAX_ERRORS], e;
	size_t n = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (n < TLS_MAX_ERRORS)
			errs[n++] = e;
	tls_explain_ssl(bufferevent_openssl_get_ssl(bev), errs, n, 0, peer, serving, buf, len);
}

void tls_explain_ssl(SSL *ssl, const unsigned long *errs, size_t n_errs, int sock_err,
		     const char *peer, int serving, char *buf, size_t len)
{
	unsigned long e, first = 0;
	char errors[512] = "";
	size_t n = 0;
	long verify;

	for (size_t i = 0; i < n_errs; i++) {
		const char *reason;

		e = errs[i];
		reason = ERR_reason_error_string(e);
		/* Only errors OpenSSL can name are worth a log line. */
		if (!reason)
			continue;
		if (!first)
			first = e;
		if (n + 2 < sizeof(errors))
			n += (size_t)snprintf(errors + n, sizeof(errors) - n, "%s%s", n ? "; " : "",
					      reason);
	}
	verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (!serving && verify != X509_V_OK) {
		snprintf(buf, len, "TLS with broker %s failed: its certificate does not verify: %s",
			 peer, X509_verify_cert_error_string(verify));
	} else if (serving && verify != X509_V_OK) {
		snprintf(buf, len, "TLS with client failed: its certificate does not verify: %s",
			 X509_verify_cert_error_string(verify));
	} else if (first && not_tls(first)) {
		if (serving)
			snprintf(buf, len, "client sent plaintext (not TLS) to TLS listener %s (%s)",
				 peer, errors);
		else
			snprintf(buf, len, "broker %s did not answer in TLS (%s): upstream TLS is on; "
					   "is that a plaintext listener?",
				 peer, errors);
	} else if (first) {
		snprintf(buf, len, "TLS with %s failed: %s", serving ? "client" : peer, errors);
	} else if (ssl && !SSL_is_init_finished(ssl)) {
		if (serving)
			snprintf(buf, len, "client left during the TLS handshake on %s", peer);
		else
			snprintf(buf, len, "broker %s closed the connection during the TLS handshake: "
					   "is it a TLS listener?",
				 peer);
	} else {
		snprintf(buf, len, "%s: %s", serving ? "client" : peer,
			 evutil_socket_error_to_string(sock_err ? sock_err : EVUTIL_SOCKET_ERROR()));
	}
}

void tls_session(struct bufferevent *bev, char *buf, size_t len)
{
	tls_session_ssl(bufferevent_openssl_get_ssl(bev), buf, len);
}

void tls_session_ssl(SSL *ssl, char *buf, size_t len)
{
	if (!ssl) {
		snprintf(buf, len, "plaintext");
		return;
	}
	snprintf(buf, len, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}
