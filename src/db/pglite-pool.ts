// A pg-style pool over one embedded PGlite database, so Kysely's own PostgresDialect drives both
// PGlite and a real server through one code path. Written here rather than taken from npm: the
// published PGlite dialects pull in a CLI toolchain, and this is the whole of what we need.
// PGlite has a single connection, so "acquiring" it is a queue: a transaction holds it until
// released, and other callers wait their turn.
import type { PGlite } from '@electric-sql/pglite';

interface QueryResult {
  command: string;
  rowCount: number;
  rows: unknown[];
}

class PGliteClient {
  #db: PGlite;
  #release: () => void;
  constructor(db: PGlite, release: () => void) {
    this.#db = db;
    this.#release = release;
  }
  async query(sql: string, parameters?: readonly unknown[]): Promise<QueryResult> {
    const result = await this.#db.query(sql, parameters as unknown[] | undefined, { rowMode: 'object' });
    const command = sql.trimStart().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
    return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
  }
  release(): void {
    this.#release();
  }
}

export function createPGlitePool(db: PGlite) {
  let tail: Promise<void> = Promise.resolve();
  return {
    async connect(): Promise<PGliteClient> {
      let release!: () => void;
      const turn = new Promise<void>((resolve) => {
        release = resolve;
      });
      const previous = tail;
      tail = previous.then(() => turn);
      await previous;
      let released = false;
      return new PGliteClient(db, () => {
        if (!released) {
          released = true;
          release();
        }
      });
    },
    /**
     * LISTEN on the one connection, in its turn (never inside another caller's transaction, where
     * a rollback would undo it). PGlite hands each NOTIFY to `onNotify`, its own included.
     */
    async listen(channel: string, onNotify: (payload: string) => void): Promise<void> {
      const client = await this.connect();
      try {
        await db.listen(channel, onNotify);
      } finally {
        client.release();
      }
    },
    async end(): Promise<void> {
      await tail;
      await db.close();
    },
  };
}
