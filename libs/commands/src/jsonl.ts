import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { Executor, JobSpecSchema, type JobSpec } from '@longshore/client';
import { EXECUTOR_WORDS } from './option-parsers.js';
import { withDefaults } from './submit-options.js';

/** The outcome of reading a JSONL file of job specs: every good spec, and every bad line's problem. */
export interface ParsedJobLines {
  specs: JobSpec[];
  /** One `SOURCE:LINE: problem` per bad line, in file order. */
  errors: string[];
}

function specProblem(spec: JobSpec): string | undefined {
  if (spec.command.length === 0) return 'no command: give it as "command": ["program", "arg", ...]';
  if (spec.executor === Executor.AUTO && spec.allowedExecutors.length === 0) {
    return 'executor auto needs a chain: add "allowedExecutors": ["docker", "subprocess"] or --allow docker,subprocess';
  }
  return undefined;
}

const EXECUTOR_KEYS = ['executor', 'allowedExecutors', 'allowed_executors'];

/** Lets a line say `"executor": "docker"` as on the command line, besides the proto's "EXECUTOR_DOCKER". */
function acceptExecutorWords(obj: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  const word = (v: JsonValue): JsonValue => (typeof v === 'string' && (EXECUTOR_WORDS as readonly string[]).includes(v) ? `EXECUTOR_${v.toUpperCase()}` : v);
  const out = { ...obj };
  for (const key of EXECUTOR_KEYS) {
    const v = out[key];
    if (v !== undefined) out[key] = Array.isArray(v) ? v.map(word) : word(v);
  }
  return out;
}

function parseLine(line: string, defaults: JobSpec): JobSpec | string {
  let value: JsonValue;
  try {
    value = JSON.parse(line) as JsonValue;
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object: each line must be one job spec, e.g. {"command": ["echo", "hi"]}';
  let spec: JobSpec;
  try {
    // fromJson accepts both the proto names (snake_case) and the JSON names (camelCase).
    spec = withDefaults(fromJson(JobSpecSchema, acceptExecutorWords(value)), defaults);
  } catch (err) {
    return (err as Error).message;
  }
  return specProblem(spec) ?? spec;
}

/**
 * Reads job specs from JSONL text (one spec per non-empty line, in protobuf JSON form), filling in
 * `defaults` (from the command-line flags) where a line has no value of its own. Checks every line
 * before anything is sent, so a file with a bad line submits nothing.
 */
export function parseJobLines(text: string, source: string, defaults: JobSpec): ParsedJobLines {
  const result: ParsedJobLines = { specs: [], errors: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const parsed = parseLine(line, defaults);
    if (typeof parsed === 'string') result.errors.push(`${source}:${i + 1}: ${parsed}`);
    else result.specs.push(parsed);
  });
  return result;
}
