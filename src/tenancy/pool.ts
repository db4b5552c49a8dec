// Keeps tenants' OIDC providers warm: built lazily on first request, held in a bounded LRU, and
// rebuilt when the registry says the tenant changed (another process rotated keys or applied a
// file). Evicted entries are closed only once their in-flight requests have finished. A warm
// tenant keeps being served while the registry cannot be read.
import { LRUCache } from 'lru-cache';

export interface PoolEntry<T> {
  value: T;
  version: number;
  checkedAt: number;
  inFlight: number;
  evicted: boolean;
  close(): void;
}

export interface TenantPoolOptions<T, R = never> {
  max: number;
  /** Look up the tenant's current version; undefined when unknown or disabled. */
  version(slug: string): Promise<number | undefined>;
  /**
   * On a miss: the version and what `build` needs (the registry row) in one read, instead of a
   * version check followed by the same row read again. Without it a miss asks `version`.
   */
  find?(slug: string): Promise<{ version: number; record: R } | undefined>;
  /** `record` is what `find` returned, when the build follows a miss. */
  build(slug: string, record?: R): Promise<T>;
  close?(value: T): void;
  /** How long a version check stays trusted. */
  recheckMs?: number;
  now?: () => number;
}

export function createTenantPool<T, R = never>({ max, version, find, build, close = () => {}, recheckMs = 2000, now = Date.now }: TenantPoolOptions<T, R>) {
  const building = new Map<string, Promise<PoolEntry<T> | undefined>>();
  const cache = new LRUCache<string, PoolEntry<T>>({
    max,
    dispose: (entry) => {
      entry.evicted = true;
      if (entry.inFlight === 0) entry.close();
    },
  });

  async function load(slug: string, current?: number): Promise<PoolEntry<T> | undefined> {
    let v = current;
    let record: R | undefined;
    if (v === undefined) {
      if (find) {
        const found = await find(slug);
        v = found?.version;
        record = found?.record;
      } else v = await version(slug);
    }
    if (v === undefined) {
      cache.delete(slug);
      return undefined;
    }
    const value = await build(slug, record);
    const entry: PoolEntry<T> = { value, version: v, checkedAt: now(), inFlight: 0, evicted: false, close: () => close(value) };
    cache.set(slug, entry);
    return entry;
  }

  async function get(slug: string): Promise<PoolEntry<T> | undefined> {
    const cached = cache.get(slug);
    if (cached && now() - cached.checkedAt < recheckMs) return cached;
    const pending = building.get(slug);
    if (pending) return pending;
    const task = (async () => {
      if (cached) {
        let v: number | undefined;
        try {
          v = await version(slug);
        } catch {
          // The registry cannot be read (database down): keep serving the warm tenant, so what
          // needs no database (discovery, JWKS, JWT client_credentials) stays up. Asked again
          // after recheckMs.
          cached.checkedAt = now();
          return cached;
        }
        if (v === cached.version) {
          cached.checkedAt = now();
          return cached;
        }
        if (v === undefined) {
          cache.delete(slug);
          return undefined;
        }
        return load(slug, v);
      }
      return load(slug);
    })();
    building.set(slug, task);
    try {
      return await task;
    } finally {
      building.delete(slug);
    }
  }

  return {
    /** Runs `work` with the tenant's value, keeping it open until `work` settles. */
    async use<R>(slug: string, work: (value: T) => Promise<R>): Promise<R | undefined> {
      const entry = await get(slug);
      if (!entry) return undefined;
      entry.inFlight += 1;
      try {
        return await work(entry.value);
      } finally {
        entry.inFlight -= 1;
        if (entry.evicted && entry.inFlight === 0) entry.close();
      }
    },
    invalidate(slug: string) {
      cache.delete(slug);
    },
    /** Re-check the tenant's version on its next request (all tenants without a slug): another process changed it. */
    expire(slug?: string) {
      if (slug === undefined) for (const entry of cache.values()) entry.checkedAt = -Infinity;
      else {
        const entry = cache.peek(slug);
        if (entry) entry.checkedAt = -Infinity;
      }
    },
    get size() {
      return cache.size;
    },
    /** Whether the tenant is warm in this process, and how many requests it is serving (for the operator console). */
    peek(slug: string): { warm: boolean; inFlight: number } {
      const entry = cache.peek(slug);
      return { warm: entry !== undefined, inFlight: entry?.inFlight ?? 0 };
    },
    clear() {
      cache.clear();
    },
  };
}

export type TenantPool<T, R = never> = ReturnType<typeof createTenantPool<T, R>>;
