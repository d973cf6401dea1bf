#!/usr/bin/env bash
# Removes a pid file unless the process it names is still the program that wrote it.
#
#   stale-pid-file.sh PID_FILE PROGRAM
#
# PROGRAM is the process name the kernel reports (/proc/PID/comm), e.g. dockerd or containerd. The file is removed when
# it holds no number, when no process has that number, or when the process with that number is another program (the
# number was reused after the writer died). Missing files are fine. Exit 0 unless the removal itself fails.
set -euo pipefail

file="${1:?usage: stale-pid-file.sh PID_FILE PROGRAM}"
program="${2:?usage: stale-pid-file.sh PID_FILE PROGRAM}"

[ -e "$file" ] || exit 0
pid="$(tr -d '[:space:]' <"$file")"
if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$program" ]; then
  exit 0
fi
echo "ensure-docker: removing stale $file (pid ${pid:-none} is not a running $program)" >&2
rm -f "$file"
