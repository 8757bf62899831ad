# fakehw: emulated DRA hardware, a reference driver and a conformance suite.
# `make help` lists the targets.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/pytest
# uv installs the locked environment; it is the one thing taken by version alone.
UV_VERSION := 0.13.10
UV := $(BIN)/uv
LOCK := requirements.lock
LOWEST_VENV ?= .venv-lowest

.DEFAULT_GOAL := help

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install system packages and the Python environment
	@hack/install-system-deps.sh
	@$(MAKE) --no-print-directory $(VENV)/.installed

# Exactly the hashed versions of requirements.lock (anything else in the venv is removed),
# then this checkout, editable, built with the locked setuptools.
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync -q --python $(BIN)/python --require-hashes $(LOCK)
	$(UV) pip install -q --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $@

lock: ## Re-resolve requirements.lock: every dependency at its newest allowed version, hashed
	@test -x $(UV) || { $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"; }
	echo 'setuptools>=77' | $(UV) pip compile -q --upgrade --universal --python-version 3.11 \
	  --generate-hashes --extra dev --custom-compile-command "make lock" -o $(LOCK) \
	  pyproject.toml -

lint: setup ## ruff, mypy --strict and the import boundaries
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy --strict hack/conformance.py hack/demo.py hack/conformancejob
	$(BIN)/mypy --strict hack/driverbench.py hack/driverbenchkit
	$(BIN)/mypy --strict hack/go-driver.py hack/calibrate.py
	$(BIN)/lint-imports
	hack/gen-protos.sh --check

protos: setup ## Regenerate the kubelet plugin API stubs from api/dra_kubelet_api/protos
	hack/gen-protos.sh

manifests: setup ## Render drivers/deploy/*.yaml from the reference driver's Helm chart
	$(BIN)/python hack/manifests.py

catalogue: setup ## Regenerate conformance/CATALOGUE.md from the requirement catalogue
	$(BIN)/dra-conformance catalogue -o conformance/CATALOGUE.md

binaries: setup ## Build (once) or reuse Kubernetes, etcd, containerd, CoreDNS, pause and Helm from source
	$(BIN)/fakehw cluster build
	$(BIN)/fakehw cluster build --component helm

test: setup binaries ## Every test tier: unit, real tools, sockets, the local cluster
	FAKEHW_CLUSTER_TESTS=1 $(PYTEST) -q

test-lowest: setup ## Unit and socket tests with every dependency at the lowest version pyproject.toml allows
	rm -rf $(LOWEST_VENV)
	$(UV) venv -q --python $(PYTHON) $(LOWEST_VENV)
	$(UV) pip install -q --python $(LOWEST_VENV)/bin/python --resolution lowest-direct \
	  -e '.[dev]'
	$(LOWEST_VENV)/bin/python -m pytest -q -m "unit or socket" -p no:cacheprovider
	rm -rf $(LOWEST_VENV)

test-unit: setup ## Pure-Python tests only (seconds)
	$(PYTEST) -q -m unit

test-tools: setup ## Tests that run lspci, cxl, daxctl and ffprobe against the emulated hardware
	$(PYTEST) -q -m tools

test-socket: setup ## Real gRPC servers on unix sockets, driven as the kubelet drives them
	$(PYTEST) -q -m socket

test-cluster: setup binaries ## Tests against a real local Kubernetes cluster
	$(PYTEST) -q -m cluster

test-driver-e2e: setup binaries ## The reference driver on a local cluster of its own
	$(PYTEST) -q -m cluster tests/driver_e2e

conformance: setup binaries ## Certify the reference driver on a local edge-node cluster (results/conformance/)
	$(BIN)/python hack/conformance.py run $(CONFORMANCE_ARGS)

restart-soak: setup ## On the cluster `make conformance CONFORMANCE_ARGS=--keep` left: 20 plugin pod restarts, no socket left
	$(BIN)/python hack/conformance.py restart-soak --count 20

certify-example-driver: setup binaries ## Certify sigs.k8s.io/dra-example-driver on a local cluster (results/dra-example-driver/)
	$(BIN)/python hack/go-driver.py run --driver dra-example-driver $(EXAMPLE_DRIVER_ARGS)

certify-example-chart: setup binaries ## Certify dra-example-driver from its own Helm chart and an image built here (results/dra-example-driver-chart/)
	$(BIN)/python hack/go-driver.py chart $(EXAMPLE_CHART_ARGS)

certify-test-driver: setup binaries ## Certify upstream's DRA test driver on a local cluster (results/dra-test-driver/)
	$(BIN)/python hack/go-driver.py run --driver dra-test-driver $(TEST_DRIVER_ARGS)

calibrate: setup binaries ## The reference driver, dra-example-driver and upstream's test driver certified on one cluster (results/calibration/)
	$(BIN)/python hack/calibrate.py $(CALIBRATE_ARGS)

demo: setup binaries ## A pod claims the edge node's camera and a GPU; a frame saved with its credentials (results/demo/)
	$(BIN)/python hack/demo.py $(DEMO_ARGS)

cluster-up: setup binaries ## A 2-node local cluster with the edge-node hardware on each node
	$(BIN)/fakehw cluster up --nodes 2 --hardware-profile edge-node

cluster-down: setup ## Stop the local cluster and remove everything it made
	$(BIN)/fakehw cluster down

bench: setup binaries ## Print the hardware, camera and driver figures
	$(BIN)/python -m fakehw.bench
	$(BIN)/python -m dra_reference.plugin.bench
	$(BIN)/python hack/driverbench.py all
	$(BIN)/python -m fakehw.cluster.bench
	$(BIN)/python hack/driverbench.py compare --rounds $(ROUNDS)

ROUNDS ?= 200
bench-drivers: setup binaries ## The reference driver beside upstream's test driver and dra-example-driver, interleaved
	$(BIN)/python hack/driverbench.py compare --rounds $(ROUNDS)

clean: ## Remove the virtualenv and caches made in the checkout
	rm -rf $(VENV) $(LOWEST_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

.PHONY: help setup lock lint protos manifests catalogue binaries test test-lowest test-unit test-tools test-socket test-cluster \
	test-driver-e2e conformance restart-soak certify-example-driver certify-example-chart certify-test-driver calibrate demo \
	cluster-up cluster-down bench bench-drivers clean
