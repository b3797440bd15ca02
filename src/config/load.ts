import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { crossFieldProblems } from './rules.js';
import { configSchema, identitySchema, type ParsedConfig } from './schema.js';

/** Who this process is, from the Downward API. Every field is optional until a mode needs it. */
export interface Identity {
  readonly podName?: string | undefined;
  readonly podNamespace?: string | undefined;
  readonly podIp?: string | undefined;
  readonly nodeName?: string | undefined;
  readonly hostIp?: string | undefined;
}

export type Config = ParsedConfig & { readonly identity: Identity; readonly source: string };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out || '(root)';
}

function zodProblems(error: z.ZodError, prefix = ''): Problem[] {
  return error.issues.map((issue) => ({
    path: `${prefix}${formatPath(issue.path)}`,
    message: issue.message,
  }));
}

/** Validates an already-parsed document plus environment; throws ConfigError listing every problem. */
export function parseConfig(document: unknown, env: NodeJS.ProcessEnv, source = '(inline)'): Config {
  const problems: Problem[] = [];
  const parsed = configSchema.safeParse(document);
  if (!parsed.success) problems.push(...zodProblems(parsed.error));
  const identity = identitySchema.safeParse(env);
  if (!identity.success) problems.push(...zodProblems(identity.error, 'env.'));
  problems.push(...crossFieldProblems(document));
  if (problems.length > 0 || !parsed.success || !identity.success) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new ConfigError(`invalid configuration in ${source}: ${count}`, problems);
  }
  const e = identity.data;
  return {
    ...parsed.data,
    identity: {
      podName: e.POD_NAME,
      podNamespace: e.POD_NAMESPACE,
      podIp: e.POD_IP,
      nodeName: e.NODE_NAME,
      hostIp: e.HOST_IP,
    },
    source,
  };
}

export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `invalid YAML in ${source}`,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return doc.toJS();
}

export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, [{ path, message: (cause as Error).message }], {
      cause,
    });
  }
  return parseConfig(parseYaml(text, path), env, path);
}

export function formatProblems(error: ConfigError): string {
  return [error.message, ...error.problems.map((p) => `  ${p.path}: ${p.message}`)].join('\n');
}
