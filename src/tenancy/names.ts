// Tenant naming rules in one place: the slug a person types, the schema it lives in, and the
// database role that alone may touch that schema.
import { FacetError } from '../errors/facet-error.ts';

/** 2–40 characters of a-z, 0-9 and '-', starting and ending with a letter or digit. */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])$/;
const PREFIX = /^[a-z0-9]{4,12}$/;

export class InvalidSlugError extends FacetError {
  override name = 'InvalidSlugError';
  readonly code = 'invalid_slug';
}

export function assertValidSlug(slug: string): void {
  if (!SLUG.test(slug)) {
    throw new InvalidSlugError(
      `invalid tenant slug ${JSON.stringify(slug)}: use 2–40 characters of a-z, 0-9 and '-', not starting or ending with '-'`,
    );
  }
}

export function schemaForSlug(slug: string): string {
  assertValidSlug(slug);
  return `tenant_${slug.replaceAll('-', '_')}`;
}

/**
 * Roles are cluster-wide while schemas are per database, so the role carries the installation's
 * prefix: two Facet databases on one server (parallel test runs, staging beside production) never
 * share a tenant role.
 */
export function roleForSlug(installationPrefix: string, slug: string): string {
  assertValidSlug(slug);
  if (!PREFIX.test(installationPrefix)) throw new Error(`invalid installation prefix ${installationPrefix}`);
  return `facet_${installationPrefix}_${slug.replaceAll('-', '_')}`;
}

/** Quotes an identifier we generated ourselves (validated above); never used on user input. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`refusing unsafe identifier ${name}`);
  return `"${name}"`;
}
