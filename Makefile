# Ennakko — run `make help` for the targets.
# Only python3 and make are needed: the first target that needs the environment
# bootstraps uv into .tools/ and installs the locked dependencies into .venv/.

SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
ENNAKKO := .venv/bin/ennakko
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export OMP_WAIT_POLICY := PASSIVE

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

# The portal's local OpenID provider (tests and demo log in through it): its locked npm
# packages, installed only where node and npm are present.
portal/testop/node_modules/.installed: portal/testop/package-lock.json
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		npm ci --prefix portal/testop --no-audit --no-fund --silent && touch $@; \
	else \
		echo "node/npm not found: skipping portal/testop (the portal's login tests need it)"; \
	fi

.PHONY: install
install: .venv/.synced portal/testop/node_modules/.installed ## Create .venv with the locked dependencies (and the portal's test OpenID provider where node is present)

.PHONY: demo
demo: install ## Synthesise the demo city (if missing) and run the whole nightly job
	$(ENNAKKO) demo --config configs/demo.yaml

.PHONY: test
test: install ## Run the whole test suite (PostgreSQL tests run where it answers)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff check and format check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

.PHONY: format
format: install ## ruff fix and format
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

.PHONY: bench
bench: install ## Benchmark every stage at helsinki scale
	$(ENNAKKO) bench --scale helsinki

.PHONY: mlflow-ui
mlflow-ui: install ## Open the demo's MLflow UI on http://127.0.0.1:5000
	@echo "MLflow UI: http://127.0.0.1:5000/#/experiments?workflowType=machine_learning (the model-training view)"
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false .venv/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/var/demo/workspace/mlflow/mlflow.db --host 127.0.0.1 --port 5000

.PHONY: clean
clean: ## Remove the demo workspace (keeps .venv)
	rm -rf var/

.PHONY: distclean
distclean: clean ## Remove everything generated, environments included
	rm -rf .venv .tools
