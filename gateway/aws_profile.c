/* aws_profile.c — AWS credentials from the environment and from the shared
 * credentials and config files (see aws_profile.h).
 *
 * Only static keys (aws_access_key_id, aws_secret_access_key, optionally
 * aws_session_token) are read from a profile.  Profiles that get their
 * credentials some other way (role_arn + source_profile, SSO,
 * credential_process, web_identity_token_file) need an SDK's machinery
 * kgate does not have; such a profile is reported as unsupported rather
 * than silently skipped, so the operator knows why the chain went on.
 */
#include "aws_profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A config file larger than this is not one (they are a few KiB). */
#define PROFILE_MAX_FILE (1024 * 1024)

/* What the files say about the profile. */
struct prof {
	int found; /* the section exists in some file */
	char key[128], secret[128], token[4096];
	char unsupported[40]; /* the first key naming another way to get credentials */
	char toolong[40];     /* a value that did not fit */
};

static int copy_value(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

int aws_from_env(struct aws_creds *c, char *why, size_t len)
{
	const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");

	memset(c, 0, sizeof(*c));
	if (!key || !*key) {
		snprintf(why, len, "not set");
		return -1;
	}
	if (!secret || !*secret) {
		snprintf(why, len, "AWS_ACCESS_KEY_ID set but not AWS_SECRET_ACCESS_KEY");
		return -1;
	}
	if (copy_value(c->access_key, sizeof(c->access_key), key) < 0 ||
	    copy_value(c->secret_key, sizeof(c->secret_key), secret) < 0 ||
	    copy_value(c->session_token, sizeof(c->session_token), token ? token : "") < 0) {
		memset(c, 0, sizeof(*c));
		snprintf(why, len, "a value is too long");
		return -1;
	}
	snprintf(c->provider, sizeof(c->provider), "environment");
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Whether section (the text between the brackets, trimmed) is profile's:
 * "[name]" in the credentials file; "[profile name]" in the config file,
 * where the default profile may also be plain "[default]". */
static int section_matches(const char *section, const char *profile, int config)
{
	if (!config)
		return strcmp(section, profile) == 0;
	if (strncmp(section, "profile", 7) == 0 && isspace((unsigned char)section[7])) {
		section += 7;
		while (isspace((unsigned char)*section))
			section++;
		return strcmp(section, profile) == 0;
	}
	return strcmp(profile, "default") == 0 && strcmp(section, "default") == 0;
}

static void prof_set(struct prof *p, const char *k, const char *v)
{
	static const char *const other[] = {"role_arn",	      "source_profile", "credential_source",
					    "credential_process", "sso_session",    "sso_start_url",
					    "web_identity_token_file"};
	char *dst = NULL;
	size_t cap = 0;

	if (strcmp(k, "aws_access_key_id") == 0) {
		dst = p->key;
		cap = sizeof(p->key);
	} else if (strcmp(k, "aws_secret_access_key") == 0) {
		dst = p->secret;
		cap = sizeof(p->secret);
	} else if (strcmp(k, "aws_session_token") == 0) {
		dst = p->token;
		cap = sizeof(p->token);
	}
	if (dst) {
		if (copy_value(dst, cap, v) < 0 && !p->toolong[0])
			snprintf(p->toolong, sizeof(p->toolong), "%s", k);
		return;
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strcmp(k, other[i]) == 0 && !p->unsupported[0])
			snprintf(p->unsupported, sizeof(p->unsupported), "%s", k);
}

/* Reads profile's keys from the file at path into p (values already there
 * are overwritten: the credentials file is read last and wins).  1 if the
 * file was read, 0 if it does not exist, -1 (err) if it cannot be read. */
static int prof_read(const char *path, const char *profile, int config, struct prof *p,
		     char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	int in = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size > PROFILE_MAX_FILE) {
		snprintf(err, errlen, "%s: not a readable file of at most %d bytes", path,
			 PROFILE_MAX_FILE);
		fclose(f);
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq;

		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (e) {
				*e = '\0';
				in = section_matches(trim(s + 1), profile, config);
				p->found |= in;
			} else {
				in = 0;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!in || !eq)
			continue;
		*eq = '\0';
		prof_set(p, trim(s), trim(eq + 1));
	}
	free(line);
	fclose(f);
	return 1;
}

/* $var, or ~/rel; "~/" at the start of $var is the home directory too, as
 * the SDKs read it.  -1 if neither can be known. */
static int file_path(const char *var, const char *rel, char *buf, size_t len)
{
	const char *v = getenv(var), *home = getenv("HOME");

	if (v && *v) {
		if (strncmp(v, "~/", 2) == 0 && home)
			snprintf(buf, len, "%s%s", home, v + 1);
		else
			snprintf(buf, len, "%s", v);
		return 0;
	}
	if (!home || !*home)
		return -1;
	snprintf(buf, len, "%s/%s", home, rel);
	return 0;
}

int aws_from_profile(struct aws_creds *c, char *why, size_t len)
{
	const char *profile = getenv("AWS_PROFILE");
	char cred_path[512] = "", conf_path[512] = "", err[600] = "";
	struct prof *p = calloc(1, sizeof(*p));
	int rc = -1, have_conf, have_cred;

	memset(c, 0, sizeof(*c));
	if (!p) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if (!profile || !*profile)
		profile = "default";
	if (file_path("AWS_CONFIG_FILE", ".aws/config", conf_path, sizeof(conf_path)) < 0 ||
	    file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", cred_path,
		      sizeof(cred_path)) < 0) {
		snprintf(why, len, "not set (no HOME, AWS_CONFIG_FILE or "
				   "AWS_SHARED_CREDENTIALS_FILE)");
		goto out;
	}
	have_conf = prof_read(conf_path, profile, 1, p, err, sizeof(err));
	have_cred = have_conf < 0 ? -1 : prof_read(cred_path, profile, 0, p, err, sizeof(err));
	if (have_conf < 0 || have_cred < 0) {
		snprintf(why, len, "%s", err);
	} else if (!have_conf && !have_cred) {
		snprintf(why, len, "not set (no %s, no %s)", cred_path, conf_path);
	} else if (!p->found) {
		snprintf(why, len, "no profile \"%s\" in %s or %s", profile, cred_path, conf_path);
	} else if (p->toolong[0]) {
		snprintf(why, len, "profile \"%s\": %s is too long", profile, p->toolong);
	} else if (p->key[0] && p->secret[0]) {
		memcpy(c->access_key, p->key, sizeof(c->access_key));
		memcpy(c->secret_key, p->secret, sizeof(c->secret_key));
		memcpy(c->session_token, p->token, sizeof(c->session_token));
		snprintf(c->provider, sizeof(c->provider), "profile");
		rc = 0;
	} else if (p->unsupported[0]) {
		snprintf(why, len,
			 "profile \"%s\" uses %s; kgate reads only static keys from profiles "
			 "(aws_access_key_id, aws_secret_access_key; no SSO, process or "
			 "assume-role chains)",
			 profile, p->unsupported);
	} else {
		snprintf(why, len, "profile \"%s\" has no aws_access_key_id and "
				   "aws_secret_access_key", profile);
	}
	/* The secret was in this buffer: leave no copy on the heap. */
	explicit_bzero(p, sizeof(*p));
out:
	free(p);
	return rc;
}
