import { createServer, type Server } from 'node:http';
import { metrics, type Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InstrumentType, MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import { exporterNames } from './otel-env.js';

/** The variable that names where a service serves Prometheus text. */
export const METRICS_ADDR_VAR = 'LONGSHORE_METRICS_ADDR';

/** The meter every Longshore instrument is created on (the global provider's, or a no-op one). */
export function longshoreMeter(): Meter {
  return metrics.getMeter('longshore');
}

/** A `host:port` address split; `[::1]:9464` gives host `::1`. Throws naming the variable when it is not one. */
export function parseHostPort(text: string, variable = METRICS_ADDR_VAR): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${variable}=${JSON.stringify(text)}: must be HOST:PORT with a port from 0 to 65535 (e.g. 0.0.0.0:9464)`);
  return { host: m[1] ?? m[2]!, port };
}

/** The exporters `OTEL_METRICS_EXPORTER` names (a comma-separated list; unset: `otlp`). */
function metricsExporters(env: NodeJS.ProcessEnv): string[] {
  const named = exporterNames(env['OTEL_METRICS_EXPORTER']).map((e) => e.toLowerCase());
  return named.length === 0 ? ['otlp'] : named;
}

/**
 * Whether metrics go over OTLP: an OTLP endpoint is set, `OTEL_METRICS_EXPORTER` is unset or
 * names `otlp` (`none`: no OTLP export, so traces can be exported without metrics), and the SDK
 * is not disabled (OTEL_SDK_DISABLED). The Prometheus endpoint does not depend on it.
 */
export function otlpMetricsEnabled(env: NodeJS.ProcessEnv): boolean {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return false;
  if (!metricsExporters(env).includes('otlp')) return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT']);
}

/**
 * What a service says at start about an `OTEL_METRICS_EXPORTER` it does not follow (Longshore
 * exports metrics over OTLP, or as Prometheus text at LONGSHORE_METRICS_ADDR): undefined when
 * every name is `otlp` or `none`.
 */
export function metricsExporterWarning(env: NodeJS.ProcessEnv): string | undefined {
  const other = metricsExporters(env).filter((e) => e !== 'otlp' && e !== 'none');
  if (other.length === 0) return undefined;
  const hint = other.includes('prometheus') ? `; for Prometheus set ${METRICS_ADDR_VAR}=HOST:PORT instead` : '';
  return `OTEL_METRICS_EXPORTER=${env['OTEL_METRICS_EXPORTER'] ?? ''}: Longshore exports metrics only over OTLP ("otlp") or not at all ("none"); ignoring ${other.map((e) => JSON.stringify(e)).join(', ')}${hint}`;
}

/** The start-up error for a metrics address that cannot be listened on, naming the variable and the fix. */
export function metricsListenError(address: string, err: NodeJS.ErrnoException, variable = METRICS_ADDR_VAR, unsetMeansNone = true): Error {
  const why =
    err.code === 'EADDRINUSE'
      ? 'the port is already in use (another service on this host?)'
      : err.code === 'EADDRNOTAVAIL'
        ? 'no interface of this host has that address'
        : err.code === 'EACCES'
          ? 'not allowed to listen there (a port below 1024 needs privileges)'
          : err.message;
  return new Error(`${variable}=${address}: cannot serve metrics there: ${why}; set ${variable} to a free HOST:PORT${unsetMeansNone ? ', or unset it for no metrics endpoint' : ''}`, { cause: err });
}

/**
 * The temporality Longshore's readers use: observable gauges as delta, so a series reports only
 * what its callback observed in this collection (a deleted pool, a stopped agent disappear; a
 * gauge's value is its last observation either way); everything else as `base` says (cumulative
 * for Prometheus, counters keep counting).
 */
export function gaugesObservedOnly(base: (type: InstrumentType) => AggregationTemporality): (type: InstrumentType) => AggregationTemporality {
  return (type) => (type === InstrumentType.OBSERVABLE_GAUGE ? AggregationTemporality.DELTA : base(type));
}

/** The Prometheus exporter, its gauges reporting only what was observed now (see {@link gaugesObservedOnly}). */
class PrometheusReader extends PrometheusExporter {
  private readonly temporality = gaugesObservedOnly((type) => super.selectAggregationTemporality(type));
  override selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return this.temporality(type);
  }
}

export interface MetricsOptions {
  /** `service.name` of the exported metrics. */
  serviceName: string;
  /** Where to serve Prometheus text (`LONGSHORE_METRICS_ADDR`); undefined = no endpoint. */
  address: string | undefined;
  /** Where OTEL_* is read (OTLP export). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The variable `address` came from, for errors (default LONGSHORE_METRICS_ADDR). */
  variable?: string;
  /** Whether unsetting the variable means no endpoint, as errors then suggest (default true; not for `longshore up`). */
  unsetMeansNone?: boolean;
}

/** Metrics of this process, once started. */
export interface MetricsHandle {
  /** The Prometheus endpoint's URL (`http://host:port/metrics`), if one is served. */
  readonly url: string | undefined;
  /** Exports what is pending (OTLP), stops the endpoint and the provider. */
  shutdown(): Promise<void>;
}

