#!/usr/bin/env bash
# Builds the image (and its SBOM) and runs it for real: see build-image.sh,
# image-smoke.sh (one node) and four-validators.sh (compose's four-validator
# network as four containers on a podman network).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ci/install-tools.sh podman
bash scripts/ci/build-image.sh
bash scripts/ci/image-smoke.sh
bash scripts/ci/four-validators.sh
