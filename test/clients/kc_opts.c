/* kc_opts.c — kgate-client's command line: which command, which options it takes, usage. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "kc.h"

/* Bounds and defaults of the options. */
#define KC_MAX_MESSAGES 100000 /* demo's --messages */
/* consume keeps one byte per expected id. */
#define KC_MAX_COUNT 100000000LL
#define KC_MAX_START 1000000000000000LL
#define KC_MAX_MEMBERS 64
#define KC_DEFAULT_TIMEOUT_S 120
#define KC_EXPECT_FAILURE_TIMEOUT_S 20

static const char *const kc_cmd_names[KC_N_CMDS] = {"demo", "produce", "consume", "metadata",
						     "expect-failure"};

#define KC_IN(cmd) (1u << (cmd))
#define KC_ALL ((1u << KC_N_CMDS) - 1)
#define KC_STR(field) offsetof(struct kc_opts, field), 1, 0
#define KC_INT(field, min, max) offsetof(struct kc_opts, field), min, max

/* An option: the commands that take it and those that require it, and the
 * field it sets: a string, or (min <= max) an integer in that range. */
struct kc_optdef {
	const char *name;
	unsigned takes, requires;
	size_t field;
	long long min, max;
};

/* --verbose and --help come first: the two without an argument. */
static const struct kc_optdef kc_optdefs[] = {
	{"verbose", KC_ALL, 0, 0, 0, 0},
	{"help", KC_ALL, 0, 0, 0, 0},
	{"bootstrap", KC_ALL, KC_ALL, KC_STR(bootstrap)},
	{"topic", KC_ALL & ~KC_IN(KC_METADATA), KC_ALL & ~KC_IN(KC_METADATA) & ~KC_IN(KC_DEMO),
	 KC_STR(topic)},
	/* expect-failure's client tries addresses it cannot use, by design. */
	{"expect-brokers", KC_ALL & ~KC_IN(KC_EXPECT_FAILURE), 0, KC_STR(expect)},
	{"timeout", KC_ALL, 0, KC_INT(timeout_s, 1, 86400)},
	{"messages", KC_IN(KC_DEMO), 0, KC_INT(messages, 1, KC_MAX_MESSAGES)},
	{"count", KC_IN(KC_PRODUCE) | KC_IN(KC_CONSUME), KC_IN(KC_PRODUCE) | KC_IN(KC_CONSUME),
	 KC_INT(count, 1, KC_MAX_COUNT)},
	{"start", KC_IN(KC_PRODUCE) | KC_IN(KC_CONSUME), 0, KC_INT(start, 0, KC_MAX_START)},
	{"partitions", KC_IN(KC_PRODUCE), 0, KC_INT(partitions, 1, KC_MAX_PARTITIONS)},
	{"rate", KC_IN(KC_PRODUCE), 0, KC_INT(rate, 0, 10000000)},
	{"group", KC_IN(KC_CONSUME), KC_IN(KC_CONSUME), KC_STR(group)},
	{"members", KC_IN(KC_CONSUME), 0, KC_INT(members, 1, KC_MAX_MEMBERS)},
	{"allow-redelivery", KC_IN(KC_CONSUME), 0, KC_INT(allow_redelivery, 0, KC_MAX_COUNT)},
	{"expect-count", KC_IN(KC_METADATA), 0, KC_INT(expect_count, 1, 10000)},
	/* Handled in kc_parse: collected, not stored in one field. */
	{"set", KC_ALL, 0, 0, 0, 0},
};

#define KC_N_OPTS (sizeof(kc_optdefs) / sizeof(kc_optdefs[0]))

void kc_usage(FILE *f)
{
	fprintf(f,
		"usage: kgate-client COMMAND --bootstrap HOST:PORT[,HOST:PORT...] [OPTIONS]\n"
		"commands:\n"
		"  demo [--topic demo] [--messages 10]\n"
		"      produce and consume tagged messages; check each arrived once\n"
		"  produce --topic T --count N [--start 0] [--partitions P] [--rate MSGS_PER_S]\n"
		"      idempotent producer of ids S..S+N-1 (key: the id; value: the id\n"
		"      padded with '.' to %d bytes); every delivery must succeed.\n"
		"      --partitions creates the topic with P partitions unless it exists\n"
		"      (it must then have P); --rate 0 is as fast as possible\n"
		"  consume --topic T --count N [--start 0] --group G [--members 1]\n"
		"          [--allow-redelivery D]\n"
		"      a group of M consumers until ids S..S+N-1 have arrived: each once\n"
		"      (or up to D ids again, reported), well-formed, increasing within\n"
		"      each partition; with M >= 2 every member must have been assigned\n"
		"      a partition\n"
		"  metadata [--expect-count K]\n"
		"      print the brokers Metadata lists; with K, retry until it lists K\n"
		"  expect-failure --topic T\n"
		"      produce one message; succeed only if its delivery fails, printing\n"
		"      the client's errors\n"
		"options:\n"
		"  --expect-brokers HOST:PORT,...  every broker address the client used\n"
		"                   must be listed or be a --bootstrap address\n"
		"  --timeout SECONDS  failsafe deadline for the whole command (default %d,\n"
		"                   expect-failure %d); the process ends at most %d s later\n"
		"  --set NAME=VALUE  a librdkafka property for every handle (repeatable),\n"
		"                   e.g. security.protocol=ssl\n"
		"  --verbose        librdkafka's log on stderr\n"
		"exit status: 0 every check held, 1 a check failed (reason on stderr),\n"
		"2 usage error\n",
		KC_VALUE_LEN, KC_DEFAULT_TIMEOUT_S, KC_EXPECT_FAILURE_TIMEOUT_S, KC_GRACE_S);
}

