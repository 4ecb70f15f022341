#!/usr/bin/env bash
# Installs the Debian packages the integration tests need, if any is missing:
# the mosquitto broker and clients, openssl (test certificates), socat,
# iproute2 and iptables (link fault injection), chromium (browser tests).
#
# Idempotent and non-interactive: does nothing when everything is installed,
# runs `apt-get update` only when something is missing. Services are kept from
# starting during the install (policy-rc.d), so no system mosquitto is left
# listening on 1883; tests start their own brokers on free ports.
#
# Usage: bash scripts/ensure-system-deps.sh   (as root, or with sudo available)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(mosquitto mosquitto-clients ejabberd openssl socat iproute2 iptables chromium)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "ensure-system-deps: not root and no sudo; cannot install ${PACKAGES[*]}" >&2
    exit 1
  fi
fi

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "ensure-system-deps: all present (${PACKAGES[*]})"
  exit 0
fi

echo "ensure-system-deps: installing ${missing[*]}"

# PID of a system mosquitto that was running before we started: never touched.
system_mosquitto_pid_before() {
  if [ -r /run/mosquitto/mosquitto.pid ]; then
    cat /run/mosquitto/mosquitto.pid 2>/dev/null || true
  fi
}
pid_before="$(system_mosquitto_pid_before)"

# Keep maintainer scripts from starting services. An existing policy-rc.d
# (Docker images ship one) is left alone; a temporary one is removed on exit.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [ "$created_policy" -eq 1 ]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, from steadfast-mqtt scripts/ensure-system-deps.sh\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi

"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"

# Belt and braces: if the install still started a system mosquitto (one that
# was not running before), stop it. Only that daemon, by its PID file.
pid_after="$(system_mosquitto_pid_before)"
if [ -n "$pid_after" ] && [ "$pid_after" != "$pid_before" ] && kill -0 "$pid_after" 2>/dev/null; then
  echo "ensure-system-deps: stopping the system mosquitto started by the install (pid $pid_after)"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl stop mosquitto || true
    "${SUDO[@]}" systemctl disable mosquitto >/dev/null 2>&1 || true
  else
    "${SUDO[@]}" service mosquitto stop >/dev/null 2>&1 || "${SUDO[@]}" kill "$pid_after" || true
  fi
fi

for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    echo "ensure-system-deps: $pkg still missing after install" >&2
    exit 1
  fi
done
echo "ensure-system-deps: done"
