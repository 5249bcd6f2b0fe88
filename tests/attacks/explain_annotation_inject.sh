#!/bin/sh
# Attack: a command under `run --explain` in GitHub Actions creates a file
# whose name carries a newline, a forged workflow command and `%0A` (which
# GitHub would decode to a newline if `%` were not escaped). The create is
# denied, so the name reaches landlockd's `::error` annotations. Unescaped,
# the newline would start a line of the attacker's own ("::error title=forged
# ::…", or "::add-mask::…"). Usage: explain_annotation_inject.sh PROBE DIR
# (The probe's own line goes to stderr: stdout is left to landlockd.)
exec "$1" create "$2/x
::error title=forged::all good %0A::warning::%25" >&2
