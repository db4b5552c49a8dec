// The one modal dialog of the browser apps (the console's confirmations): the native <dialog>
// opened with showModal(), so the browser traps focus inside it, marks the rest of the page inert,
// exposes role=dialog with aria-modal, and closes it on Escape. Labelled by its title, described by
// its text; focus returns to the control that opened it. The first button inside gets the focus when
// it opens, so for a confirmation Enter confirms and Escape cancels.
// It is open while rendered: closing it (Escape, `closeDialog`) calls onClose at once, and the caller
// stops rendering it. (Waiting for the browser's `close` event, which comes a task later, let a quick
// Escape then Enter on the opener ask for the dialog again before the old one was gone, and the
// late event then took the new one away.)
// Bundled for the browser (no Node imports); on the server it renders closed, inert markup.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { Button } from './forms.tsx';

export interface DialogProps {
  /** Prefix of the title's and text's ids (`${id}-title`, `${id}-body`). */
  id?: string;
  title: string;
  /** What will happen, read out with the title. */
  text?: string;
  class?: string;
  /** Called once when the dialog is closed (Escape, a button using `closeDialog`); the caller then stops rendering it. */
  onClose: () => void;
  children?: ComponentChildren;
}

const CLOSE = 'facet-dialog-close';

/** Closes the dialog an element (a button's click target) is in: its onClose runs now. */
export function closeDialog(element: EventTarget | null): void {
  if (element instanceof Element) element.closest('dialog')?.dispatchEvent(new Event(CLOSE));
}

export function Dialog({ id = 'dialog', title, text, class: className, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    let closed = false;
    const close = (event: Event) => {
      // Escape: the caller removes the dialog instead of the browser closing it a task later.
      if (event.type === 'cancel') event.preventDefault();
      if (closed) return;
      closed = true;
      closeRef.current();
    };
    // `close` too: a browser that closes it without a cancelable `cancel` (repeated Escape).
    for (const type of ['cancel', CLOSE, 'close']) dialog.addEventListener(type, close);
    if (!dialog.open) dialog.showModal();
    return () => {
      for (const type of ['cancel', CLOSE, 'close']) dialog.removeEventListener(type, close);
      if (dialog.open) dialog.close();
      // The browser gives focus back on close(); when that was lost (focus left on the body or in
      // the removed dialog), give it back here.
      const lost = !document.activeElement || document.activeElement === document.body || dialog.contains(document.activeElement);
      if (lost && opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} class={className} aria-labelledby={`${id}-title`} aria-describedby={text ? `${id}-body` : undefined}>
      <h2 id={`${id}-title`}>{title}</h2>
      {text ? <p id={`${id}-body`}>{text}</p> : null}
      {children}
    </dialog>
  );
}

/** A confirmation that says what will happen: its action button first (Enter), Cancel second (or Escape). */
export function ConfirmDialog({ id = 'confirm', title, text, confirmLabel, cancelLabel, danger = false, onConfirm, onClose }: { id?: string; title: string; text: string; confirmLabel: string; cancelLabel: string; danger?: boolean; onConfirm: () => void; onClose: () => void }) {
  return (
    <Dialog id={id} class="confirm" title={title} text={text} onClose={onClose}>
      <div class="actions">
        <Button
          type="button"
          kind={danger ? 'danger' : undefined}
          onClick={(event) => {
            closeDialog(event.currentTarget);
            onConfirm();
          }}
        >
          {confirmLabel}
        </Button>
        <Button type="button" kind="secondary" onClick={(event) => closeDialog(event.currentTarget)}>
          {cancelLabel}
        </Button>
      </div>
    </Dialog>
  );
}
