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
	$(GO) test -count=1 -race -timeout 20m . ./wire ./pool ./cipher ./mac ./kex ./userauth ./connection ./sftp

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

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
