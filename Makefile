# tokentray — the commands a newcomer needs. `make help` lists them.
GO        ?= go
STATICCHECK_VERSION ?= v0.8.2
TEST_TIMEOUT ?= 25m
# -release adds -trimpath, which compiles Fyne's C code once more (minutes, cold);
# CI checks the packaging with PACKAGE_FLAGS= to reuse the test build's cache.
PACKAGE_FLAGS ?= -release

PREFIX  ?= /usr/local
DESTDIR ?=
# polkit reads its actions from /usr/share/polkit-1/actions only: with PREFIX=/usr/local,
# pass POLKIT_ACTIONS=/usr/share/polkit-1/actions for "Always" to ask for the password.
POLKIT_ACTIONS ?= $(PREFIX)/share/polkit-1/actions
APP_ID  := io.github.tokentray.tokentray
MINGW_CC ?= x86_64-w64-mingw32-gcc

.PHONY: help deps build build-nogui relay test lint demo check install package package-windows cross bench-cli clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

deps: ## install the Debian packages the build and the tests need (root or sudo)
	scripts/install-deps

build: ## build tokentray (the CLI), tokentray-app (tray app, agent, demo; needs cgo) and tokentray-relay
	CGO_ENABLED=0 $(GO) build -o tokentray ./cmd/tokentray
	$(GO) build -o tokentray-app .
	CGO_ENABLED=0 $(GO) build -o tokentray-relay ./cmd/tokentray-relay

build-nogui: ## build tokentray-app without the GUI (no Fyne, no cgo): agent, demo and the CLI in one file
	CGO_ENABLED=0 $(GO) build -tags nogui -o tokentray-nogui .

# atexit_sleep_ms=0: a -race binary otherwise sleeps a second before it exits, once per
# test package and once per child process the tests start.
test: ## the whole suite: race detector, a real Secret Service, real sockets (no X server needed)
	GORACE="atexit_sleep_ms=0 $$GORACE" scripts/with-secret-service $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint: ## gofmt, go vet and staticcheck (pinned)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags nogui ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

cross: ## build for macOS and Windows into dist/ and go vet every system (scripts/cross; CROSS_GUI=0 skips the Windows tray app)
	GO=$(GO) scripts/cross

demo: build ## run the demo: simulated exchange, relay and agent on loopback
	./tokentray demo

check: build-nogui ## the demo's whole story, headless: connect, key, sign, refresh, revoke
	./tokentray-nogui demo --check

install: build ## install tokentray, tokentray-app, tokentray-relay, the .desktop file, the icon and the polkit action under $(DESTDIR)$(PREFIX)
	install -Dm755 tokentray $(DESTDIR)$(PREFIX)/bin/tokentray
	install -Dm755 tokentray-app $(DESTDIR)$(PREFIX)/bin/tokentray-app
	install -Dm755 tokentray-relay $(DESTDIR)$(PREFIX)/bin/tokentray-relay
	install -Dm644 deploy/linux/$(APP_ID).desktop $(DESTDIR)$(PREFIX)/share/applications/$(APP_ID).desktop
	install -Dm644 assets/icon.png $(DESTDIR)$(PREFIX)/share/icons/hicolor/256x256/apps/$(APP_ID).png
	install -Dm644 deploy/polkit/$(APP_ID).policy $(DESTDIR)$(POLKIT_ACTIONS)/$(APP_ID).policy

package: ## a Linux package (tokentray.tar.xz) with fyne package, from FyneApp.toml
	$(GO) tool fyne package -os linux $(PACKAGE_FLAGS)  # packs the whole program as bin/tokentray
	CGO_ENABLED=0 $(GO) build -o tokentray ./cmd/tokentray  # fyne package removes the binary it built

bench-cli: ## after make install: whole-process `tokentray token` against a Go hello-world, 40 paired runs (README numbers)
	$(GO) run ./internal/bench/cli -bin $(DESTDIR)$(PREFIX)/bin/tokentray

package-windows: ## the Windows tray app as fyne packages it (icon, manifest, no console window): tokentray.exe, cross-built with mingw-w64
	# CGO_ENABLED=0 builds the fyne tool itself for this system; fyne turns cgo on
	# for the Windows build it runs, with CC as the C compiler.
	CGO_ENABLED=0 CC=$(MINGW_CC) $(GO) tool fyne package -os windows -release

clean: ## remove built binaries
	rm -f tokentray tokentray-app tokentray-relay tokentray-nogui tokentray.tar.xz tokentray.exe
	rm -rf dist
