PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test install install-test chromium bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

run: install
	$(BIN)/vestibule serve --host $(HOST) --port $(PORT)

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  echo "installing Debian's chromium and fonts (Latin and CJK)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-cjk; \
	fi

# The whole suite on SQLite, then again on PostgreSQL + Redis.
test: install-test chromium
	$(BIN)/python -m pytest -q
	VESTIBULE_TEST_DATABASE_URL=$${VESTIBULE_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	VESTIBULE_TEST_REDIS_URL=$${VESTIBULE_TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(BIN)/python -m pytest -q

# Not part of `make test`: takes about 20 minutes and wants a quiet machine (see docs/benchmarks.md).
bench: install
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -qq wrk; }
	$(BIN)/python bench/signin_throughput.py
	$(BIN)/python bench/aws_throughput.py

clean:
	rm -rf $(VENV) .vestibule
