/* kc_check.c — kgate-client's --expect-brokers check of the addresses the client reports. */
#include <string.h>

#include "kc.h"

/* Splits a comma-separated list; fails on an empty list or entry. */
int kc_addrs_parse(const char *list, struct kc_addrs *a)
{
	char *save = NULL, *tok;

	a->n = 0;
	if (strlen(list) >= sizeof(a->buf) || !*list || strstr(list, ",,") ||
	    list[0] == ',' || list[strlen(list) - 1] == ',')
		return -1;
	strcpy(a->buf, list);
	for (tok = strtok_r(a->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->n == KC_MAX_ADDRS)
			return -1;
		a->addr[a->n++] = tok;
	}
	return 0;
}

static bool kc_addrs_contains(const struct kc_addrs *a, const char *addr)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->addr[i], addr) == 0)
			return true;
	return false;
}

/* Checks one address the client used; returns the note to print after it. */
static const char *kc_check_addr(struct kc_check *chk, const char *addr)
{
	int i;

	if (!chk->expect)
		return "";
	if (kc_addrs_contains(chk->expect, addr) || kc_addrs_contains(chk->bootstrap, addr))
		return "  ok";
	for (i = 0; i < chk->n_bad && strcmp(chk->bad[i], addr) != 0; i++)
		;
	/* Past KC_MAX_ADDRS offenders the check has failed anyway. */
	if (i == chk->n_bad && i < KC_MAX_ADDRS)
		snprintf(chk->bad[chk->n_bad++], sizeof(chk->bad[0]), "%s", addr);
	return "  <- NOT in --expect-brokers";
}

/* The address check's verdict, once every handle has been reported. */
int kc_check_verdict(const struct kc_check *chk)
{
	char list[1024] = "";
	size_t len = 0;

	if (!chk->expect)
		return 0;
	if (chk->n_bad == 0) {
		printf("OK: every broker address the client used is in --expect-brokers "
		       "or --bootstrap\n");
		return 0;
	}
	for (int i = 0; i < chk->n_bad && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, " %s", chk->bad[i]);
	kc_fail("the client used broker addresses not in --expect-brokers:%s", list);
	return -1;
}

/* Prints the brokers a Metadata answer lists, checking each against chk. */
void kc_report_metadata(const struct kc_handle *h, const struct rd_kafka_metadata *md,
			struct kc_check *chk)
{
	char addr[300];

	printf("%s: rd_kafka_metadata() lists %d brokers (answered by %s):\n", h->role,
	       md->broker_cnt, md->orig_broker_name);
	for (int i = 0; i < md->broker_cnt; i++) {
		snprintf(addr, sizeof(addr), "%s:%d", md->brokers[i].host, md->brokers[i].port);
		printf("  broker %d %s%s\n", md->brokers[i].id, addr, kc_check_addr(chk, addr));
	}
}

/* Prints (and checks) the addresses of the handle's latest statistics. */
int kc_report_stats(const struct kc_handle *h, struct kc_check *chk)
{
	const struct client_view *v = &h->view;

	printf("%s: statistics brokers (stats callback #%d):\n", h->role, h->stats_seen);
	for (size_t i = 0; i < v->n_brokers; i++) {
		const struct client_view_broker *b = &v->brokers[i];

		if (b->nodeid >= 0 || b->connects > 0)
			printf("  %s: nodeid %lld, nodename %s, connects %lld\n", b->name,
			       b->nodeid, b->nodename[0] ? b->nodename : "(none)", b->connects);
	}
	/* Each entry, not each address: the logical GroupCoordinator entry
	 * shows beside the broker it points at. */
	for (size_t i = 0; i < v->n_brokers; i++) {
		const struct client_view_broker *b = &v->brokers[i];

		switch (client_view_use(b)) {
		case CLIENT_VIEW_IDLE:
			break;
		case CLIENT_VIEW_NO_ADDRESS:
			printf("%s: %s: no address, not checked\n", h->role, b->name);
			break;
		case CLIENT_VIEW_USED:
			printf("%s: client used: %s%s\n", h->role, b->nodename,
			       kc_check_addr(chk, b->nodename));
			break;
		}
	}
	if (v->truncated && chk->expect) {
		kc_fail("%s: statistics list more than %d brokers; cannot check them all",
			h->role, CLIENT_VIEW_MAX_BROKERS);
		return -1;
	}
	return 0;
}

/* Prints the brokers the handle used, (a) from Metadata and (b) from its
 * statistics, checking each against chk. */
int kc_report(struct kc_handle *h, struct kc_check *chk)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;

	err = rd_kafka_metadata(h->rk, 0, NULL, &md, kc_call_timeout_ms(KC_METADATA_TIMEOUT_MS));
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kc_fail("%s: metadata request failed: %s", h->role, rd_kafka_err2str(err));
		return -1;
	}
	kc_report_metadata(h, md, chk);
	rd_kafka_metadata_destroy(md);
	if (kc_report_stats(h, chk) < 0)
		return -1;
	chk->n_reports++;
	return 0;
}
