#!/bin/bash
# Prepare a Debian 12 (bookworm) host to run Sandpit sandboxes:
#   * install docker.io, debootstrap and runsc (gVisor; in bookworm/main);
#   * build a current runsc from the pinned gvisor.dev/gvisor/runsc Go module
#     (scripts/install-runsc.sh; cached per version, skipped without a Go toolchain);
#   * register runsc (the current build, or Debian's as the fallback) and
#     runsc-debian (Debian's, for the benchmark) in /etc/docker/daemon.json;
#   * start dockerd without systemd if it is not running; when only the
#     runtimes changed, reload it with SIGHUP (running containers keep running);
#     restart it only when other settings changed.
# Leftover runsc sandbox processes are the worker's to reap (worker/recovery/reap-runsc-sandboxes.ts):
# it knows which runsc state belongs to its own daemon.
# Idempotent and quick (<1 s) when everything is already in place.
# Run as root. CI runs this first, then scripts/build-images.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf 'host-setup: %s\n' "$*"; }
die() { printf 'host-setup: ERROR: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"
export DEBIAN_FRONTEND=noninteractive

# --- 1. packages ---------------------------------------------------------------
missing=()
command -v dockerd >/dev/null     || missing+=(docker.io)
command -v runsc >/dev/null       || missing+=(runsc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v jq >/dev/null          || missing+=(jq)
command -v patch >/dev/null       || missing+=(patch)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
DEBIAN_RUNSC=$(command -v runsc)
# The current build (systrap platform, 30x faster syscalls than Debian's 2022 ptrace build);
# empty when no Go toolchain is available, and then `runsc` is Debian's build.
CURRENT_RUNSC=$("$HERE/install-runsc.sh") || CURRENT_RUNSC=""

# --- 2. daemon config ----------------------------------------------------------
# --network=none: without it every runsc start fails with "cannot run with
#   network enabled in root network namespace" (containers use --network none).
# --oci-seccomp: without it runsc ignores Docker's seccomp profile, and a sandbox
#   could unshare(CLONE_NEWNS) (tests/integration/adversarial-escape.test.ts).
#   The current build is patched to honour the profile's errnoRet (scripts/runsc-patches/).
# No --platform=kvm: it hangs on this VM. The current build runs systrap
#   (named explicitly: its default); Debian's only knows ptrace.
mkdir -p /etc/docker
# Not for Debian's build: its --oci-seccomp answers EPERM where Docker's profile says ENOSYS (clone3), and
# every pthread_create then fails (node, python threads). The current build carries a fix for that
# (scripts/runsc-patches/); without it runsc is Debian's and seccomp is not applied inside the sandbox.
debian_runtime=$(printf '{"path": "%s", "runtimeArgs": ["--network=none"]}' "$DEBIAN_RUNSC")
if [[ -n $CURRENT_RUNSC ]]; then
    runsc_runtime=$(printf '{"path": "%s", "runtimeArgs": ["--platform=systrap", "--network=none", "--oci-seccomp"]}' "$CURRENT_RUNSC")
    # The same, allowed to connect to a bind-mounted host Unix socket: only the requirements fetch step uses it, to
    # reach the worker's registry proxy (docs/security.md "Package installs"). Sandboxes never get it.
    uds_runtime=$(printf '{"path": "%s", "runtimeArgs": ["--platform=systrap", "--network=none", "--oci-seccomp", "--host-uds=open"]}' "$CURRENT_RUNSC")
else
    log "no current runsc (yet, or no Go toolchain): runtime runsc is Debian's 2022 build, without Docker's seccomp profile inside"
    runsc_runtime=$debian_runtime
    uds_runtime=null
fi
want=$(jq -n --argjson runsc "$runsc_runtime" --argjson debian "$debian_runtime" --argjson uds "$uds_runtime" '{
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "runtimes": ({"runsc": $runsc, "runsc-debian": $debian} + (if $uds then {"runsc-uds": $uds} else {} end))
}')
config_changed=0
runtimes_only=0
if [[ ! -f /etc/docker/daemon.json || $(cat /etc/docker/daemon.json) != "$want" ]]; then
    # dockerd reloads "runtimes" on SIGHUP; any other change needs a restart.
    if [[ -f /etc/docker/daemon.json ]] &&
        [[ "$(jq -S 'del(.runtimes)' /etc/docker/daemon.json 2>/dev/null)" == "$(jq -S 'del(.runtimes)' <<<"$want")" ]]; then
        runtimes_only=1
    fi
    printf '%s\n' "$want" > /etc/docker/daemon.json
    config_changed=1
    log "wrote /etc/docker/daemon.json"
fi

# --- 3. dockerd ----------------------------------------------------------------
dockerd_pid() { pgrep -x dockerd | head -n1 || true; }

start_dockerd() {
    log "starting dockerd"
    # setsid + nohup: keep running after this script (and CI step) exits.
    setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
    local i
    for i in $(seq 60); do
        if [[ -S /var/run/docker.sock ]] && docker info >/dev/null 2>&1; then
            log "dockerd ready after ${i}s"; return 0
        fi
        sleep 1
    done
    tail -n 30 /var/log/dockerd.log >&2 || true
    die "dockerd did not come up within 60 s (see /var/log/dockerd.log)"
}

stop_dockerd() {
    local pid; pid=$(dockerd_pid)
    [[ -n $pid ]] || return 0
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    local i
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
    die "dockerd (pid $pid) did not stop"
}

# Reload without a restart: containers in flight (other runs, other test stacks) keep running.
reload_dockerd() {
    local pid; pid=$(dockerd_pid)
    log "reloading dockerd runtimes (SIGHUP to pid $pid)"
    kill -HUP "$pid"
    local want_path want_names i
    want_path=$(jq -r '.runtimes.runsc.path' /etc/docker/daemon.json)
    want_names=$(jq -c '.runtimes | keys' /etc/docker/daemon.json)
    for i in $(seq 50); do
        docker info --format '{{json .Runtimes}}' 2>/dev/null | jq -e --arg p "$want_path" --argjson names "$want_names" \
            '.runsc.path == $p and (($names - keys) | length) == 0' >/dev/null && return 0
        sleep 0.2
    done
    die "dockerd did not pick up the new runtimes after SIGHUP (see /var/log/dockerd.log)"
}

if [[ -z $(dockerd_pid) ]]; then
    # A stale socket/pidfile from a killed daemon would block startup.
    rm -f /var/run/docker.pid
    start_dockerd
elif ((runtimes_only)); then
    reload_dockerd
elif ((config_changed)) || ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
    stop_dockerd
    start_dockerd
else
    # Running and configured; wait briefly in case it is still starting up.
    for i in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd runs but does not answer"
fi
docker info --format '{{json .Runtimes}}' | grep -q '"runsc"' || die "runsc not registered with dockerd"
log "runsc: $(docker info --format '{{json .Runtimes}}' | jq -r '.runsc.path') ($("$(docker info --format '{{json .Runtimes}}' | jq -r '.runsc.path')" --version 2>/dev/null | head -n1))"

# --- 4. the web process's unprivileged user (docs/security.md "Least privilege") -----
"$HERE/create-web-user.sh"

# --- 5. smoke test (only once images exist; build-images.sh makes them) ----------
# The base image: every runtime image is built on it, and no runtime is named here (lib/runtimes/catalog.ts).
if docker image inspect sandpit/base >/dev/null 2>&1; then
    out=$(timeout 60 docker run --rm --runtime=runsc --network none sandpit/base \
        bash -c 'echo ok-$((6 * 7))' 2>&1) || true
    [[ $out == "ok-42" ]] || die "runsc smoke test failed: $out"
    log "runsc smoke test ok"
fi
log "done"
