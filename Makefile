# Makefile — build, test, demo, bench and install kgate.
#
#   make                 build/kgate
#   make test            every test tier (installs missing Debian packages first)
#   make test-unit       Check unit tests
#   make test-asan       unit tests under ASan+UBSan, integration against a sanitized kgate
#   make test-tsan       the integration tier's own threads (and kgate-client's) under TSan
#   make test-integration  librdkafka clients through kgate on the mock cluster
#   make test-iam        kgate's MSK IAM tokens byte for byte against AWS's
#                        Python signer (aws-msk-iam-sasl-signer-python, from
#                        PyPI into a venv under $(BUILD))
#   make test-e2e        real Apache Kafka, network namespaces, several clients
#                        (root; fetches Kafka with Maven on first use)
#   make test-image      the container image: built with podman on a local
#                        debian:bookworm-slim, run with published ports, the
#                        compose and Kubernetes examples run and validated (root)
#   make image           docker/Dockerfile built with podman (or docker):
#                        IMAGE=kgate:$(VERSION) by default
#   make test-fuzz       replay the fuzz corpus (clang's libFuzzer, gcc, gcc+ASan),
#                        then fuzz each target briefly (FUZZ_TEST_SECONDS)
#   make fuzz            fuzz each target for FUZZ_SECONDS (default 60)
#   make fuzz-merge      minimize what fuzzing found into test/fuzz/corpus
#   make lint            the tree's shape: no include cycles, layers kept,
#                        small files (scripts/check_layers.py); the systemd
#                        unit verified and its exposure bounded; kgate
#                        passwd's file checked against hashlib; the ECS
#                        and IAM examples (scripts/check_examples.py)
#   make demo            kgate --demo plus a real producer and consumer through it
#   make bench           micro-benchmarks (print numbers, assert nothing)
#   make bench-peers     kgate beside HAProxy (TCP, splice, TLS) and a direct
#                        client on one real Kafka node: CPU per GiB, throughput,
#                        latency, idle memory (root for perf; see test/bench/peers.sh)
#   make install PREFIX=/usr/local
#
# WERROR=1 turns warnings into errors (CI sets it).  SAN=1 builds with
# AddressSanitizer and UBSan, TSAN=1 with ThreadSanitizer (use a separate
# BUILD directory for either).

VERSION    := $(shell cat VERSION)
CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BUILD      ?= build

GW_PKGS   := libevent libevent_openssl libevent_pthreads openssl jansson rdkafka
TEST_PKGS := $(GW_PKGS) check

# snprintf into fixed buffers truncates on purpose (log lines, JSON paths),
# so -Wformat-truncation's guesses are noise.
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wpointer-arith -Wvla -Wno-format-nonliteral -Wno-format-truncation
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS  ?= -O2 -g
LDFLAGS ?=
ifeq ($(SAN),1)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(TSAN),1)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS += -fsanitize=thread
endif

# Separately: building kgate alone (the image's build stage) needs no Check.
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(GW_PKGS) 2>/dev/null) \
               $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
GW_LIBS     := $(shell $(PKG_CONFIG) --libs $(GW_PKGS) 2>/dev/null) -pthread
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null) -lpthread
ALL_CFLAGS  := -std=c11 -D_GNU_SOURCE -DKGATE_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
               $(PKG_CFLAGS) -MMD -MP

