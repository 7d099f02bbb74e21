/* side_tls.c — the side ops of a TLS connection.
 *
 * The handshake runs on OpenSSL's bufferevent, as libevent does it (its
 * failures are explained by tls.c).  Once it is done, a side with pools
 * takes the connection over and drives OpenSSL itself (side_tls_take_over):
 * kgate's own read event reads the socket into chunks, up to 256 KiB at a
 * time, and a memory BIO hands them to OpenSSL, which decrypts every
 * record they hold into chunks again (chunk_space/chunk_commit), so the
 * input is chunk references like a plaintext side's and frames are cut
 * without copying.  Plaintext the owner puts in the output is encrypted as
 * it arrives (an evbuffer callback), straight into the socket's
 * bufferevent, which writes many records per system call.
 *
 * Through the bufferevent, OpenSSL read a record's header and its body
 * with two system calls and wrote each 16 KiB record with another, and
 * libevent took one record per loop pass: most of kgate's TLS cost.  And
 * with nothing buffered inside OpenSSL beyond what the memory BIO holds,
 * there is no data epoll cannot see — what the read event took is all
 * decrypted before it returns.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "side_internal.h"
#include "tls.h"

/* Ciphertext encrypted ahead of the socket at least: the rest of the
 * plaintext waits in the output, where the owner's back-pressure sees it. */
#define TLS_AHEAD (256 * 1024)

struct side_tls {
	SSL *ssl;
	BIO *rbio, *wbio;
	struct evbuffer *raw;  /* ciphertext read, not yet decrypted */
	struct chunk *raw_cur; /* the chunk ciphertext reads go on filling */
	struct evbuffer *out;  /* plaintext for the peer: encrypted as it comes */
	struct event *failed;  /* reports an encryption failure outside the output's callback */
	unsigned long errs[TLS_MAX_ERRORS];
	size_t n_errs;
};

/* ---- the handshake, on OpenSSL's bufferevent ---- */

static int tls_read_on(struct side *s)
{
	return bufferevent_enable(s->bev, EV_READ);
}

static void tls_read_off(struct side *s)
{
	bufferevent_disable(s->bev, EV_READ);
}

/* Every failure of a TLS connection counts as a TLS failure: OpenSSL
 * reports socket errors through the same queue. */
static int tls_failure(struct side *s, const char *peer, int serving, char *buf, size_t len)
{
	tls_explain(s->bev, peer, serving, buf, len);
	return 1;
}

static void tls_describe(const struct side *s, char *buf, size_t len)
{
	tls_session(s->bev, buf, len);
}

const struct side_ops side_tls_ops = {
	.name = "TLS",
	.read_on = tls_read_on,
	.read_off = tls_read_off,
	.failure = tls_failure,
	.describe = tls_describe,
};

/* ---- the BIOs between OpenSSL and kgate's buffers ---- */

static BIO_METHOD *bio_method;

/* OpenSSL reads ciphertext from the side's raw buffer. */
static int bio_read(BIO *b, char *buf, int len)
{
	struct side *s = BIO_get_data(b);
	int n;

	BIO_clear_retry_flags(b);
	if (!s || len <= 0)
		return -1;
	n = evbuffer_remove(s->tls->raw, buf, (size_t)len);
	if (n <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	return n;
}

/* OpenSSL writes records into the socket's bufferevent. */
static int bio_write(BIO *b, const char *buf, int len)
{
	struct side *s = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (!s || len < 0 || evbuffer_add(bufferevent_get_output(s->bev), buf, (size_t)len) < 0)
		return -1;
	return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct side *s = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return s && b == s->tls->rbio ? (long)evbuffer_get_length(s->tls->raw) : 0;
	case BIO_C_GET_FD:
		/* No descriptor: libevent, freeing the handshake's bufferevent
		 * later, must not close the socket kgate goes on using. */
		return -1;
	default:
		return 0;
	}
}

static void bio_method_init(void)
{
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kgate-side");
	if (bio_method &&
	    (!BIO_meth_set_read(bio_method, bio_read) || !BIO_meth_set_write(bio_method, bio_write) ||
	     !BIO_meth_set_ctrl(bio_method, bio_ctrl))) {
		BIO_meth_free(bio_method);
		bio_method = NULL;
	}
}

static BIO *side_bio(struct side *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	BIO *b;

	pthread_once(&once, bio_method_init);
	if (!bio_method || !(b = BIO_new(bio_method)))
		return NULL;
	BIO_set_data(b, s);
	BIO_set_init(b, 1);
	return b;
}

/* ---- after the handshake: kgate drives OpenSSL ---- */

/* Keeps what OpenSSL queued for the failure's explanation. */
static void keep_errors(struct side_tls *t)
{
	unsigned long e;

	while ((e = ERR_get_error()) != 0)
		if (t->n_errs < TLS_MAX_ERRORS)
			t->errs[t->n_errs++] = e;
}

