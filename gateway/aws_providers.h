/* aws_providers.h — the remote sources of AWS credentials (STS web
 * identity, container endpoint, EC2 instance metadata), one function each;
 * the local ones are in aws_profile.h, and gateway/aws_creds.c walks the
 * chain in the order AWS SDKs do.
 *
 * Each blocks (HTTP with short timeouts),
 * fills c (its provider name included) and returns 0, or writes why it has
 * none into why and returns -1.  The secret and the token never appear in
 * why.
 */
#ifndef KGATE_AWS_PROVIDERS_H
#define KGATE_AWS_PROVIDERS_H

#include <stddef.h>
#include <stdint.h>

#include "../protocol/aws_sigv4.h"

/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS AssumeRoleWithWebIdentity
 * (region: the STS endpoint's; NULL or "" for the global one). */
int aws_from_web_identity(const char *region, struct aws_creds *c, char *why, size_t len);
/* ECS / EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_{RELATIVE,FULL}_URI. */
int aws_from_container(struct aws_creds *c, char *why, size_t len);
/* EC2 instance metadata (IMDSv2 only). */
int aws_from_imds(struct aws_creds *c, char *why, size_t len);

/* "2026-11-27T16:00:00Z" (fraction and numeric offsets allowed) into unix
 * seconds; -1 if it is not such a time. */
int aws_time_parse(const char *s, int64_t *out);

#endif
