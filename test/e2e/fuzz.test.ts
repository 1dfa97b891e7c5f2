import { connect as tcpConnect } from 'node:net';
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { Client, credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { LongshoreClient, LongshoreError, type JobSpecInit } from '@longshore/client';
import { LIMITS, validateJobSpec, validatePlainText } from '@longshore/domain';
import {
  CreatePoolRequestSchema,
  GetPoolRequestSchema,
  JobState,
  ListJobsRequestSchema,
  SubmitJobRequestSchema,
  SubmitJobsRequestSchema,
  UpdatePoolRequestSchema,
  type Job,
} from '@longshore/proto';
import { specFromProto } from '@longshore/rpc';
import { createRedis } from '@longshore/store';
import { repoRoot, startCluster, type Cluster } from '@longshore/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from './support.js';

/**
 * Property-based fuzzing of the API edge: random and hostile requests, through the SDK and as
 * raw protobuf bytes, plus garbage and HTTP/1.1 on the TCP ports. Every reply must be OK or a
 * client error with a clean message; the servers must stay up; nothing malformed may be stored.
 * Reproduce a failure with FUZZ_SEED=<seed printed below>; FUZZ_SCALE multiplies the run counts.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** Each property stops early (passing) after this long, so a loaded machine cannot time the suite out. */
const TIME_LIMIT_MS = 15_000;
const CALL_TIMEOUT_MS = 20_000;

const CLIENT_ERRORS = new Set<number>([
  GrpcStatus.OK,
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.ALREADY_EXISTS,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.PERMISSION_DENIED,
]);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Why a reply is not acceptable, or undefined when it is. */
function badReply(code: number, message: string): string | undefined {
  if (!CLIENT_ERRORS.has(code)) return `status ${GrpcStatus[code] ?? code}`;
  if (code === GrpcStatus.OK) return undefined;
  if (!message.trim()) return 'an empty message';
  if (/\n\s+at /.test(message)) return 'a stack trace';
  if (message.includes(repoRoot) || /\.[cm]?[jt]s:\d+/.test(message) || /node_modules|node:internal/.test(message)) return 'a source path';
  return undefined;
}

function expectCleanReply(code: number, message: string, what: string): void {
  const bad = badReply(code, message);
  if (bad) throw new Error(`${what} got ${bad} (seed ${SEED}): ${GrpcStatus[code]} ${JSON.stringify(message.slice(0, 500))}`);
}

/** Runs an SDK call and checks its outcome; counts what came back. */
async function sdkCall(what: string, call: () => Promise<unknown>, tally: Map<string, number>): Promise<void> {
  try {
    await call();
    tally.set('OK', (tally.get('OK') ?? 0) + 1);
  } catch (err) {
    if (!(err instanceof LongshoreError)) {
      // protobuf-es refused to encode the value (NaN for a uint32, -1n for a uint64): nothing was sent.
      if (err instanceof Error && /invalid (u?int|float|double|bool|string)|cannot encode|out of range/i.test(err.message)) {
        tally.set('unencodable', (tally.get('unencodable') ?? 0) + 1);
        return;
      }
      throw err;
    }
    if ((err.code as number) === GrpcStatus.INTERNAL && /serializ/i.test(err.message)) {
      tally.set('unencodable', (tally.get('unencodable') ?? 0) + 1);
      return;
    }
    tally.set(GrpcStatus[err.code] ?? String(err.code), (tally.get(GrpcStatus[err.code] ?? String(err.code)) ?? 0) + 1);
    expectCleanReply(err.code, err.message, what);
  }
}

// ---------------------------------------------------------------------------------------------
// Values

const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\n',
  '\r\n',
  '\u001b[31mred\u001b[0m',
  '\u007f',
  '\u0085',
  '\u202eevil',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  '😀',
  'ＡＢＣ',
  'é',
  '../../etc/passwd',
  '/etc/passwd',
  '..',
  '.',
  '/',
  'C:\\Windows',
  '%2e%2e%2f',
  '${HOME}',
  '$(id)',
  '`id`',
  '%s%s%n',
  '{{7*7}}',
  "'; DROP TABLE jobs; --",
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'default',
  'fz',
  'fz-pool',
  '-x',
  'x-',
  'A',
  'a'.repeat(63),
  'a'.repeat(64),
];

