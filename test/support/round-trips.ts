// Counts what a piece of work sends to PostgreSQL through `pg`: statements, and round trips (a
// statement written while none is outstanding starts one; statements written behind it, pipelined,
// share it). Exact, unlike timings on a shared machine. Only for work that runs alone.
import pg from 'pg';

export interface Traffic {
  statements: number;
  roundTrips: number;
  /** The statements' text, in order (first 60 characters). */
  texts: string[];
}

export async function countTraffic<T>(work: () => Promise<T>): Promise<{ result: T } & Traffic> {
  const traffic: Traffic = { statements: 0, roundTrips: 0, texts: [] };
  let outstanding = 0;
  const original = pg.Client.prototype.query;
  const settle = () => {
    outstanding -= 1;
  };
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string };
    const text = (typeof config === 'string' ? config : (config.text ?? '')).replace(/\s+/g, ' ');
    // The tenant change feed subscribes on its own connection whenever it (re)connects: not the work's.
    if (/^(un)?listen /i.test(text)) return (original as (...a: unknown[]) => unknown).apply(this, args);
    traffic.statements += 1;
    traffic.texts.push(text.slice(0, 60));
    if (outstanding === 0) traffic.roundTrips += 1;
    outstanding += 1;
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(settle, settle);
    else settle();
    return result;
  } as typeof original;
  try {
    const result = await work();
    return { result, ...traffic };
  } finally {
    pg.Client.prototype.query = original;
  }
}
