/* kapi.c — the ApiKey table: names, versions kgate understands, rewriters.
 *
 * Versions come from Apache Kafka's message schemas (../shared/kafka-protocol,
 * trunk at 4.0 development) and, for the newer versions noted below, from the
 * schemas inside kafka-clients 4.4.0 (see protocol/VERSIONS.md).
 */
#include "kapi.h"

#include <stdio.h>

#include "rewrite.h"

/* Fetch's streaming interface (see struct kapi_stream). */
static void fetch_walk_init(union kapi_walk *w, int16_t version)
{
	kfw_init(&w->fetch, version);
}

static int fetch_walk(union kapi_walk *w, const uint8_t *buf, size_t len, size_t *used,
		      uint64_t *skip)
{
	return kfw_walk(&w->fetch, buf, len, used, skip);
}

static const struct kapi_stream fetch_stream = {
	.init = fetch_walk_init,
	.walk = fetch_walk,
	.rewrite_tail = krw_fetch_tail,
};

/* ShareFetch's: the same interface; its tail starts at NodeEndpoints. */
static void share_walk_init(union kapi_walk *w, int16_t version)
{
	ksw_init(&w->share, version);
}

static int share_walk(union kapi_walk *w, const uint8_t *buf, size_t len, size_t *used,
		      uint64_t *skip)
{
	return ksw_walk(&w->share, buf, len, used, skip);
}

static const struct kapi_stream share_fetch_stream = {
	.init = share_walk_init,
	.walk = share_walk,
	.rewrite_tail = krw_share_fetch_tail,
};

static const struct kapi kapi_table[KAPI_MAX_KEY + 1] = {
	/* Produce v10+ carries NodeEndpoints (KIP-951); v13 (4.4) swaps topic
	 * names for ids.  Responses are small, so they are decoded whole. */
	[KAPI_PRODUCE] = {
		.name = "Produce",
		.max_version = 13,
		.first_flexible = 9,
		.rewrite_from = 10,
		.mode = KAPI_REWRITE,
		.flags = KAPI_F_LEADER_HINTS,
		.rewrite = krw_produce,
	},
	/* Fetch v16+ carries NodeEndpoints after the records: streamed, and
	 * only the trailing tagged section is rewritten (same length). v18 is
	 * 4.4's, response unchanged from v17. */
	[KAPI_FETCH] = {
		.name = "Fetch",
		.max_version = 18,
		.first_flexible = 12,
		.rewrite_from = 16,
		.mode = KAPI_TAIL,
		.flags = KAPI_F_LEADER_HINTS,
		.stream = &fetch_stream,
	},
	/* Metadata v13 (4.4) adds a top-level ErrorCode after the topics. */
	[KAPI_METADATA] = {
		.name = "Metadata",
		.max_version = 13,
		.first_flexible = 9,
		.rewrite_from = 0,
		.mode = KAPI_REWRITE,
		.rewrite = krw_metadata,
	},
	[KAPI_FIND_COORDINATOR] = {
		.name = "FindCoordinator",
		.max_version = 6,
		.first_flexible = 3,
		.rewrite_from = 0,
		.mode = KAPI_REWRITE,
		.rewrite = krw_find_coordinator,
	},
	/* v0 handshakes are followed by unframed SASL tokens, which cannot be
	 * told from Kafka requests; v1 makes the client use framed
	 * SaslAuthenticate, which passes through untouched. */
	[KAPI_SASL_HANDSHAKE] = {
		.name = "SaslHandshake",
		.max_version = 1,
		.first_flexible = -1,
		.mode = KAPI_PASS,
		.min_version = 1,
		.too_old = "SaslHandshake v0 is followed by unframed SASL tokens, which a "
			   "gateway cannot pass through; use a client that sends v1, or let "
			   "clients sign in to kgate (client_auth)",
	},
	/* Passed through when clients sign in to brokers themselves; kgate
	 * sends it to sign in with upstream_sasl (its header is flexible from
	 * v2, which kgate's own requests need to know). */
	[KAPI_SASL_AUTHENTICATE] = {
		.name = "SaslAuthenticate",
		.max_version = -1,
		.first_flexible = 2,
		.mode = KAPI_PASS,
	},
	/* Clients send their newest ApiVersions before they know what the
	 * broker supports, and the answer's leading fields are stable across
	 * versions by design, so newer requests are forwarded (lenient). */
	[KAPI_API_VERSIONS] = {
		.name = "ApiVersions",
		.max_version = 5,
		.first_flexible = 3,
		.rewrite_from = 0,
		.mode = KAPI_REWRITE,
		.flags = KAPI_F_LENIENT,
		.rewrite = krw_api_versions,
	},
	/* DescribeQuorum v2 lists controller listeners; v0-1 carry none.
	 * Capped at v1 by decision, not for want of a decoder: kgate fronts
	 * brokers only, so a controller's address has no kgate address to
	 * become, and a configured one would send controller traffic where
	 * nothing serves it (README, "What is rewritten"). */
	[KAPI_DESCRIBE_QUORUM] = {
		.name = "DescribeQuorum",
		.max_version = 1,
		.first_flexible = 0,
		.mode = KAPI_PASS,
	},
	/* DescribeCluster v2 (4.4) adds Brokers[].IsFenced.  Answers that
	 * describe controllers (EndpointType 2) pass unrewritten, for the
	 * reason above (see rw_cluster.c). */
	[KAPI_DESCRIBE_CLUSTER] = {
		.name = "DescribeCluster",
		.max_version = 2,
		.first_flexible = 0,
		.rewrite_from = 0,
		.mode = KAPI_REWRITE,
		.rewrite = krw_describe_cluster,
	},
	/* Share groups (KIP-932): both answers end with NodeEndpoints, an
	 * ordinary field before the top-level tags.  v0 is the 4.0 snapshot's
	 * (early access), v1-2 4.4's; v2's responses are v1's except
	 * ShareAcknowledge's AcquisitionLockTimeoutMs.  ShareFetch carries
	 * records, so it is streamed like Fetch and only NodeEndpoints and the
	 * tags after it are held and rewritten (same length). */
	[KAPI_SHARE_FETCH] = {
		.name = "ShareFetch",
		.max_version = 2,
		.first_flexible = 0,
		.rewrite_from = 0,
		.mode = KAPI_TAIL,
		.flags = KAPI_F_LEADER_HINTS,
		.stream = &share_fetch_stream,
	},
	[KAPI_SHARE_ACKNOWLEDGE] = {
		.name = "ShareAcknowledge",
		.max_version = 2,
		.first_flexible = 0,
		.rewrite_from = 0,
		.mode = KAPI_REWRITE,
		.flags = KAPI_F_LEADER_HINTS,
		.rewrite = krw_share_acknowledge,
	},
};

