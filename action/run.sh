#!/usr/bin/env bash
# The run step of action.yml: with a `run` input, runs it with bash under
# the `policy` input, in the step that set landlockd up. The runner runs
# this file as `bash --noprofile --norc -eo pipefail`.
#
# Inputs: INPUT_RUN, INPUT_POLICY (a starter or installed policy name, or a
# path: anything with a "/" or ending in .toml), LANDLOCKD (the binary).
set -euo pipefail

[ -n "${INPUT_RUN:-}" ] || exit 0
if [ -z "${INPUT_POLICY:-}" ]; then
  echo "::error title=landlockd run::the run input needs a policy input: a policy name (ci-default) or a policy file"
  exit 2
fi
: "${LANDLOCKD:?}"

case "$INPUT_POLICY" in
  */* | *.toml) policy=(--policy-file "$INPUT_POLICY") ;;
  *) policy=(--policy "$INPUT_POLICY") ;;
esac
exec "$LANDLOCKD" run "${policy[@]}" -- bash --noprofile --norc -eo pipefail -c "$INPUT_RUN"
