# Makefile — build, test, demo, bench and install kgate.
#
#   make                 build/kgate
#   make test            every test tier (installs missing Debian packages first)
#   make test-unit       Check unit tests
#   make test-asan       unit tests under ASan+UBSan, integration against a sanitized kgate
#   make test-tsan       the integration tier's own threads (and kgate-client's) under TSan
#   make test-integration  librdkafka clients through kgate on the mock cluster
#   make test-e2e        real Apache Kafka, network namespaces, several clients
#                        (root; fetches Kafka with Maven on first use)
#   make test-image      the container image: built with podman on a local
#                        debian:bookworm-slim, run with published ports, the
#                        compose and Kubernetes examples run and validated (root)
#   make image           docker/Dockerfile built with podman (or docker):
#                        IMAGE=kgate:$(VERSION) by default
#   make lint            the tree's shape: no include cycles, layers kept,
#                        small files (scripts/check_layers.py); the systemd
#                        unit verified and its exposure bounded
#   make demo            kgate --demo plus a real producer and consumer through it
#   make bench           micro-benchmarks (print numbers, assert nothing)
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

GW_PKGS   := libevent libevent_openssl openssl jansson rdkafka
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
GW_LIBS     := $(shell $(PKG_CONFIG) --libs $(GW_PKGS) 2>/dev/null)
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

.PHONY: all deps deps-e2e deps-image image test test-image test-all test-unit test-asan test-tsan test-integration test-e2e demo demo-run \
        bench install clean lint
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

$(BUILD)/bench_%: $(call obj,test/bench/bench_%.c $(wildcard test/lib/*.c) $(PROTO_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# Tests and the demo install what they need on a fresh machine first, then
# build in a fresh make so pkg-config sees the new packages.
deps:
	scripts/install-deps.sh --if-missing

deps-e2e:
	scripts/install-deps.sh --if-missing --e2e

deps-image:
	scripts/install-deps.sh --if-missing --image

test:
	scripts/install-deps.sh --if-missing --e2e --image
	$(MAKE) test-all

test-all: lint analyze test-vectors test-unit test-asan test-tsan test-integration test-e2e test-image

lint: $(KGATE)
	scripts/check_layers.py
	scripts/check_unit.sh $(KGATE)

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
# $(BUILD)/tsan, against the normal kgate, which runs one thread.  Debian's
# librdkafka is not built with TSan: test/lib/tsan_threads.c shows TSan its
# C11 threads, and test/lib/tsan.supp says which of its accesses go
# unchecked, and why.  Any report fails the test it happens in.
TSAN_ENV := TSAN_OPTIONS=suppressions=$(CURDIR)/test/lib/tsan.supp:second_deadlock_stack=1
test-tsan: $(KGATE) $(CERTS)/.done
	$(MAKE) BUILD=$(BUILD)/tsan TSAN=1 $(BUILD)/tsan/test_integration $(BUILD)/tsan/kgate-client
	mkdir -p $(BUILD)/tsan/test-tmp
	$(TSAN_ENV) $(TEST_ENV) KGATE_BIN=$(CURDIR)/$(KGATE) \
	  CLIENT_BIN=$(CURDIR)/$(BUILD)/tsan/kgate-client \
	  KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/tsan/test-tmp $(BUILD)/tsan/test_integration

test-integration: $(KGATE) $(TEST_INTEG) $(CLIENT) $(CERTS)/.done
	mkdir -p $(BUILD)/test-tmp
	$(TEST_ENV) KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(TEST_INTEG)

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

test-image: deps-image $(CLIENT)
	KGATE_SRC=$(CURDIR) CLIENT_BIN=$(CURDIR)/$(CLIENT) IMAGE_DIR=$(CURDIR)/$(BUILD)/image \
	  test/image/run.sh

demo: deps
	$(MAKE) demo-run

demo-run: $(KGATE) $(CLIENT)
	scripts/demo.sh $(KGATE) $(CLIENT)

bench: $(BENCH) $(BENCH_FETCH) $(BENCH_PRODUCE) $(BENCH_METADATA) $(BENCH_IDLE) $(BENCH_ADMIN) \
       $(KGATE)
	$(BENCH)
	mkdir -p $(BUILD)/test-tmp
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_FETCH)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_PRODUCE)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_METADATA)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_IDLE)
	KGATE_BIN=$(CURDIR)/$(KGATE) KGATE_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp $(BENCH_ADMIN)

install: $(KGATE)
	install -D -m 0755 $(KGATE) $(DESTDIR)$(PREFIX)/bin/kgate
	install -D -m 0644 config/kgate.sample.json $(DESTDIR)$(PREFIX)/share/kgate/kgate.sample.json
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/kgate/README.md
	install -D -m 0644 LICENSE $(DESTDIR)$(PREFIX)/share/kgate/LICENSE
	install -D -m 0644 scripts/systemd/kgate.service $(DESTDIR)$(PREFIX)/share/kgate/kgate.service

clean:
	rm -rf $(BUILD)

# Keep objects that pattern rules build on the way.
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
