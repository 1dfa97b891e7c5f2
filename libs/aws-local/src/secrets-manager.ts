import { randomBytes, randomUUID } from 'node:crypto';
import type { ArnScope } from './arns.js';
import { AwsError, invalidParameter } from './errors.js';
import { optString, reqString, type Input } from './validate.js';

/** `X-Amz-Target` prefix of AWS Secrets Manager. */
export const SECRETS_MANAGER_TARGET = 'secretsmanager';

interface Version {
  id: string;
  value: { SecretString: string } | { SecretBinary: string };
  stages: Set<string>;
  created: number;
}

interface Secret {
  arn: string;
  name: string;
  created: number;
  versions: Version[];
}

const notFound = () => new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const notFoundVersion = () => new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");

/**
 * An in-memory AWS Secrets Manager for the calls Longshore's agent makes (GetSecretValue,
 * DescribeSecret, ListSecretVersionIds) and those a test or a developer needs to put secrets
 * there and rotate them (CreateSecret, PutSecretValue, DeleteSecret), with AWS's staging labels:
 * a new value becomes `AWSCURRENT` and the one before `AWSPREVIOUS`. Values live in this process
 * only and are never logged.
 */
export class SecretsManagerService {
  private readonly secrets = new Map<string, Secret>();

  constructor(
    private readonly scope: ArnScope,
    private readonly now: () => number,
  ) {}

  /** The handler of `action`, or undefined when this service does not serve it. */
  handler(action: string): ((input: Input) => Input) | undefined {
    const handlers: Record<string, (input: Input) => Input> = {
      CreateSecret: (i) => this.create(i),
      PutSecretValue: (i) => this.put(i),
      GetSecretValue: (i) => this.get(i),
      DescribeSecret: (i) => this.describe(i),
      ListSecretVersionIds: (i) => this.listVersions(i),
      DeleteSecret: (i) => this.delete(i),
    };
    return Object.hasOwn(handlers, action) ? handlers[action] : undefined;
  }

  private create(i: Input): Input {
    const name = reqString(i, 'Name', 512);
    if (!/^[A-Za-z0-9/_+=.@-]+$/.test(name)) throw invalidParameter(`Name "${name}" may hold only letters, digits and /_+=.@-`);
    if (this.secrets.has(name)) throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    const secret: Secret = { arn: `arn:aws:secretsmanager:${this.scope.region}:${this.scope.account}:secret:${name}-${randomBytes(3).toString('hex')}`, name, created: this.now(), versions: [] };
    this.secrets.set(name, secret);
    const value = valueOf(i, false);
    if (value === undefined) return { ARN: secret.arn, Name: name };
    const v = this.addVersion(secret, value, optString(i, 'ClientRequestToken'));
    return { ARN: secret.arn, Name: name, VersionId: v.id };
  }

  private put(i: Input): Input {
    const secret = this.find(i);
    const v = this.addVersion(secret, valueOf(i, true)!, optString(i, 'ClientRequestToken'));
    return { ARN: secret.arn, Name: secret.name, VersionId: v.id, VersionStages: [...v.stages] };
  }

  private get(i: Input): Input {
    const secret = this.find(i);
    const versionId = optString(i, 'VersionId');
    const stage = optString(i, 'VersionStage') ?? (versionId === undefined ? 'AWSCURRENT' : undefined);
    const v = secret.versions.find((x) => (versionId === undefined || x.id === versionId) && (stage === undefined || x.stages.has(stage)));
    if (!v) throw versionId === undefined && stage === 'AWSCURRENT' ? notFoundVersion() : notFound();
    return { ARN: secret.arn, Name: secret.name, VersionId: v.id, ...v.value, VersionStages: [...v.stages], CreatedDate: v.created / 1000 };
  }

  private describe(i: Input): Input {
    const secret = this.find(i);
    const stages = Object.fromEntries(secret.versions.filter((v) => v.stages.size > 0).map((v) => [v.id, [...v.stages]]));
    const last = secret.versions.at(-1)?.created ?? secret.created;
    return { ARN: secret.arn, Name: secret.name, CreatedDate: secret.created / 1000, LastChangedDate: last / 1000, VersionIdsToStages: stages };
  }

