/* main.c — kgate-client: parses the command line, starts the watchdog, runs one command. */
#include <stdio.h>

#include "kc.h"

/* What each command runs, indexed by enum kc_cmd.  own_verdict: the command
 * prints its own verdict on the addresses (the demo's PASS/FAIL summary),
 * so kc_check_verdict's line is not added after it. */
static const struct kc_command {
	kc_cmd_fn *run;
	bool own_verdict;
} kc_commands[KC_N_CMDS] = {
	[KC_DEMO] = {kc_cmd_demo, true},
	[KC_PRODUCE] = {kc_cmd_produce, false},
	[KC_CONSUME] = {kc_cmd_consume, false},
	[KC_METADATA] = {kc_cmd_metadata, false},
	[KC_EXPECT_FAILURE] = {kc_cmd_expect_failure, false},
};

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_addrs expect, bootstrap;
	struct kc_check chk = {.bootstrap = &bootstrap};
	const struct kc_command *cmd;
	int rc;

	/* Lines in order with librdkafka's errors on stderr, also when piped. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = kc_parse_args(argc, argv, &o);
	if (rc != 0) {
		if (rc > 0)
			kc_usage(stdout);
		else
			fprintf(stderr, "kgate-client: see kgate-client --help\n");
		return rc > 0 ? 0 : KC_EXIT_USAGE;
	}
	if (kc_addrs_parse(o.bootstrap, &bootstrap) < 0 ||
	    (o.expect && kc_addrs_parse(o.expect, &expect) < 0)) {
		fprintf(stderr, "kgate-client: --bootstrap, --expect-brokers: expected "
				"HOST:PORT[,HOST:PORT...] (at most %d)\n", KC_MAX_ADDRS);
		return KC_EXIT_USAGE;
	}
	if (o.expect)
		chk.expect = &expect;
	kc_timeout_s = o.timeout_s;
	kc_deadline = kc_now() + o.timeout_s;
	if (kc_watchdog_start() < 0)
		return KC_EXIT_FAIL;
	cmd = &kc_commands[o.cmd];
	rc = cmd->run(&o, &chk);
	if (rc == 0 && !cmd->own_verdict)
		rc = kc_check_verdict(&chk);
	return rc == 0 ? 0 : KC_EXIT_FAIL;
}
