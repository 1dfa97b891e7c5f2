// deploy/ecs/agents.yaml, the CloudFormation template of agents on ECS: it parses (YAML with
// CloudFormation's short tags), every reference resolves, its parameters are the ones the README
// documents, and evaluating its intrinsic functions for given parameters gives the container the
// variables, secrets and stop timeout a draining agent needs (up to 10 extra secrets and
// variables). A small evaluator of the functions the template uses stands in for CloudFormation;
// cfn-lint (not a Debian package) is not needed here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type YAML from 'yaml';
import { parseMap, parseSeq } from 'yaml/util';
import { drainMs, parseYamlStream, ROOT, variablesTheConfigReads } from './deploy-support.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
interface Template {
  Parameters: Record<string, { Type: string; Default?: string | number }>;
  Conditions: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties: Record<string, Json> }>;
  Outputs: Record<string, { Value: Json }>;
}

/** CloudFormation's short tags (`!Ref X`, `!Sub …`, `!If [...]`) as their long JSON forms. */
const FUNCTIONS = ['Ref', 'Sub', 'GetAtt', 'If', 'Not', 'Equals', 'Select', 'Split', 'Join', 'And', 'Or', 'Base64', 'FindInMap', 'GetAZs', 'ImportValue', 'Condition', 'Cidr'];
const cfnTags = FUNCTIONS.map((fn) => ({
  tag: `!${fn}`,
  // yaml 1.x's custom tag interface: the node is a CST node, read here by its kind.
  resolve(doc: YAML.Document, cst: { type: string; strValue?: string }) {
    const key = fn === 'Ref' || fn === 'Condition' ? fn : `Fn::${fn}`;
    let value: Json;
    if (cst.type === 'FLOW_SEQ' || cst.type === 'SEQ') value = parseSeq(doc, cst as never).toJSON() as Json;
    else if (cst.type === 'FLOW_MAP' || cst.type === 'MAP') value = parseMap(doc, cst as never).toJSON() as Json;
    else value = cst.strValue ?? '';
    return { [key]: fn === 'GetAtt' && typeof value === 'string' ? value.split('.') : value } as never;
  },
})) as unknown as YAML.Options['customTags'];

const template = parseYamlStream(readFileSync(join(ROOT, 'deploy', 'ecs', 'agents.yaml'), 'utf8'), cfnTags)[0] as Template;
const NO_VALUE = Symbol('AWS::NoValue');

/** Evaluates the intrinsic functions in `node` for `params` (values as CloudFormation passes them). */
function evaluate(node: Json, params: Record<string, string | string[]>): unknown {
  const ev = (n: Json): unknown => evaluate(n, params);
  if (Array.isArray(node)) return node.map(ev).filter((v) => v !== NO_VALUE);
  if (node === null || typeof node !== 'object') return node;
  const [key] = Object.keys(node);
  const arg = node[key!]!;
  switch (key) {
    case 'Ref': {
      if (arg === 'AWS::NoValue') return NO_VALUE;
      if (typeof arg === 'string' && arg in params) return params[arg];
      return `<${String(arg)}>`; // a resource or pseudo parameter: its id is not known here
    }
    case 'Fn::Join': {
      const [sep, list] = arg as [string, Json];
      return (ev(list) as unknown[]).map(String).join(sep);
    }
    case 'Fn::Split': {
      const [sep, text] = arg as [string, Json];
      return String(ev(text)).split(sep);
    }
    case 'Fn::Select': {
      const [index, list] = arg as [number, Json];
      const items = ev(list) as unknown[];
      if (Number(index) >= items.length) throw new Error(`Fn::Select index ${index} past the end of ${JSON.stringify(items)}`);
      return items[Number(index)];
    }
    case 'Fn::Equals': {
      const [a, b] = arg as [Json, Json];
      return JSON.stringify(ev(a)) === JSON.stringify(ev(b));
    }
    case 'Fn::Not':
      return !ev((arg as Json[])[0]!);
    case 'Fn::If': {
      const [cond, yes, no] = arg as [string, Json, Json];
      return ev(ev(template.Conditions[cond]!) ? yes : no);
    }
    case 'Fn::Sub':
      return String(arg).replace(/\$\{([^}]+)\}/g, (_m, name: string) => String(params[name] ?? `<${name}>`));
    case 'Fn::GetAtt':
      return `<${(arg as string[]).join('.')}>`;
    default:
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, ev(v)]).filter(([, v]) => v !== NO_VALUE));
  }
}

/** Every `Ref`/`Fn::If` condition/`${Name}` the template uses. */
function references(node: Json, out = { refs: new Set<string>(), conditions: new Set<string>() }) {
  if (Array.isArray(node)) node.forEach((n) => references(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'Ref') out.refs.add(v as string);
      if (k === 'Fn::If') out.conditions.add((v as Json[])[0] as string);
      if (k === 'Fn::Sub') for (const m of String(v).matchAll(/\$\{([^}.]+)[^}]*\}/g)) out.refs.add(m[1]!);
      if (k === 'Fn::GetAtt') out.refs.add((v as string[])[0]!);
      references(v, out);
    }
  }
  return out;
}

