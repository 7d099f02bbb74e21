#!/usr/bin/env bash
# Fetch Apache Kafka's message schemas (common/message/*.json) as shipped in
# the kafka-clients 4.4.0 jar, so that scripts/gen_vectors.py can use the
# protocol versions newer than the trunk snapshot in shared/kafka-protocol
# (Metadata v13, DescribeCluster v2, Produce v12-13, Fetch v18, ApiVersions v5).
#
# Usage: scripts/fetch-kafka-schemas.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to build/kafka-schemas-4.4.0 (relative to the current
#   directory). The *.json files are written flat into OUTPUT_DIR.
#
# The jar is resolved through Maven (Maven Central or the local ~/.m2 cache),
# never downloaded by hand, so the usual Maven settings/mirrors apply.
set -euo pipefail

KAFKA_VERSION="4.4.0"
ARTIFACT="org.apache.kafka:kafka-clients:${KAFKA_VERSION}"
OUT_DIR="${1:-build/kafka-schemas-${KAFKA_VERSION}}"

command -v mvn >/dev/null 2>&1 || { echo "error: mvn not found in PATH" >&2; exit 1; }

# Work in a scratch directory: dependency:copy needs no pom, and running it
# outside the repository keeps Maven from picking up any project pom.
WORK_DIR="$(mktemp -d)"
trap 'rm -rf "$WORK_DIR"' EXIT

# Maven's output (even with -q) is only interesting when it fails.
if ! (cd "$WORK_DIR" && mvn -q -B dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$WORK_DIR/jar") \
        >"$WORK_DIR/mvn.log" 2>&1; then
    cat "$WORK_DIR/mvn.log" >&2
    echo "error: Maven could not fetch $ARTIFACT" >&2
    exit 1
fi

JAR="$WORK_DIR/jar/kafka-clients-${KAFKA_VERSION}.jar"
[ -f "$JAR" ] || { echo "error: $JAR was not produced by Maven" >&2; exit 1; }

mkdir -p "$OUT_DIR"
# -j: junk paths so the schemas land directly in OUT_DIR; -o: overwrite.
if command -v unzip >/dev/null 2>&1; then
    unzip -q -o -j "$JAR" 'common/message/*.json' -d "$OUT_DIR"
else
    # Fallback for machines without unzip: Python's zipfile does the same.
    python3 - "$JAR" "$OUT_DIR" <<'EOF'
import os, sys, zipfile
jar, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as z:
    for name in z.namelist():
        if name.startswith("common/message/") and name.endswith(".json") and name.count("/") == 2:
            with open(os.path.join(out, os.path.basename(name)), "wb") as f:
                f.write(z.read(name))
EOF
fi

COUNT="$(find "$OUT_DIR" -maxdepth 1 -name '*.json' | wc -l)"
[ "$COUNT" -gt 0 ] || { echo "error: no schema files extracted into $OUT_DIR" >&2; exit 1; }
echo "extracted $COUNT schema files from kafka-clients-${KAFKA_VERSION}.jar into $OUT_DIR"
