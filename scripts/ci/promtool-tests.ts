/**
 * Prepares k8s/monitoring/alerts.test.yaml for `promtool test rules`: fills in
 * each expected alert's static annotations (the runbook) from the rule itself,
 * so runbooks are written once, and refuses to go on unless every alert in the
 * rules file has a test that expects it to fire. Prints the prepared file's path.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  exp_alerts?: Array<{ exp_annotations?: Record<string, string> }>;
}
interface TestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: AlertTest[] }>;
}

const testPath = resolve(process.argv[2] ?? 'k8s/monitoring/alerts.test.yaml');
const doc = parse(readFileSync(testPath, 'utf8')) as TestFile;
const ruleFiles = doc.rule_files.map((f) => resolve(dirname(testPath), f));
const rules = new Map<string, Rule>();
for (const file of ruleFiles) {
  const groups = (parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups;
  for (const rule of groups.flatMap((g) => g.rules))
    if (rule.alert !== undefined) rules.set(rule.alert, rule);
}

const fired = new Set<string>();
for (const test of doc.tests) {
  for (const check of test.alert_rule_test ?? []) {
    const rule = rules.get(check.alertname);
    if (rule === undefined) throw new Error(`${testPath}: no alert named ${check.alertname}`);
    for (const expected of check.exp_alerts ?? []) {
      fired.add(check.alertname);
      // Templated annotations ({{ ... }}) are what the test checks; static ones are copied.
      const fixed = Object.entries(rule.annotations ?? {}).filter(([, v]) => !v.includes('{{'));
      expected.exp_annotations = { ...Object.fromEntries(fixed), ...expected.exp_annotations };
    }
  }
}
const untested = [...rules.keys()].filter((name) => !fired.has(name));
if (untested.length > 0) throw new Error(`alerts without a firing test: ${untested.join(', ')}`);

doc.rule_files = ruleFiles;
const out = join(mkdtempSync(join(tmpdir(), 'utxod-promtool-')), 'alerts.test.yaml');
writeFileSync(out, stringify(doc, { lineWidth: 0 }));
process.stderr.write(`promtool-tests: ${rules.size} alerts, all with a firing test\n`);
process.stdout.write(`${out}\n`);
