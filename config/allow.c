/* allow.c — parsing and matching upstream_allow entries (see allow.h). */
#include "allow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

int cfg_allow_parse(const char *s, struct cfg_allow *a, char *err, size_t errlen)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	size_t iplen = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	memset(a, 0, sizeof(*a));
	if (iplen < sizeof(ip)) {
		memcpy(ip, s, iplen);
		ip[iplen] = '\0';
		if (inet_pton(AF_INET, ip, a->addr) == 1)
			a->family = AF_INET;
		else if (inet_pton(AF_INET6, ip, a->addr) == 1)
			a->family = AF_INET6;
	}
	if (a->family) {
		char *end;
		long prefix;

		max = a->family == AF_INET ? 32 : 128;
		prefix = slash ? strtol(slash + 1, &end, 10) : max;
		if (slash && (!slash[1] || *end || prefix < 0 || prefix > max)) {
			snprintf(err, errlen, "prefix length must be 0 to %d", max);
			return -1;
		}
		a->prefix = (int)prefix;
		return 0;
	}
	if (slash) {
		snprintf(err, errlen, "a CIDR needs an IP address before the '/'");
		return -1;
	}
	/* A suffix is a name with a leading dot. */
	if (!cfg_host_valid(s[0] == '.' ? s + 1 : s)) {
		snprintf(err, errlen, "expected a CIDR, an IP address, a host name or a "
				      "\".domain\" suffix");
		return -1;
	}
	a->name = strdup(s);
	if (!a->name) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void cfg_allow_list_free(struct cfg_allow_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* 1 if the first bits of a and b agree. */
static int prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ b[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

static int name_match(const char *pattern, const char *host)
{
	size_t pl = strlen(pattern), hl = strlen(host);

	if (pattern[0] != '.')
		return strcasecmp(pattern, host) == 0;
	/* ".example.com" matches "b-1.example.com", not "example.com". */
	return hl > pl && strcasecmp(host + hl - pl, pattern) == 0;
}

int cfg_allow_match(const struct cfg_allow_list *l, const char *host)
{
	uint8_t addr[16];
	int family = 0;

	if (l->n == 0)
		return 1;
	if (inet_pton(AF_INET, host, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		family = AF_INET6;
	for (size_t i = 0; i < l->n; i++) {
		const struct cfg_allow *a = &l->v[i];

		if (family ? a->family == family && prefix_match(a->addr, addr, a->prefix)
			   : !a->family && name_match(a->name, host))
			return 1;
	}
	return 0;
}