PROTO_SRC  := $(wildcard protocol/*.c)
CONFIG_SRC := $(wildcard config/*.c)
GW_SRC     := $(wildcard gateway/*.c)
CORE_SRC   := $(PROTO_SRC) $(CONFIG_SRC) $(filter-out gateway/main.c,$(GW_SRC))
UNIT_SRC   := $(wildcard test/unit/*.c)
INTEG_SRC  := $(wildcard test/integration/*.c) $(wildcard test/lib/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

KGATE       := $(BUILD)/kgate
TEST_UNIT   := $(BUILD)/test_unit
TEST_INTEG  := $(BUILD)/test_integration
CLIENT      := $(BUILD)/kgate-client
BENCH       := $(BUILD)/bench_rewrite
BENCH_FETCH := $(BUILD)/bench_fetch
BENCH_PRODUCE := $(BUILD)/bench_produce
BENCH_METADATA := $(BUILD)/bench_metadata
BENCH_IDLE := $(BUILD)/bench_idle
BENCH_ADMIN := $(BUILD)/bench_admin
BENCH_AUTH := $(BUILD)/bench_auth
MSK_TOKEN  := $(BUILD)/msk_token
PEER_LOAD  := $(BUILD)/peer_load

.PHONY: all deps deps-e2e deps-image image test test-image test-all test-unit test-asan test-tsan test-integration test-e2e test-iam demo demo-run \
        bench bench-peers deps-bench install clean lint
.DEFAULT_GOAL := all

all: $(KGATE)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(KGATE): $(call obj,$(CORE_SRC) gateway/main.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

$(TEST_UNIT): $(call obj,$(UNIT_SRC) $(CORE_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(TEST_INTEG): $(call obj,$(INTEG_SRC) $(CORE_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(CLIENT): $(call obj,$(wildcard test/clients/*.c) test/lib/client_view.c test/lib/tsan_threads.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BENCH): $(call obj,test/bench/bench_rewrite.c $(PROTO_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(PEER_LOAD): $(call obj,test/bench/peer_load.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/bench_%: $(call obj,test/bench/bench_%.c $(wildcard test/lib/*.c) $(PROTO_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# Tests and the demo install what they need on a fresh machine first, then
# build in a fresh make so pkg-config sees the new packages.
deps:
	scripts/install-deps.sh --if-missing

deps-e2e:
	scripts/install-deps.sh --if-missing --e2e

deps-bench:
	scripts/install-deps.sh --if-missing --bench

deps-image:
	scripts/install-deps.sh --if-missing --image

test:
	scripts/install-deps.sh --if-missing --e2e --image
	$(MAKE) test-all

test-all: lint analyze test-vectors test-unit test-iam test-asan test-tsan test-integration test-e2e test-image

lint: $(KGATE)
	scripts/check_layers.py
	scripts/check_unit.sh $(KGATE)
	scripts/check_passwd.sh $(KGATE)
	/usr/bin/python3 scripts/check_examples.py $(KGATE)
	scripts/check_image_context.py $(KGATE)

# The committed rewrite vectors against their generator (scripts/gen_vectors):
# --verify re-runs the self-checks on every vector in the file (a wrong
# vector), --check regenerates the file and compares (a changed, missing or
# extra vector).  Both read ../shared/kafka-protocol and the kafka-clients
# 4.4.0 schemas, which Maven fetches once into $(BUILD).
KAFKA_SCHEMAS := $(BUILD)/kafka-schemas-4.4.0
$(KAFKA_SCHEMAS)/.done: scripts/fetch-kafka-schemas.sh
	scripts/fetch-kafka-schemas.sh $(KAFKA_SCHEMAS)
	touch $@
.PHONY: test-vectors
test-vectors: $(KAFKA_SCHEMAS)/.done
	scripts/gen_vectors.py --kafka44 $(KAFKA_SCHEMAS) --verify test/vectors/rewrite.json
	scripts/gen_vectors.py --kafka44 $(KAFKA_SCHEMAS) --check

# Static analysis: clang's analyzer (clang-14, installed by `make test`) over
# protocol/, config/ and gateway/ (not tests), one stamp per source so only
# what changed is analysed again; any finding is an error.  It ignores WERROR
# and WARN: its findings always fail.  gcc 12's -fanalyzer was tried: it stops
# early in the data path, dial.c and the codec, and reports stores into
# realloc'd or offset-addressed memory as leaks.
ANALYZE_CC    ?= clang-14
ANALYZE_FLAGS := --analyze -Xclang -analyzer-werror -Xanalyzer -analyzer-output=text \
                 -std=c11 -D_GNU_SOURCE -DKGATE_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
ANALYZE_OK    := $(patsubst %.c,$(BUILD)/analyze/%.ok,$(PROTO_SRC) $(CONFIG_SRC) $(GW_SRC))
.PHONY: analyze
analyze: $(ANALYZE_OK)
$(BUILD)/analyze/%.ok: %.c
	@command -v $(ANALYZE_CC) >/dev/null || \
	  { echo "analyze: no $(ANALYZE_CC) (scripts/install-deps.sh --e2e)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(ANALYZE_CC) $(ANALYZE_FLAGS) -MMD -MP -MF $(@:.ok=.d) -MT $@ $< -o /dev/null
	@touch $@
-include $(wildcard $(BUILD)/analyze/*/*.d)

# A throwaway PKI for the TLS tests, made at test time (never committed).
CERTS := $(BUILD)/certs
$(CERTS)/.done: scripts/gen-certs.sh
	rm -rf $(CERTS)
	scripts/gen-certs.sh $(CERTS)
	touch $@
TEST_ENV = KGATE_SRC=$(CURDIR) KGATE_CERTS=$(CURDIR)/$(CERTS) CLIENT_BIN=$(CURDIR)/$(CLIENT)

