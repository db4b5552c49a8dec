// A tenant's brand colour, checked for contrast (WCAG 2 relative luminance): it fills buttons under
// white text and colours links on a light page, so it needs 4.5:1 against white. On a dark page
// links and outlines use a lighter shade of it, mixed towards white until it reaches 4.5:1 against
// the dark canvas. Pure functions.
export const MIN_CONTRAST = 4.5;
/** Chromium's dark-mode Canvas (color-scheme: dark). */
export const DARK_CANVAS = '#121212';

const channels = (hex: string): [number, number, number] => {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
};

export function relativeLuminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Why a brand colour cannot be used, or undefined when it can. */
export function brandColorProblem(hex: string): string | undefined {
  if (!/^#[0-9a-fA-F]{6}$/.test(hex)) return `${hex} is not a colour like #1f5f3a`;
  const ratio = contrastRatio(hex, '#ffffff');
  if (ratio < MIN_CONTRAST) return `${hex} has a contrast of ${ratio.toFixed(2)}:1 against white; buttons and links need at least ${MIN_CONTRAST}:1 (choose a darker shade)`;
  return undefined;
}

/** The shade for text and outlines on a dark page: the colour lightened until it reads there. */
export function darkModeShade(hex: string): string {
  const [r, g, b] = channels(hex);
  for (let mix = 0; mix <= 1.0001; mix += 0.05) {
    const shade = `#${[r, g, b].map((c) => Math.round(c + (255 - c) * mix).toString(16).padStart(2, '0')).join('')}`;
    if (contrastRatio(shade, DARK_CANVAS) >= MIN_CONTRAST) return shade;
  }
  return '#ffffff';
}
