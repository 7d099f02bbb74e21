/* fake_cluster.h — a scripted cluster for tests of what kgate learns:
 * one fake broker (fake_broker.h) that answers ApiVersions v0, Metadata v1
 * with the brokers the test advertises (changed while it runs), and
 * Produce v10 with NOT_LEADER_OR_FOLLOWER; and kgate configured to learn
 * brokers 1 and 2 from it, with raw clients to ask through kgate.
 */
#ifndef KGATE_FAKE_CLUSTER_H
#define KGATE_FAKE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "fake_broker.h"
#include "harness.h"

/* What the scripted cluster advertises (n and ports set while it runs:
 * atomics). */
struct advert {
	int n;
	int metadata_answers;
	int produce_answers;
	int32_t ids[4];
	char hosts[4][320];
	int32_t ports[4];
};

/* fake_broker_start's handler for a struct advert (ctx). */
void cluster_handler(struct fake_broker *fb, int fd);
/* A scripted cluster whose one broker, 1, advertises itself: a's first
 * entry is its own address. */
void start_self_advertising(struct fake_broker *fb, struct advert *a);
/* kgate's configuration fronting brokers 1 and 2 (kg's ports), both learned
 * from the cluster at port, one worker; extra: more top-level keys, or NULL. */
void learning_config(char *cfg, size_t len, const struct kgate *kg, int port, const char *extra);
/* Plans kg for two brokers and starts it with learning_config. */
void start_learning_gateway(struct kgate *kg, int port, const char *extra);
/* Waits until the scripted cluster has answered n more Metadata requests. */
void wait_metadata_answers(struct advert *a, int n);
/* Metadata v1 through kgate's port; returns the answer's size (the frame is
 * read whole), or -1 if the connection closed. */
int ask_metadata(int port);
/* 1 if an ApiVersions v0 sent to kgate's port is answered (kgate dialled
 * the broker behind it). */
int answered_at(int port);

#endif