/**
 * Starts this process' metrics: a global MeterProvider (so instruments made with
 * {@link longshoreMeter} after this record) read by a Prometheus exporter served at `address`,
 * and, when {@link otlpMetricsEnabled}, an OTLP/HTTP exporter every OTEL_METRIC_EXPORT_INTERVAL
 * (60 s). With neither nothing is registered: instruments are no-ops and nothing is exported.
 * Rejects with {@link metricsListenError} when `address` cannot be listened on.
 */
export async function startMetrics(opts: MetricsOptions): Promise<MetricsHandle> {
  const readers: IMetricReader[] = [];
  const warning = metricsExporterWarning(opts.env);
  if (warning) opts.logger.warn(warning);
  const prometheus = opts.address === undefined ? undefined : new PrometheusReader({ preventServerStart: true, withoutScopeInfo: true });
  if (prometheus) readers.push(prometheus);
  if (otlpMetricsEnabled(opts.env)) {
    const interval = Number(opts.env['OTEL_METRIC_EXPORT_INTERVAL'] ?? '');
    const exporter = new OTLPMetricExporter();
    // Read by the reader at construction: set before it is made.
    exporter.selectAggregationTemporality = gaugesObservedOnly(exporter.selectAggregationTemporality.bind(exporter));
    readers.push(new PeriodicExportingMetricReader({ exporter, ...(interval > 0 ? { exportIntervalMillis: interval } : {}) }));
  }
  if (readers.length === 0) return { url: undefined, shutdown: () => Promise.resolve() };

  let server: Server | undefined;
  let url: string | undefined;
  if (prometheus && opts.address !== undefined) {
    const { host, port } = parseHostPort(opts.address, opts.variable);
    server = createServer((req, res) => {
      if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') prometheus.getMetricsRequestHandler(req, res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('Longshore serves its metrics at /metrics\n');
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err: NodeJS.ErrnoException) => reject(metricsListenError(opts.address!, err, opts.variable, opts.unsetMeansNone)));
      s.listen(port, host, () => resolve());
    });
    const bound = s.address();
    const boundPort = typeof bound === 'object' && bound ? bound.port : port;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/metrics`;
  }

  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': opts.serviceName }), readers });
  const registered = metrics.setGlobalMeterProvider(provider);
  if (!registered) opts.logger.warn('a global meter provider was already registered: this one is not used by instruments made later');
  if (url) opts.logger.info({ url }, 'serving metrics');
  let done: Promise<void> | undefined;
  return {
    url,
    shutdown() {
      done ??= (async () => {
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          });
        }
        await provider.shutdown().catch((err: unknown) => opts.logger.warn({ err: (err as Error).message }, 'could not export the last metrics'));
        if (registered) metrics.disable();
      })();
      return done;
    },
  };
}
