#!/usr/bin/env bash
# One table of the variants a workflow_dispatch ran: each leg's report, or a line saying
# the leg failed (it wrote no report). Prints Markdown (the workflow's job summary).
#
#   gpu/compare.sh REPORTS_DIR VARIANT...
set -euo pipefail
dir="$1"; shift
echo "## apexspot: variants"
echo
echo "| variant | result |"
echo "|---|---|"
for variant in "$@"; do
  if [ -s "$dir/report-$variant.md" ]; then
    echo "| $variant | ok (below) |"
  else
    echo "| $variant | **failed**: no report (see the leg's log) |"
  fi
done
for variant in "$@"; do
  if [ -s "$dir/report-$variant.md" ]; then
    echo
    echo "### $variant"
    echo
    cat "$dir/report-$variant.md"
  fi
done
