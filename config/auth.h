/* auth.h — who kgate is to the brokers ("upstream_sasl") and who clients
 * must be to kgate ("client_auth"), as configured.
 *
 * Both blocks may be written at the top level (every listener), in
 * "bootstrap" and in each "brokers[]" entry; a listener's own block wins.
 * Secrets are never in the JSON: a password is read from its file when the
 * configuration is loaded (and so again on every reload), and is never
 * logged or shown by /brokers.
 */
#ifndef KGATE_CFG_AUTH_H
#define KGATE_CFG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* The order of cfg_sasl_mech_names. */
enum cfg_sasl_mech {
	CFG_SASL_NONE,
	CFG_SASL_PLAIN,
	CFG_SASL_SCRAM_SHA_256,
	CFG_SASL_SCRAM_SHA_512,
	CFG_SASL_OAUTHBEARER,
	CFG_SASL_AWS_MSK_IAM
};
extern const char *const cfg_sasl_mech_names[]; /* NULL-terminated */

/* kgate to the brokers: an "upstream_sasl" block. */
struct cfg_sasl {
	int set;            /* enum cfg_tls_set (written, or not) */
	int32_t mechanism;  /* enum cfg_sasl_mech */
	char *username;     /* PLAIN, SCRAM */
	char *password_file;
	char *token_provider; /* OAUTHBEARER: "aws_msk_iam" */
	char *region;         /* IAM: from the block, else $AWS_REGION, $AWS_DEFAULT_REGION */
	char *password;       /* the file's first line, read at load; never logged */
};

enum cfg_login_mode { CFG_LOGIN_NONE, CFG_LOGIN_TLS, CFG_LOGIN_SASL };
extern const char *const cfg_login_mode_names[];

/* A client's identity at kgate and the upstream credentials it maps to. */
struct cfg_identity {
	char *name;
	struct cfg_sasl sasl;
};

struct users;

/* Clients to kgate: a "client_auth" block. */
struct cfg_login {
	int set;              /* enum cfg_tls_set */
	int32_t mode;         /* enum cfg_login_mode */
	uint32_t mechanisms;  /* 1 << enum cfg_sasl_mech, for mode sasl */
	char *credentials_file;
	int32_t allow_anonymous;
	int64_t failed_login_delay_ms;
	struct cfg_identity *identities;
	size_t n_identities;
	struct users *users;     /* credentials_file, loaded */
};

/* Mechanisms a client may log in to kgate with. */
#define CFG_LOGIN_MECHS                                                                      \
	((1u << CFG_SASL_PLAIN) | (1u << CFG_SASL_SCRAM_SHA_256) | (1u << CFG_SASL_SCRAM_SHA_512))

/* Completes a parsed block (reads the password, fills the region) and
 * checks the rules that span its keys; path names it in messages. */
void cfg_sasl_check(struct cfg_sasl *s, const char *path, struct cfg_errors *errs);
/* The same for a client_auth block (loads its credentials file). */
void cfg_login_check(struct cfg_login *a, const char *path, struct cfg_errors *errs);
/* 1 if s authenticates (set, and not "none"). */
static inline int cfg_sasl_on(const struct cfg_sasl *s)
{
	return s && s->set > 0 && s->mechanism != CFG_SASL_NONE;
}
/* 1 if the mechanism signs with AWS credentials. */
static inline int cfg_sasl_iam(const struct cfg_sasl *s)
{
	return cfg_sasl_on(s) &&
	       (s->mechanism == CFG_SASL_OAUTHBEARER || s->mechanism == CFG_SASL_AWS_MSK_IAM);
}
/* Who the brokers see, for logs: "alice (SCRAM-SHA-512)", "AWS IAM
 * (OAUTHBEARER)". */
void cfg_sasl_describe(const struct cfg_sasl *s, char *buf, size_t len);
/* The upstream credentials identity name maps to, or NULL. */
const struct cfg_sasl *cfg_identity_sasl(const struct cfg_login *a, const char *name);
void cfg_sasl_free(struct cfg_sasl *s);
void cfg_login_free(struct cfg_login *a);

#endif
