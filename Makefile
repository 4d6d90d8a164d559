# ShopSight task runner. CI calls `make test` (through .ci/run).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install system-deps run test lint typecheck unit bench clean schemas

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --user --quiet uv==0.13.9

install: $(UV) ## Create .venv with every dependency from the lock file
	$(UV) sync --frozen --all-extras --quiet

run: install ## Demo store -> collector -> lake, then keep the server on http://$(HOST):$(PORT)
	$(BIN)/shopsight quickstart --host $(HOST) --port $(PORT)

lint: install ## ruff check + format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install ## mypy --strict on src/
	$(BIN)/mypy

# Debian packages the tests drive for real: SoftHSM2 (PKCS#11 key store) and chromium (browser tests).
SYSTEM_PACKAGES := softhsm2 chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

system-deps: ## Install the Debian packages the tests need (SoftHSM2, chromium), when missing
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null \
	  || { $(SUDO) apt-get update -q >/dev/null && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	fi

test: lint typecheck system-deps ## Lint, type-check and run every test (unit + integration + browser)
	# Two workers for the two cores; a module stays on one worker so its module-scoped fixtures build once.
	PYTHONHASHSEED=random $(BIN)/pytest -q -n 2 --dist loadfile --durations=25

bench: install ## Benchmarks against side-by-side baselines; prints ratios
	$(BIN)/python -m benchmarks.run_all

schemas: install ## Re-publish the JSON Schemas under schemas/
	$(BIN)/shopsight schemas export schemas

# Supply chain (docs/security/dependencies.md). The SBOM and the audit input come from uv.lock offline;
# the audit itself asks the PyPI / OSV vulnerability database, so it needs the network and `make test`
# does not run it.
SBOM ?= sbom.cdx.json
AUDIT_INPUT ?= $(VENV)/audit-requirements.txt
.PHONY: sbom audit audit-input

sbom: $(UV) ## CycloneDX 1.5 SBOM of every locked package (versions, purls, hashes): sbom.cdx.json
	$(UV) export --frozen --all-extras --format cyclonedx1.5 --preview-features sbom-export --quiet -o $(SBOM)

audit-input: $(UV)
	$(UV) export --frozen --all-extras --format requirements.txt --no-emit-project --no-emit-local --quiet -o $(AUDIT_INPUT)

audit: install audit-input ## Known vulnerabilities in every locked package (pip-audit; needs the network)
	$(BIN)/pip-audit --strict --disable-pip --require-hashes --progress-spinner off -r $(AUDIT_INPUT)

clean: ## Remove the venv and local data
	rm -rf $(VENV) .shopsight .pytest_cache .mypy_cache .ruff_cache
