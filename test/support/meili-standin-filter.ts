/**
 * Meilisearch filter expressions for the stand-in, written from the filter expression reference:
 * `attr OP value`, `attr a TO b`, `IN [..]`, `EXISTS`, `IS [NOT] NULL|EMPTY`, NOT > AND > OR, parentheses,
 * single- or double-quoted values with backslash escapes, and the array form (outer AND, inner OR).
 */

export class FilterError extends Error {}

interface Tok {
  type: 'word' | 'string' | 'op' | '(' | ')' | '[' | ']' | ',';
  text: string;
  col: number;
}

type Op = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type FilterNode =
  | { kind: 'and' | 'or'; items: FilterNode[] }
  | { kind: 'not'; item: FilterNode }
  | { kind: 'cmp'; attr: Tok; op: Op; value: Tok }
  | { kind: 'to'; attr: Tok; from: Tok; to: Tok }
  | { kind: 'in'; attr: Tok; values: Tok[] }
  | { kind: 'exists' | 'null' | 'empty'; attr: Tok };

const keywords = new Set([
  'AND',
  'OR',
  'IN',
  'NOT',
  'TO',
  'EXISTS',
  'IS',
  'NULL',
  'EMPTY',
  'CONTAINS',
  'STARTS',
  'WITH',
  '_geoRadius',
  '_geoBoundingBox',
]);
const expectedOps =
  '`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `_geoRadius`, or `_geoBoundingBox`';
const simpleEscapes: Record<string, string> = {
  '\\': '\\',
  '"': '"',
  "'": "'",
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
};
const maxDepth = 200;

function fail(input: string, col: number, message: string): never {
  throw new FilterError(`${message}\n${col + 1}:${input.length + 1} ${input}`);
}

function unescapeValue(input: string, raw: string, col: number): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '\\') {
      out += raw[i];
      continue;
    }
    const next = raw[++i]!;
    if (next in simpleEscapes) out += simpleEscapes[next];
    else fail(input, col, `The value \`${raw}\` contains an invalid escape sequence \`\\${next}\`.`);
  }
  return out;
}

function lex(input: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if ('()[],'.includes(c)) {
      toks.push({ type: c as Tok['type'], text: c, col: i });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < input.length && input[j] !== c) j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) {
        fail(
          input,
          i,
          `Expression \`${input.slice(i)}\` is missing the following closing delimiter: \`${c}\`.`,
        );
      }
      toks.push({ type: 'string', text: unescapeValue(input, input.slice(i + 1, j), i), col: i });
      i = j + 1;
    } else if (/[=!<>]/.test(c)) {
      const two = input.slice(i, i + 2);
      const op = ['!=', '>=', '<='].includes(two) ? two : c;
      if (op === '!') fail(input, i, `Was expecting an operation ${expectedOps} at \`${input.slice(i)}\`.`);
      toks.push({ type: 'op', text: op, col: i });
      i += op.length;
    } else {
      const m = /^[\p{L}\p{N}_.-]+/u.exec(input.slice(i));
      if (!m) fail(input, i, `Was expecting a value but instead got \`${input.slice(i)}\`.`);
      toks.push({ type: 'word', text: m[0], col: i });
      i += m[0].length;
    }
  }
  return toks;
}

