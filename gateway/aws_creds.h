/* aws_creds.h — AWS credentials for MSK IAM, found the way AWS SDKs find
 * them and kept fresh by a thread of their own.
 *
 * The chain, in order: the environment; static keys of the shared
 * credentials and config files ($AWS_PROFILE); web identity (STS
 * AssumeRoleWithWebIdentity); the container credentials endpoint (ECS, EKS
 * Pod Identity); EC2 instance metadata (IMDSv2).  The first that answers
 * wins.  Fetching blocks (files, HTTP with short timeouts), so it happens
 * in the credentials thread; event loops only copy the current credentials
 * (aws_creds_get), which takes a mutex and nothing else.
 */
#ifndef KGATE_AWS_CREDS_H
#define KGATE_AWS_CREDS_H

#include <stddef.h>
#include <stdint.h>

#include "../protocol/aws_sigv4.h"

/* For metrics (kgate_aws_credentials_*). */
struct aws_creds_stats {
	uint64_t refreshes; /* successful fetches, the first one included */
	uint64_t failures;  /* fetches that found nothing */
	uint64_t expires;   /* credentials that expired before a fetch replaced them */
	int64_t expiry;     /* unix seconds the current ones expire at; 0: never or none */
	int have;           /* usable credentials now */
	char provider[32];  /* of the current ones, "" if none */
};

/* Runs the chain once, here (blocking): 0 with out filled in, or -1 with
 * why listing each provider's reason ("environment: not set; profile: ...;
 * web identity: ...; container: ...; imds: ...").  region: STS's ("" or
 * NULL: $AWS_REGION, then $AWS_DEFAULT_REGION, then the global endpoint). */
int aws_creds_resolve(const char *region, struct aws_creds *out, char *why, size_t len);

/* Starts the credentials thread: it resolves at once, then refreshes
 * temporary credentials before they expire (at 80% of their lifetime or 5
 * minutes before the end, whichever comes first), retrying with back-off on
 * failure and keeping the old ones until they expire.  0, or -1 if the
 * thread cannot start or is already running. */
int aws_creds_start(const char *region);
/* Waits up to timeout_ms for the first attempt to finish: 0 if there are
 * credentials then, -1 if not (yet). */
int aws_creds_wait(int64_t timeout_ms);
/* Copies the current credentials into out (0; out NULL: only whether there
 * are any), or says why there are none (-1): not started, none found yet (with the providers' reasons), or
 * expired.  Never blocks on I/O. */
int aws_creds_get(struct aws_creds *out, char *why, size_t len);
/* Starts the thread if cfg signs with IAM and it is not running, and waits
 * a little for the first credentials, so the first clients find them. */
struct cfg;
void aws_creds_ensure(const struct cfg *cfg);
/* Ends the thread (promptly, even mid-wait) and forgets the credentials. */
void aws_creds_stop(void);
void aws_creds_stats(struct aws_creds_stats *out);

/* "ASIA…WXYZ": the key id's type prefix and its last 4 characters, the
 * most of it a log line shows. */
const char *aws_creds_mask(const char *access_key, char *buf, size_t len);

/* `kgate aws-credentials [--region R]`: argv[0] is "aws-credentials".
 * Prints the provider, the masked key id and the expiry (never a secret);
 * returns the exit status: 0 found, 1 not (with every provider's reason),
 * 2 usage. */
int aws_creds_main(int argc, char **argv);

#endif
