// Forms of the console: a problem+json answer is shown next to the field it is about. The admin API
// names each bad field in the RFC 9457 `errors` member (`pointer` "#/redirectUris/1", `detail`), so
// every form gets field-level errors the same way: `fieldProps` marks the control invalid and points
// it at its message, `FieldError` shows the message, `FormProblem` shows whatever no field took.
import type { ComponentChildren } from 'preact';
import type { Problem } from './api.ts';

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
      return /^\d+$/.test(item) ? `Line ${Number(item) + 1}: ${e.detail}` : e.detail;
    });
}

/** aria-invalid and aria-describedby for the control of field `name` whose id is `id`. */
export function fieldProps(problem: Problem | undefined, name: string, id: string): { 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  return fieldMessages(problem, name).length > 0 ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-error` } : {};
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
      {shown ? `Please correct the ${errors.length === 1 ? 'field' : 'fields'} marked below.` : problem.detail || problem.title}
    </p>
  );
}

/** A labelled field with an optional hint and its error, the control given as children. */
export function Field({ id, label, hint, problem, name, children }: { id: string; label: string; hint?: string; problem: Problem | undefined; name: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children}
      <FieldError problem={problem} name={name} id={id} />
    </div>
  );
}

/** Lines of a textarea as a list (blank lines dropped). */
export const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
