import { addressBucket } from '../services/limits/address-bucket.ts';

/** Counts what each address holds open; `acquire` answers null once the address is at its cap. */
export function addressCounter(cap: number) {
  const open = new Map<string, number>();
  return {
    acquire(address: string): (() => void) | null {
      const key = addressBucket(address);
      const count = open.get(key) ?? 0;
      if (count >= cap) return null;
      open.set(key, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      };
    },
  };
}
