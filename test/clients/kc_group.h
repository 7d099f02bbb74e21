/* kc_group.h — kgate-client consume's group, shared by cmd_consume.c and kc_group.c. */
#ifndef KGATE_KC_GROUP_H
#define KGATE_KC_GROUP_H

#include "kc.h"

/* Examples of each flaw kept for the failure message. */
#define KC_MAX_EXAMPLES 3

/* What can be wrong with what the group consumed. */
enum kc_flaw { KC_MALFORMED, KC_OUT_OF_RANGE, KC_DUPLICATE, KC_OUT_OF_ORDER, KC_N_FLAWS };

struct kc_member;

/* The consumer group: what all members consumed, checked as it arrives. */
struct kc_group {
	const struct kc_opts *o;
	struct kc_member *members;
	pthread_mutex_t lock; /* guards what follows the atomics */
	atomic_bool started;  /* every member had partitions at once */
	atomic_bool done;     /* every id arrived */
	atomic_bool stop;     /* a member hit a fatal error */
	double t_begin, t_started, t_done;
	unsigned char *seen; /* seen[id - start]: arrivals, saturating */
	long long distinct;
	long long last_id[KC_MAX_PARTITIONS]; /* -1: none yet */
	long long flaws[KC_N_FLAWS];
	char examples[KC_N_FLAWS][KC_MAX_EXAMPLES][192];
};

/* One member: its own handle, polled only by its own thread. */
struct kc_member {
	struct kc_handle h;
	struct kc_group *g;
	pthread_t thread;
	bool paused;          /* holding its partitions until the group formed */
	int n_assigned;       /* current partitions; under g->lock */
	bool ever_assigned;
	unsigned char ever[KC_MAX_PARTITIONS / 8]; /* partitions it ever had */
	long long consumed;
	bool closing;         /* offsets committed; nothing left to commit */
	bool finish_failed;   /* final commit or statistics failed (explained) */
};

/* Assigns or revokes a member's partitions (the member is the opaque's
 * kc_member); see kc_group.c for why it commits on revoke. */
kc_rebalance_fn kc_rebalance_cb;
/* A member's thread: polls until every id arrived, the group stopped or the
 * deadline passed, then commits and refreshes its statistics. */
void *kc_member_run(void *arg);
/* Everything the group's consumption must satisfy; 0 when it all holds. */
int kc_group_verdict(const struct kc_group *g);

#endif