/** Parses one filter string; returns null for an empty expression. */
export function parseFilterString(input: string): FilterNode | null {
  if (input.trim() === '') return null;
  const toks = lex(input);
  let p = 0;
  const peek = () => toks[p];
  const isKw = (t: Tok | undefined, kw: string) => t?.type === 'word' && t.text === kw;
  const rest = () => (p < toks.length ? input.slice(toks[p]!.col) : '');
  const col = () => (p < toks.length ? toks[p]!.col : input.length);

  const value = (what: string): Tok => {
    const t = peek();
    if (t?.type === 'string' || (t?.type === 'word' && !keywords.has(t.text))) {
      p++;
      return t;
    }
    if (t?.type === 'word') {
      fail(input, t.col, `Was expecting ${what} but instead got the reserved keyword \`${t.text}\`.`);
    }
    return fail(input, col(), `Was expecting ${what} but instead got \`${rest()}\`.`);
  };
  const list = (): Tok[] => {
    if (peek()?.type !== '[') fail(input, col(), 'Expected `[` after `IN` keyword.');
    p++;
    const values: Tok[] = [];
    while (peek()?.type !== ']') {
      if (p >= toks.length)
        fail(input, col(), 'Expected matching `]` after the list of field names given to `IN[`');
      values.push(value('a value'));
      if (peek()?.type === ',') p++;
      else if (peek()?.type !== ']')
        fail(input, col(), 'Expected only comma-separated field names inside `IN[..]`');
    }
    p++;
    return values;
  };
  const condition = (): FilterNode => {
    const attr = value('a value');
    const t = peek();
    if (t?.type === 'op') {
      p++;
      return { kind: 'cmp', attr, op: t.text as Op, value: value('a value') };
    }
    if (isKw(t, 'IN')) {
      p++;
      return { kind: 'in', attr, values: list() };
    }
    if (isKw(t, 'EXISTS')) {
      p++;
      return { kind: 'exists', attr };
    }
    if (isKw(t, 'NOT') && (isKw(toks[p + 1], 'IN') || isKw(toks[p + 1], 'EXISTS'))) {
      p += 2;
      if (toks[p - 1]!.text === 'EXISTS') return { kind: 'not', item: { kind: 'exists', attr } };
      return { kind: 'not', item: { kind: 'in', attr, values: list() } };
    }
    if (isKw(t, 'IS')) {
      p++;
      const negate = isKw(peek(), 'NOT');
      if (negate) p++;
      const what = peek();
      if (!isKw(what, 'NULL') && !isKw(what, 'EMPTY'))
        fail(input, col(), `Was expecting an operation ${expectedOps} at \`${rest()}\`.`);
      p++;
      const node: FilterNode = { kind: what!.text === 'NULL' ? 'null' : 'empty', attr };
      return negate ? { kind: 'not', item: node } : node;
    }
    if ((t?.type === 'word' || t?.type === 'string') && isKw(toks[p + 1], 'TO')) {
      const from = value('a value');
      p++;
      return { kind: 'to', attr, from, to: value('a value') };
    }
    return fail(
      input,
      attr.col,
      `Was expecting an operation ${expectedOps} at \`${input.slice(attr.col)}\`.`,
    );
  };
  const primary = (depth: number): FilterNode => {
    if (peek()?.type === '(') {
      p++;
      const inner = or(depth + 1);
      if (peek()?.type !== ')')
        fail(input, col(), 'Expression `(` is missing the following closing delimiter: `)`.');
      p++;
      return inner;
    }
    return condition();
  };
  const not = (depth: number): FilterNode => {
    if (depth > maxDepth)
      fail(
        input,
        col(),
        'The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.',
      );
    if (isKw(peek(), 'NOT')) {
      p++;
      const inner = not(depth + 1);
      return inner.kind === 'not' ? inner.item : { kind: 'not', item: inner };
    }
    return primary(depth);
  };
  const sequence = (kind: 'and' | 'or', kw: string, next: (d: number) => FilterNode, depth: number) => {
    const items = [next(depth + 1)];
    while (isKw(peek(), kw)) {
      p++;
      items.push(next(depth + 1));
    }
    return items.length === 1 ? items[0]! : { kind, items };
  };
  const and = (depth: number): FilterNode => sequence('and', 'AND', not, depth);
  const or = (depth: number): FilterNode => sequence('or', 'OR', and, depth);

  const node = or(0);
  if (p < toks.length)
    fail(
      input,
      col(),
      `Found unexpected characters at the end of the filter: \`${rest()}\`. You probably forgot an \`OR\` or an \`AND\` rule.`,
    );
  return node;
}

/** Parses the `filter` search parameter: a string, or an array of strings / arrays of strings. */
export function parseFilterParam(filter: unknown): FilterNode | null {
  if (filter === null || filter === undefined) return null;
  if (typeof filter === 'string') return parseFilterString(filter);
  if (!Array.isArray(filter))
    throw new FilterError(
      `Invalid syntax for the filter parameter: \`expected String, Array, found: ${JSON.stringify(filter)}\`.`,
    );
  const ands: FilterNode[] = [];
  for (const item of filter) {
    if (typeof item === 'string') {
      const node = parseFilterString(item);
      if (node) ands.push(node);
    } else if (Array.isArray(item)) {
      const ors: FilterNode[] = [];
      for (const inner of item) {
        if (typeof inner !== 'string')
          throw new FilterError(
            `Invalid syntax for the filter parameter: \`expected String, found: ${JSON.stringify(inner)}\`.`,
          );
        const node = parseFilterString(inner);
        if (node) ors.push(node);
      }
      if (ors.length > 0) ands.push({ kind: 'or', items: ors });
    } else {
      throw new FilterError(
        `Invalid syntax for the filter parameter: \`expected String, Array, found: ${JSON.stringify(item)}\`.`,
      );
    }
  }
  return ands.length === 0 ? null : { kind: 'and', items: ands };
}

