// A settings page's load-and-save flow (branding, policies): load the settings, check the form's
// body with the API's schema, send it, and show the answer. A change the API refuses without a fresh
// step-up sends the browser to the step-up (api.ts keeps the body); back on the page, the kept body is
// put in the form and the change is offered again for confirmation. The problem+json of a refused
// change is shown beside its fields (useChecked), a saved change in the page's status line.
import { useEffect, useState } from 'preact/hooks';
import type * as z from 'zod/mini';
import type { Me, PendingAction, Problem, Result } from './api.ts';
import { takePendingAction } from './api.ts';
import type { Action } from './components.tsx';
import { t } from './context.ts';
import { useChecked } from './forms.tsx';

export interface SettingsFlow<Answer, Body> {
  /** The page (pathname) the step-up comes back to. */
  page: string;
  me: Me;
  /** The API's schema of the body (checked here before sending). */
  schema: z.core.$ZodType;
  load: () => Promise<Result<Answer>>;
  send: (body: Body, pending: PendingAction) => Promise<Result<Answer>>;
  /** Puts the settings in the form: the answer's, or a body kept across a step-up over them. */
  fill: (answer: Answer, kept?: Body) => void;
  /** The status line after a save. */
  saved: string;
  /** The confirmation offered after a step-up. */
  confirm: { title: string; body: string; label: string };
}

export function useSettingsFlow<Answer, Body>({ page, me, schema, load, send, fill, saved, confirm }: SettingsFlow<Answer, Body>) {
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [loadProblem, setLoadProblem] = useState<Problem | undefined>();
  const [serverProblem, setServerProblem] = useState<Problem | undefined>();
  const { problem, check, formProps } = useChecked(schema, serverProblem);
  const [message, setMessage] = useState('');
  const [action, setAction] = useState<Action | undefined>();

  async function save(body: Body) {
    const r = await send(body, { page, action: 'save', args: { body: JSON.stringify(body) } });
    if (!r.ok) return setServerProblem(r.problem);
    setServerProblem(undefined);
    setAnswer(r.data);
    fill(r.data);
    setMessage(saved);
  }
  useEffect(() => {
    const pending = takePendingAction(page);
    // Only with a step-up still fresh: otherwise the API would ask again.
    const kept = pending?.action === 'save' && pending.args?.body && me.stepUpFreshUntil ? (JSON.parse(pending.args.body) as Body) : undefined;
    void load().then((r) => {
      if (!r.ok) return setLoadProblem(r.problem);
      setAnswer(r.data);
      fill(r.data, kept);
    });
    if (kept) {
      setMessage(t.common.steppedUpChange);
      setAction({ kind: 'save', ...confirm, run: () => save(kept) });
    }
  }, []);

  return {
    answer,
    /** Why the settings could not be loaded. */
    loadProblem,
    /** What to show beside the fields: the server's answer or what the check here found. */
    problem,
    /** Forgets the server's answer (a field it was about has changed). */
    clearServerProblem: () => setServerProblem(undefined),
    message,
    action,
    closeAction: () => setAction(undefined),
    /** The form's handlers: a changed field is checked when left; submit checks the body and sends it if it passes. */
    formProps(bodyOf: () => Body) {
      return {
        ...formProps(bodyOf),
        onSubmit: (event: Event) => {
          event.preventDefault();
          const body = bodyOf();
          if (check(body, event.currentTarget as HTMLFormElement)) void save(body);
        },
      };
    },
  };
}