/** The parameter names of the README's ECS table (rows of "Deploying" > "ECS" starting with a `Name`). */
function readmeParameters(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /^### ECS[^\n]*\n([\s\S]*?)(?=^##)/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "### ECS" section under "Deploying"');
  return [...section.matchAll(/^\| `([A-Za-z0-9]+)` \|/gm)].map((m) => m[1]!);
}

const REQUIRED = { VpcId: 'vpc-1', SubnetIds: ['subnet-1', 'subnet-2'], RedisUrlSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:redis', RegistryAddress: 'registry.internal:7401', AgentTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:token' };
function withDefaults(given: Record<string, string | string[]>): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [name, p] of Object.entries(template.Parameters)) {
    const value = given[name] ?? (p.Default === undefined ? undefined : String(p.Default));
    if (value === undefined) throw new Error(`parameter ${name} has no default and was not given`);
    params[name] = p.Type === 'CommaDelimitedList' && typeof value === 'string' ? value.split(',') : value;
  }
  return params;
}
const agentContainer = (params: Record<string, string | string[]>) =>
  (evaluate(template.Resources.TaskDefinition!.Properties as Json, params) as { ContainerDefinitions: { Environment: { Name: string; Value: string }[]; Secrets: { Name: string; ValueFrom: string }[]; StopTimeout: number; User: string; Command: string[] }[] }).ContainerDefinitions[0]!;

describe('deploy/ecs/agents.yaml', () => {
  it('has the parameters the README documents, and only those', () => {
    expect(Object.keys(template.Parameters).sort()).toEqual(readmeParameters().sort());
  });

  it('refers only to its parameters, resources, conditions and AWS pseudo parameters', () => {
    const { refs, conditions } = references(template as unknown as Json);
    const known = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources)]);
    expect([...refs].filter((r) => !known.has(r) && !r.startsWith('AWS::'))).toEqual([]);
    expect([...conditions].filter((c) => !(c in template.Conditions))).toEqual([]);
    expect(conditions.size).toBe(20);
  });

  it('runs agents as an ECS service with a task role, a log group and secrets from Secrets Manager', () => {
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::ECS::Cluster', 'AWS::ECS::Service', 'AWS::ECS::TaskDefinition', 'AWS::IAM::Role', 'AWS::Logs::LogGroup']));
    const c = agentContainer(withDefaults(REQUIRED));
    expect(c.Command).toEqual(['agent']);
    expect(c.User).toBe('0');
    expect(c.Secrets).toEqual([
      { Name: 'LONGSHORE_REDIS_URL', ValueFrom: REQUIRED.RedisUrlSecretArn },
      { Name: 'LONGSHORE_TOKEN', ValueFrom: REQUIRED.AgentTokenSecretArn },
    ]);
    expect(c.Environment).toContainEqual({ Name: 'LONGSHORE_REGISTRY', Value: REQUIRED.RegistryAddress });
  });

  it('gives a stopped agent longer than its drain before ECS kills it', () => {
    const c = agentContainer(withDefaults(REQUIRED));
    const env = Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));
    expect(c.StopTimeout * 1000).toBeGreaterThan(drainMs(env));
    expect(c.StopTimeout).toBeLessThanOrEqual(120); // Fargate's maximum
  });

  it('passes up to 10 extra secrets and 10 extra variables, and lets the task read exactly those secrets', () => {
    const secrets = Array.from({ length: 10 }, (_, i) => `S${i}=arn:aws:secretsmanager:eu-west-1:1:secret:s${i}`);
    const vars = Array.from({ length: 10 }, (_, i) => `LONGSHORE_LOG_LEVEL=v${i}`);
    for (const n of [0, 1, 3, 10]) {
      const params = withDefaults({ ...REQUIRED, OptionalSecrets: secrets.slice(0, n).join(','), OptionalEnvVars: vars.slice(0, n).join(',') });
      const c = agentContainer(params);
      expect(c.Secrets.slice(2)).toEqual(secrets.slice(0, n).map((s) => ({ Name: s.split('=')[0], ValueFrom: s.split('=')[1] })));
      expect(c.Environment.slice(8)).toEqual(vars.slice(0, n).map((v) => ({ Name: v.split('=')[0], Value: v.split('=')[1] })));
      const role = evaluate(template.Resources.ExecutionRole!.Properties as Json, params) as { Policies: { PolicyDocument: { Statement: { Resource: string[] }[] } }[] };
      expect(role.Policies[0]!.PolicyDocument.Statement[0]!.Resource).toEqual([REQUIRED.RedisUrlSecretArn, REQUIRED.AgentTokenSecretArn, ...secrets.slice(0, n).map((s) => s.split('=')[1])]);
    }
  });

  it('sets only variables the agent reads', () => {
    const known = variablesTheConfigReads();
    const c = agentContainer(withDefaults(REQUIRED));
    const names = [...c.Environment, ...c.Secrets].map((e) => e.Name);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });
});
