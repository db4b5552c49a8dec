// A coarse, location-free name for the device behind a sign-in ("Chrome on Windows"), parsed from
// its User-Agent with bowser; the raw string is never shown. Unknown parts are left out.
import Bowser from 'bowser';

export interface DeviceName {
  browser: string | undefined;
  os: string | undefined;
}

export function deviceOf(userAgent: string | null | undefined): DeviceName {
  if (!userAgent) return { browser: undefined, os: undefined };
  const parsed = Bowser.parse(userAgent);
  const browser = parsed.browser.name || undefined;
  let os = parsed.os.name || undefined;
  // "iOS" says less than the device it runs on.
  if (os === 'iOS' && parsed.platform.model) os = `${parsed.platform.model} (iOS)`;
  return { browser, os };
}
