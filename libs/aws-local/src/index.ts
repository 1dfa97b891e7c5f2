/**
 * `@longshore/aws-local`: local stand-ins for the AWS APIs Longshore calls (ECS, CloudWatch Logs),
 * for development and tests: they speak AWS JSON 1.1 and run ECS tasks as containers on a local
 * Docker engine.
 */
export {};
