// The audit event catalogue: every event type Facet writes, its data fields, its outcome and the
// OCSF class and activity it maps to. appendAudit accepts only the types declared here (a new
// type is a compile error until it is added), the search API's category and outcome filters and
// the OCSF export read this table, and docs/audit.md lists it. Factor names in event types follow
// src/factors/names.ts: `passkey.*`, `factor.<otp|nfc|face>.*`, `recovery_code.*`.

/** OCSF 1.x classes Facet's events fall into (class_uid → name, category). */
export const OCSF_CLASSES = {
  3001: { name: 'Account Change', category: 'account_change', categoryUid: 3, categoryName: 'Identity & Access Management' },
  3002: { name: 'Authentication', category: 'authentication', categoryUid: 3, categoryName: 'Identity & Access Management' },
  3003: { name: 'Authorize Session', category: 'authorize_session', categoryUid: 3, categoryName: 'Identity & Access Management' },
  3005: { name: 'User Access Management', category: 'user_access', categoryUid: 3, categoryName: 'Identity & Access Management' },
  6003: { name: 'API Activity', category: 'api_activity', categoryUid: 6, categoryName: 'Application Activity' },
} as const;
export type OcsfClassUid = keyof typeof OCSF_CLASSES;
export type AuditCategory = (typeof OCSF_CLASSES)[OcsfClassUid]['category'];
export const AUDIT_CATEGORIES = [...new Set(Object.values(OCSF_CLASSES).map((c) => c.category))] as AuditCategory[];

/** OCSF activity ids used below, by class. */
export const OCSF_ACTIVITIES: Record<OcsfClassUid, Record<number, string>> = {
  3001: { 1: 'Create', 2: 'Enable', 6: 'Delete', 9: 'Lock', 10: 'MFA Factor Enable', 11: 'MFA Factor Disable', 12: 'Unlock', 99: 'Other' },
  3002: { 1: 'Logon', 2: 'Logoff', 99: 'Other' },
  3003: { 1: 'Assign Privileges', 99: 'Other' },
  3005: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' },
  6003: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
};

export type AuditOutcome = 'success' | 'failure' | 'other';
export const AUDIT_OUTCOMES = ['success', 'failure', 'other'] as const;

/**
 * A field's type, in a small notation: `string`, `number`, `boolean`, `string[]`, `object`,
 * `unknown`; a trailing `?` makes it optional (absent or null).
 */
type FieldSpec = 'string' | 'number' | 'boolean' | 'string[]' | 'object' | 'unknown' | 'string?' | 'number?' | 'boolean?' | 'string[]?' | 'object?' | 'unknown?';

export interface AuditEventSpec {
  summary: string;
  ocsf: { classUid: OcsfClassUid; activityId: number };
  outcome: AuditOutcome;
  fields: Record<string, FieldSpec>;
}

// (A `factor` field's key is quoted: test/core/factor-vocabulary.test.ts reads `factor: '…'` as a
// factor name.)
// Fields shared by several events.
const flow = 'string?' as const; // 'sign-in' | 'sign-up' | 'step-up' | 'account' | 'recovery' …
const proof = 'object?' as const; // the fresh proof an account-page change was made with
const attemptFailed = { reason: 'string', flow } as const;

function spec<const F extends Record<string, FieldSpec>>(summary: string, classUid: OcsfClassUid, activityId: number, outcome: AuditOutcome, fields: F) {
  return { summary, ocsf: { classUid, activityId }, outcome, fields };
}

