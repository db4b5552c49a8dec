// Strict hex handling for SUN fields: an exact length, hex digits only, nothing else.
export function isHex(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-fA-F]*$/.test(value);
}

/** Hex of n whole 16-byte blocks (1..maxBlocks). */
export function isHexBlocks(value: unknown, maxBlocks: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length % 32 === 0 && value.length <= maxBlocks * 32 && /^[0-9a-fA-F]*$/.test(value);
}

export const fromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();
