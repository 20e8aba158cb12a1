#!/usr/bin/env bash
# Helm chart and ArgoCD checks without a cluster: lint, template every values
# file, schema-validate every object (unknown fields fail), assert the security
# properties, and bad values failing with the value's name (test/deploy/chart.check.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ci/install-tools.sh helm
export HELM=${HELM:-$PWD/node_modules/.cache/utxod-ci/helm}
npm exec -- node --test --test-timeout=300000 test/deploy/chart.check.ts
