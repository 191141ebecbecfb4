#!/bin/bash
# Prepare a Debian 12 (bookworm) host to run Sandpit sandboxes:
#   * install docker.io, debootstrap and runsc (gVisor; in bookworm/main);
#   * register runsc as a Docker runtime in /etc/docker/daemon.json;
#   * start dockerd without systemd if it is not running (restart it only if
#     the config changed or runsc is not registered);
#   * reap leftover runsc sandbox processes (scripts/reap-runsc.sh).
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
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
RUNSC=$(command -v runsc)

# --- 2. daemon config ----------------------------------------------------------
# --network=none: without it every runsc start fails with "cannot run with
#   network enabled in root network namespace" (containers use --network none).
# No --platform=kvm: it hangs on this VM; the default (ptrace/systrap) works.
mkdir -p /etc/docker
want=$(cat <<JSON
{
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "runtimes": {
    "runsc": {
      "path": "$RUNSC",
      "runtimeArgs": ["--network=none"]
    }
  }
}
JSON
)
config_changed=0
if [[ ! -f /etc/docker/daemon.json || $(cat /etc/docker/daemon.json) != "$want" ]]; then
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

if [[ -z $(dockerd_pid) ]]; then
    # A stale socket/pidfile from a killed daemon would block startup.
    rm -f /var/run/docker.pid
    start_dockerd
elif ((config_changed)) || ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
    stop_dockerd
    start_dockerd
else
    # Running and configured; wait briefly in case it is still starting up.
    for i in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd runs but does not answer"
fi
docker info --format '{{json .Runtimes}}' | grep -q '"runsc"' || die "runsc not registered with dockerd"

# --- 4. leftovers ----------------------------------------------------------------
"$HERE/reap-runsc.sh" || log "reap-runsc failed (ignored)"

# --- 4b. the web process's unprivileged user (docs/security.md "Least privilege") -----
"$HERE/create-web-user.sh"

# --- 5. smoke test (only once images exist; build-images.sh makes them) ----------
if docker image inspect sandpit/bash >/dev/null 2>&1; then
    out=$(printf '10\necho ok-$0' | timeout 60 docker run --rm -i --runtime=runsc \
        --network none sandpit/bash 2>&1) || true
    [[ $out == "ok-main.sh" ]] || die "runsc smoke test failed: $out"
    log "runsc smoke test ok"
fi
log "done"
