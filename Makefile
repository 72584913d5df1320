PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
RUNTIME_LOCK := requirements/runtime.lock
TEST_LOCK := requirements/test.lock
PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test check lint smoke suite install install-test chromium haproxy federation-peers node-deps lock bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Runtime dependencies only, exactly as locked; then Vestibule itself without resolving anything more.
install: $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/pip install -q --no-deps -e .

run: install
	$(BIN)/vestibule serve --host $(HOST) --port $(PORT)

install-test: $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install -q --no-deps -e .

chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  echo "installing Debian's chromium and fonts (Latin and CJK)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-cjk; \
	fi

# Debian's HAProxy, for the multi-node test (tests/e2e/test_multi_node.py, the setup docs/deployment.md shows).
haproxy:
	@if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then \
	  echo "installing Debian's haproxy (for the multi-node test)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq haproxy; \
	fi

# The federation tests' real peers (docs/federation.md): Debian's xmlsec1 (the pysaml2 identity provider signs with
# it) and OpenLDAP's slapd with ldap-utils (a directory the tests start on a free port with their own config).
federation-peers:
	@if ! command -v xmlsec1 >/dev/null || [ ! -x /usr/sbin/slapd ] || ! command -v ldapadd >/dev/null; then \
	  echo "installing Debian's xmlsec1, slapd and ldap-utils (for the federation tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 slapd ldap-utils; \
	fi

# The AWS SDK for JavaScript v3 for tests/integration/aws/test_aws_js_sdk.py, exactly as tests/js/package-lock.json
# pins it; again only when the lock is newer than the last install.
node-deps: tests/js/node_modules/.package-lock.json

tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	@if ! command -v npm >/dev/null && [ "$$VESTIBULE_ALLOW_NO_NODE" != 1 ]; then \
	  echo "installing Debian's nodejs and npm (for the AWS SDK for JavaScript test)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nodejs npm || true; \
	fi; \
	if ! command -v npm >/dev/null; then \
	  if [ "$$VESTIBULE_ALLOW_NO_NODE" = 1 ]; then echo "npm not found: the JavaScript SDK test will be skipped"; exit 0; fi; \
	  echo "npm not found: install Node.js 20 or later (or set VESTIBULE_ALLOW_NO_NODE=1)"; exit 1; \
	fi; \
	npm ci --prefix tests/js --no-audit --no-fund && touch $@

# A fresh virtual environment with only the runtime lock must serve / and a signed GetCallerIdentity.
smoke: install-test
	$(BIN)/python .ci/smoke_runtime.py --python $(PY) --lock $(RUNTIME_LOCK)

# Lint, strict types, and the layer contracts (import-linter, [tool.importlinter] in pyproject.toml).
lint: install-test
	$(BIN)/ruff check src tests bench .ci
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite on SQLite and, side by side on the second core, everything that touches a database or Redis
# again on PostgreSQL + Redis (tests/unit and tests/contract use neither: pure code and botocore's models).
# Logs: test-artifacts/sqlite.log and test-artifacts/postgresql.log. `make suite SUITE_FLAGS=--serial` runs the
# passes one after the other.
suite: install-test chromium haproxy federation-peers node-deps
	$(BIN)/python tests/run_suite.py $(SUITE_FLAGS)

check: lint suite

test: smoke lint suite

# Regenerate the lock files from pyproject.toml (newest releases that satisfy it, with hashes).
lock:
	$(PY) -m venv build/lock-venv
	build/lock-venv/bin/pip install -q '$(PIP_TOOLS)'
	CUSTOM_COMPILE_COMMAND="make lock" build/lock-venv/bin/pip-compile -q --upgrade --generate-hashes \
	  --allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url -o $(RUNTIME_LOCK) pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" build/lock-venv/bin/pip-compile -q --upgrade --generate-hashes \
	  --allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url --extra test \
	  -c $(RUNTIME_LOCK) -o $(TEST_LOCK) pyproject.toml

# Not part of `make test`: takes about 20 minutes and wants a quiet machine (see docs/benchmarks.md).
bench: install
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -qq wrk; }
	$(BIN)/python bench/signin_throughput.py
	$(BIN)/python bench/aws_throughput.py

clean:
	rm -rf $(VENV) .vestibule build
