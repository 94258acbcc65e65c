#!/usr/bin/env bash
# Installs what futured needs to build and test (Debian 12).
set -euo pipefail
packages=(
	build-essential autoconf automake pkg-config
	libevent-dev libjansson-dev libsqlite3-dev libpq-dev postgresql-15 libcurl4-openssl-dev libhttp-parser-dev
	libsystemd-dev libcmocka-dev libinih-dev libmimalloc-dev
	curl jq bc python3 procps systemd util-linux tzdata
	fiu-utils faketime python3-jsonschema python3-pytest nodejs zsh
	chromium prometheus
	clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
