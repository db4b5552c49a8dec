// prom-client children by label set, for hot paths: a labelled inc/observe hashes its labels on
// every call, a child (metric.labels(...)) does not.

/**
 * Caches `metric.labels(labels)` by the label values, in the order the caller gives them (one call
 * site per cache keeps one order). A cache lives as long as its metric's series: it is never pruned.
 */
export function labelledChildren<L extends Record<string, string | number | undefined>, C>(metric: { labels(labels: L): C }): { get(labels: L): C } {
  const children = new Map<string, C>();
  return {
    get(labels) {
      let key = '';
      for (const name in labels) key += `${labels[name]}\u0000`;
      let child = children.get(key);
      if (child === undefined) children.set(key, (child = metric.labels(labels)));
      return child;
    },
  };
}
