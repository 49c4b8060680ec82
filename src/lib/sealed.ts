/**
 * Secrets at rest: small values (tokens, webhook secrets) sealed with AES-256-GCM before they leave the process
 * (the shared cache), so whoever can read the store cannot read or alter them without the key.
 *
 * - A fresh 96-bit random IV per value and the 128-bit GCM tag, checked on open (NIST SP 800-38D).
 * - `context` (e.g. the cache key the value is stored under) is bound as additional authenticated data: a sealed
 *   value copied under another key does not open.
 * - Sealed form: `v1.<iv>.<ciphertext>.<tag>`, each part base64url; no part reveals the plaintext or the key.
 * - `open` answers `undefined` for anything it cannot authenticate (other key, other context, tampered, not sealed):
 *   callers treat it as absent. Nothing here logs or throws a value.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** Key length of AES-256. */
export const SEALING_KEY_BYTES = 32;

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealer {
  /** Encrypts and authenticates `plaintext` (bound to `context`). */
  seal(plaintext: string, context?: string): string;
  /** The plaintext, or `undefined` when `sealed` was not sealed by this key with this `context` (or was altered). */
  open(sealed: string, context?: string): string | undefined;
}

/**
 * A 32-byte key from its text form: 64 hex digits, or base64 / base64url (43 or 44 characters). `undefined` when
 * the text is not one of these or not 32 bytes (the caller names the setting; the value is never echoed).
 */
export function parseSealingKey(text: string): Buffer | undefined {
  const raw = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) key = Buffer.from(raw, "hex");
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(raw)) key = Buffer.from(raw, "base64");
  else if (/^[A-Za-z0-9_-]{43}$/.test(raw)) key = Buffer.from(raw, "base64url");
  return key?.length === SEALING_KEY_BYTES ? key : undefined;
}

/** A sealer with `key` (32 bytes; see {@link parseSealingKey}). */
export function createSealer(key: Buffer): Sealer {
  if (key.length !== SEALING_KEY_BYTES) throw new Error(`a sealing key is ${SEALING_KEY_BYTES} bytes`);
  const secret = Buffer.from(key); // a private copy: the caller's buffer may be reused
  return {
    seal(plaintext, context = "") {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", secret, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
    },
    open(sealed, context = "") {
      const parts = sealed.split(".");
      if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
      const [iv, body, tag] = parts.slice(1).map((p) => Buffer.from(p, "base64url"));
      if (iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", secret, iv!, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(tag!);
        return Buffer.concat([decipher.update(body!), decipher.final()]).toString("utf8");
      } catch {
        return undefined; // not authentic: another key or context, or altered
      }
    },
  };
}
