#!/usr/bin/env bash
# The set-up contract, checked as a newcomer meets it: a clone with no sibling folders, on a machine without
# the Debian client packages, runs `npm install` then `npm test`, and both pass; the suites that need those
# clients each say "skipped: install <package>"; `git status` is clean afterwards.
#
# The packages stay installed for the rest of CI: this script hides them in a private mount namespace
# (unshare -m, so it needs root, as CI has) by mounting an empty directory over Debian's Python and Perl
# module folders and /bin/false over the client commands. Outside that namespace nothing changes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = "--hidden" ]; then
  # Inside the namespace: hide, then run the contract in the clone named by $2.
  empty=$(mktemp -d)
  blank=$(mktemp)
  for dir in /usr/lib/python3/dist-packages /usr/share/perl5/Net/Stomp; do
    if [ -d "$dir" ]; then mount --bind "$empty" "$dir"; fi
  done
  # Only Net::Stomp itself: the Nagios plugins need the rest of Net:: (Net::HTTP) when they are not hidden.
  if [ -f /usr/share/perl5/Net/Stomp.pm ]; then mount --bind "$blank" /usr/share/perl5/Net/Stomp.pm; fi
  for tool in amqp-publish chromium openssl rabbitmqadmin check_rabbitmq_overview nats-server; do
    path=$(command -v "$tool" || true)
    if [ -n "$path" ]; then mount --bind /bin/false "$path"; fi
  done
  cd "$2"
  # A newcomer's shell is not CI: with CI set, a skip would (rightly) fail.
  unset CI
  npm install --no-audit --no-fund
  npm test 2>&1 | tee "$3"
  exit "${PIPESTATUS[0]}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only the repository in the parent folder: nothing beside it for a test to reach for.
git clone --quiet "$repo" "$work/warren"
unshare --mount --propagation private "$0" --hidden "$work/warren" "$work/test.log"

status=0
for pkg in python3-pika python3-amqp python3-kombu python3-stomp libnet-stomp-perl amqp-tools chromium openssl \
  rabbitmq-server nagios-plugins-rabbitmq; do
  if ! grep -q "skipped: install $pkg" "$work/test.log"; then
    echo "FAIL  no \"skipped: install $pkg\" line in npm test's output"
    status=1
  fi
done
changes=$(git -C "$work/warren" status --porcelain)
if [ -n "$changes" ]; then
  echo "FAIL  git status is not clean after npm install && npm test:"
  echo "$changes"
  status=1
fi
grep -E '^Tests:' "$work/test.log" || true
exit $status
