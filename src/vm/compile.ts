import { parse } from 'acorn';
import { generate } from 'astring';
import { sha256 } from '../crypto/index.ts';
import { toHex } from '../util/index.ts';
import { ContractError } from './errors.ts';
import { Gas, VmLimits } from './gas.ts';
import { checkNesting } from './nesting.ts';
import {
  CONSTRUCTIBLE,
  FORBIDDEN_GLOBALS,
  FORBIDDEN_MATH,
  FORBIDDEN_PROPERTIES,
  isReservedName,
} from './subset.ts';

/** A contract accepted at deploy: its id, exported methods and the metered script the sandbox runs. */
export interface CompiledContract {
  /** SHA-256 of the source as deployed: the code hash. */
  readonly codeHash: string;
  readonly methods: readonly string[];
  /** The instrumented script; run after the prelude it calls `__define(factory)`. */
  readonly script: string;
  readonly sourceBytes: number;
}

/**
 * Validates contract source against the subset (subset.ts) and rewrites it
 * with gas charges: at every function entry (with a call-depth count), loop
 * iteration, catch and finally; around literals, spreads and computed keys;
 * and through size-checking helpers for `+ * ** <<`, comparisons and template
 * strings. Deterministic: the same source gives the same script and the same
 * error on every node.
 */
export function compileContract(source: string): CompiledContract {
  const bytes = new TextEncoder().encode(source);
  if (bytes.length > VmLimits.maxCodeBytes) {
    throw new ContractError(
      'CONTRACT_TOO_LARGE',
      `source is ${bytes.length} bytes, over ${VmLimits.maxCodeBytes}`,
    );
  }
  checkNesting(source);
  let program: AstNode;
  try {
    program = parse(source, { ecmaVersion: 2022, sourceType: 'module' }) as unknown as AstNode;
  } catch (error) {
    throw new ContractError('CONTRACT_SYNTAX', (error as Error).message);
  }
  const methods: string[] = [];
  const body: AstNode[] = [];
  for (const statement of nodes(program.body)) {
    if (statement.type === 'ExportNamedDeclaration') {
      const declaration = statement.declaration as AstNode | null;
      if (declaration?.type !== 'FunctionDeclaration' || statement.source != null) {
        forbid(statement, 'only `export function name(...)` may be exported');
      }
      const name = (declaration.id as AstNode).name as string;
      methods.push(name);
      body.push(declaration);
    } else if (statement.type.startsWith('Import') || statement.type.startsWith('Export')) {
      forbid(statement, `${statement.type} is not part of the contract subset`);
    } else {
      body.push(statement);
    }
  }
  if (methods.length === 0) forbid(program, 'a contract exports at least one function');
  const walker = new Instrumenter();
  const frame = walker.enterFunction();
  const instrumented = body.map((statement) => walker.visit(statement, 0));
  walker.leaveFunction(frame, program);
  const exportsObject = `{ ${methods.map((m) => `${m}: ${m}`).join(', ')} }`;
  const script =
    `__define(function () {\n'use strict';\n` +
    instrumented.map((s) => generate(s as never)).join('\n') +
    `\nreturn ${exportsObject};\n});\n`;
  return { codeHash: toHex(sha256(bytes)), methods, script, sourceBytes: bytes.length };
}

/** The deploy charge for a source of this many bytes. */
export function deployGas(sourceBytes: number): number {
  return Gas.deployBase + Gas.deployPerByte * sourceBytes;
}

interface AstNode {
  type: string;
  start: number;
  [key: string]: unknown;
}

interface FunctionFrame {
  locals: number;
}

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range', 'raw']);
const GROWING_OPERATORS: Readonly<Record<string, string>> = {
  '+': '__add',
  '*': '__mul',
  '**': '__pow',
  '<<': '__shl',
};
const COMPARISONS: Readonly<Record<string, string>> = {
  '<': '__lt',
  '>': '__gt',
  '<=': '__le',
  '>=': '__ge',
  '==': '__eq',
  '!=': '__ne',
  '===': '__seq',
  '!==': '__sne',
};
const FORBIDDEN_TYPES: Readonly<Record<string, string>> = {
  WithStatement: '`with`',
  DebuggerStatement: '`debugger`',
  ClassDeclaration: 'classes',
  ClassExpression: 'classes',
  AwaitExpression: '`await`',
  YieldExpression: '`yield`',
  TaggedTemplateExpression: 'tagged templates',
  ImportExpression: 'dynamic import',
  MetaProperty: '`import.meta` and `new.target`',
  Super: '`super`',
  PrivateIdentifier: 'private names',
  ImportDeclaration: 'imports',
  ExportNamedDeclaration: 'nested exports',
};

