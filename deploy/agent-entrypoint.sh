#!/bin/sh
# Starts an agent in a container: enrolls on first start with the join token from the
# file named by COFFER_JOIN_TOKEN_FILE (a Docker secret), then runs it.
set -eu
DATA_DIR="${COFFER_AGENT_DATA_DIR:-/var/lib/coffer-agent}"
if [ ! -f "$DATA_DIR/agent.json" ]; then
  coffer-agent enroll --controller "$COFFER_CONTROLLER_GRPC" --token-file "$COFFER_JOIN_TOKEN_FILE" \
    --data-dir "$DATA_DIR" --name "$COFFER_AGENT_NAME" --labels "${COFFER_AGENT_LABELS:-}"
fi
exec coffer-agent run --data-dir "$DATA_DIR" "$@"
