/* cli.c — parsing kgate's command line (getopt_long). */
#include "cli.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

void cli_usage(FILE *f)
{
	fputs("usage: kgate --config FILE [--log-level LEVEL]\n"
	      "       kgate --check --config FILE\n"
	      "       kgate --demo [--demo-listen IP] [--demo-advertise HOST]\n"
	      "                    [--log-level LEVEL]\n"
	      "       kgate passwd [--iterations N] [--mechanism M]... FILE USER\n"
	      "       kgate passwd --delete FILE USER\n"
	      "       kgate aws-credentials [--region R]\n"
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
	      "                         (bootstrap) and 127.0.0.1:8443-8445 (brokers),\n"
	      "                         admin endpoint on 127.0.0.1:9644\n"
	      "      --demo-listen IP   the demo's listeners bind IP instead (0.0.0.0\n"
	      "                         in a container, so published ports reach it)\n"
	      "      --demo-advertise HOST  the host the demo's brokers are advertised\n"
	      "                         at (default: the --demo-listen IP, or\n"
	      "                         127.0.0.1 when that is 0.0.0.0 or ::)\n"
	      "  -l, --log-level LEVEL  error, warn, info (default) or debug; logs go\n"
	      "                         to stderr\n"
	      "  -h, --help             show this help and exit\n"
	      "  -V, --version          print the version and exit\n"
	      "  aws-credentials        look for AWS credentials as MSK IAM does\n"
	      "                         (environment, profile, web identity,\n"
	      "                         container, EC2 metadata); print the provider,\n"
	      "                         key id (masked) and expiry; exit 1 if none\n"
	      "\n"
	      "kgate passwd sets USER's password (read from stdin) in the credentials\n"
	      "file clients log in with (client_auth.credentials_file); kgate passwd\n"
	      "--help tells more.\n"
	      "\n"
	      "Exit status: 0 after a clean stop (SIGINT/SIGTERM) or a valid --check,\n"
	      "1 when the gateway cannot start, 2 for usage or configuration errors.\n"
	      "SIGTERM or SIGINT drains (another stops at once), SIGHUP reloads the\n"
	      "configuration and certificates, SIGUSR1 logs the counters.\n",
	      f);
}

static int ip_is_wildcard(const char *ip)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return a4.s_addr == htonl(INADDR_ANY);
	return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a6);
}

/* The demo binds an address (a listener cannot bind a name) and advertises
 * a host clients can reach: a wildcard is never one, so it falls back to
 * loopback, which is where `docker run -p` publishes by default. */
static int cli_demo_addresses(struct cli_opts *o, char *err, size_t errlen)
{
	struct in6_addr a6;

	if (!o->demo_listen)
		o->demo_listen = CLI_DEMO_HOST;
	if (inet_pton(AF_INET, o->demo_listen, &a6) != 1 &&
	    inet_pton(AF_INET6, o->demo_listen, &a6) != 1) {
		snprintf(err, errlen, "--demo-listen \"%s\": expected an IPv4 or IPv6 address",
			 o->demo_listen);
		return -1;
	}
	if (!o->demo_advertise)
		o->demo_advertise = ip_is_wildcard(o->demo_listen) ? CLI_DEMO_HOST : o->demo_listen;
	if (!cfg_host_valid(o->demo_advertise) || ip_is_wildcard(o->demo_advertise)) {
		snprintf(err, errlen,
			 "--demo-advertise \"%s\": expected a host name or address clients can "
			 "connect to",
			 o->demo_advertise);
		return -1;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"demo", no_argument, NULL, 'd'},
		{"demo-listen", required_argument, NULL, 'L'},
		{"demo-advertise", required_argument, NULL, 'A'},
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
		case 'L':
			o->demo_listen = optarg;
			break;
		case 'A':
			o->demo_advertise = optarg;
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
	if (!o->demo && (o->demo_listen || o->demo_advertise)) {
		snprintf(err, errlen, "--demo-listen and --demo-advertise go with --demo");
		return -1;
	}
	if (o->demo)
		return cli_demo_addresses(o, err, errlen);
	if (!o->config_path) {
		snprintf(err, errlen, "--config FILE (or --demo) is required");
		return -1;
	}
	return 0;
}
