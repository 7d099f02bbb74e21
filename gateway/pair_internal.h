/* pair_internal.h — what pair.c (flow and end) and pair_open.c (accept,
 * route, dial) share; no other module includes it. */
#ifndef KGATE_PAIR_INTERNAL_H
#define KGATE_PAIR_INTERNAL_H

#include <stddef.h>

#include "log.h"
#include "pair.h"

#define pair_log(p, lvl, fmt, ...)                                                            \
	LOG(lvl, "[%" PRIu64 " %s via %s] " fmt, (p)->id, (p)->client_addr, (p)->lst->name,      \
	    ##__VA_ARGS__)

/* clang-format off */
#define pair_of(ptr, member) ((struct pair *)((char *)(ptr) - offsetof(struct pair, member)))
/* clang-format on */

/* The limits of the generation the pair started with. */
const struct cfg_limits *pair_limits(const struct pair *p);
/* Ends the pair now; memory is released on the gateway's next reap. */
void pair_end(struct pair *p, enum log_level lvl, const char *reason);
/* TLS failed on one side: counted, logged, closed. */
void pair_fail_tls(struct pair *p, const char *why);
/* The gateway's release hook (struct gw_node). */
void pair_release(struct gw_node *n);
/* What a side tells its pair. */
void pair_side_cb(struct side *s, enum side_event ev, void *arg);
/* Reads s again after back-pressure; -1 = the pair closed. */
int pair_resume(struct pair *p, struct side *s);
/* Forwards what the client sent; -1 = the pair closed. */
int pair_process_requests(struct pair *p, int final);
/* Decides where the upstream is and dials it, or waits for the cluster. */
void pair_route(struct pair *p, const char *failure);
/* Re-authentication (pair_reauth.c): arms the renewal of a session the
 * broker gave lifetime_ms (0: none); starts it once nothing is in flight
 * (0, or -1 = the pair closed); reads its answers from the upstream. */
void pair_reauth_arm(struct pair *p, int64_t lifetime_ms);
int pair_reauth_start(struct pair *p);
int pair_reauth_read(struct pair *p);
/* Client logins (pair_login.c): 1 if the client must log in first (the
 * pair routes once it has), 0 if not, -1 out of memory; what it sent
 * meanwhile (0, or -1 = the pair closed). */
int pair_login_begin(struct pair *p);
int pair_login_read(struct pair *p);
void pair_login_free(struct pair *p);
/* The client's TLS handshake is done: map its certificate and route. */
void pair_login_cert(struct pair *p);
/* The SNI listener's client finished its handshake: its server name
 * chooses the route, then it logs in or is routed (pair_open.c). */
void pair_sni_ready(struct pair *p);
/* Its handshake failed because its server name was refused: counted,
 * logged (a line now and then, not one per client), closed. */
void pair_sni_refused(struct pair *p);
/* Closes once the client has been sent what its output holds. */
void pair_finish(struct pair *p, const char *reason);
/* Acts on a hold once nothing is in flight (see pair.c); -1 = closed. */
int pair_settle(struct pair *p);
void pair_reauth_free(struct pair *p);

#endif
