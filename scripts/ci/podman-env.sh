# Sourced by the image scripts: podman as root with runc and cgroupfs (crun fails
# on hybrid cgroups here), default ulimits within this machine's hard limits.
CI_WORK=${UTXOD_CI_TOOLS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/node_modules/.cache/utxod-ci}
mkdir -p "$CI_WORK"
cat >"$CI_WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF=$CI_WORK/containers.conf
IMAGE=${UTXOD_IMAGE:-localhost/utxod:ci}
NODE_BASE=docker.io/library/node:24-bookworm-slim
