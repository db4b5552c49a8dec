// What an authorization request asks of the login, read once from its parameters and its client:
// acr_values (or the client's default_acr_values), an essential acr claim (value or values),
// max_age (or default_max_age), prompt=login, and the client's minimum acr. The login-prompt check
// and the interaction pages both evaluate this same request.
import type { StepUpRequest } from '../stepup/index.ts';

export interface ClientAcrSettings {
  default_acr_values?: string[] | undefined;
  default_max_age?: number | undefined;
}

export function stepUpRequestOf(
  params: Record<string, unknown>,
  client: ClientAcrSettings,
  { minimumAcr, interactionStartedAt }: { minimumAcr?: string | undefined; interactionStartedAt: number },
): StepUpRequest {
  const fromParam = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  const acrValues = fromParam.length > 0 ? fromParam : (client.default_acr_values ?? []);
  let essentialAcr: string[] = [];
  const claims = typeof params.claims === 'string' ? safeJson(params.claims) : params.claims;
  const acr = (claims as { id_token?: { acr?: { essential?: boolean; value?: unknown; values?: unknown } } } | undefined)?.id_token?.acr;
  if (acr?.essential) {
    if (Array.isArray(acr.values)) essentialAcr = acr.values.filter((v): v is string => typeof v === 'string');
    else if (typeof acr.value === 'string') essentialAcr = [acr.value];
  }
  const maxAge = params.max_age !== undefined ? Number(params.max_age) : client.default_max_age;
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  return {
    ...(acrValues.length > 0 ? { acrValues } : {}),
    ...(essentialAcr.length > 0 ? { essentialAcr } : {}),
    ...(maxAge !== undefined && Number.isSafeInteger(maxAge) && maxAge >= 0 ? { maxAge } : {}),
    ...(prompts.includes('login') ? { promptLogin: true } : {}),
    ...(minimumAcr ? { clientMinimumAcr: minimumAcr } : {}),
    interactionStartedAt,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // oidc-provider validated the claims parameter before any interaction began.
    return undefined;
  }
}
