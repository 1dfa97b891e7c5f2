import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Docker from 'dockerode';
import { createDockerRuntime } from './docker-runtime.js';
import { EcsService } from './ecs-service.js';
import { AwsError } from './errors.js';
import { Faults, parseFaultSpec } from './faults.js';
import { LogStore } from './log-store.js';
import { SECRETS_MANAGER_TARGET, SecretsManagerService } from './secrets-manager.js';
import type { ContainerRuntime } from './runtime.js';
import type { Input } from './validate.js';

/** `X-Amz-Target` prefixes of the two services (their Smithy service names and versions). */
export const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';
export const LOGS_TARGET = 'Logs_20140328';
/** The control API's root (faults and call counts). */
export const CONTROL_PATH = '/_longshore';

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const JSON_11 = 'application/x-amz-json-1.1';

/** Options of {@link startAwsLocalEndpoint}. */
export interface AwsLocalOptions {
  /** The engine tasks run on; default a client of the engine DOCKER_HOST names (else /var/run/docker.sock). */
  docker?: Docker;
  /** A runtime in place of the engine (unit specs pass a fake). */
  runtime?: ContainerRuntime;
  /** Address to listen on (default 127.0.0.1). Anything but loopback needs `allowRemote`. */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /**
   * Listen on a non-loopback address. The endpoint checks no signature and runs containers for
   * whoever reaches it: only for a network you trust. Logged when used.
   */
  allowRemote?: boolean;
  /** Region in ARNs (default us-east-1). */
  region?: string;
  /** Account in ARNs (default 000000000000). */
  account?: string;
  /** Clusters that exist besides `default` (others are ClusterNotFoundException / MISSING, as in ECS). */
  clusters?: readonly string[];
  /** `docker stop` grace for containers whose definition has no `stopTimeout` (default 30 s, as ECS). */
  stopTimeoutSeconds?: number;
  /** STOPPED tasks kept for DescribeTasks (default 10 000). */
  maxStoppedTasks?: number;
  /** Where background errors go (default console.error). */
  onError?: (what: string, err: unknown) => void;
  /** Clock (ms since the epoch); a seam for specs. */
  now?: () => number;
}

/** A running endpoint. */
export interface AwsLocalEndpoint {
  /** `http://host:port`: the endpoint URL for both ECS and CloudWatch Logs clients. */
  readonly url: string;
  /** Faults to inject (also reachable as `POST /_longshore/faults`). */
  readonly faults: Faults;
  /** Calls seen per action (also `GET /_longshore/stats`). */
  stats(): Record<string, number>;
  /** Resolves once every task started so far has stopped. */
  settled(): Promise<void>;
  /**
   * Stops listening, removes every container of the endpoint at once (no grace) and waits for
   * the tasks to be STOPPED. Idempotent: a second call returns the first call's promise.
   */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AwsError('SerializationException', `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): Input {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AwsError('SerializationException', 'the request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AwsError('SerializationException', 'the request body must be a JSON object');
  return v as Input;
}

function send(res: ServerResponse, status: number, body: unknown, contentType = JSON_11, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(), ...extra });
  res.end(text);
}

/**
 * Starts the local ECS + CloudWatch Logs + Secrets Manager endpoint: one HTTP server speaking AWS
 * JSON 1.1 for the three (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Action>`,
 * `Logs_20140328.<Action>` or `secretsmanager.<Action>`), running each ECS task as containers on
 * the Docker engine and keeping secrets in memory, with a
 * control API under `/_longshore` for faults and call counts. Signatures are not checked.
 *
 * ```ts
 * const endpoint = await startAwsLocalEndpoint({ docker: new Docker() });
 * const ecs = new ECSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * // …
 * await endpoint.close();
 * ```
 */
export async function startAwsLocalEndpoint(opts: AwsLocalOptions): Promise<AwsLocalEndpoint> {
  const host = opts.host ?? '127.0.0.1';
  const onError = opts.onError ?? ((what: string, err: unknown) => console.error(`aws-local: ${what}:`, err));
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new Error(`refusing to listen on ${host}: the local AWS endpoint checks no credentials and runs containers for any caller; listen on 127.0.0.1, or pass allowRemote (--allow-remote) on a network you trust`);
  }
  const endpointId = randomBytes(6).toString('hex');
  const runtime = opts.runtime ?? createDockerRuntime(opts.docker ?? new (await import('dockerode')).default(), endpointId, onError);
  const now = opts.now ?? Date.now;
  const faults = new Faults();
  const logs = new LogStore(undefined, now);
  const scope = { region: opts.region ?? 'us-east-1', account: opts.account ?? '000000000000' };
  const secrets = new SecretsManagerService(scope, now);
  const ecs = new EcsService(
    {
      scope,
      clusters: opts.clusters ?? [],
      stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 30,
      maxStoppedTasks: opts.maxStoppedTasks ?? 10_000,
    },
    faults,
    { runtime, logs, now, onError, secretValue: (valueFrom) => secrets.valueFrom(valueFrom) },
  );
  const logsHandlers: Record<string, (i: Input) => Input> = {
    GetLogEvents: (i) => logs.getLogEvents(i),
    FilterLogEvents: (i) => logs.filterLogEvents(i),
  };

