# The two commands a newcomer needs: `make dev` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# `make dev DEV_FLAGS=` talks to the real Meta, Telegram and model APIs (set their secrets first).
DEV_FLAGS ?= --offline

.PHONY: dev test lint bench synth preflight deploy clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,infra,charts]'
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/clawgate dev $(DEV_FLAGS) --tenant-file tenants/demo.yaml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

synth: $(STAMP)
	$(BIN)/python -m infra.app

# Read-only checks of the AWS account before the first deploy (docs/deploy.md); AWS_PROFILE picks the credentials.
preflight: $(STAMP)
	$(BIN)/python -m infra.preflight

# Every stack: the platform first, then one per tenant file (a bare `cdk deploy` with several stacks deploys none).
deploy: $(STAMP)
	npx --yes aws-cdk@2.1148 deploy --all --require-approval never

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache test-output
