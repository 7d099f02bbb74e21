/* cli.h — kgate's command line. */
#ifndef KGATE_CLI_H
#define KGATE_CLI_H

#include <stddef.h>
#include <stdio.h>

/* The demo's addresses when the command line names none. */
#define CLI_DEMO_HOST "127.0.0.1"

/* What the user asked for. */
struct cli_opts {
	const char *config_path; /* --config */
	const char *log_level;   /* --log-level, checked by the logger */
	int check;               /* --check: validate the config and exit */
	int demo;                /* --demo: embedded mock cluster */
	const char *demo_listen;    /* --demo-listen: the IP its listeners bind */
	const char *demo_advertise; /* --demo-advertise: the host its brokers name */
	int help;
	int version;
};

/* 0 on success; -1 with a message in err on a usage error. */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);
void cli_usage(FILE *f);

#endif
