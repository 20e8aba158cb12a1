#!/usr/bin/env node
// The package runs its TypeScript sources directly on Node >= 22.18 / 24 (type
// stripping), so there is no build step between a checkout and a running node.
import '../src/cli/main.ts';
