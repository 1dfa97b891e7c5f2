import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, LongshoreClient, type LongshoreError } from '@longshore/client';
import { startCluster, startService, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Certificates made for the test with openssl: a CA, a server cert for 127.0.0.1, a client cert, and an unrelated CA. */
async function makeCertificates(): Promise<{ dir: string; file: (name: string) => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'longshore-tls-'));
  const file = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const ca of ['ca', 'other-ca']) {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=longshore test ${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`);
  }
  const issue = (name: string, subject: string, ext: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  };
  issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  issue('client', '/CN=longshore test client', 'extendedKeyUsage=clientAuth');
  return { dir, file };
}

async function refusal(call: Promise<unknown>): Promise<LongshoreError> {
  try {
    await call;
  } catch (err) {
    return err as LongshoreError;
  }
  throw new Error('the call succeeded, but it should have been refused');
}

describe('TLS and mTLS between clients, agents and servers', () => {
  let certs: Awaited<ReturnType<typeof makeCertificates>>;
  const clients: LongshoreClient[] = [];
  const connect = (cluster: Cluster, env: NodeJS.ProcessEnv): LongshoreClient => {
    const c = LongshoreClient.connect({ env: { ...cluster.clientEnv, LONGSHORE_HOME: '/nonexistent', ...env } });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    certs = await makeCertificates();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    if (certs) await rm(certs.dir, { recursive: true, force: true });
  });

  describe('TLS', () => {
    let cluster: Cluster;
    beforeAll(async () => {
      // Servers serve TLS; the agent verifies the registry with the CA.
      cluster = await startCluster({ agents: 1, env: { LONGSHORE_TLS_CERT: certs.file('server.pem'), LONGSHORE_TLS_KEY: certs.file('server.key'), LONGSHORE_TLS_CA: certs.file('ca.pem') } });
    });
    afterAll(async () => cluster?.stop());

    it('runs jobs for a client that verifies the servers with the CA', async () => {
      const ls = connect(cluster, { LONGSHORE_TLS_CA: certs.file('ca.pem') });
      const job = await ls.submit({ command: ['sh', '-c', 'echo over-tls'] });
      expect((await ls.waitForJob(job.id)).id).toBe(job.id);
      const lines: string[] = [];
      for await (const l of ls.logs(job.id)) lines.push(l.text);
      expect(lines).toContain('over-tls');
    });

    it('refuses a client that trusts another CA, and a plaintext client', async () => {
      const wrongCa = await refusal(connect(cluster, { LONGSHORE_TLS_CA: certs.file('other-ca.pem') }).registry.listPools({}, { timeoutMs: 60_000 }));
      expect(wrongCa.code).toBe(Code.Unavailable);
      const plaintext = await refusal(connect(cluster, { LONGSHORE_TLS_CA: '' }).registry.listPools({}, { timeoutMs: 60_000 }));
      expect(plaintext.code).toBe(Code.Unavailable);
    });
  });

  describe('mTLS', () => {
    let cluster: Cluster;
    const clientCert = () => ({ LONGSHORE_TLS_CA: certs.file('ca.pem'), LONGSHORE_TLS_CLIENT_CERT: certs.file('client.pem'), LONGSHORE_TLS_CLIENT_KEY: certs.file('client.key') });
    beforeAll(async () => {
      cluster = await startCluster({
        agents: 1,
        env: { LONGSHORE_TLS_CERT: certs.file('server.pem'), LONGSHORE_TLS_KEY: certs.file('server.key'), LONGSHORE_TLS_CLIENT_CA: certs.file('ca.pem'), ...clientCert() },
      });
    });
    afterAll(async () => cluster?.stop());

    it('serves a client with a certificate from the client CA, and refuses one without', async () => {
      const ok = connect(cluster, clientCert());
      const job = await ok.submit({ command: ['true'] });
      expect((await ok.waitForJob(job.id)).id).toBe(job.id);
      const noCert = await refusal(connect(cluster, { LONGSHORE_TLS_CA: certs.file('ca.pem') }).registry.listPools({}, { timeoutMs: 60_000 }));
      expect(noCert.code).toBe(Code.Unavailable);
    });
  });

  it('refuses to serve plaintext on a non-loopback address, naming the variables to set', async () => {
    const cluster = await startCluster({ agents: 0 });
    try {
      const p = startService('pool-registry', { LONGSHORE_REDIS_URL: cluster.redis.url, LONGSHORE_REGISTRY: '0.0.0.0:0' }, 'plaintext-registry');
      const status = await p.waitForExit(90_000);
      expect(status.code).not.toBe(0);
      expect(p.lines.join('\n')).toMatch(/refusing plaintext gRPC listening on 0\.0\.0\.0:0.*LONGSHORE_TLS_CERT.*LONGSHORE_INSECURE_PLAINTEXT=1/);
    } finally {
      await cluster.stop();
    }
  });
});
