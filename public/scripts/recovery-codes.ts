// The recovery-codes page, bundled into /assets/build/recovery-codes.js: adds Copy and Print next
// to the Download link (which works without scripts, as a data: URL).
import { status } from './shared/page.ts';

for (const root of document.querySelectorAll<HTMLElement>('[data-page="recovery-codes"]')) {
  const codes = [...document.querySelectorAll('#recovery-codes code')].map((code) => code.textContent ?? '');
  const copy = root.querySelector<HTMLButtonElement>('#codes-copy');
  const print = root.querySelector<HTMLButtonElement>('#codes-print');
  const say = (message: string, isError: boolean) => {
    const region = root.querySelector<HTMLElement>('#codes-status');
    if (region) {
      region.textContent = message;
      region.classList.toggle('error', isError);
    } else status(root, message, isError);
  };
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener('click', () => {
      navigator.clipboard.writeText(`${codes.join('\n')}\n`).then(
        () => say(root.dataset.msgCopied!, false),
        () => say(root.dataset.msgCopyFailed!, true),
      );
    });
  }
  if (print) {
    print.hidden = false;
    print.addEventListener('click', () => window.print());
  }
}
