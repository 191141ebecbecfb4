#!/bin/bash
# A PostgreSQL server for Sandpit's PostgreSQL mode (README "PostgreSQL"), from Debian's packages, idempotent:
#   bash scripts/ensure-postgres.sh [start]   install if missing, create the cluster once, start it if stopped,
#                                             create the role and database; prints the DATABASE_URL on stdout
#   bash scripts/ensure-postgres.sh url       prints the DATABASE_URL of a cluster made before (starts nothing)
#   bash scripts/ensure-postgres.sh stop      stops the cluster (fast shutdown: open sessions are ended)
#   bash scripts/ensure-postgres.sh status    exit 0 when it runs
# The cluster listens on loopback only (TCP, password auth) and on a Unix socket inside its data directory.
# Settings (environment): SANDPIT_PG_DIR (default /var/lib/sandpit/postgres), SANDPIT_PG_PORT (55432),
# SANDPIT_PG_DB and SANDPIT_PG_USER (sandpit). The role may create databases (the tests make one per file).
# Everything but the URL goes to stderr, so `export DATABASE_URL=$(bash scripts/ensure-postgres.sh)` works.
set -euo pipefail
log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { printf 'ensure-postgres: ERROR: %s\n' "$*" >&2; exit 1; }

ACTION=${1:-start}
BASE=${SANDPIT_PG_DIR:-/var/lib/sandpit/postgres}
PORT=${SANDPIT_PG_PORT:-55432}
DB=${SANDPIT_PG_DB:-sandpit}
ROLE=${SANDPIT_PG_USER:-sandpit}
DATA=$BASE/data
PASSWORD_FILE=$BASE/password
LOG_FILE=$BASE/server.log
[[ $PORT =~ ^[0-9]+$ ]] || die "SANDPIT_PG_PORT must be a port number"
[[ $DB =~ ^[a-z_][a-z0-9_]*$ && $ROLE =~ ^[a-z_][a-z0-9_]*$ ]] || die "SANDPIT_PG_DB and SANDPIT_PG_USER must be plain lower-case identifiers"

# Debian keeps the server binaries out of PATH (/usr/lib/postgresql/VERSION/bin); the newest version wins.
find_bin_dir() {
    local dir
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# initdb and the server refuse to run as root: as root they run as the `postgres` system user Debian's package makes.
as_owner() {
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    [[ -r $PASSWORD_FILE ]] || die "no cluster at $BASE yet: run bash scripts/ensure-postgres.sh first"
    printf 'postgresql://%s:%s@127.0.0.1:%s/%s\n' "$ROLE" "$(cat "$PASSWORD_FILE")" "$PORT" "$DB"
}

running() { [[ -n ${BIN:-} && -f $DATA/PG_VERSION ]] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

BIN=$(find_bin_dir) || BIN=
case $ACTION in
    url) url; exit 0 ;;
    status) running; exit ;;
    stop)
        if running; then
            log "stopping the cluster in $DATA"
            as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
        else
            log "not running"
        fi
        exit 0
        ;;
    start) ;;
    *) die "usage: ensure-postgres.sh [start|url|stop|status]" ;;
esac

# --- 1. packages -----------------------------------------------------------------
if [[ -z $BIN ]]; then
    [[ $(id -u) == 0 ]] || die "PostgreSQL is not installed and only root can install it (apt-get install postgresql)"
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # Debian's package would make and start its own cluster on port 5432: ours is separate, so skip that one.
    mkdir -p /etc/postgresql-common
    [[ -e /etc/postgresql-common/createcluster.conf ]] || printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.conf
    # --force-confold: keep that file when the package brings its own.
    apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null
    BIN=$(find_bin_dir) || die "installed postgresql but found no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
fi

# --- 2. the cluster, once --------------------------------------------------------
OWNER=$(id -un)
[[ $(id -u) == 0 ]] && OWNER=postgres
if [[ ! -f $DATA/PG_VERSION ]]; then
    log "creating a cluster in $DATA ($("$BIN/postgres" --version))"
    mkdir -p "$BASE"
    chmod 0755 "$BASE"
    rm -rf "$DATA"
    install -d -m 0700 -o "$OWNER" "$DATA"
    # The password for the app role: kept beside the cluster, readable by root (and the cluster's owner) only.
    if [[ ! -s $PASSWORD_FILE ]]; then
        (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PASSWORD_FILE")
    fi
    # Local (Unix socket) connections: the cluster's owner by peer identity; TCP: passwords only.
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null \
        || as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
fi
[[ -s $PASSWORD_FILE ]] || die "$PASSWORD_FILE is missing: remove $DATA to make the cluster anew"
# Rewritten every time, so a changed port applies on the next start; included last, so it wins.
cat >"$DATA/sandpit.conf.new" <<EOF
# Written by scripts/ensure-postgres.sh: loopback only, its socket inside the data directory.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 200
fsync = on
EOF
chown "$OWNER" "$DATA/sandpit.conf.new"
mv "$DATA/sandpit.conf.new" "$DATA/sandpit.conf"
grep -qx "include 'sandpit.conf'" "$DATA/postgresql.conf" || printf "\ninclude 'sandpit.conf'\n" >>"$DATA/postgresql.conf"

# --- 3. running ------------------------------------------------------------------
if ! running; then
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "something else listens on 127.0.0.1:$PORT: set SANDPIT_PG_PORT to a free port"
    fi
    log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG_FILE)"
    touch "$LOG_FILE"
    chown "$OWNER" "$LOG_FILE"
    # A server killed hard leaves its pid file; pg_ctl start copes with a stale one.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -w -t 60 start >/dev/null \
        || { tail -n 20 "$LOG_FILE" >&2; die "PostgreSQL did not start"; }
fi

# --- 4. role and database --------------------------------------------------------
psql_admin() { as_owner "$BIN/psql" -h "$DATA" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
password=$(cat "$PASSWORD_FILE")
if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'") ]]; then
    log "creating role $ROLE"
    psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$password'"
else
    # Keeps the role's password in step with the file (a file restored from elsewhere, a role made by hand).
    psql_admin -c "ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$password'"
fi
if [[ -z $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]]; then
    log "creating database $DB"
    psql_admin -c "CREATE DATABASE $DB OWNER $ROLE"
fi
url
