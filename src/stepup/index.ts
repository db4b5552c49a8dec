export { ACR, AcrPolicyError, acrDefinitionSchema, acrPolicySchema, acrValueSchema, DEFAULT_ACR_VALUES, factorRuleSchema, factorSchema, resolveAcrPolicy, strengthOf, type AcrDefinition, type AcrPolicy, type AcrPolicyInput, type FactorRule } from './acr-policy.ts';
export { amrForFactor, FACTORS, PROMPT_ORDER, type AmrDetail, type Factor } from './factors.ts';
export { evaluateStepUp, RECOVERY_ACR, type EvaluateStepUpOptions, type SessionFactor, type StepUpDecision, type StepUpRequest } from './evaluate-step-up.ts';
