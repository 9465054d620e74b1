#!/usr/bin/env bash
# Creates or updates the one pull-request comment that starts with the review marker, so every push
# edits the same comment instead of adding another. Needs GH_TOKEN (pull-requests: write), the gh CLI
# that GitHub-hosted runners carry, and: upsert-comment.sh <pull request number> <markdown file>.
set -euo pipefail
pr="$1"
body="$2"
marker='<!-- cdktf-review -->'
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
head -n 1 "$body" | grep -qxF "$marker" || { echo "upsert-comment: $body does not start with $marker" >&2; exit 1; }
id="$(gh api --paginate "repos/$repo/issues/$pr/comments" --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)"
if [ -n "$id" ]; then
  gh api --silent -X PATCH "repos/$repo/issues/comments/$id" -F "body=@$body"
else
  gh api --silent -X POST "repos/$repo/issues/$pr/comments" -F "body=@$body"
fi
