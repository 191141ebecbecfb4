#!/bin/bash
# A private Redis for the tests (and for trying several web servers on one machine), from Debian's redis-server.
# Idempotent: installs the package when missing, starts one instance on 127.0.0.1:$SANDPIT_REDIS_PORT (16379 by
# default) unless that instance already answers, and prints its URL on stdout. `ensure-redis.sh stop` stops it.
# No persistence: what Sandpit keeps in Redis (rate-limit buckets, the Socket.IO stream) may be lost at any time.
set -euo pipefail
port=${SANDPIT_REDIS_PORT:-16379}
dir=${SANDPIT_REDIS_DIR:-/tmp/sandpit-redis-$port}
pidfile=$dir/redis.pid
url=redis://127.0.0.1:$port

running_pid() {
    local pid
    [[ -f $pidfile ]] || return 1
    pid=$(cat "$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

answers() { [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true) == PONG ]]; }

if [[ ${1:-start} == stop ]]; then
    if pid=$(running_pid); then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "redis: stopped ($url)" >&2
    fi
    rm -f "$pidfile"
    exit 0
fi

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "redis: installing redis-server" >&2
    sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
    export DEBIAN_FRONTEND=noninteractive
    sudo_if_needed apt-get update -q >/dev/null
    sudo_if_needed apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 redis-server >/dev/null
fi

if running_pid >/dev/null && answers; then
    echo "$url"
    exit 0
fi
if answers; then
    echo "redis: something else answers on 127.0.0.1:$port (no live $pidfile): set SANDPIT_REDIS_PORT" >&2
    exit 1
fi

mkdir -p "$dir"
# As root, run it as Debian's unprivileged redis user (the package creates it), never as root.
run_as=()
if [[ $(id -u) -eq 0 ]] && id -u redis >/dev/null 2>&1; then
    chown redis:redis "$dir"
    run_as=(setpriv --reuid=redis --regid=redis --init-groups --no-new-privs --)
fi
chmod 700 "$dir"
"${run_as[@]}" redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --save "" --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$pidfile" --logfile "$dir/redis.log" \
    --maxmemory 256mb --maxmemory-policy noeviction
for _ in $(seq 100); do
    if answers; then
        echo "redis: started on $url (log: $dir/redis.log)" >&2
        echo "$url"
        exit 0
    fi
    sleep 0.1
done
echo "redis: did not answer on $url within 10 s; its log:" >&2
tail -n 20 "$dir/redis.log" >&2 || true
exit 1
