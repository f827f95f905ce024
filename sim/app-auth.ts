import { createPublicKey, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

/*
 * GitHub App authentication, as GitHub checks it: an RS256 JWT signed with the App's private key (iss = App id,
 * exp at most 10 minutes after iat, not expired, iat not in the future beyond clock drift), exchanged for
 * installation tokens (`ghs_…`, valid one hour).
 */

export interface AppKeys {
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

export function generateAppKeys(): AppKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
}

export function appKeysFromPem(privateKeyPem: string): AppKeys {
  return { privateKeyPem, publicKey: createPublicKey(privateKeyPem) };
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

const b64url = (text: string) => Buffer.from(text, 'base64url');

/** Verifies an App JWT; returns nothing, throws AuthError with GitHub's kind of message. */
export function verifyAppJwt(jwt: string, appId: number, publicKey: KeyObject, nowSeconds: number): void {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new AuthError('A JSON web token could not be decoded');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(b64url(headerPart).toString('utf8')) as typeof header;
    payload = JSON.parse(b64url(payloadPart).toString('utf8')) as typeof payload;
  } catch {
    throw new AuthError('A JSON web token could not be decoded');
  }
  if (header.alg !== 'RS256') throw new AuthError('A JSON web token could not be decoded');
  const valid = createVerify('RSA-SHA256').update(`${headerPart}.${payloadPart}`).verify(publicKey, b64url(signaturePart));
  if (!valid) throw new AuthError('A JSON web token could not be decoded');
  if (String(payload.iss) !== String(appId)) throw new AuthError("'Issuer' claim ('iss') must be an Integer");
  if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number')
    throw new AuthError("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
  if (payload.iat > nowSeconds + 60) throw new AuthError("'Issued at' claim ('iat') must be an Integer representing a time in the past");
  if (payload.exp <= nowSeconds)
    throw new AuthError("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
  if (payload.exp - payload.iat > 600) throw new AuthError("'Expiration time' claim ('exp') is too far in the future");
}

export function newInstallationToken(): string {
  return `ghs_${randomBytes(18).toString('base64url')}`;
}
