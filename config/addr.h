/* addr.h — "host:port" strings as users write them in the config. */
#ifndef KGATE_ADDR_H
#define KGATE_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* A parsed address: host without IPv6 brackets, and the text as written. */
struct cfg_addr {
	char *host;
	uint16_t port;
	char *text;
};

/* What a host may be. */
enum cfg_host_kind {
	CFG_HOST_ANY, /* a DNS name or an IP literal */
	CFG_HOST_IP   /* an IP literal only (something to bind to) */
};

/* The longest host name DNS allows, in text form (RFC 1035). */
#define CFG_HOST_MAX 253

/* 1 if host (NUL-terminated) is a host name (letters, digits, '-', '_',
 * dots; at most CFG_HOST_MAX) or an IP literal: what kgate will dial. */
int cfg_host_valid(const char *host);
/* Parses s into a (allocated with malloc).  On failure returns -1 and writes
 * what is wrong into err. */
int cfg_addr_parse(const char *s, enum cfg_host_kind kind, struct cfg_addr *a,
		   char *err, size_t errlen);
void cfg_addr_free(struct cfg_addr *a);
/* Writes "host:port", bracketing an IPv6 host, as cfg_addr_parse reads it. */
void cfg_addr_format(char *buf, size_t len, const char *host, unsigned port);
/* 1 if connecting to upstream would certainly reach listener: the same
 * port at the same address, or at loopback/"localhost"/a wildcard when the
 * listener is a wildcard.  (A name or another address may still loop, but
 * that cannot be told without resolving it.) */
int cfg_addr_dials_listener(const struct cfg_addr *upstream, const struct cfg_addr *listener);
/* 1 if a's host is a loopback address (127.0.0.0/8, ::1) or "localhost". */
int cfg_addr_is_loopback(const struct cfg_addr *a);
/* 1 if host is an IPv4 or IPv6 wildcard address. */
int cfg_addr_is_wildcard(const struct cfg_addr *a);
/* 1 if binding both would conflict: same port and same or wildcard host. */
int cfg_addr_listen_overlap(const struct cfg_addr *a, const struct cfg_addr *b);

#endif
