/** Metric names used by PromQL expressions (alert rules, Grafana panels), for the deploy tests. */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names an expression selects. Strings, label matchers, range and
 * grouping clauses are removed first; what is left that is an identifier and
 * not a function call or keyword is a metric name. Grafana's
 * `label_values(metric, label)` counts as a use of `metric`.
 */
export function metricNames(expr: string): Set<string> {
  let text = expr.replace(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,[^)]*\)/g, '$1');
  text = text
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const before = text[match.index - 1];
    if (before !== undefined && /[0-9.$]/.test(before)) continue; // 5m, 1e6, $var
    const after = text.slice(match.index + name.length).trimStart();
    if (after.startsWith('(')) continue;
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return names;
}

/** Metrics that Prometheus, the kubelet or cert-manager export, not the node. */
export const EXTERNAL_METRICS: ReadonlyArray<{
  readonly pattern: RegExp;
  readonly source: string;
}> = [
  { pattern: /^up$/, source: 'Prometheus (scrape health)' },
  { pattern: /^kubelet_volume_stats_(available|capacity)_bytes$/, source: 'kubelet' },
  { pattern: /^certmanager_certificate_expiration_timestamp_seconds$/, source: 'cert-manager' },
];

/** Every `expr` (panels) and templating query in a Grafana dashboard. */
export function dashboardExpressions(dashboard: unknown): Array<{ where: string; expr: string }> {
  const found: Array<{ where: string; expr: string }> = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) walk(child, `${where}[${i}]`);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    const title = typeof obj['title'] === 'string' ? `${where} "${obj['title']}"` : where;
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'expr' && typeof value === 'string') found.push({ where: title, expr: value });
      else if (key === 'query' && typeof value === 'object' && value !== null) {
        const q = (value as Record<string, unknown>)['query'];
        if (typeof q === 'string') found.push({ where: `${title} (variable)`, expr: q });
      } else walk(value, `${title}.${key}`);
    }
  };
  walk(dashboard, 'dashboard');
  return found;
}
