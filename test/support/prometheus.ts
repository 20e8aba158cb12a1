/** A strict-enough parser of the Prometheus text exposition format (0.0.4) for tests. */

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let match: RegExpExecArray | null = re.exec(text);
  while (match !== null) {
    labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    if (re.lastIndex >= text.length) return labels;
    match = re.exec(text);
  }
  if (text.trim() !== '') throw new Error(`bad labels: {${text}}`);
  return labels;
}

/** Throws on any line that is not valid exposition; every sample must belong to a TYPEd family. */
export function parseExposition(text: string): { families: Map<string, Family> } {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [, name, ...help] = line.split(' ').slice(1);
      if (name === undefined || !NAME.test(name)) throw new Error(`bad HELP: ${line}`);
      family(name).help = help.join(' ');
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const parts = line.split(' ');
      const name = parts[2];
      const type = parts[3];
      if (name === undefined || !NAME.test(name) || type === undefined || !TYPES.has(type))
        throw new Error(`bad TYPE: ${line}`);
      family(name).type = type;
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (match === null) throw new Error(`bad sample line: ${line}`);
    const name = match[1]!;
    const raw = match[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value: ${line}`);
    const base =
      families.has(name) && families.get(name)!.type !== 'untyped'
        ? name
        : (SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : null)).find(
            (b) => b !== null && families.has(b),
          ) ?? name);
    const owner = families.get(base);
    if (owner === undefined) throw new Error(`sample without a TYPE line: ${line}`);
    owner.samples.push({ name, labels: parseLabels(match[2] ?? ''), value });
  }
  return { families };
}
