import { describe, expect, it } from 'vitest';
import { createUrlSigner } from '../../src/services/shared/signed-url.ts';

let clock = 1_800_000_000_000;
const signer = createUrlSigner('s'.repeat(32), { now: () => clock });
const parse = (url: string) => new URL(url, 'http://x');

describe('signed URLs', () => {
  const url = parse(signer.sign('/files/abc', { disposition: 'inline' }, 300));

  it('verify until they expire', () => {
    expect(url.searchParams.get('expires')).toBe(String(1_800_000_300));
    expect(signer.verify('/files/abc', url.searchParams)).toBe('valid');
    clock += 301_000;
    expect(signer.verify('/files/abc', url.searchParams)).toBe('expired');
    clock -= 301_000;
  });

  it('refuse another path, secret, or a changed, added or dropped parameter', () => {
    expect(signer.verify('/files/abd', url.searchParams)).toBe('invalid');
    expect(createUrlSigner('t'.repeat(32), { now: () => clock }).verify('/files/abc', url.searchParams)).toBe(
      'invalid',
    );
    const changes: ((p: URLSearchParams) => void)[] = [
      (p) => p.set('disposition', 'attachment'),
      (p) => p.set('expires', String(Number(p.get('expires')) + 3600)),
      (p) => p.append('extra', '1'),
      (p) => p.delete('disposition'),
      (p) =>
        p.set(
          'signature',
          p.get('signature')!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        ),
      (p) => p.delete('signature'),
    ];
    for (const change of changes) {
      const params = new URLSearchParams(url.searchParams);
      change(params);
      expect(signer.verify('/files/abc', params)).toBe('invalid');
    }
  });

  it('are absolute under a configured base URL', () => {
    const absolute = createUrlSigner('s'.repeat(32), { baseUrl: 'https://api.example.com/' });
    expect(absolute.sign('/files/abc', {}, 60)).toMatch(
      /^https:\/\/api\.example\.com\/files\/abc\?expires=\d+&signature=/,
    );
  });
});
