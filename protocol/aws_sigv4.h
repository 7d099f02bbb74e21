/* aws_sigv4.h — AWS credentials as an SDK holds them, and Signature Version 4
 * (the signing MSK IAM authentication rests on).
 *
 * Pure: the time is an argument, nothing is read from the environment or
 * the network (gateway/aws_creds.c finds credentials; protocol/msk_iam.c
 * builds MSK's tokens from them).
 */
#ifndef KGATE_AWS_SIGV4_H
#define KGATE_AWS_SIGV4_H

#include <stdint.h>

/* Credentials as an AWS SDK holds them. */
struct aws_creds {
	char access_key[128];
	char secret_key[128];
	char session_token[4096]; /* "" when long-term keys */
	int64_t expires;          /* unix seconds; 0: never */
	char provider[32];        /* "environment", "profile", "web identity",
	                           * "container", "imds", "config": for logs */
};

#endif
