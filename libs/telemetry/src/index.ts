/** Logging and trace-context helpers shared by every service. */
export { createLogger, silentLogger, traceFields } from './logger.js';
export type { Logger } from './logger.js';
export { injectTraceContext, extractTraceContext, activeTraceId, traceparentOf } from './trace-context.js';
export type { TraceCarrier } from './trace-context.js';
export { handleShutdownSignals, exitOnStartupError, exitAfterFlush, onFlush, flushTelemetry } from './shutdown.js';
export { startTelemetry, tracesWanted } from './sdk.js';
export { withSpan, tracerGetter } from './spans.js';
export { AlsContextManager } from './context-manager.js';
export type { Telemetry } from './sdk.js';
export type { ShutdownHook } from './shutdown.js';
export { startMetrics, gaugesObservedOnly, longshoreMeter, parseHostPort, otlpMetricsEnabled, metricsListenError, METRICS_ADDR_VAR } from './metrics.js';
export type { MetricsHandle, MetricsOptions } from './metrics.js';
