import { describe, expect, it } from 'vitest';
import { TaskDefinitions } from './task-definitions.js';

const scope = { region: 'eu-west-1', account: '123456789012' };
const now = new Date(1_700_000_000_000);
const main = { name: 'main', image: 'app:1' };

describe('TaskDefinitions', () => {
  it('numbers revisions per family, resolves family, family:revision and ARN, and follows deregistration', () => {
    const defs = new TaskDefinitions(scope);
    const r1 = defs.register({ family: 'f', containerDefinitions: [main] }, now);
    const r2 = defs.register({ family: 'f', containerDefinitions: [main] }, now);
    expect(r2.arn).toBe('arn:aws:ecs:eu-west-1:123456789012:task-definition/f:2');
    expect(defs.find('f')).toBe(r2);
    expect(defs.find('f:1')).toBe(r1);
    expect(defs.find(r1.arn)).toBe(r1);
    expect(defs.find('g')).toBeUndefined();
    defs.deregister('f:2', now);
    expect(defs.find('f')).toBe(r1); // the latest ACTIVE one
    expect(defs.list({ status: 'INACTIVE' }).taskDefinitionArns).toEqual([r2.arn]);
    expect(defs.list({}).taskDefinitionArns).toEqual([r1.arn]);
    expect(r1.raw).toMatchObject({ status: 'ACTIVE', revision: 1, registeredAt: 1_700_000_000, containerDefinitions: [expect.objectContaining({ name: 'main', essential: true })] });
  });

  it('refuses definitions it could not run, naming what is wrong', () => {
    const defs = new TaskDefinitions(scope);
    expect(() => defs.register({ family: 'f', containerDefinitions: [] }, now)).toThrow(/at least one container/);
    expect(() => defs.register({ family: 'f', containerDefinitions: [main, main] }, now)).toThrow(/"main" is used twice/);
    expect(() => defs.register({ family: 'f', containerDefinitions: [{ ...main, essential: false }] }, now)).toThrow(/essential/);
    expect(() => defs.register({ family: 'f', containerDefinitions: [{ name: 'main' }] }, now)).toThrow(/image is required/);
    expect(() => defs.register({ family: 'f', containerDefinitions: [{ ...main, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } }] }, now)).toThrow(/awslogs-stream-prefix/);
    expect(() => defs.register({ family: 'f', memory: '1 GB', containerDefinitions: [main] }, now)).toThrow(/memory must be a whole number/);
    expect(() => defs.register({ family: 'f', containerDefinitions: [main], tags: [{ key: 'aws:x', value: 'v' }] }, now)).toThrow(/reserved/);
  });

  it('lists one family in pages, newest first with DESC', () => {
    const defs = new TaskDefinitions(scope);
    for (let i = 0; i < 3; i++) defs.register({ family: 'a', containerDefinitions: [main] }, now);
    defs.register({ family: 'b', containerDefinitions: [main] }, now);
    const p1 = defs.list({ familyPrefix: 'a', sort: 'DESC', maxResults: 2 });
    expect(p1.taskDefinitionArns.map((a) => a.split('/')[1])).toEqual(['a:3', 'a:2']);
    const p2 = defs.list({ familyPrefix: 'a', sort: 'DESC', maxResults: 2, nextToken: p1.nextToken });
    expect(p2).toEqual({ taskDefinitionArns: [expect.stringMatching(/a:1$/)] });
    expect(() => defs.list({ nextToken: 'garbage' })).toThrow(/nextToken/);
  });
});
