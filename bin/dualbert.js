#!/usr/bin/env node
// The `dualbert` command. The CLI lives in ts/cli/main.ts, compiled to dist/ by `npm run build`
// (npm runs it on install through the `prepare` script).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`dualbert: unexpected error: ${error?.stack ?? error}\n`);
    process.exitCode = 70;
  },
);
