// Whether the factors a session holds meet one acr value's requirement, and if not, which
// factors would have to be added. Pure functions over "latest completion time per factor".
import type { AcrDefinition, FactorRule } from './acr-policy.ts';
import { byPromptOrder, type Factor } from './factors.ts';

/** When each factor was last completed (epoch seconds), among the factors that still count. */
export type LatestFactors = ReadonlyMap<Factor, number>;

export function ruleMet(rule: FactorRule, latest: LatestFactors, now: number): boolean {
  const at = latest.get(rule.factor);
  if (at === undefined) return false;
  return rule.maxAge === undefined || now - at <= rule.maxAge;
}

export function requirementMet(definition: AcrDefinition, latest: LatestFactors, now: number): boolean {
  return (
    definition.allOf.every((rule) => ruleMet(rule, latest, now)) &&
    (definition.anyOf.length === 0 || definition.anyOf.some((rule) => ruleMet(rule, latest, now)))
  );
}

/**
 * The factors to prompt for so that the requirement is met, in prompt order, or null when the
 * user could not meet it (a needed factor is not enrolled). For an unmet anyOf the first enrolled
 * alternative, in the definition's order of preference, is chosen.
 */
export function missingFactors(definition: AcrDefinition, latest: LatestFactors, enrolled: ReadonlySet<Factor>, now: number): Factor[] | null {
  const missing = new Set<Factor>();
  for (const rule of definition.allOf) {
    if (ruleMet(rule, latest, now)) continue;
    if (!enrolled.has(rule.factor)) return null;
    missing.add(rule.factor);
  }
  if (definition.anyOf.length > 0 && !definition.anyOf.some((rule) => ruleMet(rule, latest, now))) {
    const choice = definition.anyOf.find((rule) => enrolled.has(rule.factor));
    if (!choice) return null;
    missing.add(choice.factor);
  }
  return [...missing].sort(byPromptOrder);
}
