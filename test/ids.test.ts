import { describe, expect, it } from 'vitest';
import { newOperationId } from '../src/ids.js';

describe('operation ids (Go defect: 32-bit ids that collide)', () => {
  it('are 22 URL-safe characters encoding 128 bits', () => {
    const id = newOperationId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('do not collide in a million draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1_000_000; i++) seen.add(newOperationId());
    expect(seen.size).toBe(1_000_000);
  });

  it('use every bit: each of the 128 bit positions is set in about half of the draws', () => {
    const draws = 20_000;
    const ones = new Array<number>(128).fill(0);
    for (let i = 0; i < draws; i++) {
      const bytes = Buffer.from(newOperationId(), 'base64url');
      for (let bit = 0; bit < 128; bit++) if ((bytes[bit >> 3]! >> (bit & 7)) & 1) ones[bit]!++;
    }
    // 20k fair coin flips: the share of ones is 0.5 +- 0.0035 (1 sigma); 0.45..0.55 is > 14 sigma.
    for (const count of ones) {
      expect(count / draws).toBeGreaterThan(0.45);
      expect(count / draws).toBeLessThan(0.55);
    }
  });
});
