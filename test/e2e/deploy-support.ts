// Helpers of the deploy/ tests: the variables Longshore reads, tools they need, YAML.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '@longshore/config';
import { parseDurationMs } from '@longshore/domain';
// `yaml` (1.x) comes with the workspace's tooling; it is not yet a declared devDependency.
import YAML from 'yaml';

/** The repository's root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Every LONGSHORE_* and OTEL_* variable a service reads, taken from the sources that read them
 * (libs/config for the settings, libs/telemetry for logging and OpenTelemetry), so a name in a
 * manifest that no code reads (a typo, a renamed variable) is caught without a list kept by hand.
 */
export function variablesTheConfigReads(): Set<string> {
  const names = new Set<string>();
  for (const lib of ['config', 'telemetry']) {
    const dir = join(ROOT, 'libs', lib, 'src');
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.ts') || file.endsWith('.spec.ts')) continue;
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\b(?:LONGSHORE|OTEL)_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
    }
  }
  return names;
}

/** The drain an agent needs before it is killed, in ms: LONGSHORE_SHUTDOWN_GRACE + LONGSHORE_KILL_GRACE (defaults where unset). */
export function drainMs(env: Record<string, string | undefined>): number {
  const shutdown = parseDurationMs('LONGSHORE_SHUTDOWN_GRACE', env.LONGSHORE_SHUTDOWN_GRACE ?? DEFAULTS.LONGSHORE_SHUTDOWN_GRACE);
  const kill = parseDurationMs('LONGSHORE_KILL_GRACE', env.LONGSHORE_KILL_GRACE ?? DEFAULTS.LONGSHORE_KILL_GRACE);
  return shutdown + kill;
}

/**
 * Whether `tool --version`-style `probe` runs. Missing: under CI=true this throws (CI must have
 * it), elsewhere it warns and returns false so the caller skips.
 */
export function haveTool(tool: string, probe: string[], install: string): boolean {
  try {
    execFileSync(tool, probe, { stdio: 'ignore' });
    return true;
  } catch {
    const why = `${tool} is not installed: ${install}`;
    if (process.env.CI === 'true') throw new Error(`${why} (CI=true: required)`);
    console.warn(`SKIPPING: ${why}`);
    return false;
  }
}

/** Every document of a YAML stream, as plain objects. */
export function parseYamlStream(text: string, customTags: YAML.Options['customTags'] = []): unknown[] {
  return YAML.parseAllDocuments(text, { customTags, prettyErrors: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`bad YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJSON() as unknown;
  });
}
