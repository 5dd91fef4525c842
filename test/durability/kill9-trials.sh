#!/bin/sh
# kill -9 trials under confirmed publishing, AMQP publisher confirms and STOMP receipts at once:
#
#   test/durability/kill9-trials.sh [TRIALS]      (default 50; CI runs the same test with 20)
#
# Runs crash.test.ts with WARREN_CRASH_TRIALS=TRIALS and prints one summary line: confirmed and receipted
# messages, how many of them were lost or came back twice, and the machine. Exits non-zero if any was.
set -eu

trials=${1:-50}
case $trials in
'' | *[!0-9]*)
  echo "usage: $0 [TRIALS]" >&2
  exit 2
  ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
cd "$root"

status=0
WARREN_CRASH_TRIALS=$trials WARREN_CRASH_SUMMARY=$summary \
  npx jest test/durability/crash.test.ts -t 'kill -9 under confirmed publishes' || status=$?

# The summary is written by the test even when it fails, so a loss is counted, not only reported.
node -e '
const fs = require("node:fs");
const os = require("node:os");
const text = fs.readFileSync(process.argv[1], "utf8");
if (text === "") {
  console.log("kill -9 trials: no summary (the test did not finish)");
  process.exit(0);
}
const s = JSON.parse(text);
const ok = s.lost === 0 && s.duplicates === 0 && s.unknown === 0 && Number(process.argv[2]) === 0;
console.log(
  `kill -9 trials: ${ok ? "PASS" : "FAIL"} ${new Date().toISOString().slice(0, 10)} ` +
    `trials=${s.trials} amqpConfirmed=${s.amqpConfirmed} stompReceipted=${s.stompReceipted} ` +
    `lost=${s.lost} duplicates=${s.duplicates} neverSent=${s.unknown} ` +
    `unconfirmedRecovered=${s.unconfirmedRecovered} seconds=${s.seconds.toFixed(1)} ` +
    `node=${process.version} vCPU=${os.cpus().length}`,
);
' "$summary" "$status"
exit "$status"
