import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { type FileKind, fileProblems } from './files.js';
import { crossFieldProblems } from './rules.js';
import { configSchema, identitySchema, type ParsedConfig } from './schema.js';
import { decodeConfig } from './text.js';
import { parseYaml } from './yaml.js';

export { parseYaml };

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

function invalid(source: string, problems: Problem[]): ConfigError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new ConfigError(`invalid configuration in ${source}: ${count}`, problems);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

/**
 * Validates an already-parsed document plus environment; throws ConfigError listing every problem,
 * with `found` (what loadConfig found about the files it names) among them.
 */
export function parseConfig(
  document: unknown,
  env: NodeJS.ProcessEnv,
  source = '(inline)',
  found: readonly Problem[] = [],
): Config {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw invalid(source, [
      {
        path: '(root)',
        message: `a config is a YAML mapping (mode: ..., allowedVipPools: ..., services: ...); this one is ${kindOf(document)}`,
      },
    ]);
  }
  const problems: Problem[] = [];
  const parsed = configSchema.safeParse(document);
  if (!parsed.success) problems.push(...zodProblems(parsed.error));
  const identity = identitySchema.safeParse(env);
  if (!identity.success) problems.push(...zodProblems(identity.error, 'env.'));
  problems.push(...crossFieldProblems(document, env), ...found);
  if (problems.length > 0 || !parsed.success || !identity.success) throw invalid(source, problems);
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

/** Far above 50,000 services (about 6 MB); a larger file is not a config. */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

async function readConfigBytes(path: string): Promise<Uint8Array> {
  const refuse = (message: string, cause?: unknown) =>
    new ConfigError(`cannot read config file ${path}`, [{ path, message }], { cause });
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw refuse('is a directory');
    if (!info.isFile() && !info.isFIFO()) throw refuse('is not a regular file');
    if (info.size > MAX_CONFIG_BYTES)
      throw refuse(`is ${info.size} bytes; a config is at most ${MAX_CONFIG_BYTES}`);
    return await readFile(path);
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw refuse((cause as Error).message, cause);
  }
}

export interface LoadOptions {
  /**
   * Check the files the config names (TCP-MD5 keys, kubeconfig): on by default; off for
   * `portlb validate --no-file-checks`, where a CI job checks a config without the pod's secrets;
   * or only the kinds a command reads (the node agent reads a kubeconfig, never a TCP-MD5 key, so
   * it is not refused for a key only the sidecar's container mounts).
   */
  readonly checkFiles?: boolean | readonly FileKind[];
}

export async function loadConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): Promise<Config> {
  const document = parseYaml(decodeConfig(await readConfigBytes(path), path), path);
  const { checkFiles = true } = options;
  const files =
    checkFiles === false ? [] : await fileProblems(document, checkFiles === true ? undefined : checkFiles);
  return parseConfig(document, env, path, files);
}

export function formatProblems(error: ConfigError): string {
  return [error.message, ...error.problems.map((p) => `  ${p.path}: ${p.message}`)].join('\n');
}
