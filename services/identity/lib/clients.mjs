// The platform's clients: metadata from the clients file (in the repo), secrets of the
// machine clients from the data directory (generated on first start, never committed).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { checkClaims, MACHINE_ROLES } from './claims.mjs';
import { readJson, writePrivateJson } from './datadir.mjs';

export const CONSOLE = 'caseplatform-console';

const secretsFile = (dataDir) => path.join(dataDir, 'client-secrets.json');

function checkClient(client, source) {
  const label = `${source}: client ${client.client_id}`;
  if ('client_secret' in client) {
    throw new Error(`${label}: secrets belong in the data directory, not in the clients file`);
  }
  const machine = client.grant_types?.includes('client_credentials');
  if (machine !== (client.authority !== undefined)) {
    // A machine token's role and org come only from its client's authority, and a person's
    // only from their account: a client with both would blur whose authority a token is.
    throw new Error(`${label}: a client_credentials client needs an authority, and only such a client has one`);
  }
  if (machine) checkClaims({ ...client.authority, name: client.client_name }, MACHINE_ROLES, label);
}

const confidential = (client) => client.token_endpoint_auth_method !== 'none';

function loadOrCreateSecrets(dataDir, clients) {
  const file = secretsFile(dataDir);
  const secrets = fs.existsSync(file) ? readJson(file) : {};
  const missing = clients.filter((client) => confidential(client) && !secrets[client.client_id]);
  if (missing.length) {
    for (const client of missing) secrets[client.client_id] = crypto.randomBytes(32).toString('base64url');
    writePrivateJson(file, secrets);
  }
  return secrets;
}

export function loadClients(config) {
  const { clients } = readJson(config.clientsFile);
  clients.forEach((client) => checkClient(client, config.clientsFile));
  const secrets = loadOrCreateSecrets(config.dataDir, clients);
  return clients.map((client) => {
    const configured = { ...client };
    if (confidential(client)) configured.client_secret = secrets[client.client_id];
    if (client.client_id === CONSOLE) {
      configured.redirect_uris = config.consoleRedirectUris ?? client.redirect_uris;
      configured.post_logout_redirect_uris = config.consolePostLogoutRedirectUris ?? client.post_logout_redirect_uris;
    }
    return configured;
  });
}
