#!/usr/bin/env bash
# After a rollback (rollback.yml), a pull request that sets main's stack file back to the one the
# rolled-back-to version ran from, so the next deploy of main does not ship the bad version again
# (R-rollback-manual). deploy-preflight.sh holds deploys of the stack while it is open.
#
# Environment: STACK, FROM, TO (update versions), COMMIT (the commit v$TO ran from), REPO,
# GH_TOKEN (contents: write, pull-requests: write), RUN_URL; the working directory is a clone of
# main whose `origin` accepts a push.
set -euo pipefail
: "${STACK:?}" "${FROM:?}" "${TO:?}" "${COMMIT:?}" "${REPO:?}" "${RUN_URL:?}"
file="Pulumi.$STACK.yaml"
branch="opsbook-rollback/$STACK/v$TO-from-v$FROM"

if ! git show "$COMMIT:$file" >"$file.rollback"; then
  rm -f "$file.rollback"
  echo "::error title=No stack file::Commit $COMMIT (v$TO) has no $file: revert main's $file by hand so the next deploy does not ship v$FROM's version again."
  exit 1
fi
mv "$file.rollback" "$file"
if git diff --quiet -- "$file"; then
  echo "::notice title=Nothing to revert::main's $file already equals the one v$TO ran from ($COMMIT): no pull request needed."
  exit 0
fi

git switch --quiet -c "$branch"
git -c user.name="github-actions[bot]" -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
  commit --quiet -m "Roll back $file to v$TO (from v$FROM)" \
  -m "The stack file as at $COMMIT, which update v$TO of $STACK ran from; v$FROM was rolled back by $RUN_URL." -- "$file"
git push --quiet --force origin "HEAD:refs/heads/$branch"

body="Rollback run: $RUN_URL

\`$STACK\` was rolled back from update v$FROM to v$TO. This sets \`$file\` on main back to the file v$TO ran from (commit $COMMIT), so the next deploy of main does not ship v$FROM's version again. Deploys of \`$STACK\` stop until this pull request is merged or closed.

Review it as any change: keys added to the stack file since $COMMIT are reverted too.

GitHub runs no workflow for a pull request opened with the workflow's own token: close and reopen it to run the checks."
gh pr create --repo "$REPO" --base main --head "$branch" --title "Roll back $file to v$TO (from v$FROM)" --body "$body"
