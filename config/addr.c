/* addr.c — parsing and comparing "host:port" config values. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOSTNAME_MAX CFG_HOST_MAX

static int is_ip(const char *host, int *family)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, host, buf) == 1) {
		*family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, host, buf) == 1) {
		*family = AF_INET6;
		return 1;
	}
	return 0;
}

/* Letters, digits, '-', '_' (seen in container names) and dots. */
static int is_hostname(const char *h)
{
	size_t len = strlen(h);

	if (len == 0 || len > HOSTNAME_MAX || h[0] == '.' || h[0] == '-')
		return 0;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return 0;
	return 1;
}

int cfg_host_valid(const char *host)
{
	int family;

	return is_ip(host, &family) || is_hostname(host);
}

int cfg_addr_parse(const char *s, enum cfg_host_kind kind, struct cfg_addr *a,
		   char *err, size_t errlen)
{
	const char *colon, *host_start, *host_end, *port_str;
	char host[HOSTNAME_MAX + 1];
	char *end;
	long port;
	int family;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		host_start = s + 1;
		host_end = strchr(s, ']');
		if (!host_end || host_end[1] != ':') {
			snprintf(err, errlen, "IPv6 addresses are written \"[addr]:port\"");
			return -1;
		}
		port_str = host_end + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(err, errlen, "no port (expected \"host:port\")");
			return -1;
		}
		host_start = s;
		host_end = colon;
		port_str = colon + 1;
		if (memchr(s, ':', (size_t)(colon - s))) {
			snprintf(err, errlen, "IPv6 addresses need brackets: \"[addr]:port\"");
			return -1;
		}
	}
	if ((size_t)(host_end - host_start) > HOSTNAME_MAX || host_end == host_start) {
		snprintf(err, errlen, "host is %s (expected \"host:port\")",
			 host_end == host_start ? "empty" : "too long");
		return -1;
	}
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';

	port = strtol(port_str, &end, 10);
	if (!isdigit((unsigned char)port_str[0]) || *end || port < 1 || port > 65535) {
		snprintf(err, errlen, "port \"%s\" is not a number from 1 to 65535", port_str);
		return -1;
	}
	if (kind == CFG_HOST_IP) {
		if (!is_ip(host, &family)) {
			snprintf(err, errlen,
				 "\"%s\" is not an IP address (listen on an address such as "
				 "\"0.0.0.0\", \"127.0.0.1\" or \"[::]\")",
				 host);
			return -1;
		}
	} else if (!is_ip(host, &family) && !is_hostname(host)) {
		snprintf(err, errlen, "\"%s\" is neither a host name nor an IP address", host);
		return -1;
	}
	if (s[0] == '[' && !(is_ip(host, &family) && family == AF_INET6)) {
		snprintf(err, errlen, "\"%s\" in brackets is not an IPv6 address", host);
		return -1;
	}
	a->host = strdup(host);
	a->text = strdup(s);
	a->port = (uint16_t)port;
	if (!a->host || !a->text) {
		cfg_addr_free(a);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void cfg_addr_free(struct cfg_addr *a)
{
	free(a->host);
	free(a->text);
	memset(a, 0, sizeof(*a));
}

/* 127.0.0.0/8 or ::1. */
static int is_loopback(const char *host)
{
	unsigned char buf[16], one[16] = {0};

	one[15] = 1;
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, buf) == 1)
		return buf[0] == 127;
	if (inet_pton(AF_INET6, host, buf) == 1)
		return memcmp(buf, one, 16) == 0;
	return 0;
}

int cfg_addr_is_loopback(const struct cfg_addr *a)
{
	return is_loopback(a->host);
}

int cfg_addr_dials_listener(const struct cfg_addr *upstream, const struct cfg_addr *listener)
{
	unsigned char a[16], b[16];
	int fa, fb;

	if (!upstream->host || !listener->host || upstream->port != listener->port)
		return 0;
	if (cfg_addr_is_wildcard(listener))
		return is_loopback(upstream->host) || cfg_addr_is_wildcard(upstream);
	if (is_loopback(upstream->host) && is_loopback(listener->host) &&
	    (strcasecmp(upstream->host, "localhost") == 0 ||
	     strcasecmp(listener->host, "localhost") == 0))
		return 1;
	if (!is_ip(upstream->host, &fa) || !is_ip(listener->host, &fb) || fa != fb)
		return 0;
	inet_pton(fa, upstream->host, a);
	inet_pton(fb, listener->host, b);
	return memcmp(a, b, fa == AF_INET ? 4 : 16) == 0;
}

int cfg_addr_is_wildcard(const struct cfg_addr *a)
{
	unsigned char buf[16], zero[16] = {0};

	if (inet_pton(AF_INET, a->host, buf) == 1)
		return memcmp(buf, zero, 4) == 0;
	if (inet_pton(AF_INET6, a->host, buf) == 1)
		return memcmp(buf, zero, 16) == 0;
	return 0;
}

int cfg_addr_listen_overlap(const struct cfg_addr *a, const struct cfg_addr *b)
{
	unsigned char ba[16], bb[16];
	int fa, fb;

	if (a->port != b->port)
		return 0;
	if (cfg_addr_is_wildcard(a) || cfg_addr_is_wildcard(b))
		return 1;
	if (!is_ip(a->host, &fa) || !is_ip(b->host, &fb) || fa != fb)
		return strcmp(a->host, b->host) == 0;
	inet_pton(fa, a->host, ba);
	inet_pton(fb, b->host, bb);
	return memcmp(ba, bb, fa == AF_INET ? 4 : 16) == 0;
}

void cfg_addr_format(char *buf, size_t len, const char *host, unsigned port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}
