/* msk_token.c — prints kgate's MSK IAM token (or, with -p HOST, its
 * AWS_MSK_IAM payload) for credentials, region, time and user agent given on
 * the command line, so test/iam/msk_signer_check.py can compare it with
 * aws-msk-iam-sasl-signer-python's for the same inputs.
 *
 *   msk_token [-p HOST] ACCESS_KEY SECRET_KEY SESSION_TOKEN|"" REGION UNIX_TIME USER_AGENT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/msk_iam.h"

static int copy(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int main(int argc, char **argv)
{
	struct aws_creds c = {0};
	const char *host = NULL;
	char *end, *out;
	int64_t now;

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		host = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 7) {
		fprintf(stderr, "usage: msk_token [-p HOST] ACCESS_KEY SECRET_KEY SESSION_TOKEN "
				"REGION UNIX_TIME USER_AGENT\n");
		return 2;
	}
	if (copy(c.access_key, sizeof(c.access_key), argv[1]) < 0 ||
	    copy(c.secret_key, sizeof(c.secret_key), argv[2]) < 0 ||
	    copy(c.session_token, sizeof(c.session_token), argv[3]) < 0) {
		fprintf(stderr, "msk_token: credential too long\n");
		return 2;
	}
	now = strtoll(argv[5], &end, 10);
	if (*end) {
		fprintf(stderr, "msk_token: bad time %s\n", argv[5]);
		return 2;
	}
	out = host ? msk_iam_payload(&c, argv[4], host, now, argv[6])
		   : msk_iam_token(&c, argv[4], now, 0, argv[6]);
	if (!out) {
		fprintf(stderr, "msk_token: refused\n");
		return 1;
	}
	printf("%s\n", out);
	free(out);
	return 0;
}
