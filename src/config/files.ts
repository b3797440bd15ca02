import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import type { Problem } from '../errors.js';
import { list, record } from './loose.js';

/*
 * Files a config names, checked when it is loaded, so that a missing secret is reported by
 * `portlb validate` against its field rather than later by whatever reads it. Paths are relative
 * to the working directory, as every reader opens them. A key's content is checked, never shown.
 */

/** What a referenced file is; a command checks only the kinds it reads. */
export type FileKind =
  /** The LB speakers' keys towards the route reflectors (`bgp.peers[].passwordFile`): exabgp reads them. */
  | 'tcp-md5-key'
  /** The route reflectors' key towards the router (`bgp.topology.router.passwordFile`): only `render rr|router` read it. */
  | 'router-md5-key'
  | 'kubeconfig';

interface FileReference {
  readonly field: string;
  readonly file: string;
  readonly kind: FileKind;
}

/**
 * The files a document names, read defensively like the cross-field rules (rules.ts), so that a
 * missing key is reported together with every other problem of the file.
 */
export function fileReferences(document: unknown): FileReference[] {
  const refs: FileReference[] = [];
  const add = (field: string, file: unknown, kind: FileReference['kind']) => {
    if (typeof file === 'string' && file !== '' && !file.includes('\0')) refs.push({ field, file, kind });
  };
  const doc = record(document);
  const bgp = record(doc.bgp);
  for (const [i, peer] of list(bgp.peers).entries()) {
    add(`bgp.peers[${i}].passwordFile`, record(peer).passwordFile, 'tcp-md5-key');
  }
  add('bgp.topology.router.passwordFile', record(record(bgp.topology).router).passwordFile, 'router-md5-key');
  add('kubernetes.kubeconfig', record(doc.kubernetes).kubeconfig, 'kubeconfig');
  return refs;
}

/** RFC 2385 keys go to exabgp, gobgp (quoted) and FRR (one bare word); Linux takes at most 80 bytes. */
const TCP_MD5_KEY = /^[!#-[\]-~]{1,80}$/;

async function problemOf(ref: FileReference): Promise<string | undefined> {
  try {
    const info = await stat(ref.file);
    if (!info.isFile()) return `${ref.file} is not a regular file`;
    await access(ref.file, constants.R_OK);
    if (ref.kind !== 'kubeconfig') {
      if (info.size > 4096) return `${ref.file} is ${info.size} bytes; a TCP-MD5 key is at most 80`;
      const key = (await readFile(ref.file, 'utf8')).trim();
      if (!TCP_MD5_KEY.test(key)) {
        return `${ref.file} must hold one key of 1-80 printable ASCII characters, without spaces, quotes or backslashes`;
      }
    }
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${ref.file} does not exist`;
    if (code === 'EACCES') return `${ref.file} is not readable by this user`;
    return `${ref.file}: ${(error as Error).message}`;
  }
}

export async function fileProblems(
  document: unknown,
  kinds: readonly FileKind[] = ['tcp-md5-key', 'router-md5-key', 'kubeconfig'],
): Promise<Problem[]> {
  const refs = fileReferences(document).filter((ref) => kinds.includes(ref.kind));
  const found = await Promise.all(refs.map(problemOf));
  return refs.flatMap((ref, i) => {
    const message = found[i];
    return message === undefined ? [] : [{ path: ref.field, message }];
  });
}
