// The Kubernetes manifests under deploy/k8s: every overlay renders with kubectl kustomize, every
// object is valid against the Kubernetes and KEDA schemas, and the settings that make drain and
// autoscaling work agree with what the services read and serve. No cluster needed.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as apps from 'kubernetes-models/apps/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { drainMs, haveTool, parseYamlStream, ROOT, variablesTheConfigReads } from './deploy-support.js';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Port {
  name?: string;
  containerPort: number;
}
interface Probe {
  exec?: { command: string[] };
  tcpSocket?: { port: number | string };
  httpGet?: { port: number | string; path: string };
  grpc?: { port: number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Port[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
}

/** Model classes by apiVersion and kind: constructing one and calling validate() checks the object against its schema. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'policy/v1': policy,
  'networking.k8s.io/v1': networking,
  'keda.sh/v1alpha1': keda,
};

const OVERLAYS = ['dev', 'prod'];
const kubectl = haveTool('kubectl', ['version', '--client'], 'install kubectl (it renders the kustomizations)');

function render(overlay: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy', 'k8s', 'overlays', overlay)], { encoding: 'utf8' });
  return parseYamlStream(out) as Obj[];
}

const podSpec = (o: Obj) => (o.spec?.template as { spec: PodSpec }).spec;
const workloads = (objs: Obj[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const longshoreContainers = (objs: Obj[]) =>
  workloads(objs).flatMap((w) => podSpec(w).containers.filter((c) => c.image.includes('longshore')).map((c) => ({ w, c })));
const find = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} is not in the rendered manifests`);
  return o;
};

/** A container's environment: its ConfigMaps' data, then its own env (which wins, as in Kubernetes). */
function envOf(objs: Obj[], c: Container): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const from of c.envFrom ?? []) if (from.configMapRef) Object.assign(env, find(objs, 'ConfigMap', from.configMapRef.name).data);
  for (const e of c.env ?? []) env[e.name] = e.value;
  return env;
}

function portNumber(c: Container, port: number | string): number | undefined {
  return typeof port === 'number' ? c.ports?.find((p) => p.containerPort === port)?.containerPort : c.ports?.find((p) => p.name === port)?.containerPort;
}
const portOfAddress = (address: string | undefined) => Number(address?.slice(address.lastIndexOf(':') + 1));

