#!/usr/bin/env bash
# Installs the real servers tidegate's tests and demo run against, from the registries this machine
# can reach (no prebuilt downloads), into a tool cache outside the checkout so that a fresh clone
# reuses them. Idempotent: a second run only checks and relinks (seconds). `npm run demo`, `npm run
# dev` and `npm test` run it themselves when .tools/ lacks something or devkit/toolchain/ changed since it last
# completed (devkit/toolchain/setup.ts compares the hash it writes to .tools/.setup-stamp). Two setups at
# once (a demo and a test run on a fresh machine) take turns on a lock in the cache.
#
#   TIDEGATE_CACHE   cache root (default ~/.cache/tidegate)
#   TEMPORAL_ADDRESS when set, tests and the demo use that server; the CLI is still installed for the UI-less parts
#
# Afterwards .tools/ (git-ignored) holds links to what was found or built:
#   .tools/temporal               Temporal CLI (dev server + Web UI)
#   .tools/temporal-server, temporal-sql-tool, temporal-ui-server
#                                 the Temporal server, its schema tool and Web UI server, for the
#                                 production-shaped cluster on PostgreSQL (`npm run stack -- up --temporal cluster`)
#   .tools/postgres, initdb       PostgreSQL from Debian's packages (the cluster's database)
#   .tools/temporal-test-server   wrapper running the Java time-skipping test server: <port>
#   .tools/prometheus             Prometheus server
#   .tools/kube-apiserver, kube-controller-manager, kube-scheduler   built from k8s.io/kubernetes
#   .tools/kubectl                kubectl from the same module (dry-runs of deploy/, people at the stack)
#   .tools/etcd                   etcd built from go.etcd.io/etcd/server/v3 (devkit/toolchain/etcd/)
#   .tools/kwok, .tools/kwokctl   fake nodes, and the binary runtime that wires the control plane
#   .tools/gateway-api-crds/      Gateway API standard CRDs (HTTPRoute), from sigs.k8s.io/gateway-api
#   .tools/chromium               Debian's chromium, the headless browser test/e2e/browser.test.ts drives (playwright-core downloads none)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

cache="${TIDEGATE_CACHE:-$HOME/.cache/tidegate}"
tools="$root/.tools"
mkdir -p "$cache" "$tools"

