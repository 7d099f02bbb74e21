/* aws_profile.h — the local sources of AWS credentials: the environment
 * and the shared credentials and config files (~/.aws).
 *
 * Each fills c (its provider name included) and returns 0, or writes why
 * it has none into why and returns -1.  Secrets never appear in why.
 */
#ifndef KGATE_AWS_PROFILE_H
#define KGATE_AWS_PROFILE_H

#include <stddef.h>

#include "../protocol/aws_sigv4.h"

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
int aws_from_env(struct aws_creds *c, char *why, size_t len);
/* Static keys of $AWS_PROFILE ("default") in $AWS_SHARED_CREDENTIALS_FILE
 * (~/.aws/credentials) and $AWS_CONFIG_FILE (~/.aws/config). */
int aws_from_profile(struct aws_creds *c, char *why, size_t len);

#endif
