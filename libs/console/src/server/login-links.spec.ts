import { describe, expect, it } from 'vitest';
import { LoginLinks } from './login-links.js';

describe('one-time login links', () => {
  it('sign in once, then never again', () => {
    const links = new LoginLinks();
    const code = links.issue('admin-token');
    expect(links.redeem(code)).toBe('admin-token');
    expect(links.redeem(code)).toBeUndefined();
  });

  it('refuse unknown and expired codes', () => {
    const links = new LoginLinks(1000);
    const code = links.issue('t', 0);
    expect(links.redeem(`${code}x`, 10)).toBeUndefined();
    expect(links.redeem(code, 5000)).toBeUndefined();
  });
});
