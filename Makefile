# One entry point for building, testing, benchmarking and trying Codis-Go.
#
#   make          build every binary into bin/ (and the web UI into bin/assets)
#   make test     install what the tests need (Debian packages, as root) and run every test
#   make bench    run the benchmark scripts (prints ratios against redis-server / nutcracker)
#   make demo     build everything and start a local cluster (example/setup.py)
#   make clean    remove build output

GO        ?= go
BIN       := bin
GOFLAGS   ?=
TESTFLAGS ?= -race -count=1 -timeout 25m

# Every cmd/<name> with a main.go becomes bin/codis-<name>.
CMDS := $(patsubst cmd/%/main.go,%,$(wildcard cmd/*/main.go))

.PHONY: all build assets test vet bench demo clean extern $(CMDS)

all: build

build: $(CMDS) assets

$(CMDS):
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS) -o $(BIN)/codis-$@ ./cmd/$@

# The web UI next to bin/codis-fe, where its default --assets-dir looks.
assets:
	@mkdir -p $(BIN)
	rm -rf $(BIN)/assets
	cp -R cmd/fe/assets $(BIN)/assets

extern:
	@bash extern/install.sh

vet:
	$(GO) vet ./...

test: extern build vet
	$(GO) test $(TESTFLAGS) ./...
	bash example/smoke.sh

bench: extern build
	@set -e; for s in extern/bench/*.sh; do [ -f "$$s" ] && bash "$$s"; done; true

# DEMO_FLAGS go to example/setup.py, e.g. make demo DEMO_FLAGS="--coordinator=zookeeper".
DEMO_FLAGS ?=
demo: build
	@command -v python3 >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1 || bash extern/install.sh python3 redis-tools redis-sentinel
	@exec python3 example/setup.py $(DEMO_FLAGS)

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache
