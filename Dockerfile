# syntax=docker/dockerfile:1.7
# utxod container image: production dependencies only, non-root (uid 10001),
# works with a read-only root filesystem and every capability dropped; all
# state lives in the one volume at /data. See docs/deployment.md.
#
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) -t utxod .
#   docker run --read-only --cap-drop=ALL -v utxod-data:/data -p 8645:8645 utxod
#
# Behind a TLS-intercepting proxy, hand its CA to npm as a build secret (never a layer):
#   --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt

ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

# ---- dependencies: npm ci of the production tree, then pruned of what never runs
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --omit=dev --no-audit --no-fund --loglevel=warn \
 && find node_modules -depth \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.md' -o -name 'CHANGELOG*' -o -name '*.tsbuildinfo' \) -type f -delete \
 && find node_modules -type d -path '*/prebuilds/*' ! -path '*/prebuilds/*/*' \
      ! -name "linux-$(node -p process.arch)" -prune -exec rm -rf {} + \
 && rm -rf /root/.npm

# ---- tini: PID 1 that forwards signals to node and reaps any child
FROM ${NODE_IMAGE} AS tini
RUN if ! command -v tini >/dev/null; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends tini >/dev/null \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && cp "$(command -v tini)" /tini

# ---- runtime
FROM ${NODE_IMAGE}
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/utxod/utxod
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="utxod" \
      org.opencontainers.image.description="A UTXO blockchain full-node daemon" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT"

# npm, yarn and corepack are build tools the node never runs: out of reach of an attacker.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -m 0700 /data && chown 10001:10001 /data

COPY --from=tini /tini /usr/bin/tini
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY genesis ./genesis
COPY src ./src

# Every listener on all interfaces inside the container; publishing a port is
# the operator's choice. Health and metrics ports as in the default config.
ENV NODE_ENV=production \
    UTXOD_DATADIR=/data \
    UTXOD_RPC_HOST=0.0.0.0 \
    UTXOD_METRICS_HOST=0.0.0.0 \
    UTXOD_P2P_HOST=0.0.0.0 \
    UTXOD_LOG_FORMAT=json \
    HOME=/data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8645 8646 9645

# Liveness only: readiness (tip age, sync) is for load balancers, not restarts.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.UTXOD_RPC_PORT||8645)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/utxod.js"]
CMD ["start"]
