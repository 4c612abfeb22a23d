#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for restoreproof (idempotent), then run the demo or the tests.
#   sudo scripts/dev.sh demo    -> a real restore test on embedded defaults
#   sudo scripts/dev.sh test    -> the whole test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-demo}"
shift || true

install_system_packages() {
    # restoreproof itself, and WeasyPrint's libraries and a font for the PDF certificates.
    local packages=(docker.io restic busybox-static procps ca-certificates python3-venv openssl
                    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core)
    # The tests also need real servers: a REST repository (rclone), PostgreSQL, docker-compose.
    [ "$action" = test ] && packages+=(rclone postgresql docker-compose)
    local missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if ((${#missing[@]})); then
        echo "installing: ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

start_docker() {
    docker info >/dev/null 2>&1 && return
    if command -v systemctl >/dev/null && systemctl start docker 2>/dev/null; then :; else
        setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    fi
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return
        sleep 1
    done
    echo "the Docker engine did not start; see /var/log/dockerd.log" >&2
    exit 3
}

start_postgresql() {
    # The database tests run against SQLite and against this real PostgreSQL server (tests/scheduler).
    local cluster
    cluster=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR == 1 {print $1, $2, $3}')
    if [ -z "$cluster" ]; then
        pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main >/dev/null
        cluster=$(pg_lsclusters --no-header | awk 'NR == 1 {print $1, $2, $3}')
    fi
    set -- $cluster
    pg_ctlcluster "$1" "$2" status >/dev/null 2>&1 || pg_ctlcluster "$1" "$2" start
    runuser -u postgres -- psql -q -p "$3" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE restoreproof LOGIN CREATEDB PASSWORD ''restoreproof'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restoreproof')\gexec
SELECT 'CREATE DATABASE restoreproof_test OWNER restoreproof'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'restoreproof_test')\gexec
SQL
    export RESTOREPROOF_TEST_POSTGRES_URL="postgresql+psycopg://restoreproof:restoreproof@127.0.0.1:$3/restoreproof_test"
}

install_restoreproof() {
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
}

install_system_packages
start_docker
[ "$action" = test ] && start_postgresql
install_restoreproof

case "$action" in
    demo) exec .venv/bin/restoreproof demo "$@" ;;
    test) exec .venv/bin/python -m pytest -q "$@" ;;
    *) echo "usage: scripts/dev.sh demo|test" >&2; exit 2 ;;
esac