/* Stores one option's argument; -1 on a bad value (explained). */
static int kc_set_opt(struct kc_opts *o, const struct kc_optdef *d, const char *arg)
{
	char *end;
	long long v;

	if (d->min > d->max) {
		*(const char **)((char *)o + d->field) = arg;
		return 0;
	}
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (!*arg || *end || errno || v < d->min || v > d->max) {
		fprintf(stderr, "kgate-client: --%s \"%s\": expected an integer %lld..%lld\n",
			d->name, arg, d->min, d->max);
		return -1;
	}
	*(long long *)((char *)o + d->field) = v;
	return 0;
}

/* Returns 0, 1 for --help, or -1 on a usage error (already explained). */
int kc_parse_args(int argc, char **argv, struct kc_opts *o)
{
	struct option longopts[KC_N_OPTS + 1] = {{0}};
	unsigned long seen = 0;
	int c, cmd;

	*o = (struct kc_opts){0};
	for (size_t i = 0; i < KC_N_OPTS; i++)
		longopts[i] = (struct option){kc_optdefs[i].name, i < 2 ? no_argument
									: required_argument,
					      NULL, (int)i};
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return 1;
	for (cmd = 0; cmd < KC_N_CMDS && (argc < 2 || strcmp(argv[1], kc_cmd_names[cmd])); cmd++)
		;
	if (cmd == KC_N_CMDS) {
		fprintf(stderr, "kgate-client: expected a command: demo, produce, consume, "
				"metadata or expect-failure\n");
		return -1;
	}
	o->cmd = (enum kc_cmd)cmd;
	kc_cmd = kc_cmd_names[cmd];
	/* Parse from the command on, with the program's name in its slot so
	 * that getopt_long's own messages name the program. */
	argv[1] = argv[0];
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		if (c < 0 || (size_t)c >= KC_N_OPTS)
			return -1; /* getopt_long has said what was wrong */
		if (!(kc_optdefs[c].takes & KC_IN(cmd))) {
			fprintf(stderr, "kgate-client: %s does not take --%s\n", kc_cmd,
				kc_optdefs[c].name);
			return -1;
		}
		seen |= 1ul << c;
		if (c == 1)
			return 1;
		if (c == 0) {
			o->verbose = true;
		} else if (strcmp(kc_optdefs[c].name, "set") == 0) {
			if (o->n_props == KC_MAX_PROPS || !strchr(optarg, '=')) {
				fprintf(stderr, "kgate-client: --set NAME=VALUE (at most %d)\n",
					KC_MAX_PROPS);
				return -1;
			}
			o->props[o->n_props++] = optarg;
		} else if (kc_set_opt(o, &kc_optdefs[c], optarg) < 0) {
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "kgate-client: unexpected argument \"%s\"\n", argv[optind + 1]);
		return -1;
	}
	for (size_t i = 0; i < KC_N_OPTS; i++)
		if ((kc_optdefs[i].requires & KC_IN(cmd)) && !(seen & (1ul << i))) {
			fprintf(stderr, "kgate-client: %s needs --%s\n", kc_cmd, kc_optdefs[i].name);
			return -1;
		}
	if ((o->bootstrap && !*o->bootstrap) || (o->topic && !*o->topic) ||
	    (o->group && !*o->group)) {
		fprintf(stderr, "kgate-client: %s: empty --bootstrap, --topic or --group\n", kc_cmd);
		return -1;
	}
	o->topic = o->topic ? o->topic : "demo";
	o->messages = o->messages ? o->messages : 10;
	o->members = o->members ? o->members : 1;
	if (!o->timeout_s)
		o->timeout_s = cmd == KC_EXPECT_FAILURE ? KC_EXPECT_FAILURE_TIMEOUT_S
							: KC_DEFAULT_TIMEOUT_S;
	return 0;
}
