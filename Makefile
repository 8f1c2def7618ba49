# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-sqlite test-postgres bench screenshots clean

demo: $(VENV)/.runtime  ## run the demo: SQLite, the WeCom emulator, seeded data, a task-queue worker
	$(BIN)/flask --app wsgi demo

test: test-sqlite test-postgres  ## run every test on both engines (Playwright drives Debian's Chromium)

test-sqlite: $(VENV)/.dev /usr/bin/chromium /usr/bin/redis-server /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc  ## the suite on SQLite files (the queue's tests on Redis too)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.dev /usr/bin/chromium /usr/bin/redis-server /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc  ## the suite on a throw-away PostgreSQL server (installed if missing)
	scripts/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev /usr/bin/chromium /usr/bin/wrk  ## the performance budget: builds the full-scale database once (bench/.data/), then measures
	$(BIN)/python bench/budget.py; budget=$$?; \
	$(BIN)/python bench/phone.py; phone=$$?; \
	$(BIN)/python bench/wrk.py; sqlite=$$?; \
	scripts/with-postgres $(BIN)/python bench/wrk.py; postgres=$$?; \
	exit $$((budget | phone | sqlite | postgres))

screenshots: $(VENV)/.dev /usr/bin/chromium /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc  ## README pictures
	$(BIN)/python docs/screenshots.py
	$(BIN)/python docs/screenshots_materials.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.runtime $@

/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

/usr/bin/wrk:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk

# The queue's tests start a redis-server of their own; the package's service is not used.
/usr/bin/redis-server:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server

# The pages are measured at 360 px with the Chinese text an advisor's phone draws: without a CJK font
# Chromium draws narrow boxes and the tap-target checks measure the wrong widths.
/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-noto-cjk

clean:
	rm -rf $(VENV) instance .pytest_cache bench/.data
