// The DET curve (FNMR against FMR, both on log axes) drawn as SVG, then rasterised with sharp.
import sharp from 'sharp';
import type { DetPoint } from './metrics.ts';

export interface DetSeries {
  label: string;
  points: DetPoint[];
  colour?: string;
}

export interface DetPlotOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Decades shown on each axis; defaults to fit the data. */
  minFmr?: number;
  minFnmr?: number;
  /** Vertical markers, e.g. the shipped operating point. */
  markers?: Array<{ fmr: number; label: string }>;
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function decadeBelow(values: number[], fallback: number): number {
  const positive = values.filter((v) => v > 0);
  return positive.length ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : fallback;
}

export function renderDetSvg(series: DetSeries[], options: DetPlotOptions = {}): string {
  const all = series.flatMap((s) => s.points);
  const {
    width = 800,
    height = 600,
    title = 'DET curve',
    minFmr = decadeBelow(all.map((p) => p.fmr), 1e-6),
    minFnmr = decadeBelow(all.map((p) => p.fnmr), 1e-4),
    markers = [],
  } = options;
  const margin = { left: 80, right: 30, top: 50, bottom: 60 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x = (fmr: number) => margin.left + ((Math.log10(Math.max(fmr, minFmr)) - Math.log10(minFmr)) / -Math.log10(minFmr)) * plotW;
  const y = (fnmr: number) => margin.top + (1 - (Math.log10(Math.max(fnmr, minFnmr)) - Math.log10(minFnmr)) / -Math.log10(minFnmr)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="17">${escape(title)}</text>`,
  ];
  for (let e = Math.log10(minFmr); e <= 0; e++) {
    const px = x(10 ** e);
    parts.push(`<line x1="${px}" y1="${margin.top}" x2="${px}" y2="${margin.top + plotH}" stroke="#ddd"/>`);
    parts.push(`<text x="${px}" y="${margin.top + plotH + 20}" text-anchor="middle">1e${e}</text>`);
  }
  for (let e = Math.log10(minFnmr); e <= 0; e++) {
    const py = y(10 ** e);
    parts.push(`<line x1="${margin.left}" y1="${py}" x2="${margin.left + plotW}" y2="${py}" stroke="#ddd"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${py + 4}" text-anchor="end">1e${e}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 15}" text-anchor="middle">false match rate (FMR)</text>`);
  parts.push(`<text transform="translate(20 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">false non-match rate (FNMR)</text>`);
  for (const marker of markers) {
    const px = x(marker.fmr);
    parts.push(`<line x1="${px}" y1="${margin.top}" x2="${px}" y2="${margin.top + plotH}" stroke="#c33" stroke-dasharray="5 4"/>`);
    parts.push(`<text x="${px + 5}" y="${margin.top + 16}" fill="#c33">${escape(marker.label)}</text>`);
  }
  const colours = ['#1f5fbf', '#2a9d3a', '#c77c02', '#7a3fbf'];
  series.forEach((s, index) => {
    const colour = s.colour ?? colours[index % colours.length];
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.fmr).toFixed(1)},${y(p.fnmr).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2.2"/>`);
    parts.push(`<text x="${margin.left + plotW - 10}" y="${margin.top + plotH - 12 - 18 * index}" text-anchor="end" fill="${colour}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export async function renderDetPng(series: DetSeries[], options: DetPlotOptions = {}): Promise<Buffer> {
  return sharp(Buffer.from(renderDetSvg(series, options))).png().toBuffer();
}
