// A daily time-series chart (uPlot, canvas) with its own legend and the same numbers as a table.
// Under the strict CSP: uPlot sets styles only through the CSSOM (no style attributes, no injected
// <style>), its stylesheet is bundled into /assets/build/console.css, colours of the legend come
// from console.css classes (.swatch-N) matching PALETTE.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { format, locale, number, t } from '../shared/language.ts';

// Axis labels: month and day in the page's locale (the days are UTC dates).
const dayLabel = new Intl.DateTimeFormat(locale, { month: '2-digit', day: '2-digit', timeZone: 'UTC' });

/** Series colours (also .swatch-0 … .swatch-7 in console.css), distinguishable on light and dark canvases. */
export const PALETTE = ['#3b6fe0', '#e0672b', '#2f9e55', '#a855f7', '#d4a017', '#0ea5b7', '#e0457b', '#7c8a99'];

export interface Series {
  label: string;
  values: number[];
}

const epochOf = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export function Chart({ id, title, days, series, height = 220 }: { id: string; title: string; days: string[]; series: Series[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  // Drawn again when the colour scheme changes (the axes take the page's text colour).
  const [scheme, setScheme] = useState(0);
  useEffect(() => {
    const query = matchMedia('(prefers-color-scheme: dark)');
    const changed = () => setScheme((n) => n + 1);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  useEffect(() => {
    const el = box.current!;
    const ink = getComputedStyle(el).color;
    const grid = 'rgba(128, 128, 128, 0.25)';
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
        axes: [
          { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, space: 56, values: (_u, splits) => splits.map((s) => dayLabel.format(new Date(s * 1000))) },
          { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, size: 44, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000] },
        ],
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: days.length <= 31 } }))],
      },
      [days.map(epochOf), ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [scheme, days.join(), series.map((s) => `${s.label}:${s.values.join()}`).join('|')]);

  const totals = series.map((s) => s.values.reduce((a, b) => a + b, 0));
  return (
    <figure class="chart-card card" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`} class="chart-title">
        {title}
      </figcaption>
      <div ref={box} class="chart" id={id} role="img" aria-label={format(t.chart.imageLabel, { title })} />
      <ul class="legend">
        {series.map((s, i) => (
          <li key={s.label}>
            <span class={`swatch swatch-${i % PALETTE.length}`} aria-hidden="true" />
            {s.label} ({number(totals[i] ?? 0)})
          </li>
        ))}
      </ul>
      <details>
        <summary>{t.chart.numbersByDay}</summary>
        <div class="table-wrap" tabIndex={0} role="region" aria-label={format(t.chart.regionLabel, { title })}>
          <table>
            <caption class="visually-hidden">{format(t.chart.caption, { title })}</caption>
            <thead>
              <tr>
                <th scope="col">{t.chart.day}</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((day, row) => (
                <tr key={day}>
                  <th scope="row">{day}</th>
                  {series.map((s) => (
                    <td key={s.label}>{number(s.values[row] ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">{t.chart.total}</th>
                {totals.map((total, i) => (
                  <td key={series[i]!.label}>{number(total)}</td>
                ))}
              </tr>
            </tfoot>
          </table>
        </div>
      </details>
    </figure>
  );
}