export const AUDIT_EVENTS = {
  // Authentication (3002)
  'passkey.sign_in': spec('A user signed in with a passkey.', 3002, 1, 'success', { credential_id: 'string', amr: 'string[]', backup_state: 'boolean?', flow }),
  'passkey.sign_in_failed': spec('A passkey sign-in was refused (reason: locked, unknown credential, bad signature …).', 3002, 1, 'failure', { reason: 'string', detail: 'string?', credential_id: 'string?', flow }),
  'passkey.counter_regression': spec('A passkey presented a signature counter lower than the stored one (possible clone); refused.', 3002, 1, 'failure', { reason: 'string', detail: 'string?', credential_id: 'string?', flow }),
  'factor.otp.verified': spec('An authenticator-app code was accepted.', 3002, 99, 'success', { flow }),
  'factor.otp.failed': spec('An authenticator-app code was refused.', 3002, 99, 'failure', attemptFailed),
  'factor.nfc.verified': spec('An NFC card tap was accepted.', 3002, 99, 'success', { flow }),
  'factor.nfc.failed': spec('An NFC card tap was refused.', 3002, 99, 'failure', attemptFailed),
  'factor.face.verified': spec('A face check passed.', 3002, 99, 'success', { challenge_steps: 'number?', frames: 'number?', flow }),
  'factor.face.failed': spec('A face check failed or was refused.', 3002, 99, 'failure', { reason: 'string' }),
  'recovery_code.used': spec('A recovery code was accepted (it is spent).', 3002, 1, 'success', { flow }),
  'recovery_code.failed': spec('A recovery code was refused.', 3002, 1, 'failure', attemptFailed),
  'account.signed_out_everywhere': spec('Every session, grant and refresh-token family of the account was ended.', 3002, 2, 'success', { families_ended: 'number?' }),
  'account.session_ended': spec('The user signed one of their sessions out from the account page.', 3002, 2, 'success', { session: 'string' }),
  'account.app_revoked': spec('The user revoked an application’s access (consent and grants) from the account page.', 3005, 2, 'success', { records: 'number' }),

  // Account Change (3001)
  'user.signed_up': spec('A new account was created by sign-up.', 3001, 1, 'success', { username: 'string', flow }),
  'passkey.registered': spec('A passkey was added to an account.', 3001, 10, 'success', { credential_id: 'string', aaguid: 'string?', backup_eligible: 'boolean?', backup_state: 'boolean?', fmt: 'string?', proof }),
  'passkey.registration_failed': spec('Adding a passkey failed verification.', 3001, 10, 'failure', { reason: 'string', detail: 'string?', flow }),
  'passkey.removed': spec('A passkey was removed from an account.', 3001, 11, 'success', { credential_id: 'string', proof }),
  'passkey.renamed': spec('A passkey was renamed.', 3001, 99, 'success', { id: 'string', name: 'string' }),
  'factor.otp.enrolled': spec('An authenticator app was added.', 3001, 10, 'success', { algorithm: 'string?', digits: 'number?', period: 'number?', proof }),
  'factor.otp.removed': spec('The authenticator app was removed.', 3001, 11, 'success', { proof }),
  'factor.nfc.enrolled': spec('An NFC card was added.', 3001, 10, 'success', { card_id: 'string', uid: 'string?', counter: 'number?', proof }),
  'factor.nfc.enrol_failed': spec('Adding an NFC card failed.', 3001, 10, 'failure', { reason: 'string', uid: 'string?', proof }),
  'factor.nfc.removed': spec('An NFC card was removed.', 3001, 11, 'success', { card_id: 'string', proof }),
  'factor.face.enrolled': spec('A face template was enrolled (with the tenant consent text accepted).', 3001, 10, 'success', { template_id: 'string', frames: 'number?', rejected: 'string[]?', duplicate_flagged: 'boolean?', consent: 'boolean', proof }),
  'factor.face.enrol_failed': spec('A face enrolment was refused.', 3001, 10, 'failure', { reasons: 'unknown' }),
  'factor.face.deleted': spec('Face templates were deleted.', 3001, 11, 'success', { templates: 'number', proof }),
  'factor.face.template_upgraded': spec('After a successful face check, a face template made by an older pipeline version was replaced by one of the current version.', 3001, 99, 'success', { template_id: 'string', replaced_template_id: 'string', from_version: 'number', to_version: 'number' }),
  'recovery_code.issued': spec('A new set of recovery codes was issued (the old ones stop working).', 3001, 10, 'success', { count: 'number', proof }),
  'lockout.locked': spec('A factor was locked for a time after repeated failures.', 3001, 9, 'other', { 'factor': 'string', failures: 'number', level: 'number?', until: 'string?' }),
  'lockout.disabled': spec('A factor was disabled until an administrator unlocks it.', 3001, 9, 'other', { 'factor': 'string', failures: 'number' }),
  'lockout.unlocked': spec('An administrator cleared a factor lockout.', 3001, 12, 'success', { 'factor': 'string' }),
  'account.deleted': spec('An account was soft-deleted (sessions, families and face templates ended at once).', 3001, 6, 'success', { families_ended: 'number?', face_templates_destroyed: 'number?' }),
  'account.locked': spec('An administrator locked the whole account (no sign-in, sessions ended) until unlocked.', 3001, 9, 'success', { families_ended: 'number?' }),
  'account.unlocked': spec('An administrator unlocked a locked account.', 3001, 12, 'success', {}),
  'factor.reset': spec('An administrator removed a factor of an account; the user must enrol it again.', 3001, 11, 'success', { 'factor': 'string', removed: 'number' }),
  'account.profile_changed': spec("An administrator changed an account's profile (display name, email address).", 3001, 99, 'success', { fields: 'string[]' }),
  'account.restored': spec('A soft-deleted account was restored.', 3001, 2, 'success', {}),
  'account.erased': spec('An account was erased for good (its rows are gone; this event stays).', 3001, 6, 'success', {}),
  'invite.redeemed': spec('A sign-up used an invitation.', 3001, 1, 'success', { invite_id: 'string' }),

  // Authorize Session (3003) and User Access Management (3005)
  'token.issued': spec('Tokens were issued to a client for a user.', 3003, 1, 'success', { grant_type: 'string?', kinds: 'string[]', scope: 'string?' }),
  'refresh_token.reuse_detected': spec('A rotated refresh token was presented again; its family was ended.', 3003, 99, 'failure', { grant_id: 'string', reason: 'string', presented_generation: 'number?', family_generation: 'number' }),
  'consent.granted': spec('A user granted a client the scopes and claims it asked for.', 3005, 1, 'success', { scopes: 'string[]', claims: 'string[]', remembered: 'boolean?' }),
  'consent.denied': spec('A user denied a client access.', 3005, 1, 'failure', {}),
  'admin.role_granted': spec('A user was given a tenant admin role (admin, helpdesk, auditor).', 3005, 1, 'success', { role: 'string', source: 'string' }),
  'admin.role_revoked': spec('A tenant admin role was taken from a user.', 3005, 2, 'success', { role: 'string', source: 'string?' }),
  'console.signed_in': spec('A tenant admin signed in to the console (or stepped up there).', 3002, 1, 'success', { acr: 'string', roles: 'string[]', step_up: 'boolean' }),
  'console.signed_out': spec('A console session was ended.', 3002, 2, 'success', {}),
  'token.revoked': spec('A client revoked a token.', 3005, 2, 'success', { token_type_hint: 'unknown?' }),

  // API Activity (6003): administration, keys, the audit trail itself
  'tenant.created': spec('The tenant was created.', 6003, 1, 'success', { slug: 'string', name: 'string' }),
  'tenant.settings_changed': spec('The tenant file changed the tenant settings.', 6003, 3, 'success', {}),
  'tenant.disabled': spec('A platform operator disabled the tenant (its issuer, pages and APIs answer tenant_disabled).', 6003, 3, 'success', { operator_tenant: 'string' }),
  'tenant.enabled': spec('A platform operator enabled the tenant again.', 6003, 3, 'success', { operator_tenant: 'string' }),
  'tenant.branding_changed': spec('An administrator changed the branding (display name, logo, primary colour).', 6003, 3, 'success', { fields: 'string[]' }),
  'client.created': spec('A client was added from the tenant file or by an administrator (admin API).', 6003, 1, 'success', { fields: 'string[]?' }),
  'client.updated': spec('A client changed in the tenant file or by an administrator (admin API).', 6003, 3, 'success', { fields: 'string[]?' }),
  'client.deleted': spec('A client left the tenant file, or an administrator deleted it (admin API).', 6003, 4, 'success', {}),
  'client.secret_rotated': spec('An administrator gave a client a new secret (the old one stopped working).', 6003, 3, 'success', {}),
  'invite.created': spec('An invitation to sign up was created.', 6003, 1, 'success', { invite_id: 'string', email: 'string?', expires_at: 'string', role: 'string?' }),
  'keys.rotated': spec('Token signing keys were rotated.', 6003, 3, 'success', { created: 'string[]', retiring: 'string[]', retired: 'string[]' }),
  'keys.retired_early': spec('A token signing key in its overlap was retired before its time; tokens it signed no longer verify.', 6003, 3, 'success', { kid: 'string' }),
  'keys.retired': spec('Signing keys past their overlap were retired.', 6003, 4, 'success', { kids: 'string[]' }),
  'keys.rekeyed': spec('Sealed data was re-encrypted under the current keys.', 6003, 3, 'success', { purposes: 'unknown', keys: 'unknown', counts: 'unknown' }),
  'audit.export_requested': spec('An audit export was requested.', 6003, 1, 'success', { export_id: 'string', format: 'string', filters: 'object' }),
  'audit.exported': spec('An audit export was written and signed.', 6003, 2, 'success', { export_id: 'string', format: 'string', rows: 'number', sha256: 'string', first_event_id: 'string?', last_event_id: 'string?' }),
  'audit.export_failed': spec('An audit export failed.', 6003, 2, 'failure', { export_id: 'string', error: 'string' }),
  'audit.retention_removed': spec('Rows past the retention period were removed, behind a signed checkpoint of the last one.', 6003, 4, 'success', { through_event_id: 'string', rows: 'number', cutoff: 'string', retention_days: 'number', checkpoint_seq: 'number' }),
  'audit.key_created': spec('A tenant audit-signing key was created.', 6003, 1, 'success', { kid: 'string' }),
  'audit.key_rotated': spec('The tenant audit-signing key was rotated: the new key signs from now on; the retired ones stay published so what they signed still verifies.', 6003, 3, 'success', { created: 'string', retired: 'string[]' }),
  'audit.checkpoint_sink_failed': spec('A signed checkpoint could not be delivered to an external sink (directory or HTTP); it stays in the database and delivery is retried.', 6003, 99, 'failure', { seq: 'number', sink: 'string', attempt: 'number', error: 'string', final: 'boolean' }),
  'audit.checkpoint_delivered': spec('A signed checkpoint reached an external sink after earlier failed attempts.', 6003, 99, 'success', { seq: 'number', sink: 'string', attempts: 'number' }),
} as const satisfies Record<string, AuditEventSpec>;