  private listVersions(i: Input): Input {
    const secret = this.find(i);
    const all = i['IncludeDeprecated'] === true;
    const versions = secret.versions.filter((v) => all || v.stages.size > 0).map((v) => ({ VersionId: v.id, VersionStages: [...v.stages], CreatedDate: v.created / 1000 }));
    return { ARN: secret.arn, Name: secret.name, Versions: versions };
  }

  private delete(i: Input): Input {
    const secret = this.find(i);
    this.secrets.delete(secret.name);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: this.now() / 1000 };
  }

  /**
   * The value an ECS container secret's `valueFrom` names, as ECS fetches it when it starts a
   * task: the secret's ARN (or name), optionally followed by `:json-key:version-stage:version-id`
   * (each part may be empty; no version = `AWSCURRENT`). Throws an Error saying why (as ECS's
   * stoppedReason would), never holding a value.
   */
  valueFrom(valueFrom: string): string {
    let id = valueFrom;
    let key: string | undefined;
    let stage: string | undefined;
    let versionId: string | undefined;
    if (valueFrom.startsWith('arn:')) {
      const parts = valueFrom.split(':');
      if (parts[2] !== 'secretsmanager' || parts[5] !== 'secret' || parts.length < 7 || parts.length > 10) {
        throw new Error(`${valueFrom} is not a Secrets Manager secret ARN (the local endpoint serves Secrets Manager only, not SSM Parameter Store)`);
      }
      id = parts.slice(0, 7).join(':');
      key = parts[7] || undefined;
      stage = parts[8] || undefined;
      versionId = parts[9] || undefined;
    }
    const secret = this.secrets.get(id) ?? [...this.secrets.values()].find((x) => x.arn === id);
    if (!secret) throw new Error("ResourceNotFoundException: Secrets Manager can't find the specified secret.");
    const v = secret.versions.find((x) => (versionId !== undefined ? x.id === versionId && (stage === undefined || x.stages.has(stage)) : x.stages.has(stage ?? 'AWSCURRENT')));
    if (!v) throw new Error(`ResourceNotFoundException: Secrets Manager can't find the specified secret value for ${versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage ?? 'AWSCURRENT'}`}`);
    const text = 'SecretString' in v.value ? v.value.SecretString : Buffer.from(v.value.SecretBinary, 'base64').toString('utf8');
    if (key === undefined) return text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`retrieved secret from Secrets Manager is not valid JSON, so it has no json key ${key}`);
    }
    const field = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[key] : undefined;
    if (field === undefined || field === null) throw new Error(`retrieved secret from Secrets Manager did not contain json key ${key}`);
    return typeof field === 'string' ? field : JSON.stringify(field);
  }

  /** The secret `SecretId` names: its name or its ARN. */
  private find(i: Input): Secret {
    const id = reqString(i, 'SecretId', 2048);
    const secret = this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id);
    if (!secret) throw notFound();
    return secret;
  }

  private addVersion(secret: Secret, value: Version['value'], token: string | undefined): Version {
    const id = token ?? randomUUID();
    if (secret.versions.some((v) => v.id === id)) throw new AwsError('ResourceExistsException', `A version with VersionId ${id} already exists for this secret.`);
    for (const v of secret.versions) {
      v.stages.delete('AWSPREVIOUS');
      if (v.stages.delete('AWSCURRENT')) v.stages.add('AWSPREVIOUS');
    }
    const v: Version = { id, value, stages: new Set(['AWSCURRENT']), created: this.now() };
    secret.versions.push(v);
    return v;
  }
}

/** `SecretString` or `SecretBinary` (base64), exactly one; `required` when the call needs a value. */
function valueOf(i: Input, required: boolean): Version['value'] | undefined {
  const text = optString(i, 'SecretString', 65_536);
  const binary = optString(i, 'SecretBinary', 90_000);
  if (text !== undefined && binary !== undefined) throw invalidParameter('give SecretString or SecretBinary, not both');
  if (text !== undefined) return { SecretString: text };
  if (binary !== undefined) return { SecretBinary: binary };
  if (required) throw invalidParameter('SecretString or SecretBinary is required');
  return undefined;
}

