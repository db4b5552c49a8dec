// Shows every <time datetime data-local> in the reader's own time zone and locale (the server
// writes UTC, which stays as it is without scripts).
for (const element of document.querySelectorAll<HTMLTimeElement>('time[data-local]')) {
  const at = new Date(element.dateTime);
  if (Number.isNaN(at.getTime())) continue;
  element.textContent = at.toLocaleString(document.documentElement.lang || undefined, { dateStyle: 'medium', timeStyle: 'short' });
  element.title = at.toISOString();
}
