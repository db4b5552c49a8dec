// Shows every <time datetime data-local> in the reader's own time zone and locale (the server
// writes UTC, which stays as it is without scripts).
for (const element of document.querySelectorAll<HTMLTimeElement>('time[data-local]')) {
  const at = new Date(element.dateTime);
  if (Number.isNaN(at.getTime())) continue;
  // data-local="time": a moment later today (a lockout's end); otherwise date and time.
  const style: Intl.DateTimeFormatOptions = element.dataset.local === 'time' ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
  element.textContent = at.toLocaleString(document.documentElement.lang || undefined, style);
  element.title = at.toISOString();
}
