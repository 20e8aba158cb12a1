#!/usr/bin/env bash
# The short chaos subset CI runs (scenarios marked ci: true: double-signer, partition-2-2,
# partition-3-1, rolling-kill; four validators each), a few minutes in all.
# Needs root for network namespaces and nftables; installs nftables when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nft >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables iproute2 >/dev/null
fi
npm run chaos -- --ci --seconds "${CHAOS_SECONDS:-20}"
