import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from './logger.js';
import { longshoreMeter, metricsExporterWarning, metricsListenError, otlpMetricsEnabled, parseHostPort, startMetrics, type MetricsHandle } from './metrics.js';

describe('the metrics address', () => {
  it('is HOST:PORT, IPv6 in brackets', () => {
    expect(parseHostPort('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseHostPort('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseHostPort('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
  });

  it('names LONGSHORE_METRICS_ADDR when it is not one', () => {
    for (const bad of ['9464', ':9464', '0.0.0.0:', '0.0.0.0:70000', 'http://x:1', '::1:9464']) {
      expect(() => parseHostPort(bad)).toThrow(`LONGSHORE_METRICS_ADDR=${JSON.stringify(bad)}: must be HOST:PORT`);
    }
  });

  it('that is taken gives an error naming the variable and the fix', () => {
    const err = metricsListenError('0.0.0.0:9464', Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }));
    expect(err.message).toBe(
      'LONGSHORE_METRICS_ADDR=0.0.0.0:9464: cannot serve metrics there: the port is already in use (another service on this host?); set LONGSHORE_METRICS_ADDR to a free HOST:PORT, or unset it for no metrics endpoint',
    );
    // `longshore up` serves one whatever: unsetting it is no fix there.
    expect(metricsListenError('127.0.0.1:9464', Object.assign(new Error('x'), { code: 'EADDRINUSE' }), undefined, false).message).toMatch(/to a free HOST:PORT$/);
  });
});

describe('OTLP metrics', () => {
  it('are on with an OTLP endpoint, unless OTEL_SDK_DISABLED=true', () => {
    expect(otlpMetricsEnabled({})).toBe(false);
    expect(otlpMetricsEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(otlpMetricsEnabled({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318/v1/metrics' })).toBe(true);
    expect(otlpMetricsEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });

  it('follow OTEL_METRICS_EXPORTER: "none" keeps them off while traces go to the same endpoint; "otlp" (or a list naming it) keeps them on', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(otlpMetricsEnabled({ ...endpoint, OTEL_METRICS_EXPORTER: 'none' })).toBe(false);
    expect(otlpMetricsEnabled({ ...endpoint, OTEL_METRICS_EXPORTER: ' NONE ' })).toBe(false);
    expect(otlpMetricsEnabled({ ...endpoint, OTEL_METRICS_EXPORTER: 'otlp' })).toBe(true);
    expect(otlpMetricsEnabled({ ...endpoint, OTEL_METRICS_EXPORTER: 'prometheus, otlp' })).toBe(true);
    expect(otlpMetricsEnabled({ ...endpoint, OTEL_METRICS_EXPORTER: 'console' })).toBe(false);
    expect(otlpMetricsEnabled({ ...endpoint, OTEL_METRICS_EXPORTER: '' })).toBe(true);
    expect(otlpMetricsEnabled({ OTEL_METRICS_EXPORTER: 'otlp' })).toBe(false);
  });

  it('say at start which OTEL_METRICS_EXPORTER names are ignored, pointing Prometheus users at LONGSHORE_METRICS_ADDR', () => {
    expect(metricsExporterWarning({})).toBeUndefined();
    expect(metricsExporterWarning({ OTEL_METRICS_EXPORTER: 'otlp' })).toBeUndefined();
    expect(metricsExporterWarning({ OTEL_METRICS_EXPORTER: 'none' })).toBeUndefined();
    expect(metricsExporterWarning({ OTEL_METRICS_EXPORTER: 'console' })).toMatch(/^OTEL_METRICS_EXPORTER=console: .*ignoring "console"$/);
    expect(metricsExporterWarning({ OTEL_METRICS_EXPORTER: 'otlp,prometheus' })).toMatch(/ignoring "prometheus"; for Prometheus set LONGSHORE_METRICS_ADDR=HOST:PORT instead$/);
  });
});

describe('startMetrics', () => {
  let handle: MetricsHandle | undefined;
  let blocker: Server | undefined;
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
  });

  it('without an address or OTEL_* registers nothing: instruments are no-ops and nothing fails', async () => {
    handle = await startMetrics({ serviceName: 't', address: undefined, env: {}, logger: silentLogger() });
    expect(handle.url).toBeUndefined();
    expect(metrics.getMeterProvider().constructor.name).not.toBe('MeterProvider');
    longshoreMeter().createCounter('longshore.test').add(1);
  });

  it('serves Prometheus text at /metrics with what instruments recorded, and stops serving at shutdown', async () => {
    handle = await startMetrics({ serviceName: 't', address: '127.0.0.1:0', env: {}, logger: silentLogger() });
    expect(handle.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    longshoreMeter().createCounter('longshore.test.things', { unit: '{thing}' }).add(2, { pool: 'p' });
    const text = await (await fetch(handle.url!)).text();
    expect(text).toMatch(/^longshore_test_things_total\{pool="p"\} 2$/m);
    expect((await fetch(handle.url!.replace('/metrics', '/other'))).status).toBe(404);
    const url = handle.url!;
    await handle.shutdown();
    handle = undefined;
    await expect(fetch(url)).rejects.toThrow();
    expect(metrics.getMeterProvider().constructor.name).not.toBe('MeterProvider');
  });

  it('keeps counting counters, and shows a gauge\'s series only while its callback observes it (a deleted pool goes away)', async () => {
    handle = await startMetrics({ serviceName: 't', address: '127.0.0.1:0', env: {}, logger: silentLogger() });
    const meter = longshoreMeter();
    let pools = ['a', 'b'];
    meter.createObservableGauge('longshore.test.depth').addCallback((r) => pools.forEach((p) => r.observe(1, { pool: p })));
    const counter = meter.createCounter('longshore.test.done');
    counter.add(1);
    const first = await (await fetch(handle.url!)).text();
    expect(first).toMatch(/^longshore_test_depth\{pool="b"\} 1$/m);
    pools = ['a'];
    counter.add(1);
    const second = await (await fetch(handle.url!)).text();
    expect(second).toMatch(/^longshore_test_depth\{pool="a"\} 1$/m);
    expect(second).not.toContain('pool="b"');
    expect(second).toMatch(/^longshore_test_done_total 2$/m);
  });

  it('with an OTLP endpoint exports over OTLP/HTTP, flushing at shutdown, and serves no endpoint without an address', async () => {
    const bodies: { url: string; body: string }[] = [];
    const collector = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const port = await new Promise<number>((resolve) => collector.listen(0, '127.0.0.1', () => resolve((collector.address() as { port: number }).port)));
    // The OTLP exporter reads its endpoint from the process' environment.
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', `http://127.0.0.1:${port}`);
    try {
      handle = await startMetrics({ serviceName: 'otlp-test', address: undefined, env: process.env, logger: silentLogger() });
      expect(handle.url).toBeUndefined();
      longshoreMeter().createCounter('longshore.test.exported').add(5);
      await handle.shutdown();
      handle = undefined;
      expect(bodies.map((b) => b.url)).toContain('/v1/metrics');
      expect(bodies.map((b) => b.body).join('')).toContain('longshore.test.exported');
    } finally {
      vi.unstubAllEnvs();
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it('with OTEL_METRICS_EXPORTER=none sends nothing to the OTLP endpoint, and still serves Prometheus text', async () => {
    const urls: string[] = [];
    const collector = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        urls.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const port = await new Promise<number>((resolve) => collector.listen(0, '127.0.0.1', () => resolve((collector.address() as { port: number }).port)));
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', `http://127.0.0.1:${port}`);
    vi.stubEnv('OTEL_METRICS_EXPORTER', 'none');
    try {
      handle = await startMetrics({ serviceName: 'otlp-none-test', address: '127.0.0.1:0', env: process.env, logger: silentLogger() });
      longshoreMeter().createCounter('longshore.test.not_exported').add(2);
      const text = await (await fetch(handle.url!)).text();
      expect(text).toMatch(/^longshore_test_not_exported_total 2$/m);
      await handle.shutdown();
      handle = undefined;
      expect(urls).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it('rejects at start when the port is taken, naming LONGSHORE_METRICS_ADDR', async () => {
    blocker = createServer();
    const b = blocker;
    const port = await new Promise<number>((resolve) => b.listen(0, '127.0.0.1', () => resolve((b.address() as { port: number }).port)));
    await expect(startMetrics({ serviceName: 't', address: `127.0.0.1:${port}`, env: {}, logger: silentLogger() })).rejects.toThrow(
      `LONGSHORE_METRICS_ADDR=127.0.0.1:${port}: cannot serve metrics there: the port is already in use`,
    );
  });
});
