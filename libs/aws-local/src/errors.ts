/**
 * An error answered to the client as AWS JSON 1.1 does: HTTP `status` and the body
 * `{"__type": type, "message": message}`. `type` is the plain shape name of the service's model
 * (`ClientException`, `InvalidParameterException`, `ResourceNotFoundException`…), which both the
 * JS SDK and botocore read. Thrown by the action handlers; anything else thrown becomes
 * `ServerException` (500) and its cause is logged, never sent.
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';

  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** ECS `ClientException` (400): the caller's request cannot be served as asked. */
export const clientError = (message: string): AwsError => new AwsError('ClientException', message);

/** `InvalidParameterException` (400): a parameter is missing, malformed or out of range. */
export const invalidParameter = (message: string): AwsError => new AwsError('InvalidParameterException', message);

/** ECS `ClusterNotFoundException` (400). */
export const clusterNotFound = (cluster: string): AwsError =>
  new AwsError('ClusterNotFoundException', `Cluster not found: "${cluster}" (the local endpoint knows "default" and those given with --cluster)`);

/** `ThrottlingException` (400): the SDKs retry it with backoff. */
export const throttled = (action: string): AwsError => new AwsError('ThrottlingException', `Rate exceeded (${action}, injected by the local endpoint)`);

/** CloudWatch Logs `ResourceNotFoundException` (400). */
export const resourceNotFound = (message: string): AwsError => new AwsError('ResourceNotFoundException', message);
