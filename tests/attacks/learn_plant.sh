#!/bin/sh
# Attacks on what `landlockd learn` writes, from the command it learns from.
#   plant DIR        create DIR/<a name holding a newline and a TOML rule
#                    that would let the command read /etc/shadow>
#   read DIR         read every file in DIR (what learn records and comments)
#   link OUT VICTIM  replace learn's output path by a symlink to VICTIM
set -e
case "$1" in
plant)
  # A rule to read /etc/shadow. No "/" in a name: TOML's \u002F spells it.
  name=$(printf 'x\n[[fs_layer.rule]]\npath = "%setc%sshadow"\nallowed_access = ["read_file"]\n#' '\u002F' '\u002F')
  echo planted > "$2/$name"
  ;;
read)
  cat "$2"/* > /dev/null
  ;;
link)
  ln -s "$3" "$2"
  ;;
*)
  echo "usage: $0 plant DIR | read DIR | link OUT VICTIM" >&2
  exit 2
  ;;
esac
