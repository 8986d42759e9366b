# V School CRM — `make help` lists what you can do.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: help install up test test-fast lint format eval bench asyncapi openapi services web browser clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Install uv (if missing), every package of the workspace and the web app's (locked versions)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --all-packages --frozen --python python3.11
	@bash deploy/ensure-web.sh packages

web: install ## Build the staff web app (web/dist) when its sources or the API contract changed
	@bash deploy/ensure-web.sh build

browser: ## Debian's chromium and the Thai and Japanese fonts, for the browser tests, when missing
	@bash deploy/ensure-web.sh browser

services: ## Start PostgreSQL and RabbitMQ on this machine if they are not answering
	@bash deploy/ensure-services.sh

up: install services web ## Install everything and run the whole system with the web app (Ctrl-C stops it)
	$(UV) run --frozen python -m crm_localrun

test: install services web browser ## Install everything and run every test (web unit, unit, integration, end-to-end, browser, fault drills)
	UV="$(UV)" bash tests/run_all.sh

test-fast: ## Run the tests without the end-to-end tier
	$(UV) run --frozen pytest -m "not e2e"

lint: install ## ruff and mypy (strict); the web app's eslint, tsc and its API types against the contract
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	cd web && npm run --silent lint && npm run --silent typecheck && npm run --silent check:api

format: ## Format and autofix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

eval: install ## Retrieval quality on the sample knowledge base: recall@5, MRR, handover per embedder and language
	$(UV) run --frozen python -m crm_ai.knowledge.eval

bench: install services web browser ## Every benchmark, then the table of the hot paths beside their raw baselines (bench/results/)
	$(UV) run --frozen python -m bench
	$(UV) run --frozen python -m bench compare

asyncapi: ## Regenerate the AsyncAPI documents in contracts/asyncapi/ from the FastStream apps
	$(UV) run --frozen python tests/contracts/asyncapi_spec.py write

openapi: ## Regenerate contracts/openapi/gateway.json after a deliberate change to the staff API
	$(UV) run --frozen python tests/contracts/openapi_spec.py write

clean: ## Remove caches and local run data
	rm -rf .pytest_cache .mypy_cache .ruff_cache var web/dist
