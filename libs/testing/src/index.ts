/**
 * `@longshore/testing`: a harness for integration and end-to-end tests that start real
 * processes (a private `redis-server`, the services) on 127.0.0.1 only, stop only what they
 * started (by pid), and bound every wait; and in-memory fakes for unit tests (a scriptable
 * executor). The agent's fakes (job source, registry, wake-ups) are `@longshore/agent/testing`:
 * they implement `@longshore/queue` types, and queue, store and agent use this lib in their
 * own tests, so importing them here would be a project cycle the lint refuses.
 *
 * Docker: a private dockerd ({@link startDockerd}), busybox test images built from local files,
 * and a loopback registry. The helpers that give a test file the run's shared engine
 * (`describeDocker`, `requireDocker`) need vitest, so they live in `@longshore/testing/vitest`.
 */
export { freePort } from './free-port.js';
export { startRedis, findRedisServer, redisServerRequired } from './redis-server.js';
export type { RedisHandle, RedisOptions } from './redis-server.js';
export { startRedisCluster } from './redis-cluster.js';
export type { RedisClusterHandle, RedisClusterOptions } from './redis-cluster.js';
export { startRedisSentinel } from './redis-sentinel.js';
export type { RedisSentinelHandle, RedisSentinelOptions } from './redis-sentinel.js';
export { findRedisCli } from './redis-node.js';
export type { RedisNodeHandle } from './redis-node.js';
export { startProcess } from './process-handle.js';
export type { ExitStatus, LogRecord, ProcessHandle, StartProcessOptions } from './process-handle.js';
export { repoRoot, startService } from './services.js';
export type { ServiceName } from './services.js';
export { Resources } from './resources.js';
export type { Stoppable } from './resources.js';
export { sleep, waitFor } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';
export { startCluster } from './cluster.js';
export type { Cluster, ClusterOptions } from './cluster.js';
export { startOtlpReceiver } from './otlp-receiver.js';
export { recordSpans } from './span-recorder.js';
export type { SpanRecorder } from './span-recorder.js';
export type { OtlpReceiver, ReceivedSpan } from './otlp-receiver.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { ProxyMode, TcpProxy } from './tcp-proxy.js';
export { seededRandom } from './seeded-random.js';
export { processGone } from './proc.js';
export { FakeExecutor, FakeRun } from './fake-executor.js';
export type { FakeExecutorOptions, FakeRunState, StopBehaviour } from './fake-executor.js';
export { startDockerd, findDockerd, DockerUnavailableError } from './dockerd.js';
export type { DockerdHandle, DockerdOptions } from './dockerd.js';
export { buildTestAppImage, buildTestImage, findStaticBusybox, followProgress, imageExists, TEST_APP_IMAGE, TEST_IMAGE } from './docker-images.js';
export type { ProgressEvent } from './docker-images.js';
export { startRegistry } from './docker-registry.js';
export type { RegistryHandle } from './docker-registry.js';
export { writeKubeSecretVolume } from './kube-secret-volume.js';
