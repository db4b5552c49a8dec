// Forms of the console: a problem+json answer is shown next to the field it is about. The admin API
// names each bad field in the RFC 9457 `errors` member (`pointer` "#/redirectUris/1", `detail`), so
// every form gets field-level errors the same way: `fieldProps` marks the control invalid and points
// it at its message, `FieldError` shows the message, `FormProblem` shows whatever no field took.
// Before sending, a form checks its body with the API's own schema (zod/mini, src/admin/*-settings.ts)
// and shows what the API would answer in the same place, without a request (`useChecked`).
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import * as z from 'zod/mini';
import { de, en } from 'zod/locales';
import type { Language } from '../../../views/strings/index.ts';
import { format, lang, locale, t } from '../shared/language.ts';
import { translateSchemaMessage } from '../../../views/strings/console/schema-messages.ts';
import { fieldErrors } from '../../../src/http/field-errors.ts';
import type { Problem } from './api.ts';
import { Field as SharedField } from '../../../ui/components/forms.tsx';

// The check's messages in the console's language (zod's own translations); classic zod on the server
// loads the English ones itself, zod/mini only when asked. The server's own answers stay English.
// Keyed by every language the pages speak: a new one fails the typecheck until it is named here.
const ZOD_MESSAGES = { en, de } satisfies Record<Language, () => unknown>;
z.config(ZOD_MESSAGES[lang as Language]());

export interface FieldProblem {
  in?: string;
  pointer: string;
  detail: string;
}

const errorsOf = (problem: Problem | undefined): FieldProblem[] => ((problem as { errors?: FieldProblem[] } | undefined)?.errors ?? []).filter((e) => typeof e?.pointer === 'string');

/** The messages about field `name` (and its items: "#/name/2" reads "Line 3: …"). */
export function fieldMessages(problem: Problem | undefined, name: string): string[] {
  const own = `#/${name}`;
  return errorsOf(problem)
    .filter((e) => e.pointer === own || e.pointer.startsWith(`${own}/`))
    .map((e) => {
      const item = e.pointer.slice(own.length + 1);
      // The schema's message in the console's language (the same for this check and the server's answer).
      const detail = translateSchemaMessage(e.detail, t, locale);
      return /^\d+$/.test(item) ? format(t.common.lineError, { line: Number(item) + 1, detail }) : detail;
    });
}

/** aria-invalid and aria-describedby for the control of field `name` whose id is `id` (and the field's name, checked when the control is left). */
export function fieldProps(problem: Problem | undefined, name: string, id: string): { 'aria-invalid'?: 'true'; 'aria-describedby'?: string; 'data-field': string } {
  return fieldMessages(problem, name).length > 0 ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-error`, 'data-field': name } : { 'data-field': name };
}

const about = (name: string) => (e: { pointer: string }) => e.pointer === `#/${name}` || e.pointer.startsWith(`#/${name}/`);

/** The 400 problem the API would answer for `body` (its `errors` exactly as the API names them); undefined when the body passes. */
export function checkBody(schema: z.core.$ZodType, body: unknown): Problem | undefined {
  const result = z.safeParse(schema, body);
  if (result.success) return undefined;
  const errors = fieldErrors('body', result.error);
  return { title: t.common.invalidParameters, status: 400, code: 'invalid_parameters', detail: errors.map((e) => `${e.pointer.slice(2) || 'body'}: ${e.detail}`).join('; '), errors };
}

/** After leaving field `name`: its messages from a fresh check of `body`, every other field's as they were shown. */
export function checkField(schema: z.core.$ZodType, body: unknown, name: string, shown: Problem | undefined): Problem | undefined {
  const fresh = (checkBody(schema, body)?.errors ?? []).filter(about(name));
  const errors = [...(shown?.errors ?? []).filter((e) => !about(name)(e)), ...fresh];
  if (errors.length === 0 && (!shown || shown.code === 'invalid_parameters')) return undefined;
  return { ...(shown ?? { title: t.common.invalidParameters, status: 400, code: 'invalid_parameters', detail: '' }), errors };
}

const fieldOf = (target: EventTarget | null) => (target instanceof HTMLElement ? target.dataset.field : undefined);

/**
 * A form checked with the API's schema: `problem` is what to show (the server's latest answer, or
 * what the check here found since), `check(body)` on submit (true: send it), and `formProps(bodyOf)`
 * re-checks a field the person changed when they leave it.
 */
export function useChecked(schema: z.core.$ZodType, serverProblem: Problem | undefined) {
  const [local, setLocal] = useState<{ problem: Problem | undefined; server: Problem | undefined } | undefined>();
  const touched = useRef(new Set<string>());
  // A new answer from the server replaces what was found here.
  const problem = local && local.server === serverProblem ? local.problem : serverProblem;
  return {
    problem,
    check(body: unknown, form?: HTMLFormElement): boolean {
      const found = checkBody(schema, body);
      setLocal({ problem: found, server: serverProblem });
      // Keyboard users land on the first field to correct once it is marked.
      if (found && form) setTimeout(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);
      return !found;
    },
    formProps(bodyOf: () => unknown) {
      return {
        onInput: (event: Event) => {
          const name = fieldOf(event.target);
          if (name) touched.current.add(name);
        },
        onFocusOut: (event: FocusEvent) => {
          const name = fieldOf(event.target);
          // Going to the submit button: the submit checks everything (a message appearing or going
          // now would move the button from under the pointer and lose the click).
          const next = event.relatedTarget;
          if (next instanceof HTMLButtonElement && next.type === 'submit' && next.form === event.currentTarget) return;
          if (name && touched.current.has(name)) setLocal({ problem: checkField(schema, bodyOf(), name, problem), server: serverProblem });
        },
      };
    },
  };
}

export function FieldError({ problem, name, id }: { problem: Problem | undefined; name: string; id: string }) {
  const messages = fieldMessages(problem, name);
  if (messages.length === 0) return null;
  return (
    <p class="error" id={`${id}-error`}>
      {messages.join(' ')}
    </p>
  );
}

/** The problem's text unless every one of its field errors is shown beside a field of `fields`. */
export function FormProblem({ problem, fields }: { problem: Problem | undefined; fields: readonly string[] }) {
  if (!problem) return null;
  const errors = errorsOf(problem);
  const shown = errors.length > 0 && errors.every((e) => fields.some((f) => e.pointer === `#/${f}` || e.pointer.startsWith(`#/${f}/`)));
  return (
    <p class="error" role="alert">
      {shown ? format(t.common.correctFields, { count: errors.length }) : problem.detail || problem.title}
    </p>
  );
}

/** A labelled field with an optional hint and its error (the shared Field), the control given as children. */
export function Field({ id, label, hint, problem, name, children }: { id: string; label: string; hint?: string; problem: Problem | undefined; name: string; children: ComponentChildren }) {
  const messages = fieldMessages(problem, name);
  return (
    <SharedField id={id} label={label} hint={hint} error={messages.length > 0 ? messages.join(' ') : undefined}>
      {children}
    </SharedField>
  );
}

/** Lines of a textarea as a list (blank lines dropped). */
export const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
