# logalert: build, test and run the log alerting pipeline.
# `make help` lists the targets; variables can be overridden: make emit ERRORS=20

STACK_NAME ?= logalert
ERRORS     ?= 5
WARNINGS   ?= 2
INFOS      ?= 10
STATUS     ?=
LOG_GROUP  ?=
# Fuzz budgets are counts, not durations: go1.26's fuzz coordinator can fail a
# clean run with "context deadline exceeded" when a -fuzztime duration expires
# mid-call (golang/go#75804, fixed in go1.27). A count has no deadline to race.
FUZZEXECS  ?= 40000x
BENCHTIME  ?= 1s
PARAMS     ?=
ARGS       ?=
# PARAMS reaches the recipes through the environment ("$$PARAMS"), so that
# any quotes in it survive: PARAMS="ErrorPattern='?ERROR ?FATAL'" works.
export PARAMS
GO         ?= go
LAMBDA_ARCH ?= arm64
# The packages whose tests start moto_server (found by the call that starts
# it, so a new one cannot be missed): `make integration` runs them; every
# other package holds unit tests alone, which `make unit` runs.
INTEGRATION_PKGS = $(sort $(patsubst %/,%,$(dir $(shell grep -rl --include='*_test.go' -e 'awstest.RunWithMoto' -e 'motoserver.Start' cmd internal tests))))

# Python tools missing from PATH are installed into a project virtualenv,
# which the recipes see first.
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)

SAM_REQUIRED = Install the AWS SAM CLI (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html) and configure AWS credentials

comma := ,

.DEFAULT_GOAL := help
.PHONY: help moto-deps deps build lambda install sam-build test unit integration lint fuzz bench demo events deploy emit incidents delete clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# MOTO_SERVER may name the moto_server executable instead of PATH (as the
# tests read it).
export MOTO_SERVER

moto-deps: ## check what the demo needs: Go and moto_server (MOTO_SERVER or PATH; installed into .venv when missing)
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (or a Go that can fetch that toolchain): https://go.dev/dl/" >&2; exit 1; }
	@if [ -n "$$MOTO_SERVER" ]; then \
		[ -f "$$MOTO_SERVER" ] && [ -x "$$MOTO_SERVER" ] || { echo "MOTO_SERVER=$$MOTO_SERVER is not an executable file: point it at moto_server, or unset it to use PATH" >&2; exit 1; }; \
	else \
		command -v moto_server >/dev/null || { \
			echo "installing moto[server] into .venv (python3 -m venv; the system Python may refuse pip installs)" >&2; \
			python3 -m venv $(VENV) && $(VENV)/bin/python -m pip install --quiet 'moto[server]' || true; }; \
		command -v moto_server >/dev/null || { echo "moto_server must be on PATH or named by MOTO_SERVER: pip install 'moto[server]' (or pipx install), or install python3-venv and run make again" >&2; exit 1; }; \
	fi

deps: moto-deps ## check what the tests need: the demo's (Go, moto_server) and cfn-lint (installed into .venv when missing)
	@command -v cfn-lint >/dev/null || { \
		echo "installing cfn-lint into .venv (python3 -m venv; the system Python may refuse pip installs)" >&2; \
		python3 -m venv $(VENV) && $(VENV)/bin/python -m pip install --quiet cfn-lint || true; }
	@command -v cfn-lint >/dev/null || { echo "cfn-lint must be on PATH: pip install cfn-lint (or pipx install), or install python3-venv and run make deps again" >&2; exit 1; }

build: ## build the Lambda binaries (static linux/arm64 bootstrap) into bin/, no SAM needed
	@for fn in processor emitter; do \
		$(MAKE) --no-print-directory lambda PKG=$$fn OUT=bin/$$fn || exit 1; \
		echo "bin/$$fn/bootstrap: $$(du -h bin/$$fn/bootstrap | cut -f1)"; \
	done

# One Lambda binary, static whatever the environment says (CGO_ENABLED=0
# overrides it): sam build reaches it through processor/Makefile and
# emitter/Makefile. LAMBDA_ARCH matches the template's Architectures.
lambda:
	@test -n "$(PKG)" && test -n "$(OUT)" || { echo "usage: make lambda PKG=processor OUT=dir" >&2; exit 2; }
	@mkdir -p "$(OUT)"
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc -o "$(OUT)/bootstrap" ./$(PKG)

