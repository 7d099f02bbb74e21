/* client_view.c — reads a librdkafka statistics document into the brokers the client used. */
#include "client_view.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* An integer member, or dflt when it is absent or not an integer. */
static long long json_int_or(json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

int client_view_parse(const char *json, size_t len, struct client_view *v, char *err,
		      size_t err_size)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr), *brokers, *b;
	const char *key, *nodename;

	if (!root) {
		snprintf(err, err_size, "%s", jerr.text);
		return -1;
	}
	brokers = json_object_get(root, "brokers");
	if (!json_is_object(brokers)) {
		snprintf(err, err_size, "no \"brokers\" object");
		json_decref(root);
		return -1;
	}
	v->n_brokers = 0;
	v->truncated = false;
	json_object_foreach(brokers, key, b) {
		struct client_view_broker *vb;

		if (v->n_brokers == CLIENT_VIEW_MAX_BROKERS) {
			v->truncated = true;
			break;
		}
		vb = &v->brokers[v->n_brokers++];
		nodename = json_string_value(json_object_get(b, "nodename"));
		snprintf(vb->name, sizeof(vb->name), "%s", key);
		snprintf(vb->nodename, sizeof(vb->nodename), "%s", nodename ? nodename : "");
		vb->nodeid = json_int_or(b, "nodeid", -1);
		vb->connects = json_int_or(b, "connects", 0);
	}
	json_decref(root);
	return 0;
}

enum client_view_use client_view_use(const struct client_view_broker *b)
{
	if (b->connects <= 0)
		return CLIENT_VIEW_IDLE;
	return b->nodename[0] ? CLIENT_VIEW_USED : CLIENT_VIEW_NO_ADDRESS;
}

void client_view_add_used(const struct client_view *v, struct client_addr_set *set)
{
	if (v->truncated)
		set->incomplete = true;
	for (size_t i = 0; i < v->n_brokers; i++) {
		const char *addr = v->brokers[i].nodename;
		size_t j;

		if (client_view_use(&v->brokers[i]) != CLIENT_VIEW_USED)
			continue;
		for (j = 0; j < set->n && strcmp(set->addr[j], addr) != 0; j++)
			;
		if (j < set->n)
			continue;
		if (set->n == CLIENT_VIEW_MAX_BROKERS)
			set->incomplete = true;
		else
			snprintf(set->addr[set->n++], sizeof(set->addr[0]), "%s", addr);
	}
}
