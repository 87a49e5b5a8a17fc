import ipaddr from 'ipaddr.js';

/**
 * The key a client's budgets (rate limits, connection caps) are kept under: an IPv4 address as is
 * (IPv4-mapped IPv6 included), an IPv6 address by its /64, the block one subscriber controls whole.
 */
export function addressBucket(address: string): string {
  if (!ipaddr.isValid(address)) return address.slice(0, 64);
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
