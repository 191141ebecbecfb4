#!/bin/bash
# Kill leftover gVisor processes whose Docker container is not running.
# A failed `docker start --runtime=runsc` can leave runsc-sandbox (and
# runsc-gofer) processes behind that hold memory forever.
#
# How a process is matched to its container: gVisor sets argv[0] to
# "runsc-sandbox" / "runsc-gofer" (/proc/PID/comm is just "exe"), and the LAST
# argv element is the full 64-hex Docker container id, e.g.
#   runsc-sandbox --root=/var/run/docker/runtime-runc/moby --log=... boot
#     --bundle=/var/run/docker/containerd/.../moby/<ID> ... --stdio-fds=14 <ID>
# (/proc/PID/cmdline is NUL-separated.) The parent is containerd-shim-runc-v2
# with `-id <ID>`.
#
# Processes younger than REAP_MIN_AGE seconds (default 30) are left alone:
# during `docker start` the sandbox exists before Docker reports the
# container as running.
# Usage: scripts/reap-runsc.sh [-n]   (-n: dry run, only print)
set -uo pipefail
MIN_AGE=${REAP_MIN_AGE:-30}
DRY=0; [[ ${1:-} == -n ]] && DRY=1

running=$(docker ps -q --no-trunc 2>/dev/null) || { echo "reap-runsc: docker not reachable" >&2; exit 1; }
now=$(cut -d. -f1 /proc/uptime)
hz=$(getconf CLK_TCK)
reaped=0
for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ -r $dir/cmdline ]] || continue
    mapfile -d '' -t argv < "$dir/cmdline" 2>/dev/null || continue
    ((${#argv[@]} > 1)) || continue
    case ${argv[0]##*/} in runsc-sandbox|runsc-gofer) ;; *) continue ;; esac
    id=${argv[-1]}
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    grep -qx "$id" <<<"$running" && continue
    # Field 22 of /proc/PID/stat is the start time in clock ticks since boot
    # (fields counted after the ")" that ends the comm field).
    stat=$(<"$dir/stat") 2>/dev/null || continue
    read -r -a f <<<"${stat##*) }"
    age=$(( now - ${f[19]} / hz ))
    (( age >= MIN_AGE )) || continue
    echo "reap-runsc: ${argv[0]##*/} pid $pid (container ${id:0:12}, age ${age}s)"
    if ((DRY == 0)); then kill -KILL "$pid" 2>/dev/null && reaped=$((reaped + 1)); fi
done
((reaped)) && echo "reap-runsc: killed $reaped process(es)"
exit 0
