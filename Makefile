# toolgate: `make demo` and `make test` are the two commands (README). Everything else is a step of those.
# Tools and services are installed on demand and cached in $TOOLGATE_CACHE (scripts/env.sh), so the first run on a
# machine takes minutes (OPA and Jaeger are built from Go source) and later runs seconds.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory
.DEFAULT_GOAL := help

# Every recipe runs with the bootstrapped Node (>= 22) first on PATH; the machines' own Node 20 is too old.
NODE_BIN := $(shell scripts/node.sh)
ifeq ($(NODE_BIN),)
$(error could not bootstrap Node: scripts/node.sh failed (see above))
endif
export PATH := $(NODE_BIN):$(PATH)

.PHONY: help deps build policy services services-down services-status demo test typecheck lint compose-check \
	policy-test bench clean clean-services

help:
	@echo "make demo            build, compile the policy, run the demo on embedded defaults (no services)"
	@echo "make test            typecheck, lint, static checks, services up, opa test, vitest, services down"
	@echo "make deps            Node packages, OPA, Jaeger, Kafka jars, Debian packages (cached)"
	@echo "make build | policy  TypeScript to dist/ | rego/ to the WASM bundle in build/policy/ (signed with TOOLGATE_POLICY_SIGNING_KEY=key.pem)"
	@echo "make services | services-down | services-status    Kafka, Jaeger, Redis on 127.0.0.1"
	@echo "make bench | clean | clean-services"

# npm ci only when node_modules is missing or older than the lock file (npm writes node_modules/.package-lock.json).
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.package-lock.json
	scripts/system-deps.sh
	scripts/opa.sh >/dev/null
	scripts/jaeger.sh >/dev/null
	scripts/kafka.sh >/dev/null

build: node_modules/.package-lock.json
	npm run build

policy: node_modules/.package-lock.json
	TOOLGATE_OPA="$$(scripts/opa.sh)" scripts/policy.sh

services:
	scripts/system-deps.sh
	scripts/services.sh up

services-down:
	scripts/services.sh down

services-status:
	scripts/services.sh status

# The demo runs on embedded defaults: it needs Node packages and OPA (for the policy), not the services' toolchain.
demo: build policy
	node dist/demo/main.js

typecheck: node_modules/.package-lock.json
	npm run typecheck

lint: node_modules/.package-lock.json
	npm run lint

# docker-compose.yml's syntax (Debian's docker-compose 1.29 needs no engine for this) and both collector configs
# (Jaeger v2 is an OpenTelemetry Collector build with the components otel/collector.yaml uses).
# test/services/compose.test.ts checks versions and ports against scripts/env.sh.
compose-check: deps
	docker-compose -f docker-compose.yml config -q
	jaeger="$$(scripts/jaeger.sh)"
	"$$jaeger" validate --config services/jaeger.yaml 2>/dev/null
	"$$jaeger" validate --config otel/collector.yaml 2>/dev/null
	echo "compose and collector configs: ok"

# opa test with coverage (at least 90 %), opa fmt, a strict check against the WASM builtins, reason codes against
# rego/README.md, and the policy fixtures' expected decisions.
policy-test:
	TOOLGATE_OPA="$$(scripts/opa.sh)" scripts/policy.sh check

# The services are stopped when the recipe ends, whether it passed or not; the exit code is the first failure's.
test: deps build policy
	trap '$(MAKE) services-down || true' EXIT
	npm run typecheck
	npm run lint
	npm run deps:check
	$(MAKE) compose-check
	$(MAKE) services
	$(MAKE) policy-test
	env_lines="$$(scripts/services.sh env)"
	eval "$$env_lines"
	npx vitest run
	# Stops and restarts the shared broker, so it runs on its own once everything else is done.
	TOOLGATE_DISRUPTIVE=1 npx vitest run test/integration/audit-outage.test.ts
	# Kills brokers of its own 3-node cluster: alone too, so the cluster's 2 s failure detection has the cores.
	TOOLGATE_DISRUPTIVE=1 npx vitest run test/integration/kafka-cluster.test.ts

bench: deps build policy
	if [ -f dist/bench/main.js ]; then node dist/bench/main.js; else echo "no benchmark yet (dist/bench/main.js)"; fi

clean:
	rm -rf dist build coverage *.tsbuildinfo

# Stops the services and deletes Kafka's data and the service logs (in $TOOLGATE_RUN).
clean-services:
	scripts/services.sh wipe
