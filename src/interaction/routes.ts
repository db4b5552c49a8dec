// The interaction pages (sign in, sign up, recovery, consent) under /t/<slug>/interaction/:uid,
// and the same sign-in steps for the account page under /t/<slug>/account/sign-in. Each step is
// written once against a Flow (see flow.ts); this file only wires paths to steps.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { registerAccountRoutes } from '../account/routes.ts';
import { accountFlow, interactionFlow, type Flow, type InteractionDeps, verifyPostedCsrf } from './flow.ts';
import { identifyWithoutScript, passkeyOptions, passkeyVerify, renderSignIn } from './sign-in.ts';
import { registerOptions, registerVerify, showCreatePasskey, showSignUp, submitSignUp } from './sign-up.ts';
import { continueAfterCodes, leaveRequirements, showRecovery, showRecoveryCodes, showRequirements, submitRecovery } from './recovery.ts';
import { showConsent, submitConsent } from './consent.ts';
import { registerFaceRoutes } from './face-pages.ts';
import { registerStepUpRoutes, showStepUpIntro } from './step-up-pages.ts';
import { cancelInteraction } from './cancel.ts';
import { serveBrandCss } from './brand.ts';
import { PAGE_API_DOCUMENT_ROUTE, pageApiDocument } from './json-api.ts';
import { runDeclared } from './json-step.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';

export type { InteractionDeps };

type Step = (ctx: Context, flow: Flow, deps: InteractionDeps) => Promise<void> | void;

const STEPS: Array<['get' | 'post', string, Step]> = [
  ['post', '/passkey/options', passkeyOptions],
  ['post', '/passkey/verify', (ctx, flow, deps) => passkeyVerify(ctx, flow, deps)],
  ['post', '/identify', identifyWithoutScript],
  ['get', '/signup', showSignUp],
  ['post', '/signup', submitSignUp],
  ['get', '/create-passkey', showCreatePasskey],
  ['post', '/register/options', registerOptions],
  ['post', '/register/verify', (ctx, flow, deps) => registerVerify(ctx, flow, deps)],
  ['get', '/recovery', showRecovery],
  ['post', '/recovery', (ctx, flow, deps) => submitRecovery(ctx, flow, deps)],
  ['get', '/recovery-codes', showRecoveryCodes],
  ['post', '/continue', continueAfterCodes],
];

export function registerInteractionRoutes(router: Router, deps: InteractionDeps): void {
  router.get('/interaction/:uid', async (ctx) => {
    const flow = await interactionFlow(ctx, deps);
    if (flow.details!.prompt.name === 'consent') return showConsent(ctx, flow, deps);
    // A signed-in session that must prove more for this request (src/oidc/step-up-check.ts).
    if (flow.details!.prompt.reasons.includes('acr_step_up') && flow.details!.session) return showStepUpIntro(ctx, flow, deps);
    renderSignIn(ctx, flow);
  });
  router.post('/interaction/:uid/consent', async (ctx) => submitConsent(ctx, await interactionFlow(ctx, deps), deps));
  // A new account that cannot meet the client's requirement: the explanation, then back to the client.
  router.get('/interaction/:uid/requirements', async (ctx) => showRequirements(ctx, await interactionFlow(ctx, deps), deps));
  router.post('/interaction/:uid/requirements', async (ctx) => leaveRequirements(ctx, await interactionFlow(ctx, deps), deps));
  // "Cancel and go back to the application" (sign-in and step-up pages): access_denied at the client.
  router.post('/interaction/:uid/cancel', async (ctx) => cancelInteraction(ctx, await interactionFlow(ctx, deps), deps));

  router.get('/brand.css', serveBrandCss);
  // The pages' JSON calls, described (OpenAPI 3.1, built from their declarations in json-api.ts).
  router.get(PAGE_API_DOCUMENT_ROUTE.path, (ctx) =>
    runDeclared(ctx, PAGE_API_DOCUMENT_ROUTE, deps.config, async () => ({
      status: 200,
      body: pageApiDocument(`${deps.config.publicUrl}${(ctx.state.tenant as TenantRuntime).basePath}`),
    })),
  );
  router.get('/account/sign-in', (ctx) => {
    const flow = accountFlow(ctx, deps, { create: true });
    // After "sign out everywhere": say what happened (issue 18).
    renderSignIn(ctx, flow, ctx.query.done === 'everywhere' ? { notice: flow.t.account.signedOutEverywhereNotice } : {});
  });
  for (const [method, path, step] of STEPS) {
    router[method](`/interaction/:uid${path}`, async (ctx) => step(ctx, await interactionFlow(ctx, deps), deps));
    router[method](`/account/sign-in${path}`, async (ctx) => {
      const flow = accountFlow(ctx, deps, { create: method === 'get' });
      await verifyPostedCsrf(ctx, deps.config, flow.binding);
      return step(ctx, flow, deps);
    });
  }
  registerAccountRoutes(router, deps);
  registerFaceRoutes(router, deps);
  registerStepUpRoutes(router, deps);
}