class Instrumenter {
  private readonly frames: FunctionFrame[] = [];

  enterFunction(): FunctionFrame {
    const frame = { locals: 0 };
    this.frames.push(frame);
    return frame;
  }

  leaveFunction(frame: FunctionFrame, at: AstNode): void {
    this.frames.pop();
    if (frame.locals > VmLimits.maxLocals) {
      forbid(at, `a function declares ${frame.locals} variables, over ${VmLimits.maxLocals}`);
    }
  }

  private addLocals(count: number): void {
    const frame = this.frames[this.frames.length - 1];
    if (frame !== undefined) frame.locals += count;
  }

  visit(node: AstNode, depth: number): AstNode {
    if (depth > VmLimits.maxRecursionTokens + VmLimits.maxNesting) {
      forbid(node, 'nested too deeply');
    }
    const why = FORBIDDEN_TYPES[node.type];
    if (why !== undefined) forbid(node, `${why} are not part of the contract subset`);
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        return this.visitFunction(node, depth);
      case 'Identifier':
        checkName(node, node.name as string, true);
        return node;
      case 'Literal':
        checkLiteral(node);
        return node;
      case 'MemberExpression':
        return this.visitMember(node, depth);
      case 'Property':
        return this.visitProperty(node, depth);
      case 'VariableDeclarator':
        this.addLocals(countBindings(node.id as AstNode));
        break;
      case 'RestElement':
        forbid(node, 'rest elements in destructuring copy unmetered; use slice()');
        break;
      case 'NewExpression': {
        const callee = node.callee as AstNode;
        if (callee.type !== 'Identifier' || !CONSTRUCTIBLE.has(callee.name as string)) {
          forbid(node, `\`new\` applies only to ${[...CONSTRUCTIBLE].join(', ')}`);
        }
        break;
      }
      case 'ForOfStatement':
        if (node.await === true) forbid(node, '`for await` is not part of the contract subset');
        break;
      case 'AssignmentExpression':
        return this.visitAssignment(node, depth);
      default:
        break;
    }
    this.visitChildren(node, depth);
    return this.rewrite(node);
  }

  private visitChildren(node: AstNode, depth: number): void {
    for (const key of Object.keys(node)) {
      if (SKIP_KEYS.has(key)) continue;
      const value = node[key];
      if (Array.isArray(value)) {
        node[key] = value.map((item: AstNode | null) =>
          item === null ? null : this.visit(item, depth + 1),
        );
      } else if (isNode(value)) {
        node[key] = this.visit(value, depth + 1);
      }
    }
  }

  /** Rewrites applied after a node's children were visited. */
  private rewrite(node: AstNode): AstNode {
    switch (node.type) {
      case 'BinaryExpression': {
        const helper =
          GROWING_OPERATORS[node.operator as string] ?? COMPARISONS[node.operator as string];
        return helper === undefined
          ? node
          : call(helper, [node.left as AstNode, node.right as AstNode]);
      }
      case 'TemplateLiteral':
        return call('__str', [node]);
      case 'ArrayExpression': {
        const elements = node.elements as (AstNode | null)[];
        for (const element of elements) {
          if (element?.type === 'SpreadElement')
            element.argument = call('__spread', [element.argument as AstNode]);
        }
        return charged(Gas.literal + Gas.literalItem * elements.length, node);
      }
      case 'ObjectExpression': {
        const properties = nodes(node.properties);
        for (const property of properties) {
          if (property.type === 'SpreadElement')
            property.argument = call('__spreadObj', [property.argument as AstNode]);
        }
        return charged(Gas.literal + Gas.literalItem * properties.length, node);
      }
      case 'CallExpression':
      case 'NewExpression':
        for (const argument of nodes(node.arguments)) {
          if (argument.type === 'SpreadElement')
            argument.argument = call('__args', [argument.argument as AstNode]);
        }
        return node;
      case 'ForInStatement':
        // for-in lists every enumerable key before its first iteration (and
        // V8 lists them again at every start for a large object): charged by
        // that count, or a 100,000-key object made each start 50 ms for 5 gas.
        node.right = call('__forIn', [node.right as AstNode]);
        node.body = prepend(node.body as AstNode, [statement(call('__loop', []))]);
        return node;
      case 'ForStatement':
      case 'ForOfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement':
        node.body = prepend(node.body as AstNode, [statement(call('__loop', []))]);
        return node;
      case 'CatchClause': {
        const param = node.param as AstNode | null;
        const caught = call('__catch', [identifier('__e')]);
        const first =
          param === null
            ? statement(caught)
            : {
                type: 'VariableDeclaration',
                start: 0,
                kind: 'let',
                declarations: [{ type: 'VariableDeclarator', start: 0, id: param, init: caught }],
              };
        node.param = identifier('__e');
        node.body = prepend(node.body as AstNode, [first]);
        return node;
      }
      case 'TryStatement':
        if (node.finalizer != null) {
          node.finalizer = prepend(node.finalizer as AstNode, [
            statement(call('__charge', [literal(Gas.handler)])),
          ]);
        }
        return node;
      default:
        return node;
    }
  }

  private visitFunction(node: AstNode, depth: number): AstNode {
    if (node.async === true || node.generator === true) {
      forbid(node, 'async functions and generators are not part of the contract subset');
    }
    if (node.type === 'FunctionDeclaration') {
      this.addLocals(1);
      checkName(node, (node.id as AstNode).name as string, true);
    }
    const frame = this.enterFunction();
    const params = nodes(node.params).map((param) => {
      this.addLocals(countBindings(param));
      // A rest parameter collects call arguments, which __args already bounds.
      if (param.type === 'RestElement') {
        param.argument = this.visit(param.argument as AstNode, depth + 1);
        return param;
      }
      return this.visit(param, depth + 1);
    });
    node.params = params;
    if (node.id != null) checkName(node, (node.id as AstNode).name as string, true);
    let body = this.visit(node.body as AstNode, depth + 1);
    if (node.expression === true) {
      body = {
        type: 'BlockStatement',
        start: 0,
        body: [{ type: 'ReturnStatement', start: 0, argument: body }],
      };
      node.expression = false;
    }
    const statements = nodes(body.body).map((s) => {
      delete s.directive;
      return s;
    });
    node.body = {
      type: 'BlockStatement',
      start: 0,
      body: [
        statement(call('__enter', [])),
        {
          type: 'TryStatement',
          start: 0,
          block: { type: 'BlockStatement', start: 0, body: statements },
          handler: null,
          finalizer: { type: 'BlockStatement', start: 0, body: [statement(call('__leave', []))] },
        },
      ],
    };
    this.leaveFunction(frame, node);
    return node;
  }

  private visitMember(node: AstNode, depth: number): AstNode {
    const object = this.visit(node.object as AstNode, depth + 1);
    node.object = object;
    const property = node.property as AstNode;
    if (node.computed === true) {
      if (
        property.type === 'Literal' &&
        (typeof property.value === 'string' || typeof property.value === 'number')
      ) {
        checkName(property, String(property.value), false);
      } else {
        node.property = call('__key', [this.visit(property, depth + 1)]);
      }
    } else {
      if (property.type !== 'Identifier')
        forbid(property, 'private names are not part of the contract subset');
      const name = property.name as string;
      checkName(property, name, false);
      if (object.type === 'Identifier' && object.name === 'Math' && FORBIDDEN_MATH.has(name)) {
        forbid(property, `Math.${name} may differ between engine versions`);
      }
    }
    return node;
  }

  private visitProperty(node: AstNode, depth: number): AstNode {
    if (node.kind !== 'init')
      forbid(node, 'getters and setters are not part of the contract subset');
    const key = node.key as AstNode;
    if (node.computed === true) {
      node.key = call('__key', [this.visit(key, depth + 1)]);
    } else if (key.type === 'Identifier') {
      checkName(key, key.name as string, false);
    } else if (key.type === 'Literal') {
      checkName(key, String(key.value), false);
    }
    // Printed as `key: value` from here on: the value may be rewritten.
    node.shorthand = false;
    node.value = this.visit(node.value as AstNode, depth + 1);
    return node;
  }

  private visitAssignment(node: AstNode, depth: number): AstNode {
    const operator = node.operator as string;
    const helper = GROWING_OPERATORS[operator.slice(0, -1)];
    node.left = this.visit(node.left as AstNode, depth + 1);
    node.right = this.visit(node.right as AstNode, depth + 1);
    if (helper === undefined) return node;
    const target = node.left as AstNode;
    const simple =
      target.type === 'Identifier' ||
      (target.type === 'MemberExpression' &&
        ((target.object as AstNode).type === 'Identifier' ||
          (target.object as AstNode).type === 'ThisExpression') &&
        (target.computed !== true || isPureKey(target.property as AstNode)));
    if (!simple) {
      forbid(node, `\`${operator}\` on this target evaluates it twice; assign through a variable`);
    }
    node.operator = '=';
    node.right = call(helper, [structuredClone(target), node.right as AstNode]);
    return node;
  }
}

