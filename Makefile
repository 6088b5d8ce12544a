# procwatch — `make run` for the demo, `make test` for everything CI checks.

GO        ?= go
# Integration tests start real ZooKeeper servers (JVMs); a slow CI machine
# running several test binaries with -race needs room.
TESTFLAGS ?= -race -count=1 -timeout 20m
FUZZTIME  ?= 30s

# Debian packages the tests need, installed only when missing:
#   zookeeper      real servers for internal/zktest (checked: zookeeper.jar and java)
#   python3-kazoo  a second ZooKeeper client, for interop tests (checked: dpkg)
#   prometheus     promtool and a server for scrape tests (checked: promtool),
#                  without its recommended exporters
#   curl           what the demo (run, demo) reads the agent's /metrics with
#   systemd        systemd-analyze, which checks deploy/'s unit (checked: the command)
# zookeeperd is never installed: it starts a system service.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# env inside sudo: sudo drops the caller's environment.
APT  := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -y -q

.PHONY: all deps bench-deps build demo-build test lint vet fmt-check bench fuzz chaos run demo clean

all: build

deps:
	@set -e; missing=""; \
	{ [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null; } || missing="$$missing zookeeper"; \
	dpkg-query -W -f='$${Status}' python3-kazoo 2>/dev/null | grep -q 'ok installed' || missing="$$missing python3-kazoo"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	need_prom=""; [ -x /usr/bin/promtool ] || need_prom=prometheus; \
	if [ -n "$$missing$$need_prom" ]; then \
		echo "deps: installing$$missing $$need_prom"; \
		$(APT) update; \
		if [ -n "$$missing" ]; then $(APT) install $$missing; fi; \
		if [ -n "$$need_prom" ]; then $(APT) install --no-install-recommends prometheus; fi; \
	fi

# The version and revision the binaries report (procwatch_build_info, the
# member info, the start-up log), taken from git: a toolchain run with
# GOFLAGS=-buildvcs=false (as here) stamps no VCS information of its own.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# -s -w leave out the symbol table and DWARF, 8.4 of the agent's 27.3 MB:
# tracebacks and profiles still name functions (from pclntab), and the
# release binaries and the image are built the same way (Dockerfile).
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
# CGO_ENABLED=0: static binaries, as the image's. Without libc mapped the
# agent's RSS is 1.4 MiB smaller; user names still come from NSS (LDAP,
# SSSD) through getent for uids /etc/passwd does not name.
BUILD    := CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)"
# Where build puts the binaries; make bench builds its own copy elsewhere.
BINDIR   ?= bin
# What the demo runs; `make run` builds only these.
DEMO_CMDS := ./cmd/procwatch ./cmd/procctl ./cmd/zkdev

# Builds every command under cmd/ into bin/.
build:
	@echo "build: every command under cmd/ into $(BINDIR)/ (version $(VERSION))"
	$(BUILD) -o $(BINDIR)/ ./cmd/...

# A cold build cache takes a minute or more: say so before it starts.
demo-build:
	@echo "build: bin/procwatch, bin/procctl, bin/zkdev (version $(VERSION)); the first build compiles every dependency and takes a minute or two"
	@$(BUILD) -o bin/ $(DEMO_CMDS)

test: deps bench-deps lint
	$(GO) test $(TESTFLAGS) ./...

lint: fmt-check vet

fmt-check:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

# The peers `make bench` compares the agent with (its footprint section),
# installed for the bench only, when missing:
#   prometheus-process-exporter, prometheus-node-exporter (checked: their
#   binaries in /usr/bin), without recommended packages.
# Where systemd runs, Debian enables and starts their services, and
# process-exporter's listens on 9256, procwatch's own port: they are stopped
# and disabled at once. The bench starts its own instances on free loopback
# ports.
bench-deps:
	@set -e; missing=""; \
	[ -x /usr/bin/prometheus-process-exporter ] || missing="$$missing prometheus-process-exporter"; \
	[ -x /usr/bin/prometheus-node-exporter ] || missing="$$missing prometheus-node-exporter"; \
	if [ -n "$$missing" ]; then \
		echo "bench-deps: installing$$missing"; \
		$(APT) update; \
		$(APT) install --no-install-recommends $$missing; \
		if [ -d /run/systemd/system ]; then \
			systemctl disable --now prometheus-process-exporter.service prometheus-node-exporter.service || true; \
		fi; \
	fi

bench: deps bench-deps
	$(GO) run ./cmd/benchreport -out docs/BENCHMARKS.md $(BENCHFLAGS)

# Runs each fuzz target for FUZZTIME; go test -fuzz takes one target at a time.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; exit 1; }; \
		for target in $$(echo "$$list" | grep '^Fuzz'); do \
			echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# The chaos suite for longer than `make test` runs it: many seeds, each a
# randomised run of crashes and partitions against a three-node ensemble,
# checked for linearizability. A violation names the seed and writes
# porcupine's visualisation under CHAOS_OUT.
CHAOS_SEEDS    ?= 20
CHAOS_DURATION ?= 15s
CHAOS_OUT      ?= $(CURDIR)/chaos-out
chaos: deps
	@mkdir -p $(CHAOS_OUT)
	@status=0; $(GO) test -race -count=1 -timeout 90m -run '^TestChaos$$' -v ./internal/zkstate \
		-args -chaos.seeds=$(CHAOS_SEEDS) -chaos.duration=$(CHAOS_DURATION) -chaos.out=$(CHAOS_OUT) \
		> $(CHAOS_OUT)/chaos.log 2>&1 || status=$$?; \
	grep -E '^(--- |PASS|FAIL|ok)|chaos_test' $(CHAOS_OUT)/chaos.log; \
	echo "full log: $(CHAOS_OUT)/chaos.log"; exit $$status

# The demo (scripts/demo.sh): a throwaway ZooKeeper from bin/zkdev, the watch
# list made with procctl, an agent and a few demo processes, all on free
# loopback ports. `run` prints a guide and stays up until Ctrl-C, which stops
# everything it started; `demo` plays the same scenario through, changing the
# list with procctl and checking each change in /metrics, and fails unless
# every step was observed.
run: deps demo-build
	@scripts/demo.sh run

demo: deps demo-build
	@scripts/demo.sh demo

clean:
	rm -rf bin/
