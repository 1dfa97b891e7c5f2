import { describe, expect, it } from 'vitest';
import { checkPlaintext, isLoopbackAddress } from './tls.js';

describe('plaintext only on loopback', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1:7400', '127.5.0.1:1', 'localhost:7400', '[::1]:7400'].map(isLoopbackAddress)).toEqual([true, true, true, true]);
    expect(['0.0.0.0:7400', '10.0.0.5:7400', 'dispatcher.svc:7400', '[::]:7400'].map(isLoopbackAddress)).toEqual([false, false, false, false]);
  });

  it('refuses plaintext elsewhere unless told, then warns', () => {
    expect(() => checkPlaintext('0.0.0.0:7400', false, false, 'listen')).toThrow(/refusing plaintext gRPC listening on 0.0.0.0:7400.*LONGSHORE_TLS_CERT.*LONGSHORE_INSECURE_PLAINTEXT=1/);
    expect(() => checkPlaintext('dispatcher.svc:7400', false, false, 'connect')).toThrow(/connecting to dispatcher.svc:7400.*LONGSHORE_TLS_CA/);
    const warned: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warned.push(msg) } as unknown as Parameters<typeof checkPlaintext>[4];
    checkPlaintext('0.0.0.0:7400', false, true, 'listen', logger);
    expect(warned[0]).toMatch(/plaintext gRPC listening on 0.0.0.0:7400 \(LONGSHORE_INSECURE_PLAINTEXT=1\)/);
    expect(() => checkPlaintext('0.0.0.0:7400', true, false, 'listen')).not.toThrow();
    expect(() => checkPlaintext('127.0.0.1:7400', false, false, 'listen')).not.toThrow();
  });
});
