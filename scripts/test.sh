#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs it.
# System packages: openssh-server (a real sshd for the SSH tests; brings ssh and ssh-keygen), qemu-utils (qemu-img
# for stemcell images), ruby (renders the CPI release's ERB job templates as BOSH does), curl (the inception VM
# downloads the bosh CLI with it), util-linux (flock, losetup).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v ruby >/dev/null 2>&1 || need+=(ruby)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v flock >/dev/null 2>&1 && command -v losetup >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
# Every test must run here: a skip (a missing tool, no loop devices) fails the run instead of hiding.
INCEPTION_TESTS_NO_SKIP=1 exec .venv/bin/python -m pytest -n 2 -q "$@"
