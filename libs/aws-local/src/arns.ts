/** Where the endpoint says its resources live: the region and account in every ARN. */
export interface ArnScope {
  region: string;
  account: string;
}

/** `arn:aws:ecs:<region>:<account>:<resource>`. */
export function ecsArn(scope: ArnScope, resource: string): string {
  return `arn:aws:ecs:${scope.region}:${scope.account}:${resource}`;
}

/** The short name in a cluster reference (a name or a cluster ARN). */
export function clusterName(ref: string): string {
  const m = /^arn:aws[\w-]*:ecs:[^:]*:[^:]*:cluster\/(.+)$/.exec(ref);
  return m ? m[1]! : ref;
}

/** The task id in a task reference (an id, or an ARN of the old or the new format). */
export function taskId(ref: string): string {
  const m = /^arn:aws[\w-]*:ecs:[^:]*:[^:]*:task\/(?:[^/]+\/)?([^/]+)$/.exec(ref);
  return m ? m[1]! : ref;
}
