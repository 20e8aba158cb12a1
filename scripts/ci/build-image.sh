#!/usr/bin/env bash
# Builds the utxod image from the real Dockerfile with podman, and its CycloneDX
# SBOM (production dependencies) beside it in dist/image/.
# No registry is reachable here, so the Dockerfile's default base,
# node:24-bookworm-slim, is made locally first: Debian bookworm from mmdebstrap
# plus the project's own Node 24 binary (the `node` devDependency) and npm 11
# from the npm registry. On a machine with a registry, `docker build .` is all.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ci/podman-env.sh
OUT=dist/image
mkdir -p "$OUT"
start=$(date +%s)

if ! podman image exists "$NODE_BASE"; then
  echo "build-image: bootstrapping $NODE_BASE (mmdebstrap + Node $(node_modules/node/bin/node --version))"
  rm -rf "$CI_WORK/base" && mkdir -p "$CI_WORK/base"
  mmdebstrap --quiet --variant=minbase --format=tar --include=passwd,ca-certificates \
    --dpkgopt=force-unsafe-io bookworm - | podman import --quiet - localhost/utxod-ci-debian:bookworm >/dev/null
  cp node_modules/node/bin/node "$CI_WORK/base/node"
  (cd "$CI_WORK/base" && npm pack --silent npm@11 >/dev/null && mkdir npm && tar -xzf npm-*.tgz -C npm --strip-components=1 && rm npm-*.tgz)
  cat >"$CI_WORK/base/Containerfile" <<'CF'
FROM localhost/utxod-ci-debian:bookworm
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CF
  podman build --quiet --pull=never --format docker -t "$NODE_BASE" "$CI_WORK/base" >/dev/null
  rm -rf "$CI_WORK/base"
fi

version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
ca_args=()
[ -s /etc/ssl/certs/ca-certificates.crt ] && ca_args=(--secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt)
echo "build-image: podman build $IMAGE (version $version, revision $revision)"
podman build --pull=never --format docker "${ca_args[@]}" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$IMAGE" . >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }

# The SBOM lists exactly the tree `npm ci --omit=dev` installs in the image.
npm sbom --omit=dev --sbom-format=cyclonedx --sbom-type=application >"$OUT/utxod-$version.cdx.json"
node -e '
  const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (b.bomFormat !== "CycloneDX" || !Array.isArray(b.components) || b.components.length < 10)
    throw new Error("SBOM looks wrong");
  console.log(`build-image: SBOM ${process.argv[1]}: ${b.components.length} components, spec ${b.specVersion}`);
' "$OUT/utxod-$version.cdx.json"

size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
base=$(podman image inspect "$NODE_BASE" --format '{{.Size}}')
printf 'image %s: %d MB (base %s: %d MB, utxod layers %d MB)\n' "$IMAGE" $((size / 1000000)) \
  "$NODE_BASE" $((base / 1000000)) $(((size - base) / 1000000)) | tee "$OUT/size.txt"
echo "build-image: done in $(($(date +%s) - start)) s"
