import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClientSecurity, loadServerSecurity } from './security.js';

const home = mkdtempSync(join(tmpdir(), 'longshore-sec-'));
writeFileSync(join(home, 'credentials'), JSON.stringify({ token: 'from-the-file' }));
const pem = join(home, 'x.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');

describe('loadServerSecurity', () => {
  it('has auth on and plaintext by default', () => {
    expect(loadServerSecurity({})).toEqual({ auth: 'on', insecurePlaintext: false });
  });

  it('reads TLS files, and asks for the certificate and key together', () => {
    const s = loadServerSecurity({ LONGSHORE_TLS_CERT: pem, LONGSHORE_TLS_KEY: pem, LONGSHORE_TLS_CLIENT_CA: pem });
    expect(s.tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(s.tls?.clientCa).toBeDefined();
    expect(() => loadServerSecurity({ LONGSHORE_TLS_CERT: pem })).toThrow(/LONGSHORE_TLS_CERT and LONGSHORE_TLS_KEY go together/);
    expect(() => loadServerSecurity({ LONGSHORE_TLS_CLIENT_CA: pem })).toThrow(/LONGSHORE_TLS_CLIENT_CA needs LONGSHORE_TLS_CERT/);
  });

  it('names the variable of a file it cannot read', () => {
    expect(() => loadServerSecurity({ LONGSHORE_TLS_CERT: '/nope.pem', LONGSHORE_TLS_KEY: pem })).toThrow(/LONGSHORE_TLS_CERT="\/nope.pem": cannot read it \(ENOENT\)/);
  });

  it('refuses an unknown LONGSHORE_AUTH value', () => {
    expect(() => loadServerSecurity({ LONGSHORE_AUTH: 'maybe' })).toThrow(/LONGSHORE_AUTH/);
    expect(loadServerSecurity({ LONGSHORE_AUTH: 'off' }).auth).toBe('off');
  });
});

describe('loadClientSecurity', () => {
  it('takes LONGSHORE_TOKEN first, then the credentials file up wrote, and says which', () => {
    expect(loadClientSecurity({ LONGSHORE_HOME: home, LONGSHORE_TOKEN: 'from-env' })).toMatchObject({ token: 'from-env', tokenSource: 'LONGSHORE_TOKEN' });
    expect(loadClientSecurity({ LONGSHORE_HOME: home })).toMatchObject({ token: 'from-the-file', tokenSource: join(home, 'credentials') });
    expect(loadClientSecurity({ LONGSHORE_HOME: join(home, 'none') })).toMatchObject({ tokenSource: 'none' });
    expect(loadClientSecurity({ LONGSHORE_HOME: join(home, 'none') }).token).toBeUndefined();
  });

  it('turns TLS on with a CA file or the system roots, and wants client cert and key together', () => {
    expect(loadClientSecurity({ LONGSHORE_HOME: home }).tls).toBeUndefined();
    expect(loadClientSecurity({ LONGSHORE_HOME: home, LONGSHORE_TLS_CA: 'system' }).tls).toEqual({});
    expect(loadClientSecurity({ LONGSHORE_HOME: home, LONGSHORE_TLS_CA: pem }).tls?.ca).toBeDefined();
    expect(() => loadClientSecurity({ LONGSHORE_TLS_CLIENT_CERT: pem })).toThrow(/go together/);
  });

  it('says what is wrong with a corrupt credentials file', () => {
    const bad = mkdtempSync(join(tmpdir(), 'longshore-sec-'));
    writeFileSync(join(bad, 'credentials'), 'not json');
    expect(() => loadClientSecurity({ LONGSHORE_HOME: bad })).toThrow(/is not a Longshore credentials file.*LONGSHORE_TOKEN/);
  });
});
