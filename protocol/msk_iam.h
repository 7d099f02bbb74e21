/* msk_iam.h — what an Amazon MSK broker accepts as proof of an IAM identity:
 * the OAUTHBEARER token (a presigned URL, as aws-msk-iam-sasl-signer-python
 * makes it) and the AWS_MSK_IAM mechanism's JSON client message (as
 * aws-msk-iam-auth, the Java library, sends it).
 *
 * Pure: credentials and the time are arguments (gateway/ finds the
 * credentials and reads the clock).
 */
#ifndef KGATE_MSK_IAM_H
#define KGATE_MSK_IAM_H

#include <stdint.h>

#include "aws_sigv4.h"

/* How long a token or payload stays valid: what both AWS libraries use. */
#define MSK_IAM_DEFAULT_EXPIRES 900
/* The signing name and the one action MSK checks at connect time. */
#define MSK_IAM_SERVICE "kafka-cluster"
#define MSK_IAM_ACTION "kafka-cluster:Connect"
/* The AWS_MSK_IAM message's version field. */
#define MSK_IAM_PAYLOAD_VERSION "2020_10_22"
#define MSK_IAM_MAX_USER_AGENT 512

/* The OAUTHBEARER token for region at unix time now: GET
 * https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect
 * presigned for service kafka-cluster for expires_s seconds (<= 0: 900),
 * "&User-Agent=" and user_agent form-encoded (unsigned) appended, the whole
 * URL base64url-encoded without padding.  user_agent NULL: "kgate/VERSION".
 * malloc'd, or NULL (bad region, credentials or user agent; no memory). */
char *msk_iam_token(const struct aws_creds *c, const char *region, int64_t now,
		    int64_t expires_s, const char *user_agent);

/* The AWS_MSK_IAM client message (JSON) for the broker host (its name, no
 * port) in region at now: version, host, user-agent, action,
 * x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-security-token (with
 * a session token), x-amz-signedheaders, x-amz-expires, x-amz-signature —
 * a GET of kafka://HOST/?Action=kafka-cluster:Connect presigned for 900 s,
 * values unencoded.  user_agent NULL: "kgate/VERSION".  malloc'd, or NULL. */
char *msk_iam_payload(const struct aws_creds *c, const char *region, const char *host,
		      int64_t now, const char *user_agent);

#endif