function attrsOf(node: FilterNode, out: Tok[] = []): Tok[] {
  if ('items' in node) for (const n of node.items) attrsOf(n, out);
  else if ('item' in node) attrsOf(node.item, out);
  else out.push(node.attr);
  return out;
}

/** Rejects attributes missing from filterableAttributes and comparisons against non-numbers. */
export function checkFilter(node: FilterNode, filterable: string[], indexUid: string): void {
  for (const attr of attrsOf(node)) {
    const ok = filterable.some((f) => attr.text === f || attr.text.startsWith(`${f}.`));
    if (!ok) {
      const available =
        filterable.length > 0
          ? `Available filterable attribute patterns are: \`${[...filterable].sort().join(', ')}\`.`
          : 'This index does not have configured filterable attributes.';
      throw new FilterError(
        `Index \`${indexUid}\`: Attribute \`${attr.text}\` is not filterable. ${available}\n${attr.col + 1}:${attr.col + 1 + attr.text.length} ${attr.text}`,
      );
    }
  }
  const walk = (n: FilterNode): void => {
    if (n.kind === 'and' || n.kind === 'or') n.items.forEach(walk);
    else if (n.kind === 'not') walk(n.item);
    else if (n.kind === 'cmp' && !['=', '!='].includes(n.op)) asNumber(n.value);
    else if (n.kind === 'to') {
      asNumber(n.from);
      asNumber(n.to);
    }
  };
  walk(node);
}

function asNumber(t: Tok): number {
  const n = t.text.trim() === '' ? Number.NaN : Number(t.text);
  if (!Number.isFinite(n))
    throw new FilterError(
      `Could not parse \`${t.text}\` as a finite number.\n${t.col + 1}:${t.col + 1 + t.text.length} ${t.text}`,
    );
  return n;
}

function field(doc: Record<string, unknown>, path: string): { present: boolean; value: unknown } {
  if (path in doc) return { present: true, value: doc[path] };
  const [head, ...tail] = path.split('.');
  const inner = doc[head!];
  if (tail.length > 0 && inner && typeof inner === 'object' && !Array.isArray(inner)) {
    return field(inner as Record<string, unknown>, tail.join('.'));
  }
  return { present: false, value: undefined };
}

const facet = (s: string) => s.trim().toLowerCase();
const flat = (v: unknown): unknown[] =>
  Array.isArray(v) ? v.flatMap(flat) : v === null || v === undefined ? [] : [v];

function equals(v: unknown, t: Tok): boolean {
  if (typeof v === 'number') return t.text.trim() !== '' && Number(t.text) === v;
  if (typeof v === 'boolean') return facet(t.text) === String(v);
  return typeof v === 'string' && facet(v) === facet(t.text);
}

/** Evaluates a checked filter against one document. */
export function matchFilter(node: FilterNode, doc: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((n) => matchFilter(n, doc));
    case 'or':
      return node.items.some((n) => matchFilter(n, doc));
    case 'not':
      return !matchFilter(node.item, doc);
    case 'exists':
      return field(doc, node.attr.text).present;
    case 'null': {
      const f = field(doc, node.attr.text);
      return f.present && f.value === null;
    }
    case 'empty': {
      const v = field(doc, node.attr.text).value;
      return (
        v === '' ||
        (Array.isArray(v) && v.length === 0) ||
        (typeof v === 'object' && v !== null && Object.keys(v).length === 0)
      );
    }
    case 'in':
      return flat(field(doc, node.attr.text).value).some((v) => node.values.some((t) => equals(v, t)));
    case 'to': {
      const [lo, hi] = [asNumber(node.from), asNumber(node.to)];
      return flat(field(doc, node.attr.text).value).some((v) => typeof v === 'number' && v >= lo && v <= hi);
    }
    case 'cmp': {
      const values = flat(field(doc, node.attr.text).value);
      if (node.op === '=') return values.some((v) => equals(v, node.value));
      if (node.op === '!=') return !values.some((v) => equals(v, node.value));
      const n = asNumber(node.value);
      const cmp = {
        '>': (v: number) => v > n,
        '>=': (v: number) => v >= n,
        '<': (v: number) => v < n,
        '<=': (v: number) => v <= n,
      }[node.op];
      return values.some((v) => typeof v === 'number' && cmp(v));
    }
  }
}