test-unit: $(TEST_UNIT) $(CERTS)/.done
	$(TEST_ENV) $(TEST_UNIT)

# The unit tests under ASan+UBSan, then the integration tier against a
# sanitized kgate: any leak makes kgate exit non-zero at its clean stop, which
# fails the test.  A small quarantine keeps ASan's own memory from hiding
# kgate's in the back-pressure tests' RSS bound.  The soak scenario (0009)
# allows kgate's RSS 8 MiB over its baseline here, not 2: what the
# quarantine's 8 MiB of freed chunks hold changes, so ASan's RSS floats by
# megabytes from round to round (up to 2.5 MiB over the baseline seen);
# twice the rounds keep a pair leaked per connection (about 2.3 KiB each
# under ASan: 18 MiB over the run) well past the bound.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=8 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-asan: $(TEST_INTEG) $(CLIENT) $(CERTS)/.done
	$(MAKE) BUILD=$(BUILD)/asan SAN=1 $(BUILD)/asan/test_unit $(BUILD)/asan/kgate
	$(ASAN_ENV) CK_FORK=no $(TEST_ENV) $(BUILD)/asan/test_unit
	mkdir -p $(BUILD)/asan/test-tmp
	$(ASAN_ENV) $(TEST_ENV) KGATE_BIN=$(CURDIR)/$(BUILD)/asan/kgate KGATE_TEST_SANITIZED=1 \
	  KGATE_SOAK_ROUNDS=8 KGATE_SOAK_RSS_SLACK_KIB=8192 \
	  KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/asan/test-tmp $(TEST_INTEG)

# The integration tier's own threads under ThreadSanitizer: the test program
# (its scripted broker, librdkafka callbacks, group members, churn workers)
# and kgate-client (watchdog, group members) built with TSan in
# $(BUILD)/tsan, against the normal kgate.  Then kgate's own threads: a TSan
# build of kgate (two workers, this machine's default and 0017's setting)
# under the scenarios that cross threads most — workers, the admin
# endpoint's counters, reloads, a consumer group.  Debian's
# librdkafka is not built with TSan: test/lib/tsan_threads.c shows TSan its
# C11 threads, and test/lib/tsan.supp says which of its accesses go
# unchecked, and why.  Any report fails the test it happens in.
TSAN_ENV := TSAN_OPTIONS=suppressions=$(CURDIR)/test/lib/tsan.supp:second_deadlock_stack=1
# kgate under TSan inherits the test program's environment: the one file
# for both (test/lib/tsan-kgate.supp says what it adds, and why).
TSAN_KGATE_ENV := TSAN_OPTIONS=suppressions=$(CURDIR)/test/lib/tsan-kgate.supp:second_deadlock_stack=1
test-tsan: $(KGATE) $(CERTS)/.done
	$(MAKE) BUILD=$(BUILD)/tsan TSAN=1 $(BUILD)/tsan/test_integration $(BUILD)/tsan/kgate-client
	mkdir -p $(BUILD)/tsan/test-tmp
	$(TSAN_ENV) $(TEST_ENV) KGATE_BIN=$(CURDIR)/$(KGATE) \
	  CLIENT_BIN=$(CURDIR)/$(BUILD)/tsan/kgate-client \
	  KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/tsan/test-tmp $(BUILD)/tsan/test_integration
	$(MAKE) BUILD=$(BUILD)/tsan TSAN=1 $(BUILD)/tsan/kgate
	set -e; for c in "0017 workers" "0011 admin endpoint" "0014 reload" \
	                 "0001 produce and consume" "0019 upstream sasl"; do \
	  $(TSAN_KGATE_ENV) $(TEST_ENV) KGATE_BIN=$(CURDIR)/$(BUILD)/tsan/kgate KGATE_TEST_SANITIZED=1 \
	    CLIENT_BIN=$(CURDIR)/$(BUILD)/tsan/kgate-client CK_RUN_CASE="$$c" \
	    KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/tsan/test-tmp $(BUILD)/tsan/test_integration \
	    >$(BUILD)/tsan/case.out 2>&1 || { cat $(BUILD)/tsan/case.out; exit 1; }; \
	  cat $(BUILD)/tsan/case.out; \
	  ! grep -q "Checks: 0," $(BUILD)/tsan/case.out || { echo "no test case named $$c"; exit 1; }; \
	done

test-integration: $(KGATE) $(TEST_INTEG) $(CLIENT) $(CERTS)/.done
	mkdir -p $(BUILD)/test-tmp
	$(TEST_ENV) KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(TEST_INTEG)

