// Small components shared by the console's pages: in-app links, problem text and confirmations.
import { Fragment, type ComponentChildren } from 'preact';
import type { Problem } from './api.ts';
import { Alert } from '../../../ui/components/forms.tsx';
import { ConfirmDialog } from '../../../ui/components/dialog.tsx';
import { format, navigate, t } from './context.ts';

/** An action waiting for its confirmation: what will happen, and how to do it. */
export type Action = { kind: string; title: string; body: string; label: string; danger?: boolean; run: () => Promise<void> };

export function Link({ href, children, class: className }: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={href}
      class={className}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export function ProblemText({ problem }: { problem: Problem | undefined }) {
  if (!problem) return null;
  return <Alert>{problem.detail || problem.title}</Alert>;
}

/** A confirmation that says what will happen (the shared dialog); Enter confirms, Escape or Cancel closes it. */
export function Confirm({ title, body, confirmLabel, danger, onConfirm, onClose }: { title: string; body: string; confirmLabel: string; danger?: boolean; onConfirm: () => void; onClose: () => void }) {
  return <ConfirmDialog title={title} text={body} confirmLabel={confirmLabel} cancelLabel={t.common.cancel} danger={danger} onConfirm={onConfirm} onClose={onClose} />;
}

/** The confirmation for a pending action, if any. */
export function ConfirmAction({ action, onClose }: { action: Action | undefined; onClose: () => void }) {
  if (!action) return null;
  return <Confirm title={action.title} body={action.body} confirmLabel={action.label} danger={action.danger} onConfirm={() => void action.run()} onClose={onClose} />;
}

/**
 * A catalogue sentence with elements in it (code, links): the message is formatted with its text
 * arguments, and each `{name}` in `parts` is put in as that element, wherever the language puts it.
 */
export function Sentence({ message, values = {}, parts }: { message: string; values?: Record<string, string | number>; parts: Record<string, ComponentChildren> }) {
  // fill leaves an argument it is not given as `{name}`; those are the places for the parts.
  const text = format(message, values);
  return <>{text.split(/\{(\w+)\}/).map((piece, i) => (i % 2 === 1 ? <Fragment key={i}>{parts[piece] ?? `{${piece}}`}</Fragment> : piece))}</>;
}