/** Strings of every sort, weighted towards the hostile. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\n', '\t', '\u001f', 'a', '/', '.', '-', 'é'), maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          LIMITS.labelValueLength,
          LIMITS.idempotencyKeyLength,
          LIMITS.descriptionLength,
          LIMITS.workingDirLength,
          LIMITS.imageLength,
          LIMITS.argBytes,
          LIMITS.envValueBytes,
          LIMITS.envValueBytes,
          100_000,
        ),
        fc.constantFrom(-1, 0, 1),
        fc.constantFrom('x', 'é', '😀', '\u0000', '/'),
      )
      .map(([n, d, c]) => c.repeat(Math.max(0, Math.ceil((n + d) / c.length)))),
  },
);

/** Names a request may use for a pool: existing ones, plausible new ones, and hostile ones. */
const poolName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', 'default', 'fz', 'fz-small') },
  { weight: 2, arbitrary: fc.stringMatching(/^fz-[a-z0-9]{1,8}$/) },
  { weight: 2, arbitrary: hostileString },
);

const int = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, -0, 1, 250, 1000, 2 ** 31 - 1, 2 ** 32 - 1, LIMITS.maxMilli, LIMITS.maxMilli + 1, LIMITS.priority + 1) },
  { weight: 6, arbitrary: fc.nat() },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: -1 }) },
  // Not encodable in an integer field: the SDK refuses them before sending (counted as "unencodable").
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 2 ** 32, Number.MAX_SAFE_INTEGER) },
);
const big = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0n, 1n, 1000n, BigInt(LIMITS.maxTimeoutMs), BigInt(LIMITS.maxTimeoutMs) + 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n) },
  { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
  { weight: 1, arbitrary: fc.constantFrom(-1n, 2n ** 64n) }, // unencodable in a uint64
);

/** Mostly valid, sometimes hostile: so requests reach past the first check into storage. */
function mostly<T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostile });
}

const labelKey = mostly(fc.stringMatching(/^[a-z][a-z0-9._/-]{0,10}[a-z0-9]$/), hostileString);
const labels = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(labelKey, mostly(fc.stringMatching(/^[a-z0-9 ]{0,12}$/), hostileString), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(40, 10_000).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))) },
);

/** A spec that should be accepted (when its pool exists and takes its weight). */
const validSpec: fc.Arbitrary<JobSpecInit> = fc.record(
  {
    pool: fc.constantFrom('', 'default', 'fz', 'fz-small'),
    command: fc.array(fc.string({ minLength: 1, maxLength: 20 }).filter((a) => !a.includes('\u0000')), { minLength: 1, maxLength: 4 }),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 20 }).filter((v) => !v.includes('\u0000')), { maxKeys: 4 }),
    weightMilli: fc.constantFrom(0, 1, 125, 250, 500, 1000),
    priority: fc.integer({ min: -1000, max: 1000 }),
    labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9._/-]{0,10}[a-z0-9]$/), fc.string({ unit: 'grapheme', maxLength: 20 }).filter((v) => !/[\u0000-\u001f\u007f-\u009f]/.test(v)), { maxKeys: 4 }),
    idempotencyKey: fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z0-9-]{1,12}$/)),
    timeoutMs: fc.bigInt({ min: 0n, max: BigInt(LIMITS.maxTimeoutMs) }),
  },
  { requiredKeys: ['command'] },
);

const mixedSpec: fc.Arbitrary<JobSpecInit> = fc.record(
  {
    pool: poolName,
    executor: mostly(fc.constantFrom(0, 1), fc.integer({ min: -2, max: 9 })),
    allowedExecutors: mostly(fc.constant([] as number[]), fc.array(fc.integer({ min: -1, max: 8 }), { maxLength: 6 })),
    command: mostly(fc.constantFrom(['true'], ['sh', '-c', 'echo hi']), fc.array(hostileString, { maxLength: 5 })),
    env: mostly(fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 20 }), { maxKeys: 4 }), fc.dictionary(hostileString, hostileString, { maxKeys: 4 })),
    workingDir: mostly(fc.constantFrom('', '/tmp', '/srv/job'), hostileString),
    weightMilli: mostly(fc.constantFrom(0, 125, 250, 1000), int),
    lane: mostly(fc.constantFrom('', 'ingestion'), hostileString),
    memoryBytes: mostly(fc.constantFrom(0n, 512n * 1024n * 1024n), big),
    timeoutMs: mostly(fc.constantFrom(0n, 60_000n), big),
    maxAttempts: mostly(fc.constantFrom(0, 1, 3), int),
    priority: mostly(fc.integer({ min: -1000, max: 1000 }), int),
    labels,
    idempotencyKey: mostly(fc.constantFrom(''), hostileString),
    image: mostly(fc.constantFrom('', 'alpine:3'), hostileString),
    retry: fc.option(fc.record({ exit: int, timeout: int, oom: int, startFailed: int, lost: int, backoffMs: big, maxBackoffMs: big }, { requiredKeys: [] }), { nil: undefined }),
  },
  { requiredKeys: [] },
);

