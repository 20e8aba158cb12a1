#!/usr/bin/env bash
# Runs the four-validator network of compose.yaml for real, as four containers
# of the built image on a podman network (podman-compose is not needed): the
# genesis and keys of k8s/compose, each container hardened as in the Helm chart
# (uid 10001, read-only root, no capabilities, data on its own volume).
# Checks: all four commit the same blocks, every validator proposes, and with
# one validator stopped the other three keep committing; restarted, it catches
# up on the same chain. The host talks only to 127.0.0.1 (published ports).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ci/podman-env.sh
tag="utxod-4v-$$"
BASE=${UTXOD_4V_BASE_PORT:-18800}
SUBNET="10.89.$((RANDOM % 200 + 20))"
NODE24=node_modules/node/bin/node
containers=()
cleanup() {
  for c in "${containers[@]}"; do podman rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
  for i in 0 1 2 3; do podman volume rm -f "$tag-data-$i" >/dev/null 2>&1 || true; done
  podman network rm -f "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# podman without systemd cannot schedule health checks; its complaint is noise here.
quiet() { "$@" 2> >(grep -v 'systemd connection' >&2); }
pass=0
ok() { pass=$((pass + 1)); echo "  ok $pass - $*"; }
fail() {
  echo "  FAILED - $*" >&2
  for c in "${containers[@]}"; do echo "--- $c" >&2; podman logs --tail 15 "$c" >&2 2>/dev/null || true; done
  exit 1
}
rpc() { echo "http://127.0.0.1:$((BASE + 10 * $1))"; }
height() { curl -fs --max-time 3 "$(rpc "$1")/api/v1/chain/tip" | "$NODE24" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).height))' 2>/dev/null || echo -1; }
# "hash proposer" per line for heights 1..$2 of node $1
chain() { curl -fs --max-time 5 "$(rpc "$1")/api/v1/headers?from=1&count=$2" | "$NODE24" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const h of JSON.parse(s).headers)console.log(h.hash,h.proposer)})'; }
wait_height() { # min-height seconds nodes...
  local want=$1 deadline=$((SECONDS + $2)); shift 2
  for i in "$@"; do
    until [ "$(height "$i")" -ge "$want" ]; do
      [ $SECONDS -lt $deadline ] || fail "validator-$i below height $want after the wait (at $(height "$i"))"
      sleep 1
    done
  done
}

# From a copy: peerIdentity tightens the key file's mode to 0600, and the
# containers (uid 10001) must still read the checked-in files.
peer_id() {
  local tmp
  tmp=$(mktemp)
  cp "k8s/compose/keys/p2p-identity-$1.key" "$tmp"
  "$NODE24" --input-type=module -e "const { peerIdentity } = await import('./src/p2p/index.ts'); console.log(await peerIdentity(process.argv[1]))" "$tmp"
  rm -f "$tmp"
}
peers=()
for i in 0 1 2 3; do peers+=("/ip4/$SUBNET.$((10 + i))/tcp/8646/p2p/$(peer_id "$i")"); done

run_validator() { # index
  local i=$1 boot=() j
  for j in 0 1 2 3; do [ "$j" = "$i" ] || boot+=("${peers[$j]}"); done
  containers+=("$tag-v$i")
  # The same steps as compose.yaml's entrypoint and the chart's init container.
  quiet podman run -d --name "$tag-v$i" --network "$tag" --ip "$SUBNET.$((10 + i))" \
    --read-only --cap-drop=ALL --security-opt=no-new-privileges --user 10001:10001 --tmpfs /tmp \
    --stop-timeout 30 -v "$PWD/k8s/compose:/network:ro" -v "$tag-data-$i:/data" \
    -p "127.0.0.1:$((BASE + 10 * i)):8645" \
    -e UTXOD_INDEX="$i" -e UTXOD_BLOCK_INTERVAL_MS=1000 -e UTXOD_RPC_HOST=0.0.0.0 \
    -e UTXOD_BOOTSTRAP="$(IFS=,; echo "${boot[*]}")" \
    --entrypoint /bin/sh "$IMAGE" -ec '
      [ -f /data/genesis.json ] || node /app/bin/utxod.js init --datadir /data --genesis /network/genesis.json >/dev/null
      mkdir -p /data/keys && chmod 700 /data/keys
      for k in validator-$UTXOD_INDEX.json:validator.json p2p-identity-$UTXOD_INDEX.key:p2p-identity.key; do
        cp "/network/keys/${k%%:*}" "/data/keys/${k#*:}"
        chmod 600 "/data/keys/${k#*:}"
      done
      exec /usr/bin/tini -- node /app/bin/utxod.js start --datadir /data' >/dev/null
}

echo "four-validators: $IMAGE on podman network $tag ($SUBNET.0/24)"
podman network create --subnet "$SUBNET.0/24" "$tag" >/dev/null
for i in 0 1 2 3; do podman volume create "$tag-data-$i" >/dev/null; run_validator "$i"; done
t0=$SECONDS
wait_height 8 240 0 1 2 3
ok "all four validators at height >= 8 after $((SECONDS - t0)) s"

common=8
reference=$(chain 0 "$common")
[ "$(echo "$reference" | wc -l)" = "$common" ] || fail "validator-0 returned no headers 1..$common"
for i in 1 2 3; do [ "$(chain "$i" "$common")" = "$reference" ] || fail "validator-$i disagrees with validator-0 on heights 1..$common"; done
ok "all four hold the same blocks at heights 1..$common"
wait_height 20 120 0
proposers=$(chain 0 20 | awk '{print $2}' | sort -u | wc -l)
[ "$proposers" = 4 ] || fail "$proposers distinct proposers in heights 1..20, wanted all 4"
ok "every validator proposed blocks in heights 1..20"

quiet podman stop -t 30 "$tag-v3" >/dev/null
code=$(podman inspect "$tag-v3" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "validator-3 exit code $code after SIGTERM"
stopped=$(height 0)
t0=$SECONDS
wait_height $((stopped + 5)) 60 0 1 2
ok "validator-3 stopped (exit 0) at height $stopped: the other three committed 5 more blocks in $((SECONDS - t0)) s"

quiet podman start "$tag-v3" >/dev/null
target=$(height 0)
t0=$SECONDS
wait_height "$target" 120 3
common=$(height 3)
reference=$(chain 0 "$common")
[ "$(chain 3 "$common")" = "$reference" ] || fail "validator-3 rejoined on a different chain"
ok "validator-3 restarted and caught up to height $target in $((SECONDS - t0)) s on the same chain"
echo "four-validators: $pass checks passed"
