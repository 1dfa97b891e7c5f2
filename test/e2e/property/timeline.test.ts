import { describe, expect, it } from 'vitest';
import { claimedAfter, claimsOf, fitsAtClaim, heldForOther, type AgentShape, type Run } from './timeline.js';

// Pure checks of the order-based reading the scheduling property test relies on: it must flag
// a claim that passed a fitting, waiting job by, and stay quiet when the order does not prove it.
const agent: AgentShape = { id: 'a', capacity: 1000, lanes: { ingestion: 1 } };
const run = (job: string, weight: number, start: number, end: number, lane?: string, on = 'a'): Run => ({ job, agent: on, weight, start, end, ...(lane ? { lane } : {}) });

describe('claims read from an agent’s runs', () => {
  // r1 admitted at 100 and ended at 200; the claim admitting r2 at 300 asked after 100.
  const runs = [run('r1', 500, 100, 200), run('r2', 250, 300, 400), run('r3', 250, 500, 600)];

  it('bounds when each claim asked and what it admitted', () => {
    expect(claimsOf('a', runs)).toEqual([
      { agent: 'a', at: 300, askedAfter: 100, admittedBy: 400 },
      { agent: 'a', at: 500, askedAfter: 300, admittedBy: 600 },
    ]);
  });

  it('flags a job that waited through a claim it fitted beside (its own agent took it a turn later)', () => {
    const c = claimsOf('a', runs)[0]!;
    // j started at 500, after r2's end at 400: a later turn, so it was still queued when c asked.
    const j = run('j', 250, 500, 700);
    expect(claimedAfter(c, { agent: 'a', startedAt: j.start }, [...runs, j])).toBe(true);
    // In use when c asked, at most: r1 (it ended after 100) and r2: 750 of 1000, so 250 fitted.
    expect(fitsAtClaim(agent, [...runs, j], c, { weight: 250 }, new Set(['j']))).toBe(true);
  });

  it('does not flag a job claimed in the same turn, or by another agent without a later turn to prove it', () => {
    const c = claimsOf('a', runs)[0]!;
    expect(claimedAfter(c, { agent: 'a', startedAt: 300 }, runs)).toBe(false);
    const other = [run('p', 100, 250, 260, undefined, 'b'), run('j', 100, 350, 450, undefined, 'b')];
    expect(claimedAfter(c, { agent: 'b', startedAt: 350 }, other)).toBe(false); // b's last turn began before c
    const proven = [run('p', 100, 320, 330, undefined, 'b'), run('j', 100, 350, 450, undefined, 'b')];
    expect(claimedAfter(c, { agent: 'b', startedAt: 350 }, proven)).toBe(true);
  });

  it('counts conservatively what may have been in use, weight and lanes', () => {
    const c = claimsOf('a', runs)[0]!;
    expect(fitsAtClaim(agent, runs, c, { weight: 250 }, new Set())).toBe(true); // r1 500 + r2 250 in use
    expect(fitsAtClaim(agent, runs, c, { weight: 251 }, new Set())).toBe(false);
    const laned = [run('r1', 100, 100, 200, 'ingestion'), run('r2', 100, 300, 400)];
    const cl = claimsOf('a', laned)[0]!;
    expect(fitsAtClaim(agent, laned, cl, { weight: 100, lane: 'ingestion' }, new Set())).toBe(false);
    expect(fitsAtClaim(agent, laned, cl, { weight: 100, lane: 'monitor' }, new Set())).toBe(true);
  });

  it('exempts claims made while holding a reservation for another job', () => {
    const c = claimsOf('a', runs)[0]!;
    expect(heldForOther([{ agent: 'a', job: 'big', start: 250, end: 350 }], c, 'j')).toBe(true);
    expect(heldForOther([{ agent: 'a', job: 'j', start: 250, end: 350 }], c, 'j')).toBe(false);
    expect(heldForOther([{ agent: 'a', job: 'big', start: 450, end: 550 }], c, 'j')).toBe(false);
  });
});