log() { printf '[setup] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1; }

# One setup at a time on this machine: the second waits for the first, then finds everything built.
exec 9>"$cache/setup.lock"
if ! flock -n 9; then
  log "another setup is running (lock $cache/setup.lock); waiting for it"
  flock 9
fi

# Runs a long step (a Go build takes minutes) with a line every 30 s, so a cold setup never looks stuck.
progress() {
  local what="$1"; shift
  local setup_pid=$$
  ( elapsed=0 tick=''
    trap '[ -n "$tick" ] && kill "$tick" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 30 & tick=$!
      wait "$tick"
      kill -0 "$setup_pid" 2>/dev/null || exit 0
      elapsed=$((elapsed + 30))
      printf '[setup]   … %s: %d min %02d s\n' "$what" $((elapsed / 60)) $((elapsed % 60)) >&2
    done ) &
  local ticker=$!
  local rc=0
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  return "$rc"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif need sudo; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
  need apt-get || { log "apt-get not found; install $* by hand"; return 1; }
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

link() { ln -sfn "$1" "$tools/$2"; log "$2 -> $1"; }

# --- Temporal CLI (dev server with Web UI) ---------------------------------------------------
temporal_dir="$cache/temporal-cli-$TEMPORAL_CLI_VERSION"
temporal_bin="$temporal_dir/bin/temporal"
path_temporal="$(command -v temporal 2>/dev/null || true)"
if [ -n "$path_temporal" ] && [ "$(readlink -f "$path_temporal")" != "$(readlink -f "$tools/temporal" 2>/dev/null || true)" ]; then
  link "$path_temporal" temporal
elif [ -x "$temporal_bin" ]; then
  link "$temporal_bin" temporal
else
  need go || { log "Go is needed to build the Temporal CLI (or put a 'temporal' on PATH)"; exit 1; }
  log "building Temporal CLI v$TEMPORAL_CLI_VERSION with go install (a few minutes on 2 cores)"
  mkdir -p "$temporal_dir/bin"
  # Build into a temporary GOBIN, then move: an interrupted build never leaves a half binary.
  tmp_bin="$(mktemp -d "$temporal_dir/build.XXXXXX")"
  GOBIN="$tmp_bin" GOFLAGS=-trimpath progress "building the Temporal CLI" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION"
  mv "$tmp_bin/temporal" "$temporal_bin"; rmdir "$tmp_bin"
  link "$temporal_bin" temporal
fi

# --- Temporal server on PostgreSQL (the production-shaped cluster, devkit/stack/temporal-cluster.ts) ---
# go.temporal.io/server has no replace directives, so `go install` builds it from the module proxy; the
# schema tool carries the PostgreSQL schemas embedded (--schema-name). The Web UI server is the same
# module the CLI's dev server embeds, run on its own in front of the cluster's frontend.
server_dir="$cache/temporal-server-$TEMPORAL_SERVER_VERSION"
if [ ! -f "$server_dir/.complete" ]; then
  need go || { log "Go is needed to build the Temporal server"; exit 1; }
  log "building temporal-server and temporal-sql-tool v$TEMPORAL_SERVER_VERSION with go install (a few minutes on 2 cores)"
  rm -rf "$server_dir.tmp"; mkdir -p "$server_dir.tmp/bin"
  GOBIN="$server_dir.tmp/bin" GOFLAGS=-trimpath progress "building the Temporal server" go install \
    "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
  mv "$server_dir.tmp/bin/server" "$server_dir.tmp/bin/temporal-server"
  mv "$server_dir.tmp/bin/sql" "$server_dir.tmp/bin/temporal-sql-tool"
  touch "$server_dir.tmp/.complete"
  rm -rf "$server_dir"; mv "$server_dir.tmp" "$server_dir"
fi
link "$server_dir/bin/temporal-server" temporal-server
link "$server_dir/bin/temporal-sql-tool" temporal-sql-tool

ui_dir="$cache/temporal-ui-server-$TEMPORAL_UI_SERVER_VERSION"
if [ ! -f "$ui_dir/.complete" ]; then
  need go || { log "Go is needed to build the Temporal Web UI server"; exit 1; }
  log "building the Temporal Web UI server v$TEMPORAL_UI_SERVER_VERSION with go install (about 1 min)"
  rm -rf "$ui_dir.tmp"; mkdir -p "$ui_dir.tmp/bin"
  GOBIN="$ui_dir.tmp/bin" GOFLAGS=-trimpath progress "building the Web UI server" go install "github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_SERVER_VERSION"
  mv "$ui_dir.tmp/bin/server" "$ui_dir.tmp/bin/temporal-ui-server"
  touch "$ui_dir.tmp/.complete"
  rm -rf "$ui_dir"; mv "$ui_dir.tmp" "$ui_dir"
fi
link "$ui_dir/bin/temporal-ui-server" temporal-ui-server

# PostgreSQL server binaries (Debian's package); the stack runs a cluster of its own with them (initdb
# in the stack's directory, a free port), never the package's system cluster.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/postgres" ]; then
  log "installing PostgreSQL from Debian's packages"
  progress "installing PostgreSQL" apt_install postgresql
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
link "$pg_bin/postgres" postgres
link "$pg_bin/initdb" initdb

# --- Time-skipping test server (Java, Maven Central) -----------------------------------------
ts_dir="$cache/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION"
ts_wrapper="$ts_dir/temporal-test-server"
if [ ! -f "$ts_dir/.complete" ]; then
  need java || progress "installing Java 17" apt_install openjdk-17-jre-headless
  need mvn || progress "installing Maven" apt_install maven
  log "resolving io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION from Maven Central"
  rm -rf "$ts_dir.tmp"; mkdir -p "$ts_dir.tmp/lib"
  progress "resolving the test server" mvn -q -B -Dstyle.color=never -f "$here/test-server/pom.xml" \
    -Dtemporal.test.server.version="$TEMPORAL_TEST_SERVER_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$ts_dir.tmp/lib"
  cat > "$ts_dir.tmp/temporal-test-server" <<'WRAP'
#!/usr/bin/env bash
# Temporal time-skipping test server. Usage: temporal-test-server <port> [extra args]
# exec, so that the process the SDK starts and stops is the JVM itself.
dir="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k ${TIDEGATE_TEST_SERVER_JAVA_OPTS:-} \
  -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"
WRAP
  chmod +x "$ts_dir.tmp/temporal-test-server"
  touch "$ts_dir.tmp/.complete"
  rm -rf "$ts_dir"; mv "$ts_dir.tmp" "$ts_dir"
fi
link "$ts_wrapper" temporal-test-server

# --- Prometheus (Debian package) -------------------------------------------------------------
if ! need prometheus; then
  log "installing Prometheus from Debian's packages"
  progress "installing Prometheus" apt_install prometheus
fi
link "$(command -v prometheus)" prometheus

# --- OpenSSH client (Debian package): ssh-keygen and ssh-agent sign approvals in tests and the demo -
if ! need ssh-keygen || ! need ssh-agent; then
  progress "installing the OpenSSH client" apt_install openssh-client
fi

# --- Chromium (Debian package): the browser test drives the stack's Temporal Web UI with it --------
# playwright-core brings no browser and the test downloads none; it launches this one headless.
if [ ! -x /usr/bin/chromium ]; then
  log "installing Chromium from Debian's packages (for test/e2e/browser.test.ts)"
  progress "installing Chromium" apt_install chromium
fi
link /usr/bin/chromium chromium

# --- Kubernetes control plane (k8s.io/kubernetes with published staging modules) --------------
kube_dir="$cache/kubernetes-$KUBERNETES_VERSION"
if ! grep -q "k8s.io/kubernetes v$KUBERNETES_VERSION\$" "$here/kubernetes/go.mod"; then
  log "devkit/toolchain/kubernetes/go.mod does not require k8s.io/kubernetes v$KUBERNETES_VERSION (see devkit/toolchain/versions.sh)"; exit 1
fi
if [ ! -f "$kube_dir/.complete" ]; then
  need go || { log "Go is needed to build the Kubernetes control plane"; exit 1; }
  log "building kube-apiserver, kube-controller-manager, kube-scheduler v$KUBERNETES_VERSION (about 6-8 min on 2 cores)"
  rm -rf "$kube_dir.tmp"; mkdir -p "$kube_dir.tmp/bin"
  (cd "$here/kubernetes" && GOFLAGS=-mod=readonly progress "building the Kubernetes control plane" go build -trimpath -o "$kube_dir.tmp/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  touch "$kube_dir.tmp/.complete"
  rm -rf "$kube_dir"; mv "$kube_dir.tmp" "$kube_dir"
fi
for bin in kube-apiserver kube-controller-manager kube-scheduler; do link "$kube_dir/bin/$bin" "$bin"; done

kubectl_dir="$cache/kubectl-$KUBERNETES_VERSION"
if [ ! -f "$kubectl_dir/.complete" ]; then
  need go || { log "Go is needed to build kubectl"; exit 1; }
  log "building kubectl v$KUBERNETES_VERSION (about 1 min after the control plane, 4 min alone)"
  rm -rf "$kubectl_dir.tmp"; mkdir -p "$kubectl_dir.tmp/bin"
  (cd "$here/kubernetes" && GOFLAGS=-mod=readonly progress "building kubectl" go build -trimpath -o "$kubectl_dir.tmp/bin/" k8s.io/kubernetes/cmd/kubectl)
  touch "$kubectl_dir.tmp/.complete"
  rm -rf "$kubectl_dir"; mv "$kubectl_dir.tmp" "$kubectl_dir"
fi
link "$kubectl_dir/bin/kubectl" kubectl

kwok_dir="$cache/kwok-$KWOK_VERSION"
if [ ! -f "$kwok_dir/.complete" ]; then
  need go || { log "Go is needed to build kwok"; exit 1; }
  log "building kwok and kwokctl v$KWOK_VERSION with go install (2-3 min)"
  rm -rf "$kwok_dir.tmp"; mkdir -p "$kwok_dir.tmp/bin"
  GOBIN="$kwok_dir.tmp/bin" GOFLAGS=-trimpath progress "building kwok and kwokctl" go install "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@v$KWOK_VERSION"
  touch "$kwok_dir.tmp/.complete"
  rm -rf "$kwok_dir"; mv "$kwok_dir.tmp" "$kwok_dir"
fi
link "$kwok_dir/bin/kwok" kwok
link "$kwok_dir/bin/kwokctl" kwokctl

# Gateway API standard CRDs (HTTPRoute …), from the sigs.k8s.io/gateway-api module's files.
gw_dir="$cache/gateway-api-$GATEWAY_API_VERSION"
if [ ! -f "$gw_dir/.complete" ]; then
  need go || { log "Go is needed to fetch the Gateway API module"; exit 1; }
  log "fetching the Gateway API v$GATEWAY_API_VERSION CRDs from the Go module proxy"
  mod_dir="$(cd "$here/kubernetes" && go mod download -json "sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$mod_dir/config/crd/standard" ] || { log "no config/crd/standard in sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION"; exit 1; }
  rm -rf "$gw_dir.tmp"; mkdir -p "$gw_dir.tmp/crds"
  cp "$mod_dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$gw_dir.tmp/crds/"
  chmod -R u+w "$gw_dir.tmp"
  touch "$gw_dir.tmp/.complete"
  rm -rf "$gw_dir"; mv "$gw_dir.tmp" "$gw_dir"
fi
link "$gw_dir/crds" gateway-api-crds

# etcd, built from go.etcd.io/etcd/server/v3's etcdmain by devkit/toolchain/etcd/ (Debian's 3.4.23 lacks the
# RequestWatchProgress kube-apiserver 1.35's watch cache needs: reads time out before falling back).
etcd_dir="$cache/etcd-$ETCD_VERSION"
if ! grep -q "go.etcd.io/etcd/server/v3 v$ETCD_VERSION\$" "$here/etcd/go.mod"; then
  log "devkit/toolchain/etcd/go.mod does not require go.etcd.io/etcd/server/v3 v$ETCD_VERSION (see devkit/toolchain/versions.sh)"; exit 1
fi
if [ ! -f "$etcd_dir/.complete" ]; then
  need go || { log "Go is needed to build etcd"; exit 1; }
  log "building etcd v$ETCD_VERSION from go.etcd.io/etcd/server/v3 (about 1 min)"
  rm -rf "$etcd_dir.tmp"; mkdir -p "$etcd_dir.tmp/bin"
  (cd "$here/etcd" && GOFLAGS=-mod=readonly progress "building etcd" go build -trimpath -o "$etcd_dir.tmp/bin/etcd" .)
  touch "$etcd_dir.tmp/.complete"
  rm -rf "$etcd_dir"; mv "$etcd_dir.tmp" "$etcd_dir"
fi
link "$etcd_dir/bin/etcd" etcd

# What devkit/toolchain/setup.ts compares to decide whether setup must run again (same files, same order).
(cd "$here" && cat setup.sh versions.sh kubernetes/go.mod kubernetes/go.sum etcd/go.mod etcd/go.sum etcd/main.go test-server/pom.xml) \
  | sha256sum | cut -d' ' -f1 > "$tools/.setup-stamp"

log "tools ready in $tools (cache: $cache)"
