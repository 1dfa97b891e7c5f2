import { ecsArn, type ArnScope } from './arns.js';
import { clientError, invalidParameter } from './errors.js';
import { checkTags, optBool, optEnum, optInt, optObject, optObjects, optPairs, optString, optStrings, page, reqString, type Input } from './validate.js';

/** What the endpoint acts on in one container definition (the rest is kept and echoed). */
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  entryPoint?: string[];
  environment: Record<string, string>;
  /** Hard limit, MiB. */
  memory?: number;
  /** Soft limit, MiB. */
  memoryReservation?: number;
  /** CPU units (1024 = one vCPU). */
  cpu?: number;
  essential: boolean;
  workingDirectory?: string;
  user?: string;
  /** Seconds between SIGTERM and SIGKILL when the task is stopped. */
  stopTimeout?: number;
  /** `awslogs` settings: where the container's output goes. */
  awslogs?: { group: string; streamPrefix: string };
  /** `secrets`: variable → `valueFrom` (a Secrets Manager ARN), fetched when the task starts, never shown. */
  secrets?: Record<string, string>;
}

/** One registered revision. `raw` is what DescribeTaskDefinition answers. */
export interface TaskDefinition {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  containers: ContainerSpec[];
  /** Task-level CPU units and memory MiB (strings in the API). */
  cpu?: number;
  memory?: number;
  networkMode: string;
  /** Whether the definition set `networkMode` (ECS's default, bridge, runs with no network here). */
  networkModeGiven: boolean;
  tags: Record<string, string>;
  raw: Input;
}

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;
const NETWORK_MODES = ['bridge', 'host', 'awsvpc', 'none'] as const;

/** A task-level size: a string of digits in the API (`"512"`), a number in the SDK's older shapes. */
function size(input: Input, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidParameter(`${key} must be a whole number as a string (CPU units or MiB, e.g. "512"), got ${JSON.stringify(v)}`);
  return n;
}

