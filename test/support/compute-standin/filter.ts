/*
 * STAND-IN (Google ships no Compute emulator). The subset of Compute's list `filter` portlb sends:
 * regular-expression comparisons `FIELD eq "RE"` / `FIELD ne "RE"`, one or several, each in
 * parentheses, ANDed. Compute matches RE2 against the whole value; JavaScript's RegExp, anchored,
 * agrees on the expressions used here. Anything else is refused with a 400, as Compute does.
 */

export interface Clause {
  readonly field: string;
  readonly negate: boolean;
  readonly pattern: RegExp;
}

const CLAUSE =
  /^\s*([A-Za-z][A-Za-z0-9.]*)\s+(eq|ne)\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+))\s*$/;

export function parseFilter(filter: string): Clause[] | { error: string } {
  const trimmed = filter.trim();
  if (trimmed === '') return [];
  const parts = trimmed.startsWith('(')
    ? [...trimmed.matchAll(/\(([^()]*)\)/g)].map((m) => m[1] ?? '')
    : [trimmed];
  const leftover = trimmed.startsWith('(') ? trimmed.replace(/\(([^()]*)\)/g, '').trim() : '';
  if (leftover !== '')
    return { error: `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.` };
  const clauses: Clause[] = [];
  for (const part of parts) {
    const match = CLAUSE.exec(part);
    if (match === null)
      return { error: `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.` };
    const source = match[3] ?? match[4] ?? match[5] ?? '';
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${source})$`);
    } catch {
      return { error: `Invalid value for field 'filter': '${filter}'. Invalid regular expression.` };
    }
    clauses.push({ field: match[1] ?? '', negate: match[2] === 'ne', pattern });
  }
  return clauses;
}

export function matches(resource: Record<string, unknown>, clauses: readonly Clause[]): boolean {
  return clauses.every((c) => {
    const value = resource[c.field];
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    return c.pattern.test(text) !== c.negate;
  });
}
