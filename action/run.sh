#!/usr/bin/env bash
# The scan step of action.yml: works out the range from the event (a pull request's base..head,
# a push's before..after; a new branch or another event scans all history), runs leakhound with
# SARIF output, and records its exit status as the step output `exit-code` (the action fails the
# job in a later step, after the SARIF upload). Tested by tests/integration/workflow.rs.
set -uo pipefail
command=${LEAKHOUND_COMMAND:-history}
path=${LEAKHOUND_PATH:-.}
sarif=${LEAKHOUND_SARIF:-leakhound.sarif}
read -r -a extra <<<"${LEAKHOUND_ARGS:-}"
arguments=("$command" "$path" --format sarif --output "$sarif" --no-progress)
if [ "$command" = history ]; then
    range=${LEAKHOUND_RANGE:-}
    base=${LEAKHOUND_BASE:-}
    head=${LEAKHOUND_HEAD:-}
    # A push that creates a branch has an all-zero `before`: nothing to diff against.
    if [ -z "$range" ] && [ -n "$base" ] && [ -n "$head" ] && [ "${base//0/}" != "" ]; then
        range="$base..$head"
    fi
    if [ -n "$range" ]; then
        arguments+=(--range "$range")
    fi
fi
status=0
leakhound "${arguments[@]}" "${extra[@]}" || status=$?
echo "exit-code=$status" >>"${GITHUB_OUTPUT:-/dev/null}"
echo "leakhound exited $status (0 clean, 1 findings, 2 error); SARIF in $sarif"
exit 0
