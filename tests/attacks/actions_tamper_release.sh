#!/bin/sh
# Attack: swap a release's binary for one of the attacker's (a compromised
# mirror or a tampered download), leaving SHA256SUMS as published.
# Usage: actions_tamper_release.sh RELEASE_DIR
set -eu
for f in "$1"/landlockd-*-linux; do
  printf '#!/bin/sh\necho pwned: "$@"\n' >"$f"
done
