/* sni.c — the SNI listener's names (see sni.h). */
#include "sni.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

const char *const cfg_sni_unmatched_names[] = {"bootstrap", "refuse", NULL};

#define ID_TOKEN "{id}"
#define ID_TOKEN_LEN (sizeof(ID_TOKEN) - 1)
/* "2147483647" */
#define ID_DIGITS_MAX 10

/* 1 if name is a DNS name a client can send as SNI: dot-separated labels
 * of letters, digits and inner hyphens, 1 to 63 each, at most CFG_HOST_MAX
 * in all, the last not all digits (SNI carries no IP address). */
static int dns_name(const char *name)
{
	size_t len = strlen(name), label = 0;
	int digits_only = 1;

	if (len == 0 || len > CFG_HOST_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || name[i - 1] == '-')
				return 0;
			if (c == '\0')
				break;
			label = 0;
			digits_only = 1;
			continue;
		}
		if (!isalnum((unsigned char)c) && !(c == '-' && label > 0))
			return 0;
		if (!isdigit((unsigned char)c))
			digits_only = 0;
		label++;
	}
	return !digits_only;
}

static int64_t match_broker(const struct cfg_sni *s, const char *name);

void cfg_sni_check(struct cfg_sni *s, const char *path, struct cfg_errors *errs)
{
	const char *at, *p = s->broker_name;
	char widest[CFG_HOST_MAX + 32];

	if (s->bootstrap_name && !dns_name(s->bootstrap_name))
		cfg_error(errs, "%s.bootstrap_name: \"%s\" is not a DNS name (letters, digits, "
				"inner hyphens; dot-separated labels of 1 to 63)",
			  path, s->bootstrap_name);
	if (!p)
		return;
	at = strstr(p, ID_TOKEN);
	if (!at || strstr(at + ID_TOKEN_LEN, ID_TOKEN)) {
		cfg_error(errs, "%s.broker_name: \"%s\" must hold \"{id}\" exactly once (where "
				"each broker's node id goes, e.g. \"b-{id}.kafka.example.com\")",
			  path, p);
		return;
	}
	s->prefix_len = (size_t)(at - p);
	/* The widest id must still make a valid name. */
	if (strlen(p) - ID_TOKEN_LEN + ID_DIGITS_MAX >= sizeof(widest) ||
	    snprintf(widest, sizeof(widest), "%.*s2147483647%s", (int)s->prefix_len, p,
		     at + ID_TOKEN_LEN) < 0 ||
	    !dns_name(widest)) {
		cfg_error(errs, "%s.broker_name: \"%s\" does not make a DNS name with a node id "
				"in place of \"{id}\" (letters, digits, inner hyphens; labels of "
				"1 to 63, at most %d in all)",
			  path, p, CFG_HOST_MAX);
		return;
	}
	if (s->bootstrap_name && match_broker(s, s->bootstrap_name) >= 0)
		cfg_error(errs, "%s.bootstrap_name: \"%s\" matches broker_name \"%s\": a client "
				"could not tell the bootstrap from a broker",
			  path, s->bootstrap_name, p);
}

/* The node id name holds in the pattern's place, or CFG_SNI_UNMATCHED. */
static int64_t match_broker(const struct cfg_sni *s, const char *name)
{
	size_t len = strlen(name), suffix_len;
	const char *suffix, *digits;
	size_t n_digits;
	int64_t id = 0;

	suffix = s->broker_name + s->prefix_len + ID_TOKEN_LEN;
	suffix_len = strlen(suffix);
	if (len <= s->prefix_len + suffix_len ||
	    strncasecmp(name, s->broker_name, s->prefix_len) != 0 ||
	    strcasecmp(name + len - suffix_len, suffix) != 0)
		return CFG_SNI_UNMATCHED;
	digits = name + s->prefix_len;
	n_digits = len - s->prefix_len - suffix_len;
	/* One spelling per id: no sign, no leading zero, within int32. */
	if (n_digits > ID_DIGITS_MAX || (digits[0] == '0' && n_digits > 1))
		return CFG_SNI_UNMATCHED;
	for (size_t i = 0; i < n_digits; i++) {
		if (!isdigit((unsigned char)digits[i]))
			return CFG_SNI_UNMATCHED;
		id = id * 10 + (digits[i] - '0');
	}
	return id <= INT32_MAX ? id : CFG_SNI_UNMATCHED;
}

