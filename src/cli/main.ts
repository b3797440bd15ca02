#!/usr/bin/env node
import * as nodeModule from 'node:module';

// engines says >= 22 (portlb targets Node 24): on an older Node say so in one line, instead of
// failing somewhere inside with a stack trace.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `portlb: needs Node.js 22 or newer (24 is what it is built and tested for); this is ${process.version}. ` +
      'In a checkout, `npm run portlb -- ARGS` uses the Node 24 of the node@24 devDependency.\n',
  );
  process.exit(1);
}
// The sidecar starts with every new LB pod, and its start-up is part of how fast a new LB takes
// traffic: cache V8's compiled code between runs (Node >= 22.1; a no-op where unavailable).
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('./program.js');
await main(process.argv);