/* Names of every ApiKey known when this was written (for log lines). */
static const char *const kapi_names[] = {
	"Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr",
	"StopReplica", "UpdateMetadata", "ControlledShutdown", "OffsetCommit",
	"OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat", "LeaveGroup",
	"SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake",
	"ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords",
	"InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn",
	"AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers", "TxnOffsetCommit",
	"DescribeAcls", "CreateAcls", "DeleteAcls", "DescribeConfigs",
	"AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs",
	"SaslAuthenticate", "CreatePartitions", "CreateDelegationToken",
	"RenewDelegationToken", "ExpireDelegationToken", "DescribeDelegationToken",
	"DeleteGroups", "ElectLeaders", "IncrementalAlterConfigs",
	"AlterPartitionReassignments", "ListPartitionReassignments", "OffsetDelete",
	"DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
	"AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch",
	"DescribeQuorum", "AlterPartition", "UpdateFeatures", "Envelope",
	"FetchSnapshot", "DescribeCluster", "DescribeProducers",
	"BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker",
	"DescribeTransactions", "ListTransactions", "AllocateProducerIds",
	"ConsumerGroupHeartbeat", "ConsumerGroupDescribe", "ControllerRegistration",
	"GetTelemetrySubscriptions", "PushTelemetry", "AssignReplicasToDirs",
	"ListConfigResources", "DescribeTopicPartitions", "ShareGroupHeartbeat",
	"ShareGroupDescribe", "ShareFetch", "ShareAcknowledge", "AddRaftVoter",
	"RemoveRaftVoter", "UpdateRaftVoter", "InitializeShareGroupState",
	"ReadShareGroupState", "WriteShareGroupState", "DeleteShareGroupState",
	"ReadShareGroupStateSummary", "StreamsGroupHeartbeat",
	"StreamsGroupDescribe", "DescribeShareGroupOffsets",
	"AlterShareGroupOffsets", "DeleteShareGroupOffsets",
	"StreamsGroupTopologyDescriptionUpdate", "UnregisterController",
};

static const struct kapi kapi_pass_row = {
	.max_version = -1,
	.first_flexible = -1,
	.rewrite_from = -1,
	.mode = KAPI_PASS,
};

const struct kapi *kapi_get(int16_t key)
{
	if (key < 0 || key > KAPI_MAX_KEY || !kapi_table[key].name)
		return &kapi_pass_row;
	return &kapi_table[key];
}

const char *kapi_name(int16_t key, char *scratch, size_t scratch_len)
{
	if (key >= 0 && (size_t)key < sizeof(kapi_names) / sizeof(kapi_names[0]))
		return kapi_names[key];
	snprintf(scratch, scratch_len, "ApiKey(%d)", key);
	return scratch;
}

enum kapi_mode kapi_mode_for(int16_t key, int16_t version)
{
	const struct kapi *a = kapi_get(key);

	if (a->rewrite_from < 0 || version < a->rewrite_from)
		return KAPI_PASS;
	return (enum kapi_mode)a->mode;
}

static int kapi_flexible(const struct kapi *a, int16_t version)
{
	return a->first_flexible >= 0 && version >= a->first_flexible;
}

int kapi_response_header_flexible(int16_t key, int16_t version)
{
	/* ApiVersions responses keep header v0 in every version so that a
	 * client can always read the error of a version it guessed wrong. */
	if (key == KAPI_API_VERSIONS)
		return 0;
	return kapi_flexible(kapi_get(key), version);
}

int kapi_request_header_flexible(int16_t key, int16_t version)
{
	return kapi_flexible(kapi_get(key), version);
}

int kapi_request_check(int16_t key, int16_t version, const char **why)
{
	const struct kapi *a = kapi_get(key);

	if (version < 0) {
		*why = "negative request version";
		return -1;
	}
	if (version < a->min_version) {
		*why = a->too_old;
		return -1;
	}
	if (a->max_version >= 0 && version > a->max_version &&
	    !(a->flags & KAPI_F_LENIENT)) {
		*why = "version newer than kgate understands (ApiVersions was "
		       "capped, so the client should not have sent it)";
		return -1;
	}
	return 0;
}
