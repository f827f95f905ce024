# Two commands matter: `make local` runs the whole system on this machine; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CHECKPOINT_DISABLE := 1
# Everything runs on the Node.js that Lambda runs (.nvmrc, installed into .tools/node by scripts/install-node.sh).
NODE := .tools/node/bin/node
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)

VENV := .venv
MOTO := $(VENV)/bin/moto_server
NODE_DEPS := node_modules/.install-stamp
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest
ACTIONLINT := .tools/actionlint
ACTIONLINT_VERSION := v1.7.12
HCLFMT := .tools/hclfmt
HCLFMT_VERSION := v2.24.0
TF_DIR := cdktf.out/stacks/runners
TERRAFORM := terraform -chdir=$(TF_DIR)

.PHONY: help install tools build check typecheck lint format test test-unit test-integration test-e2e test-stacks local demo trace status synth plan ci-deploy destroy sim host-images bench clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: $(NODE) $(NODE_DEPS) $(MOTO) ## Lambda's Node (.nvmrc), npm packages and the moto venv (only when their inputs changed)

tools: $(ACTIONLINT) $(HCLFMT) ## actionlint (workflow files) and hclfmt (the Packer template), by go install

$(ACTIONLINT):
	GOBIN=$(CURDIR)/.tools go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(HCLFMT):
	GOBIN=$(CURDIR)/.tools go install github.com/hashicorp/hcl/v2/cmd/hclfmt@$(HCLFMT_VERSION)

$(NODE): .nvmrc scripts/install-node.sh
	bash scripts/install-node.sh
	@touch $@

$(NODE_DEPS): $(NODE) package.json package-lock.json $(wildcard functions/*/package.json)
	npm ci --no-audit --no-fund
	@touch $@

$(MOTO): local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r local/requirements.txt
	@touch $@

build: $(NODE_DEPS) ## bundle every function into dist/<function>/index.mjs (POOLS_CONFIG=file: another config, into dist-<file name>/)
	@npx tsx scripts/build-functions.ts

typecheck: $(NODE_DEPS) ## tsc --noEmit over functions, stacks, local, tests
	npx tsc --noEmit -p tsconfig.json

lint: $(NODE_DEPS) $(ACTIONLINT) $(HCLFMT) ## prettier (the code's layout), eslint, actionlint over .github/workflows, hclfmt over the Packer template
	npx prettier --check --log-level warn .
	npx eslint --max-warnings 0 .
	$(ACTIONLINT) -no-color .github/workflows/*.yml
	$(HCLFMT) -check -require-no-change docs/ami/*.pkr.hcl >/dev/null

check: typecheck lint ## type check and lint

format: $(NODE_DEPS) ## lay the code out as prettier does (make check refuses anything else)
	npx prettier --write --log-level warn .

test: install tools check build host-images ## every test: unit, integration (moto), e2e (local stack), stacks (synth)
	$(JEST)

test-unit: $(NODE_DEPS) ## unit tests only
	$(JEST) --selectProjects unit

test-integration: install build host-images ## integration tests against moto only
	$(JEST) --selectProjects integration

test-e2e: install build host-images ## e2e tests against `make local` only
	$(JEST) --selectProjects e2e

test-stacks: $(NODE_DEPS) $(ACTIONLINT) build ## synth tests only
	$(JEST) --selectProjects stacks

local: install build ## run the whole system on this machine until Ctrl-C (writes .local/stack.json)
	@npx tsx local/main.ts

trace: $(NODE_DEPS) ## a job's stage timeline from the local stack's traces: make trace JOB=<job id> (no JOB: the latest)
	@npx tsx local/trace-main.ts

status: $(NODE_DEPS) ## pools now (in flight, queued, launches, failures), read-only: the local stack, or JOBS_TABLE=… AWS_REGION=… for a deployed one
	@npx tsx local/status-main.ts

synth: build ## synthesize plain Terraform JSON into cdktf.out/stacks/runners/ (offline, no AWS credentials)
	npx tsx main.ts

plan: synth ## terraform init + plan of the synthesized JSON (writes plan.txt beside it)
	$(TERRAFORM) init -input=false
	set -o pipefail; $(TERRAFORM) plan -input=false -no-color -out=tfplan | tee $(TF_DIR)/plan.txt

ci-deploy: synth ## deploy: terraform apply, runner image, GitHub App secrets from .env; prints the outputs
	bash scripts/deploy.sh

destroy: synth ## terraform destroy (asks first; AUTO_APPROVE=1 does not). The Jobs table has deletion protection on.
	$(TERRAFORM) init -input=false
	$(TERRAFORM) destroy -input=false $(if $(AUTO_APPROVE),-auto-approve,)

demo: install build ## a bounded run of the whole system: DEMO_JOBS (50) jobs, a summary, exit 0 only if all is well
	@npx tsx local/demo-main.ts

sim: $(NODE_DEPS) ## the GitHub simulator on its own, until Ctrl-C
	npx tsx sim/main.ts

host-images: install build ## the local host images: runner (official image's shape), EC2 instance (AMI contract), runner Lambda
	npx tsx sim/images/main.ts

bench: install build host-images ## benchmarks on the local stack; results in bench/results/
	npx tsx bench/bundles.ts
	POOLS_CONFIG=bench/pools.bench.ts OUT_DIR=dist-bench npx tsx scripts/build-functions.ts
	npx tsx bench/dispatch.ts $(BENCH_SIZES)
	POOLS_CONFIG=bench/pools.reliability.ts OUT_DIR=dist-reliability npx tsx scripts/build-functions.ts
	POOLS_CONFIG=bench/pools.scaleset.ts OUT_DIR=dist-reliability-scaleset npx tsx scripts/build-functions.ts
	npx tsx bench/reliability.ts $(BENCH_SCENARIOS)
	POOLS_CONFIG=bench/pools.warm.ts OUT_DIR=dist-warm npx tsx scripts/build-functions.ts
	npx tsx bench/warm.ts

clean: ## remove build output and local state (keeps node_modules and the venv)
	rm -rf dist dist-* cdktf.out .local coverage