int64_t cfg_sni_match(const struct cfg_sni *s, const char *name)
{
	if (!name)
		return CFG_SNI_UNMATCHED;
	if (strcasecmp(name, s->bootstrap_name) == 0)
		return CFG_SNI_BOOTSTRAP;
	return match_broker(s, name);
}

int cfg_sni_name(const struct cfg_sni *s, int32_t id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.*s%d%s", (int)s->prefix_len, s->broker_name, (int)id,
			 s->broker_name + s->prefix_len + ID_TOKEN_LEN);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---- the name a client sent, and refusing it in the handshake ---- */

/* What the ClientHello said, kept with the connection: the name it sent
 * (not the one a resumed TLS 1.2 session remembers), and whether it was
 * refused. */
struct sni_seen {
	int refused;
	int has_name;
	char name[CFG_HOST_MAX + 1];
};

static int seen_index = -1;
static pthread_once_t seen_once = PTHREAD_ONCE_INIT;

static void seen_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		      void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void make_seen_index(void)
{
	seen_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, seen_free);
}

/* The host_name of a server_name extension (RFC 6066 section 3) into
 * seen; 0 if it holds none, -1 if it is malformed. */
static int parse_server_name(const unsigned char *p, size_t len, struct sni_seen *seen)
{
	size_t n;

	/* The list's length must be the rest of the extension's. */
	if (len < 2 || (((size_t)p[0] << 8) | p[1]) != len - 2)
		return -1;
	for (p += 2, len -= 2; len >= 3; p += 3 + n, len -= 3 + n) {
		n = ((size_t)p[1] << 8) | p[2];
		if (n > len - 3)
			return -1;
		if (p[0] != TLSEXT_NAMETYPE_host_name)
			continue;
		if (n == 0 || n > CFG_HOST_MAX || memchr(p + 3, 0, n))
			return -1;
		memcpy(seen->name, p + 3, n);
		seen->name[n] = '\0';
		seen->has_name = 1;
		return 1;
	}
	return len ? -1 : 0;
}

/* OpenSSL calls it for every ClientHello, before it resumes any session. */
static int client_hello_cb(SSL *ssl, int *alert, void *arg)
{
	const struct cfg_sni *s = arg;
	struct sni_seen *seen = seen_index >= 0 ? SSL_get_ex_data(ssl, seen_index) : NULL;
	const unsigned char *ext;
	size_t len;

	if (!seen && (seen_index < 0 || !(seen = calloc(1, sizeof(*seen))) ||
		      !SSL_set_ex_data(ssl, seen_index, seen))) {
		free(seen);
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	memset(seen, 0, sizeof(*seen));
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1 &&
	    parse_server_name(ext, len, seen) < 0) {
		*alert = SSL_AD_DECODE_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (s->unmatched == CFG_SNI_REFUSE &&
	    cfg_sni_match(s, seen->has_name ? seen->name : NULL) == CFG_SNI_UNMATCHED) {
		seen->refused = 1;
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

void cfg_sni_install(SSL_CTX *ctx, const struct cfg_sni *s)
{
	pthread_once(&seen_once, make_seen_index);
	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, (void *)s);
}

/* What the ClientHello said on ssl, or NULL if none was seen. */
static const struct sni_seen *seen_of(const SSL *ssl)
{
	return ssl && seen_index >= 0 ? SSL_get_ex_data(ssl, seen_index) : NULL;
}

int cfg_sni_refused(const SSL *ssl)
{
	const struct sni_seen *seen = seen_of(ssl);

	return seen && seen->refused;
}

const char *cfg_sni_sent(const SSL *ssl)
{
	const struct sni_seen *seen = seen_of(ssl);

	return seen && seen->has_name ? seen->name : NULL;
}

void cfg_sni_free(struct cfg_sni *s)
{
	free(s->bootstrap_name);
	free(s->broker_name);
}
