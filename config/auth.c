/* auth.c — the upstream_sasl and client_auth blocks (see auth.h). */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "users.h"

const char *const cfg_sasl_mech_names[] = {"none",          "PLAIN",       "SCRAM-SHA-256",
					   "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM",
					   NULL};
const char *const cfg_login_mode_names[] = {"none", "tls", "sasl", NULL};

/* Longest password kgate reads: SCRAM and PLAIN have no limit of their
 * own, and a file of megabytes is a mistake. */
#define PASSWORD_MAX 1024

/* The first line of path, without its line end; NULL with why on failure. */
static char *read_password(const char *path, char *why, size_t len)
{
	char buf[PASSWORD_MAX + 2];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		snprintf(why, len, "cannot read \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	char *pw = NULL;

	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) > PASSWORD_MAX)
		snprintf(why, len, "\"%s\": the password is longer than %d bytes", path,
			 PASSWORD_MAX);
	else if (!buf[0])
		snprintf(why, len, "\"%s\": the first line (the password) is empty", path);
	else if (!(pw = strdup(buf)))
		snprintf(why, len, "out of memory");
	OPENSSL_cleanse(buf, sizeof(buf));
	return pw;
}

void cfg_sasl_check(struct cfg_sasl *s, const char *path, struct cfg_errors *errs)
{
	char why[512];

	if (s->set <= 0)
		return;
	switch (s->mechanism) {
	case CFG_SASL_NONE:
		return;
	case CFG_SASL_PLAIN:
	case CFG_SASL_SCRAM_SHA_256:
	case CFG_SASL_SCRAM_SHA_512:
		if (!s->username)
			cfg_error(errs, "%s.username: missing (%s needs a user name)", path,
				  cfg_sasl_mech_names[s->mechanism]);
		if (!s->password_file) {
			cfg_error(errs, "%s.password_file: missing (%s needs a password, read from "
					"a file so it is never in the configuration)",
				  path, cfg_sasl_mech_names[s->mechanism]);
		} else if (!(s->password = read_password(s->password_file, why, sizeof(why)))) {
			cfg_error(errs, "%s.password_file: %s", path, why);
		}
		if (s->token_provider || s->region)
			cfg_error(errs, "%s: \"token_provider\" and \"region\" are for IAM, not %s",
				  path, cfg_sasl_mech_names[s->mechanism]);
		return;
	case CFG_SASL_OAUTHBEARER:
	case CFG_SASL_AWS_MSK_IAM:
		if (s->mechanism == CFG_SASL_OAUTHBEARER &&
		    (!s->token_provider || strcmp(s->token_provider, "aws_msk_iam") != 0))
			cfg_error(errs, "%s.token_provider: expected \"aws_msk_iam\" (the only "
					"OAUTHBEARER token kgate makes)",
				  path);
		if (s->mechanism == CFG_SASL_AWS_MSK_IAM && s->token_provider)
			cfg_error(errs, "%s.token_provider: only for OAUTHBEARER", path);
		if (s->username || s->password_file)
			cfg_error(errs, "%s: IAM takes no username or password_file (credentials "
					"come from the AWS credential chain)",
				  path);
		if (!s->region) {
			const char *r = getenv("AWS_REGION");

			if (!r || !r[0])
				r = getenv("AWS_DEFAULT_REGION");
			if (r && r[0])
				s->region = strdup(r);
			else
				cfg_error(errs, "%s.region: missing, and neither AWS_REGION nor "
						"AWS_DEFAULT_REGION is set",
					  path);
		}
		return;
	}
}

void cfg_login_check(struct cfg_login *a, const char *path, struct cfg_errors *errs)
{
	char sub[300];

	if (a->set <= 0)
		return;
	if (a->mode == CFG_LOGIN_SASL) {
		char err[512];

		if (!a->credentials_file)
			cfg_error(errs, "%s.credentials_file: missing (mode \"sasl\" checks logins "
					"against it; `kgate passwd` writes it)",
				  path);
		else if (!(a->users = users_load_file(a->credentials_file, err, sizeof(err))))
			cfg_error(errs, "%s.credentials_file: %s", path, err);
		if (!a->mechanisms)
			a->mechanisms = CFG_LOGIN_MECHS;
	} else if (a->mechanisms || a->credentials_file) {
		cfg_error(errs, "%s: \"mechanisms\" and \"credentials_file\" are for mode \"sasl\"",
			  path);
	}
	if (a->n_identities && a->mode == CFG_LOGIN_NONE)
		cfg_error(errs, "%s.identities: mode \"none\" has no identities to map", path);
	for (size_t i = 0; i < a->n_identities; i++) {
		snprintf(sub, sizeof(sub), "%s.identities.%s", path, a->identities[i].name);
		cfg_sasl_check(&a->identities[i].sasl, sub, errs);
		if (!cfg_sasl_on(&a->identities[i].sasl))
			cfg_error(errs, "%s.mechanism: an identity maps to credentials, not \"none\"",
				  sub);
	}
}

void cfg_sasl_describe(const struct cfg_sasl *s, char *buf, size_t len)
{
	if (!cfg_sasl_on(s))
		snprintf(buf, len, "nobody (no upstream_sasl)");
	else if (cfg_sasl_iam(s))
		snprintf(buf, len, "AWS IAM in %s (%s)", s->region ? s->region : "?",
			 cfg_sasl_mech_names[s->mechanism]);
	else
		snprintf(buf, len, "%s (%s)", s->username, cfg_sasl_mech_names[s->mechanism]);
}

const struct cfg_sasl *cfg_identity_sasl(const struct cfg_login *a, const char *name)
{
	for (size_t i = 0; a && i < a->n_identities; i++)
		if (strcmp(a->identities[i].name, name) == 0)
			return &a->identities[i].sasl;
	return NULL;
}

void cfg_sasl_free(struct cfg_sasl *s)
{
	free(s->username);
	free(s->password_file);
	free(s->token_provider);
	free(s->region);
	if (s->password) {
		/* Not left in freed memory. */
		OPENSSL_cleanse(s->password, strlen(s->password));
		free(s->password);
	}
	memset(s, 0, sizeof(*s));
}

void cfg_login_free(struct cfg_login *a)
{
	free(a->credentials_file);
	users_free(a->users);
	for (size_t i = 0; i < a->n_identities; i++) {
		free(a->identities[i].name);
		cfg_sasl_free(&a->identities[i].sasl);
	}
	free(a->identities);
	memset(a, 0, sizeof(*a));
}
