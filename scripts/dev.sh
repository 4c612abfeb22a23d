#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for restoreproof (idempotent), then run the demo or the tests.
#   sudo scripts/dev.sh demo    -> a real restore test on embedded defaults
#   sudo scripts/dev.sh test    -> the whole test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-demo}"
shift || true

install_system_packages() {
    local packages=(docker.io restic busybox-static rclone procps ca-certificates python3-venv)
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

install_restoreproof() {
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
}

install_system_packages
start_docker
install_restoreproof

case "$action" in
    demo) exec .venv/bin/restoreproof demo "$@" ;;
    test) exec .venv/bin/python -m pytest -q "$@" ;;
    *) echo "usage: scripts/dev.sh demo|test" >&2; exit 2 ;;
esac
