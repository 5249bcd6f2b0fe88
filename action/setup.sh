#!/usr/bin/env bash
# The setup step of action.yml: download the landlockd release binary for
# this runner, verify it against the release's SHA256SUMS, keep it in the
# runner's tool cache, put it on PATH and describe the kernel in the job
# summary. The runner runs it as `bash --noprofile --norc -eo pipefail`.
#
# Inputs (from action.yml): INPUT_VERSION, INPUT_VERIFY, ACTION_REF,
# ACTION_REPOSITORY. LANDLOCKD_DOWNLOAD_URL overrides where releases are
# fetched from (a mirror; the tests' local server): it holds one directory
# per tag (v0.1.0/) and latest/.
set -euo pipefail

fail() {
  echo "::error title=landlockd setup::$*"
  exit 1
}

[ "${RUNNER_OS:-Linux}" = Linux ] ||
  fail "landlockd runs on Linux runners only, not ${RUNNER_OS}"

case "${RUNNER_ARCH:-}" in
  X64) arch=x86_64 ;;
  ARM64) arch=aarch64 ;;
  *) fail "no landlockd binary for RUNNER_ARCH \"${RUNNER_ARCH:-}\"; expected X64 or ARM64" ;;
esac

: "${RUNNER_TOOL_CACHE:?}" "${RUNNER_TEMP:?}" "${GITHUB_PATH:?}" "${GITHUB_OUTPUT:?}"

# The version: the input, else the action's own ref when it names a
# release (uses: …@v0.1.0), else the latest release.
version="${INPUT_VERSION:-}"
if [ -z "$version" ]; then
  if [[ "${ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
    version="$ACTION_REF"
  else
    version=latest
  fi
fi
if [ "$version" != latest ]; then
  [[ "$version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
    fail "version \"$version\" is not a release: expected latest or vMAJOR.MINOR.PATCH"
  version="v${version#v}"
fi

case "${INPUT_VERIFY:-true}" in
  true) verify=true ;;
  false) verify=false ;;
  *) fail "verify must be true or false, not \"${INPUT_VERIFY}\"" ;;
esac

asset="landlockd-${arch}-linux"
if [ -n "${LANDLOCKD_DOWNLOAD_URL:-}" ]; then
  base="${LANDLOCKD_DOWNLOAD_URL%/}/${version}"
else
  repo="${ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
  [ -n "$repo" ] || fail "cannot tell which repository to download landlockd from"
  if [ "$version" = latest ]; then
    base="https://github.com/${repo}/releases/latest/download"
  else
    base="https://github.com/${repo}/releases/download/${version}"
  fi
fi

fetch() { # URL FILE
  curl --fail --silent --show-error --location --retry 3 --output "$2" "$1" ||
    fail "Cannot download \"$1\""
}

# The line of SHA256SUMS for our asset, checked the way a user would.
verify_in() { # DIR
  local expected actual
  expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$1/SHA256SUMS")"
  [ -n "$expected" ] || fail "SHA256SUMS of ${version} has no line for ${asset}"
  if ! (cd "$1" && printf '%s  %s\n' "$expected" "$asset" | sha256sum --check --status -); then
    actual="$(sha256sum "$1/$asset" | awk '{ print $1 }')"
    fail "checksum mismatch for ${asset} ${version}: SHA256SUMS says ${expected}, the download is ${actual}"
  fi
}

cache="${RUNNER_TOOL_CACHE}/landlockd/${version#v}/${arch}"
tmp="$(mktemp -d "${RUNNER_TEMP}/landlockd.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

hit=false
if [ -f "${cache}.complete" ] && [ -x "${cache}/landlockd" ]; then
  hit=true
  if [ "$version" = latest ] && [ "$verify" = true ]; then
    # "latest" moves: the cached binary counts only if it is still latest.
    fetch "${base}/SHA256SUMS" "$tmp/SHA256SUMS"
    cmp -s "$tmp/SHA256SUMS" "${cache}/SHA256SUMS" || hit=false
  fi
  if [ "$hit" = true ] && [ -f "${cache}/SHA256SUMS" ]; then
    cp "${cache}/landlockd" "$tmp/$asset"
    cp "${cache}/SHA256SUMS" "$tmp/SHA256SUMS"
    verify_in "$tmp"
  fi
fi

if [ "$hit" = false ]; then
  fetch "${base}/${asset}" "$tmp/$asset"
  if [ "$verify" = true ]; then
    fetch "${base}/SHA256SUMS" "$tmp/SHA256SUMS"
    verify_in "$tmp"
  else
    echo "::warning title=landlockd setup::verify is false: ${asset} ${version} was not checked against SHA256SUMS"
  fi
  rm -rf "$cache" "${cache}.complete"
  mkdir -p "$cache"
  install -m 0755 "$tmp/$asset" "$cache/landlockd"
  if [ -f "$tmp/SHA256SUMS" ]; then cp "$tmp/SHA256SUMS" "$cache/SHA256SUMS"; fi
  touch "${cache}.complete"
fi

echo "$cache" >>"$GITHUB_PATH"
{
  echo "path=${cache}/landlockd"
  echo "version=${version}"
  echo "cache-hit=${hit}"
} >>"$GITHUB_OUTPUT"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### landlockd ${version} (${arch})"
    echo
    echo '```'
    echo "kernel: $(uname -sr)"
    "${cache}/landlockd" abi 2>&1 || echo "(landlockd abi failed with status $?)"
    echo '```'
    echo
  } >>"$GITHUB_STEP_SUMMARY"
fi
echo "landlockd ${version} for ${arch} is in ${cache} (cache hit: ${hit})"
