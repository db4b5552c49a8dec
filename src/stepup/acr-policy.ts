// The acr vocabulary: each value names a factor requirement (all of some factors, plus any one of
// others, each optionally no older than maxAge seconds) and a strength. Strengths are a total order
// of assurance: a session that meets a stronger value is taken to meet every weaker one, which is
// also how a resource server should compare the acr it finds in a token with the one it needs.
// Tenants may add values or override defaults; acrPolicySchema is what their tenant file embeds.
import { z } from 'zod';
import { FacetError } from '../errors/facet-error.ts';
import { FACTORS, type Factor } from './factors.ts';
import { acrValueSchema } from './acr-value.ts';

export const ACR = {
  passkey: 'urn:facet:acr:passkey',
  passkeyOtp: 'urn:facet:acr:passkey+otp',
  passkeyNfc: 'urn:facet:acr:passkey+nfc',
  passkeyFace: 'urn:facet:acr:passkey+face',
  high: 'urn:facet:acr:high',
} as const;

export const factorSchema = z.enum(FACTORS);

export const factorRuleSchema = z.strictObject({
  factor: factorSchema,
  /** Seconds since the factor was completed after which it no longer counts for this value. */
  maxAge: z.number().int().positive().optional(),
});

export { acrValueSchema };

export const acrDefinitionSchema = z
  .strictObject({
    /** Position in the assurance order; unique within a policy. */
    strength: z.number().int().min(0),
    allOf: z.array(factorRuleSchema).default([]),
    /** At least one of these, when non-empty; listed in order of preference for prompting. */
    anyOf: z.array(factorRuleSchema).default([]),
    description: z.string().optional(),
  })
  .superRefine((definition, ctx) => {
    if (definition.allOf.length + definition.anyOf.length === 0) ctx.addIssue({ code: 'custom', message: 'an acr value needs at least one factor' });
    const all = definition.allOf.map((r) => r.factor);
    const any = definition.anyOf.map((r) => r.factor);
    if (new Set(all).size !== all.length || new Set(any).size !== any.length) ctx.addIssue({ code: 'custom', message: 'a factor is listed twice' });
    if (any.some((f) => all.includes(f))) ctx.addIssue({ code: 'custom', message: 'a factor is in both allOf and anyOf' });
  });

export type FactorRule = z.infer<typeof factorRuleSchema>;
export type AcrDefinition = z.infer<typeof acrDefinitionSchema>;

const rule = (factor: Factor, maxAge?: number): FactorRule => (maxAge === undefined ? { factor } : { factor, maxAge });

export const DEFAULT_ACR_VALUES: Readonly<Record<string, AcrDefinition>> = Object.freeze({
  [ACR.passkey]: { strength: 10, allOf: [rule('passkey')], anyOf: [], description: 'Passkey' },
  [ACR.passkeyOtp]: { strength: 20, allOf: [rule('passkey'), rule('otp')], anyOf: [], description: 'Passkey and an authenticator-app code' },
  [ACR.passkeyNfc]: { strength: 30, allOf: [rule('passkey'), rule('nfc')], anyOf: [], description: 'Passkey and a tap of the NFC card' },
  [ACR.passkeyFace]: { strength: 40, allOf: [rule('passkey'), rule('face', 900)], anyOf: [], description: 'Passkey and a face match within 15 minutes' },
  [ACR.high]: {
    strength: 50,
    allOf: [rule('passkey', 900), rule('face', 300)],
    anyOf: [rule('nfc', 900), rule('otp', 900)],
    description: 'Passkey within 15 minutes, face match within 5 minutes, and NFC card or app code within 15 minutes',
  },
});

export const acrPolicySchema = z
  .strictObject({
    /** Values added to (or replacing) the defaults, by acr value. */
    values: z.record(acrValueSchema, acrDefinitionSchema).default({}),
    /** Start from DEFAULT_ACR_VALUES (default true); false means `values` is the whole vocabulary. */
    inheritDefaults: z.boolean().default(true),
    /** Issued when nothing stronger is asked for; default: the weakest value. */
    defaultAcr: z.optional(acrValueSchema),
  })
  .superRefine((input, ctx) => {
    const merged = mergeValues(input.values, input.inheritDefaults);
    const names = Object.keys(merged);
    if (names.length === 0) ctx.addIssue({ code: 'custom', path: ['values'], message: 'the vocabulary is empty' });
    const seen = new Map<number, string>();
    for (const name of names) {
      const other = seen.get(merged[name].strength);
      if (other) ctx.addIssue({ code: 'custom', path: ['values', name, 'strength'], message: `same strength as ${other}; strengths must be unique` });
      seen.set(merged[name].strength, name);
    }
    if (input.defaultAcr !== undefined && !(input.defaultAcr in merged)) {
      ctx.addIssue({ code: 'custom', path: ['defaultAcr'], message: 'defaultAcr is not a value of the vocabulary' });
    }
  });

export type AcrPolicyInput = z.input<typeof acrPolicySchema>;

/** A validated vocabulary, ready for evaluateStepUp. */
export interface AcrPolicy {
  values: Readonly<Record<string, AcrDefinition>>;
  /** Values from weakest to strongest. */
  order: readonly string[];
  defaultAcr: string;
}

export class AcrPolicyError extends FacetError {
  readonly code = 'invalid_acr_policy';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AcrPolicyError';
  }
}

function mergeValues(values: Record<string, AcrDefinition>, inheritDefaults: boolean): Record<string, AcrDefinition> {
  return inheritDefaults ? { ...DEFAULT_ACR_VALUES, ...values } : { ...values };
}

/** Validates a tenant's acr section (or nothing, for the defaults) and merges it over the defaults. */
export function resolveAcrPolicy(input: AcrPolicyInput = {}): AcrPolicy {
  const parsed = acrPolicySchema.safeParse(input);
  if (!parsed.success) throw new AcrPolicyError(`invalid acr policy: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  const values = mergeValues(parsed.data.values, parsed.data.inheritDefaults);
  const order = Object.keys(values).sort((a, b) => values[a].strength - values[b].strength);
  return { values: Object.freeze(values), order: Object.freeze(order), defaultAcr: parsed.data.defaultAcr ?? order[0] };
}

/** Rank of an acr value in the strength order (0 = weakest), or -1 when the policy lacks it. */
export const strengthOf = (policy: AcrPolicy, acr: string): number => policy.order.indexOf(acr);