install: ## install the logalert CLI into $(go env GOPATH)/bin (go install ./cmd/logalert)
	$(GO) install ./cmd/logalert

sam-build: ## sam build (needs the SAM CLI)
	@command -v sam >/dev/null || { echo "sam-build: the SAM CLI is missing. $(SAM_REQUIRED)." >&2; exit 1; }
	sam build

test: deps lint fuzz unit integration ## the whole suite: lint, short fuzz runs, unit and integration tests

unit: ## the unit tests (no moto_server), 3 times each in random order
	$(GO) test -count=3 -shuffle=on $(filter-out $(shell $(GO) list $(addprefix ./,$(INTEGRATION_PKGS))),$(shell $(GO) list ./...))

integration: deps ## the tests against moto_server (INTEGRATION_PKGS), in random order
	$(GO) test -count=1 -shuffle=on $(addprefix ./,$(INTEGRATION_PKGS))

lint: ## gofmt, go vet, go mod tidy, cfn-lint, no merge conflict markers
	@out=$$(gofmt -l .); [ -z "$$out" ] || { echo "gofmt needed on:"; echo "$$out"; exit 1; }
	@! grep -nE '^(<<<<<<<|>>>>>>>) ' $$(git ls-files 2>/dev/null || find . -type f -not -path './.git/*') || { echo "merge conflict markers left in the files above" >&2; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	cfn-lint template.yaml member.yaml

fuzz: ## run each fuzz target for FUZZEXECS executions
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeAgreesWithEncodingJSON$$' -fuzztime=$(FUZZEXECS) -fuzzminimizetime=200x ./internal/awslogs
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZEXECS) -fuzzminimizetime=200x ./internal/awslogs
	$(GO) test -run='^$$' -fuzz='^FuzzParseMatch$$' -fuzztime=$(FUZZEXECS) -fuzzminimizetime=200x ./internal/filterpattern
	$(GO) test -run='^$$' -fuzz='^FuzzNormalize$$' -fuzztime=$(FUZZEXECS) -fuzzminimizetime=200x ./internal/incident
	$(GO) test -run='^$$' -fuzz='^FuzzRedactionAgrees$$' -fuzztime=$(FUZZEXECS) -fuzzminimizetime=200x ./internal/incident

bench: ## benchmarks with figures: decode vs gunzip, writes per batch, end to end, pattern matching, binary size
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./internal/awslogs ./internal/filterpattern ./internal/incident ./internal/pipeline ./internal/store ./tests
	@$(MAKE) --no-print-directory build

demo: moto-deps ## run the whole pipeline on this machine against moto_server (no AWS account)
	$(GO) run ./cmd/logalert demo $(if $(PARAMS),--parameter-overrides "$$PARAMS") $(ARGS)

events: ## regenerate the sample payloads in events/
	$(GO) generate ./events

deploy: ## sam build + sam deploy (guided the first time: make deploy GUIDED=1)
	@command -v sam >/dev/null || { echo "deploy: the SAM CLI is missing. $(SAM_REQUIRED)." >&2; exit 1; }
	sam build
	sam deploy $(if $(GUIDED),--guided) $(if $(PARAMS),--parameter-overrides "$$PARAMS")

emit: ## invoke the deployed emitter: make emit ERRORS=5 WARNINGS=2 INFOS=10 [LOG_GROUP=/shop/api]
	@command -v sam >/dev/null || { echo "emit: the SAM CLI is missing. $(SAM_REQUIRED)." >&2; exit 1; }
	sam remote invoke EmitterFunction --stack-name $(STACK_NAME) \
		--event '{"error_count": $(ERRORS), "warn_count": $(WARNINGS), "info_count": $(INFOS)$(if $(LOG_GROUP),$(comma) "log_group": "$(LOG_GROUP)")}'

incidents: ## list the deployed stack's incidents (STATUS=OPEN to filter)
	$(GO) run ./cmd/logalert incidents list --stack $(STACK_NAME) $(if $(STATUS),--status $(STATUS))

delete: ## sam delete, after asking (the incidents table is retained)
	@command -v sam >/dev/null || { echo "delete: the SAM CLI is missing. $(SAM_REQUIRED)." >&2; exit 1; }
	sam delete --stack-name $(STACK_NAME)

clean: ## remove build output and the demo's files
	rm -rf bin .aws-sam outbox .demo
