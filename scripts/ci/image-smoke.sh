#!/usr/bin/env bash
# Runs the built image the way an operator would, and checks what the issue
# asks of it: it starts as uid 10001 on a read-only root with every capability
# dropped, makes blocks, answers /health/ready and its HEALTHCHECK, stops
# cleanly on SIGTERM, starts again on the same volume with its chain intact,
# and exits with a clear error on a read-only volume, a bad config or an
# unreadable key. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ci/podman-env.sh
tag="utxod-smoke-$$"
RPC=${UTXOD_SMOKE_RPC_PORT:-18745}
MET=${UTXOD_SMOKE_METRICS_PORT:-19745}
containers=()
cleanup() {
  for c in "${containers[@]}"; do podman rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
  podman volume rm -f "$tag-data" "$tag-bad" "$tag-init" >/dev/null 2>&1 || true
}
trap cleanup EXIT
pass=0
ok() { pass=$((pass + 1)); echo "  ok $pass - $*"; }
fail() {
  echo "  FAILED - $*" >&2
  [ ${#containers[@]} -gt 0 ] && podman logs --tail 30 "${containers[-1]}" >&2 2>/dev/null
  exit 1
}
# podman without systemd cannot schedule health checks; its complaint is noise here.
quiet() { "$@" 2> >(grep -v 'systemd connection' >&2); }

run_node() { # name: runs the image detached, hardened as in the Helm chart
  containers+=("$1")
  quiet podman run -d --name "$1" --read-only --cap-drop=ALL --security-opt=no-new-privileges \
    --stop-timeout 30 -v "$tag-data:/data" -p "127.0.0.1:$RPC:8645" -p "127.0.0.1:$MET:9645" \
    "$IMAGE" start --block-interval 500 >/dev/null
}
wait_ready() { # seconds
  local deadline=$((SECONDS + $1))
  until curl -fsS "http://127.0.0.1:$RPC/health/ready" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "not ready within $1 s"
    sleep 1
  done
}
height() { curl -fsS "http://127.0.0.1:$MET/metrics" | awk '/^utxod_chain_height /{print $2}'; }
genesis_of() { podman logs "$1" 2>/dev/null | grep -o '"genesis":"[0-9a-f]*"' | head -1; }

echo "image-smoke: $IMAGE"
podman volume create "$tag-data" >/dev/null
run_node "$tag-node"
t0=$SECONDS
wait_ready 180
ok "ready on /health/ready after $((SECONDS - t0)) s"
[ "$(podman exec "$tag-node" id -u)" = 10001 ] || fail "not running as uid 10001"
ok "runs as uid 10001"
[ "$(podman inspect "$tag-node" --format '{{.HostConfig.ReadonlyRootfs}}')" = true ] || fail "root not read-only"
if podman exec "$tag-node" sh -c 'echo x > /app/probe' 2>/dev/null; then fail "could write to /app"; fi
ok "root filesystem is read-only (write to /app refused)"
[ "$(podman exec "$tag-node" sh -c 'grep CapEff /proc/1/status' | awk '{print $2}')" = 0000000000000000 ] || fail "capabilities left"
ok "no effective capabilities"
h1=$(height); sleep 3; h2=$(height)
[ "${h2%.*}" -gt "${h1%.*}" ] || fail "no blocks: height $h1 then $h2"
ok "produces blocks (height $h1 -> $h2 in 3 s)"
quiet podman healthcheck run "$tag-node" >/dev/null || fail "HEALTHCHECK failed"
ok "HEALTHCHECK passes"
genesis=$(genesis_of "$tag-node")
t0=$SECONDS
quiet podman stop -t 30 "$tag-node" >/dev/null
code=$(podman inspect "$tag-node" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
podman logs "$tag-node" 2>/dev/null | grep -q '"msg":"node closed"' || fail "no clean close in the log"
ok "SIGTERM: clean shutdown in $((SECONDS - t0)) s, exit 0"
stopped=$(podman logs "$tag-node" 2>/dev/null | grep '"msg":"node closed"' | grep -o '"height":[0-9]*' | cut -d: -f2)

run_node "$tag-node2"
wait_ready 180
again=$(podman logs "$tag-node2" 2>/dev/null | grep '"msg":"node initialised"' | grep -o '"height":[0-9]*' | cut -d: -f2)
[ "$again" = "$stopped" ] || fail "restart opened at height $again, stopped at $stopped"
[ "$(genesis_of "$tag-node2")" = "$genesis" ] || fail "genesis changed across restart"
h3=$(height); sleep 2; h4=$(height)
[ "${h4%.*}" -gt "${h3%.*}" ] || fail "no blocks after restart"
ok "restart on the same volume: opened at height $again (stopped at $stopped), same genesis, blocks continue"
quiet podman stop -t 30 "$tag-node2" >/dev/null

expect_exit() { # description, expected stderr text, podman run args...
  local what=$1 want=$2; shift 2
  local out
  containers+=("$tag-bad-run")
  set +e
  out=$(timeout 60 podman run --name "$tag-bad-run" --read-only --cap-drop=ALL "$@" 2>&1)
  local code=$?
  set -e
  podman rm -f "$tag-bad-run" >/dev/null 2>&1
  [ "$code" -ne 0 ] && [ "$code" -ne 124 ] || fail "$what: exit code $code (124: still running)"
  grep -q -- "$want" <<<"$out" || { echo "$out" | tail -5 >&2; fail "$what: no \"$want\" in its output"; }
  ok "$what: exits $code with \"$(grep -o -- "utxod: error.*" <<<"$out" | head -1 | cut -c1-110)\""
}
expect_exit "read-only data volume" DATADIR_NOT_WRITABLE -v "$tag-data:/data:ro" "$IMAGE" start
expect_exit "bad config" "config blockIntervalMs" -e UTXOD_BLOCK_INTERVAL_MS=soon -v "$tag-data:/data" "$IMAGE" start
podman volume create "$tag-bad" >/dev/null
quiet podman run --rm --read-only -v "$tag-bad:/data" "$IMAGE" init --datadir /data >/dev/null
quiet podman run --rm --read-only --entrypoint chmod -v "$tag-bad:/data" "$IMAGE" 0644 /data/keys/validator.json
expect_exit "key readable by others" "validator.json: is readable by others" -v "$tag-bad:/data" "$IMAGE" start
quiet podman run --rm --read-only --entrypoint sh -v "$tag-bad:/data" "$IMAGE" -c 'echo "{" > /data/keys/validator.json && chmod 600 /data/keys/validator.json'
expect_exit "corrupt key" "validator.json: is not valid JSON" -v "$tag-bad:/data" "$IMAGE" start

# The chart's prepare-datadir init container, rendered by helm for the
# four-validator values and run in the image as Kubernetes would run it: Secret
# files root-owned, group 10001, mode 0440; the pod's name picks its keys.
HELM=${HELM:-node_modules/.cache/utxod-ci/helm}
if [ -x "$HELM" ]; then
  script=$("$HELM" template utxod k8s/helm/utxod -n utxod-net -f k8s/helm/utxod/ci/four-validators-values.yaml \
    --show-only templates/statefulset.yaml | node -e '
      const s = require("yaml").parse(require("fs").readFileSync(0, "utf8"));
      process.stdout.write(s.spec.template.spec.initContainers.find((c) => c.name === "prepare-datadir").args[0]);')
  secrets="$CI_WORK/$tag-secrets"
  mkdir -p "$secrets" && cp k8s/compose/keys/*.json k8s/compose/keys/*.key "$secrets/"
  chown root:10001 "$secrets"/* && chmod 0440 "$secrets"/* && chmod 0755 "$secrets"
  trap 'cleanup; rm -rf "$secrets"' EXIT
  podman volume create "$tag-init" >/dev/null
  init_run() { # pod name
    quiet podman run --rm --read-only --cap-drop=ALL --user 10001:10001 -e POD_NAME="$1" \
      -v "$tag-init:/data" -v "$PWD/k8s/compose/genesis.json:/genesis/genesis.json:ro" \
      -v "$secrets:/secrets/validator:ro" --entrypoint /bin/sh "$IMAGE" -ec "$script"
  }
  init_run utxod-2 >/dev/null || fail "init container failed for utxod-2"
  listing=$(quiet podman run --rm --read-only --entrypoint sh -v "$tag-init:/data" "$IMAGE" -c \
    'stat -c "%a %u %n" /data/keys/validator.json /data/keys/p2p-identity.key; grep -o "\"chainId\": *\"[^\"]*\"" /data/genesis.json; cat /data/keys/validator.json')
  grep -q '^600 10001 /data/keys/validator.json' <<<"$listing" || fail "validator key not installed 0600: $listing"
  grep -q '^600 10001 /data/keys/p2p-identity.key' <<<"$listing" || fail "p2p identity not installed 0600"
  grep -q 'utxod-devnet-4v' <<<"$listing" || fail "genesis not initialised from the ConfigMap"
  grep -q "$(node -p 'require("./k8s/compose/keys/validator-2.json").publicKey')" <<<"$listing" || fail "pod 2 did not get validator-2.json"
  ok "chart init container (helm-rendered): pod utxod-2 joined from the genesis and got validator-2's keys, mode 0600"
  set +e
  out=$(init_run utxod-7 2>&1)
  code=$?
  set -e
  [ $code -ne 0 ] && grep -q 'Secret utxod-validator-keys has no validator-7.json' <<<"$out" || fail "missing key: exit $code, $out"
  ok "chart init container: a pod whose key is missing from the Secret fails, naming it"
  podman volume rm -f "$tag-init" >/dev/null
fi

echo "$pass passed, 0 failed"
