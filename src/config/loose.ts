/** Reading a document that may be malformed anywhere: a wrong type reads as empty, never throws. */
export type Loose = Record<string, unknown>;

export function record(value: unknown): Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
