/* cli.c — parsing kgate's command line (getopt_long). */
#include "cli.h"

#include <getopt.h>
#include <string.h>

void cli_usage(FILE *f)
{
	fputs("usage: kgate --config FILE [--log-level LEVEL]\n"
	      "       kgate --check --config FILE\n"
	      "       kgate --demo [--log-level LEVEL]\n"
	      "\n"
	      "A Kafka gateway: forwards the Kafka protocol between clients and a\n"
	      "cluster, rewriting every broker address the cluster sends so that\n"
	      "broker N appears at the address configured for it.\n"
	      "\n"
	      "  -c, --config FILE      run the gateway described by FILE (JSON; see\n"
	      "                         README.md and config/kgate.sample.json)\n"
	      "      --check            validate the configuration and exit: 0 if it\n"
	      "                         is valid, 2 with every error listed if not\n"
	      "      --demo             start a 3-broker mock Kafka cluster inside the\n"
	      "                         process and front it on 127.0.0.1:9094\n"
	      "                         (bootstrap) and 127.0.0.1:8443-8445 (brokers)\n"
	      "  -l, --log-level LEVEL  error, warn, info (default) or debug; logs go\n"
	      "                         to stderr\n"
	      "  -h, --help             show this help and exit\n"
	      "  -V, --version          print the version and exit\n"
	      "\n"
	      "Exit status: 0 after a clean stop (SIGINT/SIGTERM) or a valid --check,\n"
	      "1 when the gateway cannot start, 2 for usage or configuration errors.\n"
	      "SIGUSR1 logs the counters.\n",
	      f);
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"demo", no_argument, NULL, 'd'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->log_level = "info";
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:l:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'k':
			o->check = 1;
			break;
		case 'd':
			o->demo = 1;
			break;
		case 'l':
			o->log_level = optarg;
			break;
		case 'h':
			o->help = 1;
			return 0;
		case 'V':
			o->version = 1;
			return 0;
		case ':':
			snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
			return -1;
		default:
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (o->demo && (o->config_path || o->check)) {
		snprintf(err, errlen, "--demo runs its own configuration: drop --config/--check");
		return -1;
	}
	if (!o->demo && !o->config_path) {
		snprintf(err, errlen, "--config FILE (or --demo) is required");
		return -1;
	}
	return 0;
}
