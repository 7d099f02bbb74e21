#!/usr/bin/env bash
# kafka.sh — Apache Kafka for the end-to-end tests, without Docker: the
# broker, tools and Java client are resolved from Maven Central with Maven
# (scripts/kafka/pom.xml pins the version) into a cache kept between runs.
#
#   scripts/kafka.sh fetch              resolve (once) and print the lib dir
#   scripts/kafka.sh version            print the pinned Kafka version
#   scripts/kafka.sh run CLASS ARGS...  run a Kafka class (broker, tool, client)
#
# KGATE_CACHE (default ~/.cache/kgate) holds kafka-<version>/libs.  Java 17
# and Maven must be installed (scripts/install-deps.sh --e2e does that).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pom=$here/kafka/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache=${KGATE_CACHE:-$HOME/.cache/kgate}
libs=$cache/kafka-$version/libs

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

fetch() {
  if [ -f "$libs/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is not installed: run scripts/install-deps.sh --e2e"
  command -v java >/dev/null || die "Java is not installed: run scripts/install-deps.sh --e2e"
  rm -rf "$libs"
  mkdir -p "$libs"
  echo "kafka.sh: resolving Apache Kafka $version from Maven Central into $libs" >&2
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$libs" >"$cache/kafka-$version.mvn.log" 2>&1; then
    tail -20 "$cache/kafka-$version.mvn.log" >&2
    die "could not fetch Kafka $version with Maven (see $cache/kafka-$version.mvn.log)"
  fi
  ls "$libs"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "Maven ran but kafka_2.13-$version.jar is missing"
  touch "$libs/.complete"
}

case "${1:-}" in
  fetch)
    fetch
    echo "$libs"
    ;;
  version)
    echo "$version"
    ;;
  run)
    shift
    [ $# -ge 1 ] || die "run needs a class"
    fetch
    cls=$1
    shift
    # Quiet by default; KAFKA_LOG4J points at another log4j2 file.
    exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -XX:+UseSerialGC \
      -Dlog4j2.configurationFile="${KAFKA_LOG4J:-$here/kafka/log4j2-quiet.yaml}" \
      -cp "$libs/*" "$cls" "$@"
    ;;
  *)
    echo "usage: $0 fetch | version | run CLASS ARGS..." >&2
    exit 2
    ;;
esac
