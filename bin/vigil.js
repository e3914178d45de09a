#!/usr/bin/env node
// Thin entry: the CLI lives in src/cli (compiled to dist/ by `npm run build`, which `npm ci` runs).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// Exit explicitly: a one-shot command must not linger on an idle HTTP keep-alive socket.
process.exit(code);