  const serveAws = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service, action = ''] = target.split('.', 2);
    const handler =
      service === ECS_TARGET
        ? ecs.handler(action)
        : service === LOGS_TARGET && Object.hasOwn(logsHandlers, action)
          ? logsHandlers[action]
          : service === SECRETS_MANAGER_TARGET
            ? secrets.handler(action)
            : undefined;
    const body = await readBody(req);
    if (!handler) throw new AwsError('UnknownOperationException', `the local endpoint does not serve "${target}" (it serves the ECS, CloudWatch Logs and Secrets Manager actions Longshore uses)`);
    if (faults.onCall(action) === 'throttle') throw new AwsError('ThrottlingException', `Rate exceeded (${action}; injected by the local endpoint)`);
    const answer = await handler(parseJson(body));
    await late(faults.takeDelay(action));
    send(res, 200, answer);
  };

  // Answers held back by a delay fault; close() lets them go (to sockets it has closed).
  const held = new Set<() => void>();
  const late = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const go = () => {
            clearTimeout(timer);
            held.delete(go);
            resolve();
          };
          const timer = setTimeout(go, ms);
          held.add(go);
        });

  const serveControl = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === `${CONTROL_PATH}/stats` && req.method === 'GET') return send(res, 200, { calls: faults.stats() }, 'application/json');
    if (path === `${CONTROL_PATH}/faults` && req.method === 'POST') {
      faults.inject(parseFaultSpec(parseJson(await readBody(req))));
      return send(res, 200, { ok: true }, 'application/json');
    }
    if (path === `${CONTROL_PATH}/faults` && req.method === 'DELETE') {
      faults.clear();
      return send(res, 200, { ok: true }, 'application/json');
    }
    send(res, 404, { message: `no control route ${req.method} ${path} (GET ${CONTROL_PATH}/stats, POST|DELETE ${CONTROL_PATH}/faults)` }, 'application/json');
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const work = path.startsWith(`${CONTROL_PATH}/`) ? serveControl(req, res, path) : req.method === 'POST' ? serveAws(req, res) : Promise.reject(new AwsError('UnknownOperationException', `${req.method} ${path}: AWS JSON 1.1 requests are POST /`, 404));
    work.catch((err: unknown) => {
      if (res.headersSent) return;
      if (err instanceof AwsError) return send(res, err.status, { __type: err.type, message: err.message }, JSON_11, { 'x-amzn-errortype': err.type });
      onError(`${req.headers['x-amz-target'] ?? path}`, err);
      send(res, 500, { __type: 'ServerException', message: 'internal error of the local endpoint (logged there)' }, JSON_11, { 'x-amzn-errortype': 'ServerException' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (!isLoopback(host)) onError('insecure mode', new Error(`listening on ${host}, beyond loopback (allowRemote): anyone who reaches it can run containers`));
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    faults,
    stats: () => faults.stats(),
    settled: () => ecs.settled(),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const go of [...held]) go();
        ecs.stopAll('the local endpoint is shutting down');
        await runtime.removeAll();
        await ecs.settled();
        await stopped;
      })();
      return closing;
    },
  };
}
