#!/usr/bin/env node
// The relay as a program of its own (exabgp's `run`): `bgp-relay SOCKET_PATH`. Built both by tsc
// (dist/src/providers/bgp/relay-main.js) and as the bundle's second entry (dist/cli/bgp-relay.mjs).
import { runRelay } from './relay.js';

void runRelay(process.argv[2]);
