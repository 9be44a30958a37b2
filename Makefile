# zerossh: make test runs every test (set ZEROSSH_INTEROP=1 to make a
# missing OpenSSH a failure rather than a skip).
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 10s
# Go spends long minimising each new input by default; keep runs brief.
FUZZFLAGS ?= -fuzzminimizetime 1s

.PHONY: test bench fuzz lint run

test: lint
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(GO) test -count=1 -race -timeout 20m . ./wire ./pool ./cipher ./mac ./kex ./userauth ./connection ./sftp ./compression

# The end-to-end table: zerossh, golang.org/x/crypto/ssh and OpenSSH (when
# installed) interleaved run by run, medians and ratios printed and written
# to bench/RESULTS.md with the chart bench/throughput.png (bench/doc.go).
# BENCHFLAGS passes flags to the runner, e.g. BENCHFLAGS='-rounds 3 -run Transfer'.
BENCHFLAGS ?=
bench:
	BENCHRUN_COMMAND="make bench$(if $(BENCHFLAGS), BENCHFLAGS='$(BENCHFLAGS)')" \
	  $(GO) run ./bench/cmd/benchrun -results bench/RESULTS.md -chart bench/throughput.png $(BENCHFLAGS)

# Each fuzz target runs for FUZZTIME; go test takes one target at a time.
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg || exit 1; \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Builds the command and starts an SFTP server on 127.0.0.1:2022 serving
# the current directory; it prints the sftp line to connect with.
run:
	$(GO) build -o bin/zerossh ./cmd/zerossh
	./bin/zerossh serve

.PHONY: bench-micro profile

# Every benchmark of every package, with -benchmem.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Profiles of one workload, both ends in one process (pprof/README.md):
# WORKLOAD is transfer, handshake, sftp-upload or sftp-download, IMPL zerossh
# or x-crypto-ssh; then the top of the CPU profile.
WORKLOAD    ?= transfer
IMPL        ?= zerossh
CIPHER      ?= aes128-gcm@openssh.com
DURATION    ?= 10s
PROFILE_OUT ?= pprof/out
profile:
	$(GO) run ./pprof -workload $(WORKLOAD) -impl $(IMPL) -cipher $(CIPHER) -duration $(DURATION) -out $(PROFILE_OUT)
	$(GO) tool pprof -top -nodecount=25 $(PROFILE_OUT)/cpu.pprof