# kgate's MSK IAM token against the one AWS's own Python signer makes for the
# same credentials, region, time and user agent (test/iam/msk_signer_check.py
# freezes the library's clock): byte for byte, several cases.  The library
# is pinned and installed once into a venv under $(BUILD), made by Debian's
# Python (the one install-deps.sh gives python3-venv to; another python3 on
# the PATH, pyenv's say, may lack the ssl module pip and botocore need).
MSK_SIGNER_VERSION := 1.0.2
IAM_VENV := $(BUILD)/venv-iam
PYTHON3  ?= /usr/bin/python3
$(MSK_TOKEN): $(call obj,test/iam/msk_token.c $(PROTO_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)
$(IAM_VENV)/.signer-$(MSK_SIGNER_VERSION):
	rm -rf $(IAM_VENV)
	$(PYTHON3) -m venv $(IAM_VENV)
	$(IAM_VENV)/bin/pip install -q aws-msk-iam-sasl-signer-python==$(MSK_SIGNER_VERSION)
	touch $@
test-iam: deps $(MSK_TOKEN) $(IAM_VENV)/.signer-$(MSK_SIGNER_VERSION)
	$(IAM_VENV)/bin/python test/iam/msk_signer_check.py $(MSK_TOKEN)

test-e2e: deps-e2e $(KGATE) $(CLIENT) $(CERTS)/.done
	$(TEST_ENV) KGATE_BIN=$(CURDIR)/$(KGATE) CLIENT_BIN=$(CURDIR)/$(CLIENT) E2E_DIR=$(CURDIR)/$(BUILD)/e2e \
	  test/e2e/run.sh

# The image: podman when it is there (in Docker's format, which keeps the
# HEALTHCHECK), else docker.
IMAGE  ?= kgate:$(VERSION)
ENGINE ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
GIT_REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GIT_SOURCE   := $(shell git config --get remote.origin.url 2>/dev/null | grep '^https://' || echo unknown)

image:
	$(ENGINE) build $(if $(filter podman,$(notdir $(ENGINE))),--format docker) \
	  -f docker/Dockerfile --build-arg KGATE_VERSION=$(VERSION) \
	  --build-arg KGATE_REVISION=$(GIT_REVISION) --build-arg KGATE_SOURCE=$(GIT_SOURCE) \
	  -t $(IMAGE) .

test-image: deps-image $(KGATE) $(CLIENT)
	KGATE_SRC=$(CURDIR) KGATE_BIN=$(CURDIR)/$(KGATE) CLIENT_BIN=$(CURDIR)/$(CLIENT) \
	  IMAGE_DIR=$(CURDIR)/$(BUILD)/image \
	  test/image/run.sh
# Fuzzing (test/fuzz): a libFuzzer target per test/fuzz/fuzz_*.c, built with
# clang-14 and ASan+UBSan over what kgate is built from (CORE_SRC); and the
# same targets built with $(CC) around test/fuzz/replay.c, which feeds them
# each file of a corpus, so gcc, and gcc with ASan+UBSan, replay the
# committed corpus too.  `make fuzz` fuzzes each target for FUZZ_SECONDS,
# keeping what it finds in $(BUILD)/fuzz/corpus/<target>; `make fuzz-merge`
# minimizes that (or FUZZ_MERGE_FROM, e.g. scripts/fuzz_seeds.py's output)
# together with test/fuzz/corpus into test/fuzz/corpus, keeping inputs for
# new edges only (-use_counters=0), which holds it to a few hundred files.  `make test-fuzz`
# replays the corpus with all three builds, then fuzzes each target for
# FUZZ_TEST_SECONDS in a scratch copy; a crash or a broken invariant fails
# it, the input left in $(BUILD)/fuzz/run/.
FUZZ_CC           ?= clang-14
FUZZ_SECONDS      ?= 60
FUZZ_TEST_SECONDS ?= 15
FUZZ_MERGE_FROM   ?= $(BUILD)/fuzz/corpus
FUZZ_TARGETS := $(patsubst test/fuzz/fuzz_%.c,%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -DKGATE_VERSION='"$(VERSION)"' -g -O1 \
                -fno-omit-frame-pointer $(FUZZ_SAN) $(PKG_CFLAGS) -MMD -MP
FUZZ_OPTS    := -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1
FUZZ_BINS    := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))
FUZZ_REPLAYS := $(addprefix $(BUILD)/replay_,$(FUZZ_TARGETS))
FUZZ_LIB      = $(shell $(FUZZ_CC) -print-file-name=libclang_rt.fuzzer-$(shell uname -m).a)
# The dictionary of a target, if it has one.
fuzz_dict = $$(test -f test/fuzz/$(1).dict && echo -dict=test/fuzz/$(1).dict)
.PHONY: fuzz fuzz-merge test-fuzz
test-all: test-fuzz

$(BUILD)/fuzz/obj/%.o: %.c
	@command -v $(FUZZ_CC) >/dev/null && test -f "$(FUZZ_LIB)" || \
	  { echo "fuzz: no $(FUZZ_CC) with libFuzzer (scripts/install-deps.sh --e2e)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(BUILD)/fuzz/fuzz_%: $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,test/fuzz/fuzz_%.c test/fuzz/common.c $(CORE_SRC))
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(GW_LIBS)
$(BUILD)/replay_%: $(call obj,test/fuzz/fuzz_%.c test/fuzz/common.c test/fuzz/replay.c $(CORE_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

fuzz: $(FUZZ_BINS)
	set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/crashes; \
	  $(BUILD)/fuzz/fuzz_$$t $(FUZZ_OPTS) $(call fuzz_dict,$$t) -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(BUILD)/fuzz/crashes/$$t- $(BUILD)/fuzz/corpus/$$t test/fuzz/corpus/$$t; \
	done

fuzz-merge: $(FUZZ_BINS)
	set -e; for t in $(FUZZ_TARGETS); do \
	  [ -d $(FUZZ_MERGE_FROM)/$$t ] || continue; \
	  rm -rf $(BUILD)/fuzz/merged/$$t; mkdir -p $(BUILD)/fuzz/merged/$$t test/fuzz/corpus/$$t; \
	  $(BUILD)/fuzz/fuzz_$$t -merge=1 -use_counters=0 $(BUILD)/fuzz/merged/$$t test/fuzz/corpus/$$t \
	    $(FUZZ_MERGE_FROM)/$$t; \
	  rm -rf test/fuzz/corpus/$$t; cp -r $(BUILD)/fuzz/merged/$$t test/fuzz/corpus/$$t; \
	done

test-fuzz: $(FUZZ_BINS) $(FUZZ_REPLAYS)
	$(MAKE) BUILD=$(BUILD)/asan SAN=1 $(addprefix $(BUILD)/asan/replay_,$(FUZZ_TARGETS))
	set -e; for t in $(FUZZ_TARGETS); do \
	  $(BUILD)/replay_$$t test/fuzz/corpus/$$t; \
	  $(ASAN_ENV) $(BUILD)/asan/replay_$$t test/fuzz/corpus/$$t; \
	done
	set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf $(BUILD)/fuzz/run/$$t; mkdir -p $(BUILD)/fuzz/run/$$t; \
	  $(BUILD)/fuzz/fuzz_$$t $(FUZZ_OPTS) $(call fuzz_dict,$$t) -max_total_time=$(FUZZ_TEST_SECONDS) \
	    -artifact_prefix=$(BUILD)/fuzz/run/$$t- $(BUILD)/fuzz/run/$$t test/fuzz/corpus/$$t; \
	done
-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)

demo: deps
	$(MAKE) demo-run

demo-run: $(KGATE) $(CLIENT)
	scripts/demo.sh $(KGATE) $(CLIENT)

bench: $(BENCH) $(BENCH_FETCH) $(BENCH_PRODUCE) $(BENCH_METADATA) $(BENCH_IDLE) $(BENCH_ADMIN) \
       $(BENCH_AUTH) $(KGATE)
	$(BENCH)
	$(BENCH_AUTH)
	mkdir -p $(BUILD)/test-tmp
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_FETCH)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_PRODUCE)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_METADATA)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_IDLE)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_ADMIN)

bench-peers: deps-bench
	$(MAKE) $(KGATE) $(PEER_LOAD)
	test/bench/peers.sh

install: $(KGATE)
	install -D -m 0755 $(KGATE) $(DESTDIR)$(PREFIX)/bin/kgate
	install -D -m 0644 config/kgate.sample.json $(DESTDIR)$(PREFIX)/share/kgate/kgate.sample.json
	install -D -m 0644 config/kgate.sni.sample.json $(DESTDIR)$(PREFIX)/share/kgate/kgate.sni.sample.json
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/kgate/README.md
	install -D -m 0644 LICENSE $(DESTDIR)$(PREFIX)/share/kgate/LICENSE
	install -D -m 0644 scripts/systemd/kgate.service $(DESTDIR)$(PREFIX)/share/kgate/kgate.service

clean:
	rm -rf $(BUILD)

# Keep objects that pattern rules build on the way.
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
