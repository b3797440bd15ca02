import {
  constructFromEvents,
  EVENT_ID,
  type Event,
  getScalarValue,
  parseEvents,
  YAMLException,
} from 'js-yaml';
import { ConfigError, type Problem } from '../errors.js';

/*
 * Config text -> a plain document, or a ConfigError that says where and what. js-yaml (YAML 1.2
 * core schema) rather than the `yaml` package: it parses 50,000 services in a tenth of the time.
 * Nothing YAML merely warns about passes: an unknown tag, a duplicate key (named by its path), an
 * alias that expands past what the text could hold (an alias bomb), a cycle.
 */

/** Deeper than any portlb config (services[].backends.static[].address is 5 levels). */
const MAX_DEPTH = 64;

/** Past this many values once aliases are expanded, beyond what the text holds, it is a bomb. */
const MAX_EXPANSION = 100_000;

function lineOf(text: string, position: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < position; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function yamlError(source: string, problems: Problem[]): ConfigError {
  return new ConfigError(`invalid YAML in ${source}`, problems);
}

interface Frame {
  readonly path: string;
  readonly map: boolean;
  /** Maps: the key whose value comes next, or undefined while a key is due. */
  key: string | undefined;
  index: number;
}

function join(parent: Frame | undefined, segment: string | number): string {
  const base = parent?.path ?? '';
  if (typeof segment === 'number') return `${base}[${segment}]`;
  return base === '' ? segment : `${base}.${segment}`;
}

function startOf(event: Event): number {
  const starts: number[] = [];
  if ('anchorStart' in event) starts.push(event.anchorStart);
  if ('tagStart' in event) starts.push(event.tagStart);
  if ('start' in event) starts.push(event.start);
  if ('valueStart' in event) starts.push(event.valueStart);
  const valid = starts.filter((s) => s >= 0);
  return valid.length > 0 ? Math.min(...valid) : -1;
}

/**
 * The config path (`bgp.peers[0].holdTime`) of the node at a source position, and the key there
 * when the node is a mapping key: js-yaml names positions, operators name fields.
 */
function pathAt(text: string, events: readonly Event[], position: number): { path: string; key?: string } {
  const stack: Frame[] = [];
  const valuePath = (parent: Frame | undefined): string =>
    parent === undefined
      ? '(root)'
      : parent.map
        ? join(parent, parent.key ?? '?')
        : join(parent, parent.index);
  const advance = (parent: Frame | undefined) => {
    if (parent === undefined) return;
    if (parent.map) parent.key = undefined;
    else parent.index++;
  };
  for (const event of events) {
    const parent = stack.at(-1);
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.type === EVENT_ID.POP) {
      if (stack.pop() !== undefined) advance(stack.at(-1));
      continue;
    }
    const isKey = parent?.map === true && parent.key === undefined;
    const start = startOf(event);
    const end = event.type === EVENT_ID.SCALAR ? event.valueEnd : start;
    if (isKey) {
      const key = event.type === EVENT_ID.SCALAR ? getScalarValue(text, event) : '?';
      if (start <= position && position <= Math.max(end, start)) return { path: join(parent, key), key };
      if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE)
        return { path: valuePath(parent) };
      parent.key = key;
      continue;
    }
    const here = valuePath(parent);
    if (start === position) return { path: here };
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) {
      stack.push({
        path: here === '(root)' ? '' : here,
        map: event.type === EVENT_ID.MAPPING,
        key: undefined,
        index: 0,
      });
    } else {
      advance(parent);
    }
  }
  return { path: `line ${lineOf(text, position)}` };
}

function messageFor(error: YAMLException, key: string | undefined): string {
  if (error.reason === 'duplicated mapping key')
    return `duplicate key${key === undefined ? '' : ` "${key}"`}`;
  const tag = /^unknown (?:\w+ )?tag !<(.*)>$/.exec(error.reason);
  if (tag)
    return `unknown tag ${tag[1]?.replace(/^tag:yaml\.org,2002:/, '!!')}: a portlb config is plain YAML`;
  return error.reason;
}

/** Counts values with aliases expanded, without expanding them; refuses cycles and bombs. */
function checkExpansion(root: unknown, limit: number): string | undefined {
  const size = new Map<object, number>();
  const open = new Set<object>();
  const stack: { node: object; children: unknown[]; next: number; total: number }[] = [];
  const enter = (node: unknown): number | 'cycle' | 'push' => {
    if (typeof node !== 'object' || node === null) return 1;
    const known = size.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return 'cycle';
    open.add(node);
    stack.push({ node, children: Object.values(node), next: 0, total: 1 });
    return 'push';
  };
  let result = enter(root);
  if (result === 'cycle') return 'an alias refers to a node that contains it (a cycle)';
  while (stack.length > 0) {
    const frame = stack.at(-1)!;
    if (frame.next < frame.children.length) {
      const child = enter(frame.children[frame.next++]);
      if (child === 'cycle') return 'an alias refers to a node that contains it (a cycle)';
      if (child !== 'push') frame.total += child;
    } else {
      stack.pop();
      open.delete(frame.node);
      size.set(frame.node, frame.total);
      const parent = stack.at(-1);
      if (parent) parent.total += frame.total;
      result = frame.total;
    }
    if (frame.total > limit) {
      return `aliases expand to more than ${limit} values, far more than the file holds (an alias bomb?)`;
    }
  }
  return undefined;
}

/** Parses one YAML document (null when there is none); throws ConfigError naming the path or line of a problem. */
export function parseYaml(text: string, source: string): unknown {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_DEPTH });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const line = error.mark ? `line ${error.mark.line + 1}` : '(yaml)';
    const column = error.mark ? ` (column ${error.mark.column + 1})` : '';
    throw yamlError(source, [{ path: line, message: `${error.reason}${column}` }]);
  }
  let documents: unknown[];
  try {
    documents = constructFromEvents(events, { source: text, maxAliases: MAX_EXPANSION });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const at = error.mark?.position;
    const where = at === undefined ? { path: '(yaml)' } : pathAt(text, events, at);
    throw yamlError(source, [{ path: where.path, message: messageFor(error, where.key) }]);
  }
  if (documents.length === 0) return null; // empty, or only comments: as YAML reads it
  if (documents.length > 1) {
    const message = `the file holds ${documents.length} YAML documents (separated by ---); a config is one`;
    throw yamlError(source, [{ path: '(root)', message }]);
  }
  const [document] = documents;
  if (!events.some((e) => e.type === EVENT_ID.ALIAS)) return document; // a tree: nothing to expand
  const bomb = checkExpansion(document, MAX_EXPANSION + text.length);
  if (bomb !== undefined) throw yamlError(source, [{ path: '(root)', message: bomb }]);
  return document;
}