export type AuditEventType = keyof typeof AUDIT_EVENTS;
export const AUDIT_EVENT_TYPES = Object.keys(AUDIT_EVENTS) as AuditEventType[];

/**
 * Types written by earlier versions under another spelling: readable (search, export, OCSF
 * mapping), never written again.
 */
export const LEGACY_AUDIT_TYPES: Record<string, AuditEventType> = {
  'recovery_codes.issued': 'recovery_code.issued',
};

type FieldType<S> = S extends `${infer Base}?` ? FieldType<Base> | null | undefined
  : S extends 'string' ? string
  : S extends 'number' ? number
  : S extends 'boolean' ? boolean
  : S extends 'string[]' ? readonly string[]
  : S extends 'object' ? Record<string, unknown>
  : unknown;
type RequiredKeys<F> = { [K in keyof F]: F[K] extends `${string}?` ? never : K }[keyof F];
type OptionalKeys<F> = { [K in keyof F]: F[K] extends `${string}?` ? K : never }[keyof F];
type FieldsOf<F> = { [K in RequiredKeys<F>]: FieldType<F[K]> } & { [K in OptionalKeys<F>]?: FieldType<F[K]> };

/** The data of an event of type T: its declared fields (typed), plus any further detail. */
export type AuditData<T extends AuditEventType> = FieldsOf<(typeof AUDIT_EVENTS)[T]['fields']> & Record<string, unknown>;

