/* demo.h — the embedded default: a librdkafka mock cluster inside the
 * process, fronted by kgate on the NLB-style ports. */
#ifndef KGATE_DEMO_H
#define KGATE_DEMO_H

#include <stddef.h>

#include "../config/config.h"

#define DEMO_BOOTSTRAP_PORT 9094
#define DEMO_FIRST_BROKER_PORT 8443
#define DEMO_BROKERS 3
#define DEMO_ADMIN_PORT 9644
#define DEMO_TOPIC "demo"
#define DEMO_PARTITIONS 3

struct demo;

/* Starts the mock cluster and builds the gateway configuration for it:
 * listeners bound to the IP listen, brokers advertised at advertise (both
 * kept, not copied); NULL with err filled on failure. */
struct demo *demo_start(struct cfg *cfg, const char *listen, const char *advertise, char *err,
			size_t errlen);
/* Prints how to use the running demo. */
void demo_print_usage(const struct demo *d);
void demo_stop(struct demo *d);

#endif
