/* tls.h — TLS on kgate's connections: wrapping sockets in OpenSSL
 * bufferevents, and saying in words why a handshake failed. */
#ifndef KGATE_GW_TLS_H
#define KGATE_GW_TLS_H

#include <event2/util.h>
#include <openssl/ssl.h>
#include <stddef.h>

struct bufferevent;
struct event_base;

/* A client connection on a TLS listener: the handshake starts at once. */
struct bufferevent *tls_accept(struct event_base *base, evutil_socket_t fd, SSL_CTX *ctx);
/* A connection to a broker: name is sent as SNI (if it is a DNS name) and,
 * when ctx verifies peers, checked against the broker's certificate.  NULL
 * if either cannot be set up (fd is then still the caller's). */
struct bufferevent *tls_connect(struct event_base *base, evutil_socket_t fd, SSL_CTX *ctx,
				const char *name);
/* 1 if bev speaks TLS. */
int tls_is(struct bufferevent *bev);
/* Why TLS on bev failed, in words, for a log line.  serving: 1 on kgate's
 * listeners (peer is then the listener's address), 0 towards a broker (peer
 * is the broker's address). */
void tls_explain(struct bufferevent *bev, const char *peer, int serving, char *buf, size_t len);
/* The negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"). */
void tls_session(struct bufferevent *bev, char *buf, size_t len);

/* OpenSSL errors kept for one explanation at most. */
#define TLS_MAX_ERRORS 4
/* tls_explain for a connection kgate drives itself: the errors OpenSSL
 * queued when it failed, and the socket's errno (0: none). */
void tls_explain_ssl(SSL *ssl, const unsigned long *errs, size_t n_errs, int sock_err,
		     const char *peer, int serving, char *buf, size_t len);
void tls_session_ssl(SSL *ssl, char *buf, size_t len);

#endif
