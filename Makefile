# postcard — one non-recursive Makefile.
#
#   make            build build/postcard
#   make demo       install what is missing, build, run on pcaps/demo.pcapng
#   make test       install what is missing, build with ASan+UBSan, run every test
#   make bench      speed against tcpdump and ndpiReader on the same captures
#   make bench-latency  alert latency on a live link (root; docs/performance.md)
#   make bench-flood    2 M spoofed SYNs at the default settings, memory per flow (docs/limits.md)
#   make pcaps      regenerate pcaps/ from real servers in network namespaces (root)
#   make lint       cppcheck and a grep for unsafe libc calls
#   make fuzz       libFuzzer targets (clang) for FUZZ_TIME s each, two at a time
#   make fuzz-smtp  one of them (docs/fuzzing.md)
#   make SAN=address,undefined   sanitizer build (in build/san)

PKGS     := libpcap libndpi libmaxminddb hiredis libcrypto libcap
CC       ?= cc
CFLAGS   ?= -O2 -g
SAN      ?=
ifneq ($(SAN),)
  BUILD  ?= build/san
  CFLAGS += -O1 -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=$(SAN)
else
  BUILD  ?= build
endif
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wpointer-arith -Wwrite-strings
WERROR   ?= 1
ifeq ($(WERROR),1)
  WARN   += -Werror
endif
# Evaluated when used (after `make deps` may have installed the libraries).
DEP_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
DEP_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
BASE_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) -MMD -MP -Idissectors

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian 12 packages: to build, and to run the tests.
BUILD_DEBS := build-essential pkg-config libpcap-dev libndpi-dev libmaxminddb-dev \
              libhiredis-dev libssl-dev libcap-dev
TEST_DEBS  := redis-server redis-tools tcpdump tshark libndpi-bin mmdb-bin openssl \
              ca-certificates python3 iproute2 tcpreplay chromium
RUN_DEBS   := ca-certificates python3
BENCH_DEBS := hyperfine bc time
LINT_DEBS  := cppcheck clang-format
FUZZ_DEBS  := clang-14 libclang-rt-14-dev

