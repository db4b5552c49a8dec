// Which database backends a test file runs against: always embedded PGlite, and the real
// PostgreSQL server too when DATABASE_URL is set (as in CI).
export const backends: Array<'postgres' | 'pglite'> = process.env.DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];
