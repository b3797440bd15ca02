import { ConfigError } from '../errors.js';

/*
 * Config bytes -> UTF-8 text. Editors on some systems save UTF-16, and a binary file can be passed
 * by mistake: both would otherwise reach YAML as one odd string ("expected object, received
 * string"). Say what the file is instead.
 */

const BOMS: readonly { bytes: readonly number[]; name: string }[] = [
  { bytes: [0x00, 0x00, 0xfe, 0xff], name: 'UTF-32 (big-endian)' },
  { bytes: [0xff, 0xfe, 0x00, 0x00], name: 'UTF-32 (little-endian)' },
  { bytes: [0xfe, 0xff], name: 'UTF-16 (big-endian)' },
  { bytes: [0xff, 0xfe], name: 'UTF-16 (little-endian)' },
];

/** ASCII in UTF-16 leaves every other byte NUL. */
function looksUtf16(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 64);
  let even = 0;
  let odd = 0;
  head.forEach((byte, i) => {
    if (byte === 0) {
      if (i % 2 === 0) even++;
      else odd++;
    }
  });
  return Math.max(even, odd) >= head.length / 4 && Math.min(even, odd) === 0;
}

function refuse(source: string, message: string): ConfigError {
  return new ConfigError(`cannot read config file ${source}`, [{ path: source, message }]);
}

export function decodeConfig(bytes: Uint8Array, source: string): string {
  const bom = BOMS.find((b) => b.bytes.every((byte, i) => bytes[i] === byte));
  if (bom !== undefined) {
    throw refuse(source, `the file is ${bom.name} text; portlb reads UTF-8: save it as UTF-8`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const what = looksUtf16(bytes) ? 'UTF-16 text without a byte order mark' : 'not a text file';
    throw refuse(source, `the file has a NUL byte at offset ${nul}: ${what}; portlb reads UTF-8 YAML`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = new TextDecoder('utf-8').decode(bytes);
    const at = text.indexOf('\uFFFD');
    const line = text.slice(0, Math.max(0, at)).split('\n').length;
    throw refuse(source, `the file is not valid UTF-8 (line ${line}): save it as UTF-8`);
  }
}
