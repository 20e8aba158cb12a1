#!/usr/bin/env bash
# Builds the image (and its SBOM) and runs it for real: see build-image.sh and image-smoke.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ci/install-tools.sh podman
bash scripts/ci/build-image.sh
bash scripts/ci/image-smoke.sh
