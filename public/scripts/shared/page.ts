// Helpers every page script uses: the status region that screen readers announce, and JSON posts
// to our own origin. Kept out of public/scripts/ itself so it is bundled into pages, not built alone.
export type Json = Record<string, unknown>;

export function status(root: HTMLElement, message: string, isError = true): void {
  const region = root.querySelector<HTMLElement>('#status');
  if (!region) return;
  region.textContent = message;
  region.classList.toggle('error', isError);
}

export interface JsonResult {
  ok: boolean;
  status: number;
  data: Json;
  /** For an error status: the server's own message (problem+json `detail`, else `title`; OAuth `error_description`). */
  message: string | undefined;
}

export async function postJson(url: string, body: Json): Promise<JsonResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data: Json = {};
  try {
    data = (await response.json()) as Json;
  } catch {
    data = {};
  }
  // Every refusal is problem+json (RFC 9457): the page shows its `detail` (or `title`) whatever the
  // status (400, 403 CSRF, 413, 423, 429, 503 …); OAuth-style answers say `error_description`.
  const message = response.ok ? undefined : [data.detail, data.title, data.error_description].find((value): value is string => typeof value === 'string' && value.length > 0);
  return { ok: response.ok, status: response.status, data, message };
}