const jobSpec = fc.oneof(validSpec, mixedSpec, mixedSpec);

const updateMaskField = mostly(fc.constantFrom('description', 'default_weight_milli', 'max_weight_milli'), hostileString);

/** One SDK request of any of the fuzzed kinds. */
type SdkRequest =
  | { kind: 'submitJob'; spec: JobSpecInit | undefined }
  | { kind: 'submitJobs'; specs: JobSpecInit[] }
  | { kind: 'createPool'; req: Record<string, unknown> }
  | { kind: 'updatePool'; req: Record<string, unknown> }
  | { kind: 'listJobs'; req: Record<string, unknown> };

const sdkRequest: fc.Arbitrary<SdkRequest> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submitJob' as const), spec: fc.option(jobSpec, { nil: undefined, freq: 20 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('submitJobs' as const),
      specs: fc.oneof({ weight: 9, arbitrary: fc.array(jobSpec, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant(Array.from({ length: LIMITS.batchSize + 1 }, () => ({ command: ['true'] }))) }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('createPool' as const),
      req: fc.record({ id: poolName, description: hostileString, defaultWeightMilli: int, maxWeightMilli: int, makeDefault: fc.boolean() }, { requiredKeys: [] }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('updatePool' as const),
      req: fc.record({ id: poolName, description: hostileString, defaultWeightMilli: int, maxWeightMilli: int, updateMask: fc.array(updateMaskField, { maxLength: 4 }) }, { requiredKeys: [] }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('listJobs' as const),
      req: fc.record(
        { pool: poolName, state: mostly(fc.integer({ min: 0, max: 7 }), int), labels, pageSize: mostly(fc.constantFrom(0, 1, 500, 501), int), pageToken: mostly(fc.constantFrom(''), hostileString) },
        { requiredKeys: [] },
      ),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// Raw protobuf bytes, driven by the messages' descriptors: right and wrong wire types, varints
// of every width, invalid UTF-8, unknown and nested fields, truncation.

const VARINTS = [0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

function writeJunk(g: fc.GeneratorValue, w: BinaryWriter, no: number): void {
  const wt = g(() => fc.constantFrom(WireType.Varint, WireType.Bit64, WireType.LengthDelimited, WireType.StartGroup, WireType.EndGroup, WireType.Bit32));
  w.tag(no, wt);
  if (wt === WireType.Varint) w.uint64(g(() => fc.constantFrom(...VARINTS)));
  else if (wt === WireType.Bit64) w.fixed64(g(() => fc.constantFrom(...VARINTS)));
  else if (wt === WireType.Bit32) w.fixed32(g(() => fc.integer({ min: 0, max: 2 ** 32 - 1 })));
  else if (wt === WireType.LengthDelimited) w.bytes(g(() => fc.uint8Array({ maxLength: 64 })));
  else if (wt === WireType.StartGroup) for (let i = g(() => fc.integer({ min: 0, max: 2000 })); i > 0; i--) w.tag(no, WireType.StartGroup);
}

function writeString(g: fc.GeneratorValue, w: BinaryWriter): void {
  if (g(() => fc.integer({ min: 0, max: 9 })) === 0) w.bytes(g(() => fc.uint8Array({ maxLength: 32 }))); // maybe invalid UTF-8
  else w.string(g(() => hostileString));
}

function writeScalar(g: fc.GeneratorValue, w: BinaryWriter, f: { scalar?: unknown; fieldKind: string }, no: number): void {
  if (f.fieldKind === 'enum' || typeof f.scalar === 'number') {
    // STRING = 9, BYTES = 12 in protobuf-es' ScalarType; every other scalar here is a varint.
    if (f.scalar === 9 || f.scalar === 12) {
      w.tag(no, WireType.LengthDelimited);
      writeString(g, w);
    } else {
      w.tag(no, WireType.Varint).uint64(g(() => fc.oneof(fc.constantFrom(...VARINTS), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))));
    }
  }
}

function writeField(g: fc.GeneratorValue, w: BinaryWriter, f: DescField, depth: number): void {
  const no = f.number;
  if (g(() => fc.integer({ min: 0, max: 11 })) === 0) return writeJunk(g, w, no);
  switch (f.fieldKind) {
    case 'scalar':
    case 'enum':
      return writeScalar(g, w, f, no);
    case 'message':
      w.tag(no, WireType.LengthDelimited).bytes(messageBytes(g, f.message, depth + 1));
      return;
    case 'list': {
      const n = g(() => fc.integer({ min: 0, max: 4 }));
      if (f.listKind === 'message') for (let i = 0; i < n; i++) w.tag(no, WireType.LengthDelimited).bytes(messageBytes(g, f.message, depth + 1));
      else if (f.listKind === 'enum' && g(() => fc.boolean())) {
        w.tag(no, WireType.LengthDelimited).fork();
        for (let i = 0; i < n; i++) w.uint64(g(() => fc.constantFrom(...VARINTS, 1n, 2n, 3n, 4n)));
        w.join();
      } else for (let i = 0; i < n; i++) writeScalar(g, w, { fieldKind: f.listKind, scalar: f.listKind === 'scalar' ? f.scalar : undefined }, no);
      return;
    }
    case 'map': {
      const n = g(() => fc.integer({ min: 0, max: 4 }));
      for (let i = 0; i < n; i++) {
        w.tag(no, WireType.LengthDelimited).fork();
        w.tag(1, WireType.LengthDelimited);
        writeString(g, w);
        if (f.mapKind === 'message') w.tag(2, WireType.LengthDelimited).bytes(messageBytes(g, f.message, depth + 1));
        else writeScalar(g, w, { fieldKind: f.mapKind, scalar: f.mapKind === 'scalar' ? f.scalar : undefined }, 2);
        w.join();
      }
      return;
    }
  }
}

/** A random encoding of `desc`: its fields in any order, some wrong, some unknown. */
function messageBytes(g: fc.GeneratorValue, desc: DescMessage, depth = 0): Uint8Array {
  if (depth > 3) return g(() => fc.uint8Array({ maxLength: 16 }));
  const w = new BinaryWriter();
  const n = g(() => fc.integer({ min: 0, max: Math.min(8, desc.fields.length + 2) }));
  for (let i = 0; i < n; i++) {
    if (desc.fields.length === 0 || g(() => fc.integer({ min: 0, max: 9 })) === 0) writeJunk(g, w, g(() => fc.integer({ min: 1, max: 2 ** 29 - 1 })));
    else writeField(g, w, desc.fields[g(() => fc.integer({ min: 0, max: desc.fields.length - 1 }))]!, depth);
  }
  const bytes = w.finish();
  const mangle = g(() => fc.integer({ min: 0, max: 9 }));
  if (mangle === 0 && bytes.length > 0) return bytes.subarray(0, g(() => fc.integer({ min: 0, max: bytes.length - 1 })));
  if (mangle === 1) return new Uint8Array([...bytes, ...g(() => fc.uint8Array({ minLength: 1, maxLength: 8 }))]);
  return bytes;
}

const RAW_TARGETS: { service: 'dispatcher' | 'registry'; path: string; desc: DescMessage }[] = [
  { service: 'dispatcher', path: '/longshore.v1.DispatcherService/SubmitJob', desc: SubmitJobRequestSchema },
  { service: 'dispatcher', path: '/longshore.v1.DispatcherService/SubmitJobs', desc: SubmitJobsRequestSchema },
  { service: 'dispatcher', path: '/longshore.v1.DispatcherService/ListJobs', desc: ListJobsRequestSchema },
  { service: 'registry', path: '/longshore.v1.PoolRegistryService/CreatePool', desc: CreatePoolRequestSchema },
  { service: 'registry', path: '/longshore.v1.PoolRegistryService/UpdatePool', desc: UpdatePoolRequestSchema },
  { service: 'registry', path: '/longshore.v1.PoolRegistryService/GetPool', desc: GetPoolRequestSchema },
];

function rawUnary(client: Client, path: string, bytes: Uint8Array, md: Metadata): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      bytes,
      md,
      { deadline: Date.now() + CALL_TIMEOUT_MS },
      (err: ServiceError | null) => resolve(err ? { code: err.code, details: err.details } : { code: GrpcStatus.OK, details: '' }),
    );
  });
}