/* Decrypts everything the raw buffer holds into s->in.  1 the peer closed
 * the TLS session, 0 fine, -1 failed (errors kept; s->err if it was
 * memory). */
static int decrypt(struct side *s)
{
	struct side_tls *t = s->tls;

	for (;;) {
		size_t room, got = 0;
		void *at = chunk_space(s->pool, &s->cur, &room);
		int ok, err;

		if (!at) {
			s->err = ENOMEM;
			return -1;
		}
		ERR_clear_error();
		ok = SSL_read_ex(t->ssl, at, room, &got);
		if (chunk_commit(&s->cur, s->in, ok ? got : 0) < 0) {
			s->err = ENOMEM;
			return -1;
		}
		if (ok)
			continue;
		err = SSL_get_error(t->ssl, 0);
		if (err == SSL_ERROR_WANT_READ) {
			/* Everything decrypted: OpenSSL's record buffer (16 KiB)
			 * goes back until the next record.  SSL_MODE_RELEASE_BUFFERS
			 * frees it after application data only, not after the
			 * session tickets a server sends once the handshake is
			 * done, which left it held by every idle upstream. */
			if (!SSL_has_pending(t->ssl))
				(void)SSL_free_buffers(t->ssl);
			return 0;
		}
		if (err == SSL_ERROR_ZERO_RETURN)
			return 1;
		keep_errors(t);
		return -1;
	}
}

/* The socket is readable: its ciphertext into chunks, then decrypted. */
static void direct_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct side *s = arg;
	struct side_tls *t = s->tls;
	size_t before = evbuffer_get_length(s->in);
	ssize_t r;
	int rc;

	(void)what;
	r = chunk_read(s->pool, &t->raw_cur, fd, side_read_size(fd), t->raw);
	if (r < 0) {
		side_read_failed(s, r);
		return;
	}
	rc = decrypt(s);
	if (rc < 0) {
		s->cb(s, SIDE_ERROR, s->arg);
		return;
	}
	if (evbuffer_get_length(s->in) > before) {
		s->cb(s, SIDE_READ, s->arg);
		if (!s->bev || s->tls != t)
			return; /* the owner closed the side */
	}
	/* A close_notify, or the socket's end (without one: Kafka peers
	 * often just close, which is an end of stream, not an attack). */
	if (rc == 1 || r == 0) {
		s->err = 0;
		s->cb(s, SIDE_EOF, s->arg);
	}
}

static int direct_read_on(struct side *s)
{
	return side_read_event_on(s, direct_read_cb);
}

/* After the handshake a socket error (a reset, a broken pipe) is what it
 * is on a plaintext connection, not a TLS failure; what OpenSSL refused
 * (a bad record, an alert) is one. */
static int direct_failure(struct side *s, const char *peer, int serving, char *buf, size_t len)
{
	struct side_tls *t = s->tls;

	if ((!t || !t->n_errs) && s->err) {
		snprintf(buf, len, "%s: %s", serving ? "client" : peer,
			 evutil_socket_error_to_string(s->err));
		return 0;
	}
	tls_explain_ssl(t ? t->ssl : NULL, t ? t->errs : NULL, t ? t->n_errs : 0, s->err, peer,
			serving, buf, len);
	return 1;
}

static void direct_describe(const struct side *s, char *buf, size_t len)
{
	tls_session_ssl(s->tls ? s->tls->ssl : NULL, buf, len);
}

static int direct_writable(struct side *s);

static const struct side_ops side_tls_direct_ops = {
	.name = "TLS",
	.read_on = direct_read_on,
	.read_off = side_read_event_off,
	.failure = direct_failure,
	.describe = direct_describe,
	.writable = direct_writable,
	.chunked = 1,
};

static void failed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct side *s = arg;

	(void)fd;
	(void)what;
	s->cb(s, SIDE_ERROR, s->arg);
}

/* Encrypts plaintext from the output into the socket's bufferevent, chain
 * by chain (no copy but the encryption's), until the ciphertext waiting
 * reaches the write watermark or TLS_AHEAD. */
static void encrypt(struct side *s)
{
	struct side_tls *t = s->tls;
	struct evbuffer *wire = bufferevent_get_output(s->bev);
	size_t ahead = s->write_low > TLS_AHEAD ? s->write_low : TLS_AHEAD;
	struct evbuffer_iovec v;

	if (!t || t->n_errs)
		return;
	while (evbuffer_get_length(wire) < ahead && evbuffer_peek(t->out, -1, NULL, &v, 1) > 0 &&
	       v.iov_len) {
		size_t done = 0;

		ERR_clear_error();
		if (!SSL_write_ex(t->ssl, v.iov_base, v.iov_len, &done)) {
			/* The owner is in the middle of forwarding: say so from
			 * the loop, not from here. */
			keep_errors(t);
			if (!t->n_errs)
				t->errs[t->n_errs++] = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_BAD_WRITE_RETRY);
			event_active(t->failed, EV_TIMEOUT, 0);
			return;
		}
		evbuffer_drain(t->out, done);
	}
}

