"""Generate byte-level test vectors for kgate's Kafka response rewriters.

kgate sits between Kafka clients and brokers and rewrites the broker
addresses that responses advertise (Metadata, FindCoordinator,
DescribeCluster, Produce/Fetch NodeEndpoints) and caps the versions that
ApiVersions advertises. This package is an independent, schema-driven model of
those rewrites, written in plain Python from Apache Kafka's JSON message
schemas. It produces test/vectors/rewrite.json: pairs of (input frame,
expected frame) that kgate's C rewriters must reproduce byte for byte.

Nothing here is derived from kgate's C code: the point of the vectors is to
catch mistakes in the C implementation, so the model must not share them.

Frames are response frames without the 4-byte size prefix: response header
(v0, or v1 for flexible versions except ApiVersions) followed by the body.

Modules, in dependency order:
    kgate      what kgate does: mapping, ApiVersions caps, PLAN, padding rule
    schema     Kafka JSON schemas: comments, version ranges, fields, files
    wire       wire primitives and the schema-driven struct codec
    protocol   which schema serves each (api, version); the frame codec
    rewrite    the model of kgate's rewrites (expected frame for an input)
    checks     self-checks on a vector; independent of rewrite
    values     random but realistic field values
    cases      the vector cases per API and version
    vectors    generate every vector, render rewrite.json
    cli        the command line (scripts/gen_vectors.py is its entry point)

Usage (from the repository root):
    scripts/fetch-kafka-schemas.sh build/kafka-schemas-4.4.0
    scripts/gen_vectors.py                       # writes test/vectors/rewrite.json
    scripts/gen_vectors.py --check               # regenerate in memory, compare with the file
    scripts/gen_vectors.py --verify FILE         # re-run the self-checks on an existing file

Only the Python 3.11 standard library is used. Output is deterministic: every
vector has its own RNG seeded from (--seed, vector name), so adding a case does
not change the bytes of any other case.
"""
