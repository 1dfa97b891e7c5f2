import type { GetLogEventsCommandInput, GetLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import type {
  DescribeClustersCommandInput,
  DescribeClustersCommandOutput,
  DescribeTaskDefinitionCommandInput,
  DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  ListTaskDefinitionsCommandInput,
  ListTaskDefinitionsCommandOutput,
  ListTasksCommandInput,
  ListTasksCommandOutput,
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommandOutput,
  RunTaskCommandInput,
  RunTaskCommandOutput,
  StopTaskCommandInput,
  StopTaskCommandOutput,
} from '@aws-sdk/client-ecs';

/** An SDK command's answer without the SDK's response metadata. */
type Out<T> = Omit<T, '$metadata'>;

/**
 * The ECS and CloudWatch Logs calls the ECS executor makes, one method per API action, with the
 * SDK's own input and output shapes. {@link createSdkEcsApi} sends them with AWS SDK v3; unit
 * specs give an in-memory cluster instead. A method rejects with the SDK's error (its `name` is
 * the API's error code, e.g. `ThrottlingException`).
 */
export interface EcsApi {
  runTask(input: RunTaskCommandInput, signal?: AbortSignal): Promise<Out<RunTaskCommandOutput>>;
  describeTasks(input: DescribeTasksCommandInput): Promise<Out<DescribeTasksCommandOutput>>;
  stopTask(input: StopTaskCommandInput): Promise<Out<StopTaskCommandOutput>>;
  listTasks(input: ListTasksCommandInput): Promise<Out<ListTasksCommandOutput>>;
  describeTaskDefinition(input: DescribeTaskDefinitionCommandInput): Promise<Out<DescribeTaskDefinitionCommandOutput>>;
  listTaskDefinitions(input: ListTaskDefinitionsCommandInput): Promise<Out<ListTaskDefinitionsCommandOutput>>;
  registerTaskDefinition(input: RegisterTaskDefinitionCommandInput): Promise<Out<RegisterTaskDefinitionCommandOutput>>;
  describeClusters(input: DescribeClustersCommandInput, signal?: AbortSignal): Promise<Out<DescribeClustersCommandOutput>>;
  getLogEvents(input: GetLogEventsCommandInput): Promise<Out<GetLogEventsCommandOutput>>;
}

/**
 * The {@link EcsApi} of AWS SDK v3 (`@aws-sdk/client-ecs`, `@aws-sdk/client-cloudwatch-logs`),
 * loaded on first use. Region, credentials and endpoints come from the SDK's own defaults:
 * `region` (else `AWS_REGION`), the default credential provider chain, and the standard
 * `AWS_ENDPOINT_URL_ECS` / `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` (or `AWS_ENDPOINT_URL`), which the
 * SDK reads itself. The SDK retries throttled calls a few times before the executor sees them.
 */
export function createSdkEcsApi(region?: string): EcsApi {
  const config = region ? { region } : {};
  const ecs = once(async () => {
    const m = await import('@aws-sdk/client-ecs');
    return { m, client: new m.ECSClient(config) };
  });
  const logs = once(async () => {
    const m = await import('@aws-sdk/client-cloudwatch-logs');
    return { m, client: new m.CloudWatchLogsClient(config) };
  });
  return {
    runTask: async (input, signal) => {
      const { m, client } = await ecs();
      return client.send(new m.RunTaskCommand(input), signal ? { abortSignal: signal } : {});
    },
    describeTasks: async (input) => {
      const { m, client } = await ecs();
      return client.send(new m.DescribeTasksCommand(input));
    },
    stopTask: async (input) => {
      const { m, client } = await ecs();
      return client.send(new m.StopTaskCommand(input));
    },
    listTasks: async (input) => {
      const { m, client } = await ecs();
      return client.send(new m.ListTasksCommand(input));
    },
    describeTaskDefinition: async (input) => {
      const { m, client } = await ecs();
      return client.send(new m.DescribeTaskDefinitionCommand(input));
    },
    listTaskDefinitions: async (input) => {
      const { m, client } = await ecs();
      return client.send(new m.ListTaskDefinitionsCommand(input));
    },
    registerTaskDefinition: async (input) => {
      const { m, client } = await ecs();
      return client.send(new m.RegisterTaskDefinitionCommand(input));
    },
    describeClusters: async (input, signal) => {
      const { m, client } = await ecs();
      return client.send(new m.DescribeClustersCommand(input), signal ? { abortSignal: signal } : {});
    },
    getLogEvents: async (input) => {
      const { m, client } = await logs();
      return client.send(new m.GetLogEventsCommand(input));
    },
  };
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** The error codes ECS and CloudWatch Logs answer when a caller is over its rate. */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** Whether `err` is AWS saying "slow down" (retry later), not "no". */
export function isThrottling(err: unknown): boolean {
  return err instanceof Error && THROTTLING.has(err.name);
}

/** Whether `err` is a fault on AWS's side (a 5xx `ServerException`), worth retrying. */
export function isServerFault(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ServerException' || (err as { $fault?: string }).$fault === 'server');
}

/** `err` as a message naming the API's error code, e.g. `AccessDeniedException: User … is not authorized`. */
export function awsMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.message && !err.message.startsWith(err.name) ? `${err.name}: ${err.message}` : err.message || err.name;
}