/** Writes `bytes` to a fresh TCP connection and waits (bounded) for the server to answer or close. */
function poke(address: string, bytes: Uint8Array): Promise<void> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = tcpConnect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    s.on('error', done);
    s.on('close', done);
    s.on('data', () => undefined);
    s.on('connect', () => s.write(bytes));
  });
}

const HTTP1 = [
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /longshore.v1.DispatcherService/SubmitJob HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc\r\nContent-Length: 5\r\n\r\n\u0000\u0000\u0000\u0000\u0000',
  'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'CONNECT 127.0.0.1:6379 HTTP/1.1\r\n\r\n',
];
const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

// ---------------------------------------------------------------------------------------------

describe('fuzzing the API edge', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  // The hostile requests ride a connection of their own, as another client process would: after
  // this fuzzing the fuzzer's own HTTP/2 connection to the registry has been seen to stop
  // answering for ~10 s while other connections were served (README: known limits).
  let hostile: LongshoreClient;
  let md: Metadata;
  const raw: Record<'dispatcher' | 'registry', Client> = {} as never;
  const tally = new Map<string, number>();

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (set FUZZ_SEED=${SEED} to replay)`);
    // No agents: everything accepted stays queued, where the checks below can see it.
    cluster = await startCluster({ agents: 0 });
    ls = connect(cluster);
    hostile = LongshoreClient.connect({ env: cluster.clientEnv, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    await ls.registry.createPool({ id: 'fz' });
    await ls.registry.createPool({ id: 'fz-small', maxWeightMilli: 500 });
    md = new Metadata();
    const token = cluster.clientEnv['LONGSHORE_TOKEN'];
    if (token) md.set('authorization', `Bearer ${token}`);
    raw.dispatcher = new Client(cluster.clientEnv['LONGSHORE_DISPATCHER']!, credentials.createInsecure());
    raw.registry = new Client(cluster.clientEnv['LONGSHORE_REGISTRY']!, credentials.createInsecure());
  }, 60_000);
  afterAll(async () => {
    console.log(`fuzz seed ${SEED}: replies ${JSON.stringify(Object.fromEntries(tally))}`);
    raw.dispatcher?.close();
    raw.registry?.close();
    ls?.close();
    hostile?.close();
    await cluster?.stop();
  });

  const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(numRuns), endOnFailure: true, interruptAfterTimeLimit: TIME_LIMIT_MS });

  it('answers random and hostile SDK requests with OK or a clean client error', async () => {
    const t = { timeoutMs: CALL_TIMEOUT_MS };
    await fc.assert(
      // A few requests at once per run, as concurrent clients would send them.
      fc.asyncProperty(fc.array(sdkRequest, { minLength: 1, maxLength: 3 }), async (batch) => {
        await Promise.all(
          batch.map((r) => {
            const what = r.kind;
            if (r.kind === 'submitJob') return sdkCall(what, () => hostile.dispatcher.submitJob({ spec: r.spec }, t), tally);
            if (r.kind === 'submitJobs') return sdkCall(what, () => hostile.dispatcher.submitJobs({ specs: r.specs }, t), tally);
            if (r.kind === 'createPool') return sdkCall(what, () => hostile.registry.createPool(r.req as never, t), tally);
            if (r.kind === 'updatePool') return sdkCall(what, () => hostile.registry.updatePool(r.req as never, t), tally);
            return sdkCall(what, () => hostile.dispatcher.listJobs(r.req as never, t), tally);
          }),
        );
      }),
      params(1000),
    );
  }, 90_000);

  it('answers raw, malformed protobuf with OK or a clean client error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RAW_TARGETS), fc.gen(), async (target, g) => {
        const bytes = messageBytes(g, target.desc);
        const res = await rawUnary(raw[target.service], target.path, bytes, md);
        const key = `raw ${GrpcStatus[res.code]}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        expectCleanReply(res.code, res.details, `${target.path} with ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
      }),
      params(1500),
    );
  }, 90_000);

  it('refuses an oversized message, naming the limit', async () => {
    const res = await rawUnary(raw.dispatcher, '/longshore.v1.DispatcherService/SubmitJobs', new Uint8Array(LIMITS.requestBytes + 1), md);
    expect(res.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(res.details).toContain(String(LIMITS.requestBytes));
  });

  it('survives garbage bytes and HTTP/1.1 on both ports', async () => {
    const addresses = [cluster.clientEnv['LONGSHORE_DISPATCHER']!, cluster.clientEnv['LONGSHORE_REGISTRY']!];
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.constantFrom(...HTTP1).map((s) => Buffer.from(s, 'latin1')),
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.concat([Buffer.from(PREFACE), b])),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...addresses), payload), { minLength: 1, maxLength: 8 }), async (pokes) => {
        await Promise.all(pokes.map(([address, bytes]) => poke(address, bytes)));
      }),
      params(30),
    );
  }, 60_000);

  it('is still up and answering afterwards', async () => {
    expect(cluster.dispatcher.exited).toBe(false);
    expect(cluster.registry.exited).toBe(false);
    for (const service of ['dispatcher', 'registry'] as const) {
      const res = await rawUnary(raw[service], '/grpc.health.v1.Health/Check', new Uint8Array(0), new Metadata());
      expect(res.code, `${service} health`).toBe(GrpcStatus.OK);
    }
    await ls.dispatcher.listJobs({ pageSize: 1 });
    // No handler failed unexpectedly (those become INTERNAL and are logged as such).
    for (const p of [cluster.dispatcher, cluster.registry]) {
      const unexpected = p.logs.filter((l) => l['msg'] === 'unexpected error in handler' || l['level'] === 'fatal');
      expect(unexpected, `${p.name} log`).toEqual([]);
    }
  });

  it('stored nothing malformed: every job passes validation, every pool is a valid name', async () => {
    const jobs: Job[] = [];
    let pageToken = '';
    for (let i = 0; i < 1000; i++) {
      const page = await ls.dispatcher.listJobs({ pageSize: LIMITS.pageSize, pageToken });
      jobs.push(...page.jobs);
      pageToken = page.nextPageToken;
      if (!pageToken) break;
    }
    const { pools } = await ls.registry.listPools({});
    const poolIds = new Set(pools.map((p) => p.id));
    for (const p of pools) {
      expect(p.id).toMatch(DNS_LABEL);
      expect(() => validatePlainText('description', p.description, LIMITS.descriptionLength)).not.toThrow();
      expect(p.maxWeightMilli).toBeGreaterThan(0);
      expect(p.maxWeightMilli).toBeLessThanOrEqual(LIMITS.maxMilli);
      expect(p.defaultWeightMilli).toBeGreaterThan(0);
      expect(p.defaultWeightMilli).toBeLessThanOrEqual(p.maxWeightMilli);
    }
    for (const j of jobs) {
      const spec = specFromProto(j.spec!);
      expect(() => validateJobSpec(spec), `job ${j.id}`).not.toThrow();
      expect(poolIds.has(spec.pool), `job ${j.id} pool ${spec.pool}`).toBe(true);
      expect(j.state).toBe(JobState.QUEUED);
    }
    // Every queued entry has its record and vice versa (no agents: nothing left the queue).
    const queued = pools.reduce((s, p) => s + Number(p.status?.jobsQueued ?? 0n), 0);
    expect(queued).toBe(jobs.length);
    // Idempotency keys: no control characters reached Redis, and each maps to a stored job.
    const redis = createRedis(cluster.clientEnv['LONGSHORE_REDIS_URL']!, 'worker');
    try {
      const ids = new Set(jobs.map((j) => j.id));
      const keys: string[] = [];
      let cursor = '0';
      for (let i = 0; i < 10_000; i++) {
        const [next, batch] = await redis.scan(cursor, 'MATCH', '*:idem:*', 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
        if (cursor === '0') break;
      }
      for (const k of keys) {
        expect(/[\u0000-\u001f\u007f-\u009f]/.test(k), `idempotency key ${JSON.stringify(k)}`).toBe(false);
        expect(ids.has((await redis.get(k)) ?? ''), `idempotency key ${JSON.stringify(k)}`).toBe(true);
      }
      console.log(`fuzz seed ${SEED}: ${jobs.length} jobs and ${pools.length} pools stored, ${keys.length} idempotency keys; all valid`);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
