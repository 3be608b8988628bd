// The signing keys: a private JWK Set in the data directory. The provider signs with the
// first key and publishes all of them in its JWKS, so a rotated-out key still verifies the
// tokens it signed while they live.
//
// RS256 (RSA 2048): the one algorithm OpenID Connect requires every provider to support
// (Core 1.0 §15.1) and that of Keycloak's default realm key, which the compose deployment
// runs, so the services can accept a single algorithm whichever provider a ministry brings.
// Verifying is what matters for speed (the services verify a token on every request; the
// provider signs one per user every fifteen minutes), and PyJWT verifies RS256 about 1.6
// times as fast as ES256.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { readJson, writePrivateJson } from './datadir.mjs';

export const ALG = 'RS256';

const keysFile = (dataDir) => path.join(dataDir, 'signing-keys.json');

// The JWK thumbprint of RFC 7638: a kid that names the key itself, not when it was made.
function thumbprint({ e, kty, n }) {
  return crypto.createHash('sha256').update(JSON.stringify({ e, kty, n })).digest('base64url');
}

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg: ALG, use: 'sig' };
}

export function loadOrCreateKeys(dataDir) {
  const file = keysFile(dataDir);
  if (!fs.existsSync(file)) {
    writePrivateJson(file, { keys: [newKey()] });
  }
  return readJson(file);
}

// The new key goes in front (it signs after the provider's restart) and the one it replaces
// stays for verification. Older ones are dropped: their tokens expired long ago, unless
// keys are rotated twice within a token's lifetime (15 minutes), which the caller is told.
export function rotateKeys(dataDir) {
  const { keys } = loadOrCreateKeys(dataDir);
  const rotated = [newKey(), keys[0]];
  writePrivateJson(keysFile(dataDir), { keys: rotated });
  return { signing: rotated[0].kid, kept: rotated[1].kid, dropped: keys.slice(1).map((key) => key.kid) };
}

// Keys of the provider's signed cookies (session, interaction), kept in the data directory
// so that a restart keeps people signed in.
export function loadOrCreateCookieKeys(dataDir) {
  const file = path.join(dataDir, 'cookie-keys.json');
  if (!fs.existsSync(file)) {
    writePrivateJson(file, [crypto.randomBytes(32).toString('base64url')]);
  }
  return readJson(file);
}
