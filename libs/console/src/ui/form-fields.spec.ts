import { describe, expect, it } from 'vitest';
import { argvLines, keyValueLines } from './form-fields.js';

describe('the submit form\'s fields', () => {
  it('keeps each argument verbatim, one per line', () => {
    expect(argvLines('sh\n-c\necho "a b"; exit 3\n')).toEqual(['sh', '-c', 'echo "a b"; exit 3']);
  });

  it('reads KEY=VALUE lines and names a bad one', () => {
    expect(keyValueLines('labels', 'team=data\n\n url=a=b ')).toEqual({ team: 'data', url: 'a=b' });
    expect(() => keyValueLines('labels', 'team')).toThrow('labels: "team" is not KEY=VALUE');
  });
});