SENSOR_SRC := $(filter-out sensor/main.c,$(wildcard sensor/*.c sensor/*/*.c))
DISSECT_SRC := $(wildcard dissectors/*.c)
RULES_SRC  := $(wildcard rules/*.c)
UNIT_SRC   := $(wildcard tests/unit/test-*.c)

SENSOR_OBJ := $(SENSOR_SRC:%.c=$(BUILD)/%.o)
DISSECT_OBJ := $(DISSECT_SRC:%.c=$(BUILD)/%.o)
RULES_OBJ  := $(RULES_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Fuzz targets (tests/fuzz/fuzz-<target>.c, docs/fuzzing.md): what each one links.
FUZZ_DISSECT := smtp pop3 imap tls sasl
FUZZ_RULES   := rules
FUZZ_SENSOR  := x509 packet config jsonread
FUZZ_TARGETS := $(FUZZ_DISSECT) $(FUZZ_RULES) $(FUZZ_SENSOR)
fuzz_libs = $(if $(filter $(1),$(FUZZ_DISSECT)),$(BUILD)/libdissect.a,\
            $(if $(filter $(1),$(FUZZ_RULES)),$(BUILD)/librules.a $(BUILD)/libdissect.a,\
            $(BUILD)/libsensor.a $(BUILD)/librules.a $(BUILD)/libdissect.a))
fuzz_deplibs = $(if $(filter $(1),$(FUZZ_SENSOR)),$(DEP_LIBS))
# fuzz-packet shares nDPI's module, the trust store and the certificate cache between inputs
FUZZ_LDFLAGS_packet := -Wl,--wrap=ndpi_init_detection_module \
  -Wl,--wrap=ndpi_set_protocol_detection_bitmask2 -Wl,--wrap=ndpi_finalize_initialization \
  -Wl,--wrap=ndpi_exit_detection_module -Wl,--wrap=x509_store_load -Wl,--wrap=x509_store_free \
  -Wl,--wrap=certcache_new -Wl,--wrap=certcache_free
FUZZ_HDRS    := tests/fuzz/fuzz.h tests/fuzz/fuzz-dissect.h
FUZZ_DEFS     = -DFUZZ_RULES_DIR='"$(CURDIR)/rules/default"'
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz-%)
REPLAY_BIN   := $(FUZZ_TARGETS:%=$(BUILD)/tests/replay-%)
FUZZ_CC      ?= clang-14
FUZZ_TIME    ?= 900
FUZZ_JOBS    ?= 2

.PHONY: all demo test check unit unit-bins deps deps-build deps-run deps-test deps-lint check-libs bench \
        bench-latency bench-flood fuzz fuzz-bins fuzz-build fuzz-merge fuzz-seeds fuzz-replay \
        replay-bins deps-fuzz $(FUZZ_TARGETS:%=fuzz-%) pcaps lint format format-check clean FORCE

all: check-libs $(BUILD)/postcard

check-libs:
	@for p in $(PKGS); do pkg-config --exists $$p || { \
	  echo "postcard: the library '$$p' was not found by pkg-config;" \
	       "run 'make deps' (Debian: $(BUILD_DEBS))" >&2; exit 1; }; done

# dissectors/ is libc only: no $(DEP_CFLAGS)
$(BUILD)/dissectors/%.o: dissectors/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -c $< -o $@

# the default rules: this tree's rules/default/ (override: make RULES_DIR=/usr/share/postcard/rules)
RULES_DIR ?= $(CURDIR)/rules/default
# main.o is rebuilt when RULES_DIR changes (the stamp file holds the value it was built with)
$(BUILD)/rules-dir.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(RULES_DIR)' | cmp -s - $@ || echo '$(RULES_DIR)' >$@

$(BUILD)/sensor/main.o: sensor/main.c $(BUILD)/rules-dir.stamp
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Isensor -Irules $(DEP_CFLAGS) -DPOSTCARD_RULES_DIR='"$(RULES_DIR)"' -c $< -o $@

# sensor/ includes by path from sensor/: "packet/flow.h", "output/output.h"
$(BUILD)/sensor/%.o: sensor/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Isensor -Irules $(DEP_CFLAGS) -c $< -o $@

$(BUILD)/libdissect.a: $(DISSECT_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/rules/%.o: rules/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Irules -c $< -o $@

$(BUILD)/librules.a: $(RULES_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libsensor.a: $(SENSOR_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/postcard: $(BUILD)/sensor/main.o $(BUILD)/libsensor.a $(BUILD)/librules.a \
                   $(BUILD)/libdissect.a
	$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(BUILD)/libsensor.a $(BUILD)/librules.a \
                  $(BUILD)/libdissect.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEP_CFLAGS) -Isensor -Irules -Itests/unit $(LDFLAGS) -o $@ $< \
	  $(BUILD)/libsensor.a $(BUILD)/librules.a $(BUILD)/libdissect.a $(DEP_LIBS)

# A fuzz target with libFuzzer (built by `make fuzz`: BUILD=build/fuzz, clang), or with
# tests/fuzz/replay.c instead (built by `make test` under the gcc sanitizer build).
.SECONDEXPANSION:
$(BUILD)/tests/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_HDRS) $$(call fuzz_libs,$$*)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEP_CFLAGS) -Isensor -Irules -Itests/fuzz $(FUZZ_DEFS) \
	  -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(call fuzz_libs,$*) $(call fuzz_deplibs,$*) \
	  $(FUZZ_LDFLAGS_$*)

$(BUILD)/tests/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c $(FUZZ_HDRS) $$(call fuzz_libs,$$*)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEP_CFLAGS) -Isensor -Irules -Itests/fuzz $(FUZZ_DEFS) \
	  $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(call fuzz_libs,$*) $(call fuzz_deplibs,$*) \
	  $(FUZZ_LDFLAGS_$*)

fuzz-bins: $(FUZZ_BIN)

replay-bins: $(REPLAY_BIN)

# --- set-up on a fresh Debian 12 machine -------------------------------------
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	  | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
	  || { echo "postcard: apt-get install failed" >&2; exit 1; }; \
	fi
endef

deps-build:
	$(call install_missing,$(BUILD_DEBS))

deps-test: deps-build
	$(call install_missing,$(TEST_DEBS))

deps: deps-test

# --- what a new user runs ----------------------------------------------------
deps-run:
	$(call install_missing,$(RUN_DEBS))

demo: deps-build deps-run
	@$(MAKE) --no-print-directory all
	@echo "== postcard -r pcaps/demo.pcapng"
	@rm -f $(BUILD)/demo.json
	@$(BUILD)/postcard -r pcaps/demo.pcapng --sensor-id demo -w $(BUILD)/demo.json \
	  --summary $(BUILD)/demo-summary.json
	@echo "== records written to $(BUILD)/demo.json; the alerts, sessions and flows it found:"
	@python3 tests/show.py $(BUILD)/demo.json
	@echo "== postcard report -o $(BUILD)/demo-report $(BUILD)/demo-summary.json"
	@$(BUILD)/postcard report -o $(BUILD)/demo-report $(BUILD)/demo-summary.json
	@echo "report: open $(BUILD)/demo-report/report.html"

test check: deps-test
	@$(MAKE) --no-print-directory SAN=address,undefined all unit-bins replay-bins
	@BUILD=build/san tests/run.sh

unit-bins: $(UNIT_BIN)

unit: unit-bins
	@BUILD=$(BUILD) tests/run.sh unit

bench: deps-test
	@$(call install_missing,$(BENCH_DEBS))
	@$(MAKE) --no-print-directory all
	@BUILD=build tests/bench.sh

bench-latency: deps-test
	@$(MAKE) --no-print-directory all
	@BUILD=build python3 tests/bench-latency.py

bench-flood: deps-build
	@$(call install_missing,$(BENCH_DEBS))
	@$(MAKE) --no-print-directory all
	@BUILD=build python3 tests/bench-flood.py

pcaps:
	bash pcaps/make-pcaps.sh

# --- fuzzing (docs/fuzzing.md) -----------------------------------------------
deps-fuzz: deps-build
	$(call install_missing,$(FUZZ_DEBS))

fuzz-build: deps-fuzz
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) \
	  SAN=fuzzer-no-link,address,undefined fuzz-bins

# every target for FUZZ_TIME seconds, FUZZ_JOBS at a time; findings in build/fuzz-findings/
fuzz: fuzz-build
	@tests/fuzz/run.sh -t $(FUZZ_TIME) -j $(FUZZ_JOBS) $(FUZZ_TARGETS)

$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: fuzz-build
	@tests/fuzz/run.sh -t $(FUZZ_TIME) -j 1 $*

# what the runs found that adds coverage, into tests/fuzz/corpus/ (libFuzzer -merge=1)
fuzz-merge: fuzz-build
	@tests/fuzz/run.sh -m $(FUZZ_TARGETS)

# the seeds of tests/fuzz/mkseeds.py (pcaps/, unit test vectors), merged the same way
fuzz-seeds: fuzz-build all
	@rm -rf build/fuzz-seeds && python3 tests/fuzz/mkseeds.py build/fuzz-seeds
	@tests/fuzz/run.sh -s build/fuzz-seeds $(FUZZ_TARGETS)

# every corpus file through the targets, without libFuzzer (the step of `make test`)
fuzz-replay: replay-bins
	@BUILD=$(BUILD) tests/run.sh fuzz

deps-lint:
	$(call install_missing,$(LINT_DEBS))

lint: deps-lint
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --suppress=missingIncludeSystem -Isensor -Idissectors -Irules sensor dissectors rules
	@! grep -nE '\b(strcpy|strcat|sprintf|strtok|gets|atoi|alloca)\s*\(' \
	  $(shell find sensor dissectors rules -name "*.[ch]") || { echo "lint: unsafe libc call" >&2; exit 1; }

# every C file of the tree
FORMAT_SRC = $(shell find sensor dissectors rules tests -name "*.[ch]" 2>/dev/null)

format: deps-lint
	@clang-format -i $(FORMAT_SRC)

format-check: deps-lint
	@clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

tls-ciphers:
	python3 dissectors/gen-tls-ciphers.py dissectors/tls-cipher-suites.csv dissectors/tls-ciphers.c
	clang-format -i dissectors/tls-ciphers.c
