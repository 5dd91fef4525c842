#!/usr/bin/env bash
# Runs RabbitMQ's own STOMP plugin test suite against a fresh Warren: the Python files of
# deps/rabbitmq_stomp/test/python_SUITE_data/src in rabbitmq/rabbitmq-server (tag v3.10.8 is the reference),
# with Debian's python3-stomp and python3-pika. The suite is not vendored: pass the path of its src folder.
#
#   test/rabbitmq-stomp-suite/run.sh PATH/TO/python_SUITE_data/src [module ...]
#
# Without modules it runs the selection RabbitMQ's python_SUITE runs. Extra environment for warren (for
# example WARREN_PRODUCT_NAME=RabbitMQ, where a test insists on the name) passes through. Needs a build.
set -euo pipefail
suite=${1:?usage: $0 PATH/TO/python_SUITE_data/src [module ...]}
shift
modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
  modules=(parsing errors connect_disconnect ack amqp_headers queue_properties reliability transactions
    x_queue_name destinations redelivered unsubscribe x_queue_type_quorum x_queue_type_stream)
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
log="$work/warren.log"
cleanup() {
  if [ -n "${warren:-}" ]; then kill "$warren" 2>/dev/null || true; wait "$warren" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Free ports picked by the OS; the suite connects to localhost, so bind where localhost resolves.
node "$repo/packages/server/bin/warren.js" start --amqp-port 0 --stomp-port 0 --ws-port 0 --http-port 0 \
  --prometheus-port 0 --data-dir "$work/data" --log-format json >"$log" 2>&1 &
warren=$!
port_of() { # the port of the 'listening' line for protocol $1
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
    const hit = lines.map((l) => { try { return JSON.parse(l); } catch { return {}; } })
      .find((e) => e.msg === "listening" && e.protocol === process.argv[2]);
    if (hit) console.log(hit.port);' "$log" "$1"
}
for _ in $(seq 1 100); do
  grep -q '"warren started"' "$log" 2>/dev/null && break
  kill -0 "$warren" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
export AMQP_PORT STOMP_PORT
AMQP_PORT=$(port_of amqp)
STOMP_PORT=$(port_of stomp)
echo "warren: AMQP $AMQP_PORT, STOMP $STOMP_PORT; modules: ${modules[*]}"

cd "$suite"
# Debian's interpreter: only it imports Debian's stomp and pika (not a pyenv python3 first on PATH).
env -u PYTHONHOME -u PYTHONPATH /usr/bin/python3 -c '
import sys, unittest
suite = unittest.TestSuite()
for name in sys.argv[1:]:
    module = __import__(name)
    for attr in dir(module):
        obj = getattr(module, attr)
        if attr.startswith("Test") and isinstance(obj, type) and issubclass(obj, unittest.TestCase):
            suite.addTest(unittest.TestLoader().loadTestsFromTestCase(obj))
result = unittest.TextTestRunner(verbosity=1).run(suite)
failed = len(result.failures) + len(result.errors)
print(f"RabbitMQ STOMP suite: {result.testsRun - failed} of {result.testsRun} passed")
sys.exit(1 if failed else 0)
' "${modules[@]}"
