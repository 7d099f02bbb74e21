/* allow.h — upstream_allow: where learned broker addresses may point.
 *
 * kgate dials the address a cluster advertises for a broker it fronts
 * without a configured upstream.  Any broker can advertise any address for
 * any node id, so a deployment that wants to can restrict them: each entry
 * is a CIDR ("10.0.0.0/8", "fd00::/8"), an IP address, a DNS suffix starting
 * with a dot (".kafka.us-east-1.amazonaws.com") or a whole name.  A learned
 * address must match one; names are compared as written (case aside), never
 * resolved.  An empty list allows anything (the default).
 */
#ifndef KGATE_ALLOW_H
#define KGATE_ALLOW_H

#include <stddef.h>
#include <stdint.h>

/* One entry. */
struct cfg_allow {
	int family;       /* AF_INET or AF_INET6 for an address or CIDR, else 0 */
	uint8_t addr[16]; /* network address */
	int prefix;       /* bits that must match */
	char *name;       /* family 0: the name, or the suffix with its dot */
};

struct cfg_allow_list {
	struct cfg_allow *v;
	size_t n;
};

/* Parses one entry into a; -1 with err filled if it is none of the forms. */
int cfg_allow_parse(const char *s, struct cfg_allow *a, char *err, size_t errlen);
void cfg_allow_list_free(struct cfg_allow_list *l);
/* 1 if host (a validated host name or IP literal) may be dialled. */
int cfg_allow_match(const struct cfg_allow_list *l, const char *host);

#endif