function isPureKey(key: AstNode): boolean {
  // After visitMember a computed key is `__key(x)`: pure when x is a name or literal.
  if (key.type === 'CallExpression') {
    const argument = nodes(key.arguments)[0];
    return (
      argument !== undefined && (argument.type === 'Identifier' || argument.type === 'Literal')
    );
  }
  return key.type === 'Literal';
}

function checkName(at: AstNode, name: string, isBinding: boolean): void {
  if (isReservedName(name)) forbid(at, `names starting with __ are reserved (${name})`);
  if (isBinding && FORBIDDEN_GLOBALS.has(name))
    forbid(at, `\`${name}\` is not available to contracts`);
  if (!isBinding && FORBIDDEN_PROPERTIES.has(name))
    forbid(at, `the property \`${name}\` is not available to contracts`);
}

function checkLiteral(node: AstNode): void {
  if (node.regex !== undefined)
    forbid(node, 'regular expressions are not part of the contract subset');
  if (typeof node.bigint === 'string') {
    const bits = BigInt(node.bigint).toString(2).length;
    if (bits > VmLimits.maxBigintBits)
      forbid(node, `bigint literal of ${bits} bits, over ${VmLimits.maxBigintBits}`);
  }
}

function countBindings(pattern: AstNode): number {
  switch (pattern.type) {
    case 'Identifier':
      return 1;
    case 'ObjectPattern':
      return nodes(pattern.properties).reduce(
        (n, p) => n + countBindings(p.type === 'Property' ? (p.value as AstNode) : p),
        0,
      );
    case 'ArrayPattern':
      return (pattern.elements as (AstNode | null)[]).reduce(
        (n, p) => n + (p === null ? 0 : countBindings(p)),
        0,
      );
    case 'AssignmentPattern':
      return countBindings(pattern.left as AstNode);
    case 'RestElement':
      return countBindings(pattern.argument as AstNode);
    default:
      return 0;
  }
}

function forbid(at: AstNode, reason: string): never {
  throw new ContractError('CONTRACT_FORBIDDEN', reason, { offset: at.start });
}

function isNode(value: unknown): value is AstNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

function nodes(value: unknown): AstNode[] {
  return value as AstNode[];
}

function identifier(name: string): AstNode {
  return { type: 'Identifier', start: 0, name };
}

function literal(value: number): AstNode {
  return { type: 'Literal', start: 0, value, raw: String(value) };
}

function call(name: string, args: AstNode[]): AstNode {
  return {
    type: 'CallExpression',
    start: 0,
    callee: identifier(name),
    arguments: args,
    optional: false,
  };
}

function statement(expression: AstNode): AstNode {
  return { type: 'ExpressionStatement', start: 0, expression };
}

function charged(gas: number, expression: AstNode): AstNode {
  return {
    type: 'SequenceExpression',
    start: 0,
    expressions: [call('__charge', [literal(gas)]), expression],
  };
}

function prepend(body: AstNode, statements: AstNode[]): AstNode {
  if (body.type === 'BlockStatement') {
    body.body = [...statements, ...nodes(body.body)];
    return body;
  }
  return { type: 'BlockStatement', start: 0, body: [...statements, body] };
}
