#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npx longshore` works from any directory without a build.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/main.ts', import.meta.url).href);
