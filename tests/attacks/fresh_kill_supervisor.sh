#!/bin/sh
# Attack: on a kernel without Landlock's signal scope (ABI < 6), a command
# under a brokered policy kills its supervisor (landlockd, or the daemon
# that runs it), hoping to keep running with the broker's help or outside
# the sandbox. A child it forks first tries the broker after the kill.
# Only the static probe runs after the kill: a dynamic binary would need
# openat for its libraries, which the broker no longer answers.
# Usage: fresh_kill_supervisor.sh DIR (DIR/bin/probe, DIR/scratch, DIR/resolv)
d=$1
"$d/bin/probe" create "$d/scratch/before"
"$d/bin/probe" sleep 2 print survivor create "$d/scratch/after" \
  read "$d/resolv" create "$d/outside/x" &
"$d/bin/probe" sleep 1
kill -KILL "$PPID"
echo "kill-supervisor $?"
"$d/bin/probe" sleep 2
echo "command survived"
