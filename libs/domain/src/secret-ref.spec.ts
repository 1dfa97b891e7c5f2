import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors/index.js';
import { validateJobSpec } from './job-spec.js';
import type { JobSpec } from './model.js';
import { parseSecretTemplate, renderSecretTemplate, secretAllowed, secretNamesOf, secretRefsIn, validateSecretPatterns } from './secret-ref.js';

const ok: JobSpec = { pool: '', allowedExecutors: [], command: ['echo', 'hi'], env: {}, weightMilli: 0, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} };

function refusal(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('secret references', () => {
  it('finds ${NAME} and ${NAME#key} among text and renders them', () => {
    const parts = parseSecretTemplate('env.X', 'postgres://app:${DB_PASSWORD}@db/${DB#name}');
    expect(parts).toEqual([{ text: 'postgres://app:' }, { ref: { name: 'DB_PASSWORD' } }, { text: '@db/' }, { ref: { name: 'DB', key: 'name' } }]);
    expect(renderSecretTemplate(parts, (r) => (r.key ? `<${r.name}.${r.key}>` : `<${r.name}>`))).toBe('postgres://app:<DB_PASSWORD>@db/<DB.name>');
  });

  it('keeps $${…} as a literal ${…} and a lone $ as itself', () => {
    expect(secretRefsIn('env.X', 'a $${HOME} b $HOME c $ d')).toEqual([]);
    expect(renderSecretTemplate(parseSecretTemplate('env.X', 'a $${HOME} b $HOME'), () => 'NO')).toBe('a ${HOME} b $HOME');
    expect(renderSecretTemplate(parseSecretTemplate('env.X', ''), () => 'NO')).toBe('');
  });

  it('refuses anything but a name inside ${…}, naming the field and the reference', () => {
    for (const bad of ['${../x}', '${a/b}', '${}', '${1ABC}', '${A\0B}', '${A B}', '${x#}', '${x#a/b}', '${unclosed', `\${${'A'.repeat(129)}}`]) {
      const err = refusal(() => parseSecretTemplate('env.PW', bad));
      expect(err.field, bad).toBe('env.PW');
      expect(err.message, bad).toMatch(/secret reference/);
    }
    expect(refusal(() => parseSecretTemplate('env.PW', '${../etc/passwd}')).message).toContain('../etc/passwd');
    expect(secretRefsIn('env.X', `\${${'A'.repeat(128)}}`)).toHaveLength(1);
  });

  it('lists the names a job env references, once each', () => {
    expect(secretNamesOf({ A: '${X}${Y#k}', B: '${X} and $${Z}', C: 'plain' })).toEqual(['X', 'Y']);
  });

  it('matches pool allow-lists with * patterns; empty allows all', () => {
    expect(secretAllowed('ingest_db', ['ingest_*', 'DB_PASSWORD'])).toBe(true);
    expect(secretAllowed('DB_PASSWORD', ['ingest_*', 'DB_PASSWORD'])).toBe(true);
    expect(secretAllowed('billing_db', ['ingest_*', 'DB_PASSWORD'])).toBe(false);
    expect(secretAllowed('DB_PASSWORD2', ['DB_PASSWORD'])).toBe(false);
    expect(secretAllowed('anything', [])).toBe(true);
    expect(validateSecretPatterns('secrets', ['a_*', 'a_*', 'B'])).toEqual(['a_*', 'B']);
    expect(refusal(() => validateSecretPatterns('secrets', ['../x'])).field).toBe('secrets');
  });
});

describe('validateJobSpec and secret references', () => {
  it('accepts references in env values and leaves argv and build steps alone', () => {
    const spec = validateJobSpec({ ...ok, image: 'busybox', command: ['sh', '-c', 'echo ${HOME} ${../x}'], env: { PW: '${DB_PASSWORD}' }, docker: { buildSteps: ['echo ${PATH}'] } });
    expect(spec.env['PW']).toBe('${DB_PASSWORD}');
  });

  it('refuses a bad reference in an env value naming the variable', () => {
    expect(refusal(() => validateJobSpec({ ...ok, env: { PW: '${../x}' } })).field).toBe('env.PW');
  });

  it('refuses a reference in a docker build arg, naming the arg and the fix', () => {
    const err = refusal(() => validateJobSpec({ ...ok, image: 'busybox', docker: { buildArgs: { TOKEN: '${NPM_TOKEN}' } } }));
    expect(err.field).toBe('docker.build_args.TOKEN');
    expect(err.message).toMatch(/NPM_TOKEN.*baked into a cached image layer.*env/);
    expect(validateJobSpec({ ...ok, image: 'busybox', docker: { buildArgs: { LIT: '$${NOT_A_SECRET}' } } }).docker?.buildArgs?.['LIT']).toBe('$${NOT_A_SECRET}');
  });
});
