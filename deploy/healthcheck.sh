#!/bin/sh
# The image's HEALTHCHECK: asks reactord's gRPC health service (grpc.health.v1, served
# without a token) through reactorctl, on the address the control plane listens on.
# A wildcard listen address is reached through loopback.
addr=${REACTORD_CONTROL_LISTEN:-127.0.0.1:50051}
case $addr in
  0.0.0.0:*) addr=127.0.0.1:${addr#0.0.0.0:} ;;
  "[::]":*) addr="[::1]:${addr#\[::\]:}" ;;
esac
exec reactorctl --target "$addr" health
