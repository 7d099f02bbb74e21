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

/* ---- refusing in the handshake ---- */

static int refused_index = -1;
static pthread_once_t refused_once = PTHREAD_ONCE_INIT;

static void make_refused_index(void)
{
	refused_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL calls it for every ClientHello, with or without a name. */
static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	const struct cfg_sni *s = arg;

	if (s->unmatched != CFG_SNI_REFUSE ||
	    cfg_sni_match(s, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) !=
		    CFG_SNI_UNMATCHED)
		return SSL_TLSEXT_ERR_OK;
	/* Any non-NULL value marks it (cfg_sni_refused). */
	if (refused_index >= 0)
		SSL_set_ex_data(ssl, refused_index, (void *)s);
	*alert = SSL_AD_UNRECOGNIZED_NAME;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void cfg_sni_install(SSL_CTX *ctx, const struct cfg_sni *s)
{
	pthread_once(&refused_once, make_refused_index);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, (void *)s);
}

int cfg_sni_refused(const SSL *ssl)
{
	return ssl && refused_index >= 0 && SSL_get_ex_data(ssl, refused_index) != NULL;
}

void cfg_sni_free(struct cfg_sni *s)
{
	free(s->bootstrap_name);
	free(s->broker_name);
}
