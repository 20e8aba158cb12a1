/**
 * Rewrites imports that reach past a subsystem's face into imports through it:
 * in `src/a/x.ts`, `import { Chain } from '../chain/chain.ts'` becomes
 * `import { Chain } from '../chain/index.ts'` when `src/chain/index.ts`
 * exports that very `Chain` (same declaration, followed through re-exports).
 * Imports the face does not cover, namespace and default imports, imports
 * within one subsystem and test files (`*.test.ts`) are left alone; the
 * dependency-cruiser rule `through-the-face` reports what is left.
 *
 *   node scripts/faces-codemod.ts [--check] [dir-or-file ...]   (default: src)
 *
 * `--check` writes nothing and exits 1 when something would change. Run
 * `npm run format` afterwards: it merges imports of one module.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');

interface ModuleInfo {
  readonly source: ts.SourceFile;
  /** Exported name -> "file#name" of the declaration it stands for. */
  exports: Map<string, string> | null;
}

const modules = new Map<string, ModuleInfo>();

function load(file: string): ModuleInfo | null {
  let info = modules.get(file);
  if (info !== undefined) return info;
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  info = {
    source: ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true),
    exports: null,
  };
  modules.set(file, info);
  return info;
}

function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return resolve(dirname(from), specifier);
}

function hasExportModifier(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

/** Exported names of `file` with the declaration each one stands for. */
function exportsOf(file: string, visiting = new Set<string>()): Map<string, string> {
  const info = load(file);
  if (info === null) return new Map();
  if (info.exports !== null) return info.exports;
  if (visiting.has(file)) return new Map();
  visiting.add(file);
  const result = new Map<string, string>();
  const localImports = new Map<string, { file: string; name: string }>();
  for (const statement of info.source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const target = resolveSpecifier(file, statement.moduleSpecifier.text);
      const bindings = statement.importClause?.namedBindings;
      if (target !== null && bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements)
          localImports.set(el.name.text, {
            file: target,
            name: (el.propertyName ?? el.name).text,
          });
      }
    }
  }
  for (const statement of info.source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const from =
        statement.moduleSpecifier !== undefined && ts.isStringLiteral(statement.moduleSpecifier)
          ? resolveSpecifier(file, statement.moduleSpecifier.text)
          : null;
      const clause = statement.exportClause;
      if (clause === undefined) {
        if (from !== null)
          for (const [name, origin] of exportsOf(from, visiting))
            if (name !== 'default' && !result.has(name)) result.set(name, origin);
      } else if (ts.isNamedExports(clause)) {
        for (const el of clause.elements) {
          const local = (el.propertyName ?? el.name).text;
          const exported = el.name.text;
          if (from !== null) {
            const origin = exportsOf(from, visiting).get(local);
            if (origin !== undefined) result.set(exported, origin);
          } else {
            const imported = localImports.get(local);
            const origin =
              imported === undefined
                ? `${file}#${local}`
                : exportsOf(imported.file, visiting).get(imported.name);
            if (origin !== undefined) result.set(exported, origin);
          }
        }
      }
      continue;
    }
    if (!hasExportModifier(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const decl of statement.declarationList.declarations)
        if (ts.isIdentifier(decl.name)) result.set(decl.name.text, `${file}#${decl.name.text}`);
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name !== undefined
    ) {
      result.set(statement.name.text, `${file}#${statement.name.text}`);
    }
  }
  visiting.delete(file);
  info.exports = result;
  return result;
}

/** `src/<name>` of a file under src/, or null. */
function subsystemOf(file: string): string | null {
  const rel = relative(SRC, file);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0]! : null;
}

/** Faces that may stand for `target`, outermost first: src/<sub>/index.ts, then src/<sub>/<dir>/index.ts. */
function facesFor(target: string): string[] {
  const rel = relative(SRC, target).split(sep);
  const faces: string[] = [];
  if (rel.length >= 2) faces.push(join(SRC, rel[0]!, 'index.ts'));
  if (rel.length >= 3) faces.push(join(SRC, rel[0]!, rel[1]!, 'index.ts'));
  return faces.filter((face) => face !== target && existsSync(face));
}

/** A face itself: src/<sub>/index.ts or src/<sub>/<dir>/index.ts. */
function isFace(file: string): boolean {
  const rel = relative(SRC, file).split(sep);
  return rel.length <= 3 && rel.at(-1) === 'index.ts';
}

function specifierFor(from: string, to: string): string {
  const rel = relative(dirname(from), to).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function rewriteFile(file: string): { edits: Edit[]; left: string[] } {
  const info = load(file)!;
  const own = subsystemOf(file);
  const edits: Edit[] = [];
  const left: string[] = [];
  for (const statement of info.source.statements) {
    let names: string[] | null = null;
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(statement)) {
      spec = statement.moduleSpecifier;
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      if (clause !== undefined && clause.name === undefined && bindings !== undefined)
        names = ts.isNamedImports(bindings)
          ? bindings.elements.map((el) => (el.propertyName ?? el.name).text)
          : null;
    } else if (ts.isExportDeclaration(statement)) {
      spec = statement.moduleSpecifier;
      const clause = statement.exportClause;
      if (clause !== undefined && ts.isNamedExports(clause))
        names = clause.elements.map((el) => (el.propertyName ?? el.name).text);
    }
    if (spec === undefined || !ts.isStringLiteral(spec)) continue;
    const target = resolveSpecifier(file, spec.text);
    if (target === null || !target.startsWith(SRC + sep)) continue;
    const sub = subsystemOf(target);
    if (sub === null || sub === own) continue;
    if (isFace(target)) continue;
    const faces = facesFor(target);
    if (faces.length === 0) continue;
    const targetExports = exportsOf(target);
    const face =
      names === null
        ? undefined
        : faces.find((candidate) => {
            const faceExports = exportsOf(candidate);
            return names!.every((name) => {
              const origin = targetExports.get(name);
              return origin !== undefined && faceExports.get(name) === origin;
            });
          });
    if (face === undefined) {
      left.push(`${relative(ROOT, file)}: ${spec.text}`);
      continue;
    }
    edits.push({
      start: spec.getStart(info.source),
      end: spec.getEnd(),
      text: `'${specifierFor(file, face)}'`,
    });
  }
  return { edits, left };
}

function listFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.ts') ? [path] : [];
  return readdirSync(path).flatMap((name) => listFiles(join(path, name)));
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const roots = args.filter((a) => a !== '--check');
const files = (roots.length === 0 ? [SRC] : roots.map((r) => resolve(r)))
  .flatMap(listFiles)
  .filter((f) => !f.endsWith('.test.ts'));

let changed = 0;
let rewritten = 0;
const left: string[] = [];
for (const file of files) {
  const result = rewriteFile(file);
  left.push(...result.left);
  if (result.edits.length === 0) continue;
  changed++;
  rewritten += result.edits.length;
  if (check) continue;
  let text = load(file)!.source.text;
  for (const edit of [...result.edits].sort((a, b) => b.start - a.start))
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  writeFileSync(file, text);
}
console.log(
  `${check ? 'would rewrite' : 'rewrote'} ${rewritten} imports in ${changed} files; ${left.length} reach past a face that does not export what they import`,
);
for (const line of left) console.log(`  left: ${line}`);
if (check && rewritten > 0) process.exitCode = 1;
