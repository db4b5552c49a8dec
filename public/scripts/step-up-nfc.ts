// The NFC step-up page, bundled into /assets/build/step-up-nfc.js. Where the browser has Web NFC
// (Chrome on Android), a button reads the card's URL record and submits it; everywhere else the
// page stays the plain form where the user pastes the link the card opened.
import { status } from './shared/page.ts';
interface NdefRecord {
  recordType: string;
  data?: DataView;
}
interface NdefReader {
  scan(options?: { signal?: AbortSignal }): Promise<void>;
  addEventListener(type: 'reading', listener: (event: { message: { records: NdefRecord[] } }) => void): void;
  addEventListener(type: 'readingerror', listener: () => void): void;
}

/** The URL in an NDEF message: a "url" record, or an absolute-URL record. */
function urlOf(records: NdefRecord[]): string | undefined {
  for (const record of records) {
    if ((record.recordType === 'url' || record.recordType === 'absolute-url') && record.data) return new TextDecoder().decode(record.data);
  }
  return undefined;
}

function setUp(root: HTMLElement): void {
  const Reader = (window as unknown as { NDEFReader?: new () => NdefReader }).NDEFReader;
  const form = root.querySelector<HTMLFormElement>('#nfc-form');
  const input = root.querySelector<HTMLInputElement>('#tap');
  if (!Reader || !form || !input) return;
  // Made here, not in the page, so browsers without Web NFC (or without scripts) never show it.
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'nfc-scan';
  button.textContent = root.dataset.msgScan!;
  form.before(button);
  button.addEventListener('click', async () => {
    const controller = new AbortController();
    try {
      const reader = new Reader();
      reader.addEventListener('reading', (event) => {
        const url = urlOf(event.message.records);
        if (!url) return status(root, root.dataset.msgFailed!, true);
        controller.abort();
        input.value = url;
        form.requestSubmit();
      });
      reader.addEventListener('readingerror', () => status(root, root.dataset.msgFailed!, true));
      await reader.scan({ signal: controller.signal });
      status(root, root.dataset.msgScanning!, false);
    } catch {
      status(root, root.dataset.msgFailed!, true);
    }
  });
}

const root = document.querySelector<HTMLElement>('[data-page="step-up-nfc"]');
if (root) setUp(root);
