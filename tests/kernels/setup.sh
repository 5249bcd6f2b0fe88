#!/bin/sh
# Installs what `deno task test:kernels` needs on the host, when it is
# missing (idempotent): QEMU, a static busybox, setpriv, dpkg-deb and the
# Debian archive keyring. Without root or sudo it installs nothing and says
# so; the harness then skips what it cannot run, with the reason.
set -eu

missing=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing="$missing busybox-static"
command -v setpriv >/dev/null 2>&1 || missing="$missing util-linux"
command -v dpkg-deb >/dev/null 2>&1 || missing="$missing dpkg"
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing="$missing debian-archive-keyring"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo"
else
  echo "test:kernels: not installing$missing (needs root); those kernel tests will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test:kernels: no apt-get to install$missing; those kernel tests will be skipped" >&2
  exit 0
fi
echo "test:kernels: installing$missing" >&2
# shellcheck disable=SC2086
if ! { $as_root apt-get update -qq &&
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
  echo "test:kernels: installing$missing failed; those kernel tests will be skipped" >&2
fi
