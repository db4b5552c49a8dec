// Helpers every page script uses: the status region that screen readers announce, and JSON posts
// to our own origin. Kept out of public/scripts/ itself so it is bundled into pages, not built alone.
export type Json = Record<string, unknown>;

export function status(root: HTMLElement, message: string, isError = true): void {
  const region = root.querySelector<HTMLElement>('#status');
  if (!region) return;
  region.textContent = message;
  region.classList.toggle('error', isError);
}

export async function postJson(url: string, body: Json): Promise<{ ok: boolean; status: number; data: Json }> {
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
  // Every error status carries the server's own message to the page: our JSON steps say `error`,
  // problem+json answers (429 rate limits, 403 …) say `detail`, OAuth-style ones `error_description`.
  if (!response.ok && typeof data.error !== 'string') {
    const message = [data.detail, data.error_description, data.title].find((value) => typeof value === 'string' && value.length > 0);
    if (message !== undefined) data = { ...data, error: message };
  }
  return { ok: response.ok, status: response.status, data };
}
