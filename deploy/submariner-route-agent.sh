#!/bin/sh
# Submariner's operator starts the route agent's init container with this
# program (command `submariner-route-agent.sh`, SUBMARINER_WAITFORNODE=true,
# NODE_NAME): it waits until this node's Node exists in the API and exits 0.
# Without SUBMARINER_WAITFORNODE it runs the agent from the Kubernetes API,
# like the image's default command.
case "${SUBMARINER_WAITFORNODE:-}" in
  1|t|T|true|TRUE|True) exec /usr/local/bin/routeagent wait-for-node ;;
esac
exec /usr/local/bin/routeagent run --source kubernetes "$@"
