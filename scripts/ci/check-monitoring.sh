#!/usr/bin/env bash
# Alert rules: `promtool check rules`, then `promtool test rules` with a firing
# test for every alert (k8s/monitoring/alerts.test.yaml). The dashboards' and
# rules' metric names are checked against a running node by
# test/deploy/monitoring-metrics.test.ts, which `npm test` runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ci/install-tools.sh promtool
promtool check rules k8s/helm/utxod/files/alerts.rules.yaml
tests=$(npm exec -- node scripts/ci/promtool-tests.ts k8s/monitoring/alerts.test.yaml)
trap 'rm -rf "$(dirname "$tests")"' EXIT
promtool test rules "$tests"