function parseContainer(def: Input, i: number): ContainerSpec {
  const where = `containerDefinitions[${i}]`;
  const name = reqString(def, 'name');
  if (!NAME.test(name)) throw invalidParameter(`${where}.name "${name}" may hold up to 255 letters, numbers, hyphens and underscores`);
  const image = reqString(def, 'image');
  const log = optObject(def, 'logConfiguration');
  let awslogs: ContainerSpec['awslogs'];
  if (log) {
    const driver = reqString(log, 'logDriver');
    if (driver !== 'awslogs') throw invalidParameter(`${where}.logConfiguration.logDriver "${driver}" is not supported by the local endpoint (use "awslogs")`);
    const options = optObject(log, 'options') ?? {};
    const group = optString(options, 'awslogs-group');
    const streamPrefix = optString(options, 'awslogs-stream-prefix');
    if (!group || !streamPrefix) throw invalidParameter(`${where}.logConfiguration.options needs "awslogs-group" and "awslogs-stream-prefix"`);
    awslogs = { group, streamPrefix };
  }
  const spec: ContainerSpec = { name, image, environment: optPairs(def, 'environment', 'name') ?? {}, essential: optBool(def, 'essential') ?? true };
  const command = optStrings(def, 'command');
  const entryPoint = optStrings(def, 'entryPoint');
  const memory = optInt(def, 'memory', 6, 1_048_576);
  const memoryReservation = optInt(def, 'memoryReservation', 4, 1_048_576);
  const cpu = optInt(def, 'cpu', 0, 196_608);
  const workingDirectory = optString(def, 'workingDirectory');
  const user = optString(def, 'user');
  const stopTimeout = optInt(def, 'stopTimeout', 2, 120);
  const secrets = optPairs(def, 'secrets', 'name', 'valueFrom');
  for (const [n, from] of Object.entries(secrets ?? {})) if (!from) throw invalidParameter(`${where}.secrets: "${n}" needs a valueFrom (a Secrets Manager secret ARN)`);
  return {
    ...spec,
    ...(command ? { command } : {}),
    ...(entryPoint ? { entryPoint } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(memoryReservation !== undefined ? { memoryReservation } : {}),
    ...(cpu !== undefined ? { cpu } : {}),
    ...(workingDirectory !== undefined ? { workingDirectory } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    ...(awslogs ? { awslogs } : {}),
    ...(secrets && Object.keys(secrets).length ? { secrets } : {}),
  };
}

/** The registered task definitions of one endpoint, by family and revision. */
export class TaskDefinitions {
  private readonly families = new Map<string, TaskDefinition[]>();

  constructor(private readonly scope: ArnScope) {}

  /** RegisterTaskDefinition: a new revision of `input.family`. */
  register(input: Input, now: Date): TaskDefinition {
    const family = reqString(input, 'family');
    if (!NAME.test(family)) throw clientError(`family "${family}" may hold up to 255 letters, numbers, hyphens and underscores`);
    const defs = optObjects(input, 'containerDefinitions');
    if (!defs?.length) throw clientError('containerDefinitions must hold at least one container definition');
    const containers = defs.map(parseContainer);
    const names = containers.map((c) => c.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw clientError(`containerDefinitions: the name "${dup}" is used twice`);
    if (!containers.some((c) => c.essential)) throw clientError('containerDefinitions: at least one container must be essential');
    // As ECS: the execution role is what fetches a container's secrets when the task starts.
    if (containers.some((c) => c.secrets) && !optString(input, 'executionRoleArn')) {
      throw clientError("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.");
    }
    const givenMode = optEnum(input, 'networkMode', NETWORK_MODES);
    const networkMode = givenMode ?? 'bridge';
    const tags = optPairs(input, 'tags', 'key') ?? {};
    checkTags(tags);
    const cpu = size(input, 'cpu');
    const memory = size(input, 'memory');
    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const arn = ecsArn(this.scope, `task-definition/${family}:${revision}`);
    const requires = optStrings(input, 'requiresCompatibilities');
    const { tags: _tags, ...echoed } = input;
    const raw: Input = {
      ...echoed,
      taskDefinitionArn: arn,
      family,
      revision,
      networkMode,
      containerDefinitions: defs.map((d) => ({ environment: [], mountPoints: [], volumesFrom: [], portMappings: [], essential: true, ...d })),
      volumes: input['volumes'] ?? [],
      status: 'ACTIVE',
      requiresAttributes: [],
      placementConstraints: input['placementConstraints'] ?? [],
      compatibilities: ['EC2', 'FARGATE'],
      ...(requires ? { requiresCompatibilities: requires } : {}),
      registeredAt: now.getTime() / 1000,
      registeredBy: ecsArn(this.scope, 'user/local'),
    };
    const def: TaskDefinition = { arn, family, revision, status: 'ACTIVE', containers, networkMode, networkModeGiven: givenMode !== undefined, tags, raw, ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) };
    revisions.push(def);
    this.families.set(family, revisions);
    return def;
  }

  /**
   * The revision `ref` names: `family` (its latest ACTIVE revision), `family:revision` or an ARN;
   * undefined when there is none.
   */
  find(ref: string): TaskDefinition | undefined {
    const m = /^(?:arn:aws[\w-]*:ecs:[^:]*:[^:]*:task-definition\/)?([^:/]+)(?::(\d+))?$/.exec(ref);
    if (!m) return undefined;
    const revisions = this.families.get(m[1]!) ?? [];
    if (m[2] === undefined) return revisions.filter((d) => d.status === 'ACTIVE').at(-1);
    return revisions[Number(m[2]) - 1];
  }

  /** {@link find}, or ClientException as DescribeTaskDefinition answers. */
  get(ref: string): TaskDefinition {
    const def = this.find(ref);
    if (!def) throw clientError(`Unable to describe task definition: "${ref}" is not registered (give family, family:revision or its ARN)`);
    return def;
  }

  /** DeregisterTaskDefinition: the revision becomes INACTIVE (a family's latest is then the one before). */
  deregister(ref: string, now: Date): TaskDefinition {
    if (!/:\d+$/.test(ref)) throw invalidParameter(`taskDefinition "${ref}" must name a revision (family:revision or ARN)`);
    const def = this.get(ref);
    def.status = 'INACTIVE';
    def.raw = { ...def.raw, status: 'INACTIVE', deregisteredAt: now.getTime() / 1000 };
    return def;
  }

  /** ListTaskDefinitions: ARNs by family (exact, as `familyPrefix` is in ECS) and status, sorted, paged. */
  list(input: Input): { taskDefinitionArns: string[]; nextToken?: string } {
    const family = optString(input, 'familyPrefix');
    const status = optEnum(input, 'status', ['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'] as const) ?? 'ACTIVE';
    const sort = optEnum(input, 'sort', ['ASC', 'DESC'] as const) ?? 'ASC';
    const maxResults = optInt(input, 'maxResults', 1, 100) ?? 100;
    const families = family === undefined ? [...this.families.keys()].sort() : [family];
    const all = families.flatMap((f) => (this.families.get(f) ?? []).filter((d) => d.status === status).map((d) => d.arn));
    if (sort === 'DESC') all.reverse();
    const got = page(all, optString(input, 'nextToken'), maxResults);
    return { taskDefinitionArns: got.items, ...(got.nextToken ? { nextToken: got.nextToken } : {}) };
  }
}