describe.skipIf(!kubectl).each(OVERLAYS)('deploy/k8s overlay %s', (overlay) => {
  const objs = kubectl ? render(overlay) : [];

  it('renders every object, each valid against its Kubernetes or KEDA schema', () => {
    expect(objs.length).toBeGreaterThan(10);
    for (const o of objs) {
      if (o.apiVersion === 'monitoring.coreos.com/v1') continue; // no schema package; checked below
      const Model = MODELS[o.apiVersion]?.[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
      expect(Model, `${o.apiVersion} ${o.kind} has no schema to check it against`).toBeDefined();
      expect(() => new Model!(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('runs the registry and dispatcher replicated, under a PodDisruptionBudget, as non-root', () => {
    for (const name of ['longshore-registry', 'longshore-dispatcher']) {
      const d = find(objs, 'Deployment', name);
      expect(d.spec?.replicas as number).toBeGreaterThanOrEqual(2);
      const pdb = find(objs, 'PodDisruptionBudget', name);
      expect((pdb.spec?.selector as { matchLabels: object }).matchLabels).toEqual((d.spec?.selector as { matchLabels: object }).matchLabels);
      const pod = podSpec(d);
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      expect(pod.containers[0]!.securityContext?.capabilities?.drop).toEqual(['ALL']);
      // Secret files belong to root: the non-root server reads its TLS key through its group.
      const tls = (pod as PodSpec & { volumes: { name: string; secret?: { defaultMode: number } }[] }).volumes.find((v) => v.name === 'tls')!;
      expect((pod.securityContext as { fsGroup?: number }).fsGroup).toBe(pod.securityContext?.runAsUser);
      expect(tls.secret!.defaultMode & 0o040).toBe(0o040);
    }
  });

  it('points every probe at a port its container serves', () => {
    let probes = 0;
    for (const { w, c } of longshoreContainers(objs)) {
      const env = envOf(objs, c);
      const served = new Set(c.ports?.map((p) => p.containerPort));
      // What the service binds: its gRPC address (registry, dispatcher) or the console's HTTP
      // address, and the metrics endpoint where it serves one.
      const listen = { registry: env.LONGSHORE_REGISTRY, dispatcher: env.LONGSHORE_DISPATCHER, 'cli console': env.LONGSHORE_CONSOLE_ADDR }[c.args?.join(' ') ?? ''];
      if (listen) {
        expect(listen, `${w.metadata.name} must listen on every interface`).toMatch(/^0\.0\.0\.0:/);
        expect(served, `${w.metadata.name}: its port is a containerPort`).toContain(portOfAddress(listen));
      }
      if (c.args?.[0] !== 'cli') expect(served, `${w.metadata.name}: LONGSHORE_METRICS_ADDR's port is a containerPort`).toContain(portOfAddress(env.LONGSHORE_METRICS_ADDR));
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        if (!probe) continue;
        probes++;
        let port: number | undefined;
        if (probe.tcpSocket) port = portNumber(c, probe.tcpSocket.port);
        if (probe.grpc) port = portNumber(c, probe.grpc.port);
        if (probe.httpGet) {
          port = portNumber(c, probe.httpGet.port);
          if (port === portOfAddress(env.LONGSHORE_METRICS_ADDR)) expect(probe.httpGet.path).toBe('/metrics');
        }
        if (probe.exec) {
          // The image's TLS health check: its last argument is the address it calls.
          expect(probe.exec.command.slice(0, 2)).toEqual(['node', '/app/deploy/docker/grpc-health.mjs']);
          port = portOfAddress(probe.exec.command.at(-1));
          expect(port, `${w.metadata.name}: the health check calls the gRPC port`).toBe(portOfAddress(listen));
        }
        expect(port, `${w.metadata.name}/${c.name}: probe ${JSON.stringify(probe)}`).toBeDefined();
        expect(served).toContain(port);
      }
      expect(c.livenessProbe, `${w.metadata.name} has a liveness probe`).toBeDefined();
    }
    expect(probes).toBeGreaterThanOrEqual(5);
  });

  it('sets only variables the services read', () => {
    const known = variablesTheConfigReads();
    expect(known).toContain('LONGSHORE_SHUTDOWN_GRACE');
    const used = longshoreContainers(objs).flatMap(({ c }) => Object.keys(envOf(objs, c)));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !known.has(n))).toEqual([]);
  });

  it('gives an agent more termination grace than its drain, and a stable id (its pod name)', () => {
    const sts = find(objs, 'StatefulSet', 'longshore-agent');
    const pod = podSpec(sts);
    const agent = pod.containers[0]!;
    const env = envOf(objs, agent);
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(drainMs(env));
    expect(agent.env?.find((e) => e.name === 'LONGSHORE_AGENT_ID')).toMatchObject({ valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  });

  it('runs the agent as root with only the capabilities it needs to run jobs under their own uids', () => {
    const agent = podSpec(find(objs, 'StatefulSet', 'longshore-agent')).containers[0]!;
    expect(agent.securityContext?.runAsUser).toBe(0);
    expect(agent.securityContext?.capabilities?.drop).toEqual(['ALL']);
    expect(new Set(agent.securityContext?.capabilities?.add)).toEqual(new Set(['SETUID', 'SETGID', 'KILL', 'CHOWN', 'FOWNER', 'DAC_OVERRIDE', 'NET_ADMIN', 'NET_RAW']));
    expect(agent.resources?.requests).toEqual(agent.resources?.limits);
  });

  it("scales the agents from zero on their pool's demand in standard agents, one pod per agent capacity", () => {
    const so = find(objs, 'ScaledObject', 'longshore-agent');
    const spec = so.spec as { scaleTargetRef: { kind: string; name: string }; minReplicaCount: number; triggers: { type: string; metricType: string; metadata: Record<string, string> }[] };
    expect(spec.scaleTargetRef).toMatchObject({ kind: 'StatefulSet', name: 'longshore-agent' });
    expect(spec.minReplicaCount).toBe(0);
    const env = envOf(objs, podSpec(find(objs, 'StatefulSet', 'longshore-agent')).containers[0]!);
    const [trigger] = spec.triggers;
    expect(trigger).toMatchObject({ type: 'prometheus', metricType: 'AverageValue' });
    expect(trigger!.metadata.query).toContain(`longshore_pool_demand_agents{pool="${env.LONGSHORE_POOL}"}`);
    expect(Number(trigger!.metadata.threshold)).toBe(Number(env.LONGSHORE_CAPACITY));
  });

  it('scrapes the metrics port of every service', () => {
    const sm = find(objs, 'ServiceMonitor', 'longshore');
    const spec = sm.spec as { selector: { matchExpressions: { key: string; values: string[] }[] }; endpoints: { port: string; path: string }[] };
    const names = spec.selector.matchExpressions[0]!.values;
    expect(new Set(names)).toEqual(new Set(['longshore-registry', 'longshore-dispatcher', 'longshore-agent']));
    for (const name of names) {
      const svc = find(objs, 'Service', name);
      expect((svc.spec?.ports as { name: string }[]).map((p) => p.name)).toContain(spec.endpoints[0]!.port);
    }
  });

  it('runs the console as a service of its own, with no Redis access or token, reaching only the dispatcher, registry and DNS', () => {
    const d = find(objs, 'Deployment', 'longshore-console');
    const pod = podSpec(d) as PodSpec & { volumes: { name: string; secret?: { secretName: string; items?: { key: string }[] } }[] };
    const c = pod.containers[0]!;
    expect(c.args).toEqual(['cli', 'console']);
    const env = envOf(objs, c);
    expect(env.LONGSHORE_CONSOLE_ADDR).toBe('0.0.0.0:7480');
    expect(env.LONGSHORE_DISPATCHER).toBe('longshore-dispatcher:7400');
    expect(env.LONGSHORE_REGISTRY).toBe('longshore-registry:7401');
    // No Redis, no token, no key: it acts only with each user's token, over TLS it checks with the CA.
    expect(Object.keys(env).filter((n) => /REDIS|TOKEN|TLS_KEY|TLS_CERT/.test(n))).toEqual([]);
    expect(JSON.stringify(c)).not.toContain('secretKeyRef');
    expect(pod.volumes.find((v) => v.name === 'tls')?.secret).toMatchObject({ secretName: 'longshore-tls', items: [{ key: 'ca.crt' }] });
    expect(env.LONGSHORE_TLS_CA).toBe('/etc/longshore/tls/ca.crt');
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(c.securityContext?.capabilities?.drop).toEqual(['ALL']);
    expect((c.securityContext as { readOnlyRootFilesystem?: boolean }).readOnlyRootFilesystem).toBe(true);
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/', port: 'http' });
    const svc = find(objs, 'Service', 'longshore-console');
    expect(svc.spec?.selector).toEqual((d.spec?.selector as { matchLabels: object }).matchLabels);
    expect((svc.spec?.ports as { targetPort: string }[])[0]!.targetPort).toBe('http');
    const np = find(objs, 'NetworkPolicy', 'longshore-console');
    expect((np.spec?.podSelector as { matchLabels: object }).matchLabels).toEqual({ 'app.kubernetes.io/name': 'longshore-console' });
    const egress = np.spec?.egress as { to: { podSelector?: { matchLabels?: Record<string, string> } }[]; ports: { port: number }[] }[];
    const reached = egress.map((r) => [r.to.map((t) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? t.podSelector?.matchLabels?.['k8s-app']).join(), r.ports.map((p) => p.port).sort().join()]);
    expect(reached).toEqual([['longshore-dispatcher', '7400'], ['longshore-registry', '7401'], ['kube-dns', '53,53']]);
    expect((np.spec?.ingress as { ports: { port: number }[] }[]).flatMap((r) => r.ports.map((p) => p.port))).toEqual([7480]);
    // Redis (dev's pod) does not take it either.
    if (overlay === 'dev') {
      const redis = find(objs, 'NetworkPolicy', 'longshore-redis');
      expect(JSON.stringify(redis.spec)).not.toContain('longshore-console');
    }
  });

  it('lets agents reach only Redis, the registry and DNS', () => {
    const np = find(objs, 'NetworkPolicy', 'longshore-agent');
    const egress = np.spec?.egress as { to: object[]; ports: { port: number }[] }[];
    const ports = new Set(egress.flatMap((r) => r.ports.map((p) => p.port)));
    expect(ports.has(7401)).toBe(true);
    const redisPort = overlay === 'dev' ? 6379 : 6380;
    expect([...ports].sort()).toEqual([53, 7401, redisPort].sort());
    for (const rule of egress) expect(rule.to.length, 'no rule opens every destination').toBeGreaterThan(0);
  });
});
