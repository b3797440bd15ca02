#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// The sidecar starts with every new LB pod, and its start-up is part of how fast a new LB takes
// traffic: cache V8's compiled code between runs (Node >= 22.1; a no-op where unavailable).
enableCompileCache?.();
const { main } = await import('./program.js');
await main(process.argv);
