#!/usr/bin/env bash
# The first check of every deploy job (deploy.yml), before anything changes:
#   1. the run deploys main's current head: a newer push makes an older run stop, deploying nothing
#      (output current=false, exit 0; the newer run deploys);
#   2. no rollback of the stack is queued, waiting or running (rollback.yml names its runs
#      "Rollback <stack>"): a deploy never overtakes or replaces a rollback (exit 1);
#   3. no rollback's revert pull request for the stack is open (branch opsbook-rollback/<stack>/...):
#      main still names the rolled-back tag until it is merged, and deploying main would ship it
#      again (exit 1).
# R-deploy-staging-first, R-rollback-manual.
#
# Environment: STACK (staging|production), SHA (the run's commit), REPO (owner/name), GH_TOKEN
# (the job's token: contents, actions and pull-requests read), GITHUB_OUTPUT.
set -euo pipefail
: "${STACK:?}" "${SHA:?}" "${REPO:?}" "${GITHUB_OUTPUT:?}"

head=$(gh api "repos/$REPO/commits/main" --jq .sha)
if [ "$head" != "$SHA" ]; then
  echo "::notice title=Superseded::main is at $head now, not at this run's $SHA: this run deploys nothing to $STACK; the run of $head does."
  echo "current=false" >>"$GITHUB_OUTPUT"
  exit 0
fi

rollbacks=$(gh run list --repo "$REPO" --workflow rollback.yml --limit 100 --json databaseId,status,displayTitle |
  jq -r --arg title "Rollback $STACK" '.[] | select(.status != "completed" and .displayTitle == $title) | .databaseId')
if [ -n "$rollbacks" ]; then
  echo "::error title=Rollback of $STACK in progress::Rollback run(s) $(echo $rollbacks | tr ' ' ',') of $STACK are queued or running: this deploy changed nothing. When the rollback is done and its revert pull request merged, main's new head deploys by itself."
  exit 1
fi

reverts=$(gh pr list --repo "$REPO" --state open --limit 100 --json number,headRefName |
  jq -r --arg prefix "opsbook-rollback/$STACK/" '.[] | select(.headRefName | startswith($prefix)) | "#\(.number)"')
if [ -n "$reverts" ]; then
  echo "::error title=Revert pull request open::$STACK was rolled back and main still names the bad version: merge (or close) $(echo $reverts | tr ' ' ',') first; this deploy changed nothing."
  exit 1
fi

echo "main's head $SHA, no rollback of $STACK pending: deploying."
echo "current=true" >>"$GITHUB_OUTPUT"
