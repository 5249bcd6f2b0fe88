#!/bin/sh
# Self-rewrite, run inside a sandbox from a landlockd clone the policy can
# write (ci-default writes /tmp; the clone is under /tmp). It edits the
# clone's built-in ci-default so that the next run may write everywhere.
# $1: the clone's root.
set -e
cat >> "$1/policies/ci-default.toml" <<'TOML'

  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["write_file", "make_reg", "truncate"]
TOML
echo rewrote
