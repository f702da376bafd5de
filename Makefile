# tokentray — the commands a newcomer needs. `make help` lists them.
GO        ?= go
STATICCHECK_VERSION ?= v0.8.2
TEST_TIMEOUT ?= 25m

.PHONY: help deps build build-nogui relay test lint demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

deps: ## install the Debian packages the build and the tests need (root or sudo)
	scripts/install-deps

build: ## build tokentray (GUI, needs cgo) and tokentray-relay
	$(GO) build -o tokentray .
	CGO_ENABLED=0 $(GO) build -o tokentray-relay ./cmd/tokentray-relay

build-nogui: ## build tokentray without the GUI (no Fyne, no cgo)
	CGO_ENABLED=0 $(GO) build -tags nogui -o tokentray-nogui .

test: ## the whole suite: race detector, a real Secret Service, a real X server
	scripts/with-secret-service $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint: ## gofmt, go vet and staticcheck (pinned)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags nogui ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

demo: build ## run the demo: simulated exchange, relay and agent on loopback
	./tokentray demo

clean: ## remove built binaries
	rm -f tokentray tokentray-relay tokentray-nogui
