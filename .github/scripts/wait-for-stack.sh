#!/usr/bin/env bash
# The rollback job (rollback.yml) waits here until no deploy job of the stack ("Deploy <stack>" in
# deploy.yml) and no earlier rollback run of the stack is running, so that its `pulumi up` does not
# meet the state lock of another update. The rollback and the deploys share no concurrency group
# (GitHub replaces a pending job with a newer one of the same group), so this is how the two take
# turns; a deploy that starts meanwhile stops in deploy-preflight.sh because this run is listed.
# R-rollback-sla: a deploy job ends within its own timeout; this wait is bounded by WAIT_SECONDS.
#
# Environment: STACK, REPO, GH_TOKEN (actions: read), GITHUB_RUN_ID; WAIT_SECONDS (default 1800),
# POLL_SECONDS (default 15).
set -euo pipefail
: "${STACK:?}" "${REPO:?}" "${GITHUB_RUN_ID:?}"
wait_seconds=${WAIT_SECONDS:-1800}
poll_seconds=${POLL_SECONDS:-15}
deadline=$((SECONDS + wait_seconds))

busy() {
  local id
  for id in $(gh run list --repo "$REPO" --workflow deploy.yml --status in_progress --limit 100 --json databaseId --jq '.[].databaseId'); do
    gh run view "$id" --repo "$REPO" --json jobs |
      jq -r --arg job "Deploy $STACK" --arg run "$id" '.jobs[] | select(.name == $job and .status == "in_progress") | "deploy run \($run)"'
  done
  # Only earlier rollbacks: two rollbacks that each waited for the other would never start.
  gh run list --repo "$REPO" --workflow rollback.yml --limit 100 --json databaseId,status,displayTitle |
    jq -r --arg title "Rollback $STACK" --argjson self "$GITHUB_RUN_ID" \
      '.[] | select(.status == "in_progress" and .displayTitle == $title and .databaseId < $self) | "rollback run \(.databaseId)"'
}

while true; do
  running=$(busy)
  if [ -z "$running" ]; then
    echo "No deploy or earlier rollback of $STACK is running."
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "::error title=Stack busy::After ${wait_seconds}s these still run on $STACK: $(echo $running | tr '\n' ' '). Cancel the deploy run (a cancelled opsbook deploy cancels its update) and re-run this rollback."
    exit 1
  fi
  echo "Waiting for: $(echo $running | tr '\n' ' ')"
  sleep "$poll_seconds"
done