/* Plaintext arrived in the output. */
static void encrypt_cb(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	(void)out;
	if (info->n_added)
		encrypt(arg);
}

/* The socket took ciphertext: encrypt what waits; SIDE_FLUSHED once the
 * plaintext is down to the watermark too. */
static int direct_writable(struct side *s)
{
	encrypt(s);
	return evbuffer_get_length(s->tls->out) <= (s->flush_all ? 0 : s->write_low);
}

SSL *side_ssl(const struct side *s)
{
	return s->tls ? s->tls->ssl : s->bev ? bufferevent_openssl_get_ssl(s->bev) : NULL;
}

int side_peer_name(const struct side *s, char *buf, size_t len)
{
	SSL *ssl = side_ssl(s);
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	X509_NAME *subject = cert ? X509_get_subject_name(cert) : NULL;
	unsigned char *utf8 = NULL;
	int i, n;

	/* Exactly one common name, whole: a name cut to fit, or with a NUL
	 * inside, could compare equal to another identity's. */
	if (!subject || (i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(subject, NID_commonName, i) >= 0)
		return -1;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
	if (n <= 0 || (size_t)n >= len || memchr(utf8, 0, (size_t)n)) {
		OPENSSL_free(utf8);
		return -1;
	}
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

int side_tls_take_over(struct side *s)
{
	struct bufferevent *old = s->bev, *plain;
	struct event_base *base = bufferevent_get_base(old);
	SSL *ssl = bufferevent_openssl_get_ssl(old);
	evutil_socket_t fd = bufferevent_getfd(old);
	struct evbuffer *early = bufferevent_get_input(old);
	struct side_tls *t;

	if (!ssl || !s->pool || !SSL_is_init_finished(ssl))
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	s->tls = t;
	t->raw = evbuffer_new();
	t->out = evbuffer_new();
	t->failed = event_new(base, -1, 0, failed_cb, s);
	t->rbio = side_bio(s);
	t->wbio = side_bio(s);
	plain = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!t->raw || !t->out || !t->failed || !t->rbio || !t->wbio || !plain ||
	    !evbuffer_add_cb(t->out, encrypt_cb, s)) {
		if (plain)
			bufferevent_free(plain);
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		t->rbio = t->wbio = NULL;
		return -1;
	}
	/* What libevent decrypted already (a request sent right behind the
	 * handshake) comes first, copied into chunks like the rest. */
	if (evbuffer_prepend_buffer(early, s->in) < 0) {
		bufferevent_free(plain);
		return -1;
	}
	while (evbuffer_get_length(early)) {
		size_t room, n;
		void *at = chunk_space(s->pool, &s->cur, &room);

		n = evbuffer_get_length(early) < room ? evbuffer_get_length(early) : room;
		if (!at || evbuffer_remove(early, at, n) != (int)n ||
		    chunk_commit(&s->cur, s->in, n) < 0) {
			bufferevent_free(plain);
			return -1;
		}
	}
	/* From here OpenSSL talks to kgate's buffers; the handshake's
	 * bufferevent goes (its SSL_free drops libevent's reference, and it
	 * finds no descriptor to close in kgate's BIO). */
	if (SSL_up_ref(ssl) != 1) {
		bufferevent_free(plain);
		return -1;
	}
	t->ssl = ssl;
	SSL_set_bio(ssl, t->rbio, t->wbio);
	if (s->rev) {
		event_free(s->rev);
		s->rev = NULL;
	}
	bufferevent_free(old);
	s->bev = plain;
	/* The socket's bufferevent now belongs to the side: closing it closes
	 * the connection. */
	bufferevent_setcb(plain, NULL, side_bev_write_cb, side_bev_event_cb, s);
	bufferevent_setwatermark(plain, EV_WRITE, s->flush_all ? 0 : s->write_low, 0);
	bufferevent_set_max_single_write(plain, MAX_SINGLE_IO);
	s->ops = &side_tls_direct_ops;
	if (s->started && (bufferevent_enable(plain, EV_WRITE) < 0 ||
			   (!side_held(s) && !s->stopped && s->ops->read_on(s) < 0)))
		return -1;
	/* Records OpenSSL read with the handshake's last one. */
	return decrypt(s) < 0 ? -1 : 1;
}

struct evbuffer *side_tls_output(const struct side *s)
{
	return s->tls->out;
}

void side_tls_free(struct side *s)
{
	struct side_tls *t = s->tls;

	if (!t)
		return;
	s->tls = NULL;
	if (t->rbio)
		BIO_set_data(t->rbio, NULL);
	if (t->wbio)
		BIO_set_data(t->wbio, NULL);
	if (t->ssl)
		SSL_free(t->ssl);
	else {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
	}
	if (t->failed)
		event_free(t->failed);
	chunk_release(&t->raw_cur);
	if (t->raw)
		evbuffer_free(t->raw);
	if (t->out)
		evbuffer_free(t->out);
	free(t);
}
