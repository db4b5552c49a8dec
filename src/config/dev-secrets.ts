// Development-only secrets. They are published in the README on purpose so a newcomer can run
// Facet with zero setup; loadConfig refuses every one of them when NODE_ENV=production.
export const DEV_SECRETS = {
  FACET_KEK: 'ZGV2LW9ubHkta2V5LWVuY3J5cHRpb24ta2V5LTMyYnk',
  FACET_TOKEN_HASH_KEY: 'ZGV2LW9ubHktdG9rZW4taGFzaC1rZXktMzItYnl0ZXM',
  FACET_COOKIE_KEYS: 'dev-only-cookie-signing-key-change-me',
  FACET_EMBEDDING_KEYS: 'ZGV2LW9ubHktZmVybmV0LWtleS0zMi1ieXRlcy4uLi4=',
  FACET_FACTOR_KEYS: 'ZGV2LW9ubHktZmFjdG9yLXNlY3JldHMta2V5LTMyYnk=',
  /** Demo client secrets referenced from tenants/demo.yaml. */
  DEMO_WEB_SECRET: 'demo-web-dev-secret',
  DEMO_SERVICE_SECRET: 'demo-service-dev-secret',
  DEMO_ADMIN_SECRET: 'demo-admin-dev-secret',
} as const;

const known = new Set<string>(Object.values(DEV_SECRETS));

export function isDevSecret(value: string): boolean {
  return known.has(value);
}