/** The attempt events of the factor contract (src/factors/contract.ts). */
export type FactorVerifiedEvent = 'factor.otp.verified' | 'factor.nfc.verified' | 'factor.face.verified' | 'recovery_code.used';
export type FactorFailedEvent = 'factor.otp.failed' | 'factor.nfc.failed' | 'factor.face.failed' | 'recovery_code.failed';

/** What the catalogue says of a stored type (legacy spellings resolved); undefined if unknown. */
export function describeAuditType(type: string): (AuditEventSpec & { type: AuditEventType }) | undefined {
  const resolved = (Object.hasOwn(AUDIT_EVENTS, type) ? type : LEGACY_AUDIT_TYPES[type]) as AuditEventType | undefined;
  if (!resolved) return undefined;
  return { type: resolved, ...(AUDIT_EVENTS[resolved] as AuditEventSpec) };
}

export const categoryOf = (type: string): AuditCategory | undefined => {
  const entry = describeAuditType(type);
  return entry ? OCSF_CLASSES[entry.ocsf.classUid].category : undefined;
};

/** Every stored spelling (current and legacy) of the types matching a predicate. */
export function storedTypesWhere(predicate: (type: AuditEventType, entry: AuditEventSpec) => boolean): string[] {
  const out: string[] = [];
  for (const type of AUDIT_EVENT_TYPES) if (predicate(type, AUDIT_EVENTS[type])) out.push(type);
  for (const [legacy, current] of Object.entries(LEGACY_AUDIT_TYPES)) if (out.includes(current)) out.push(legacy);
  return out;
}

export const isAuditEventType = (value: string): value is AuditEventType => Object.hasOwn(AUDIT_EVENTS, value);
