// Settings of the provider and of admin.mjs: a command-line option wins over its environment
// variable, which wins over the default. Relative paths are taken from the current directory.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const IDENTITY_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const REPO = path.resolve(IDENTITY_DIR, '..', '..');

const OPTIONS = {
  host: { env: 'IDENTITY_HOST', default: '127.0.0.1' },
  port: { env: 'IDENTITY_PORT', default: '8110' },
  issuer: { env: 'IDENTITY_ISSUER' }, // default: http://<host>:<port>
  'data-dir': { env: 'IDENTITY_DATA_DIR', default: path.join(REPO, 'var', 'identity') }, // git-ignored, like all of var/
  audience: { env: 'IDENTITY_AUDIENCE', default: 'caseplatform' },
  clients: { env: 'IDENTITY_CLIENTS', default: path.join(IDENTITY_DIR, 'clients.json') },
  'accounts-seed': { env: 'IDENTITY_ACCOUNTS_SEED', default: path.join(IDENTITY_DIR, 'sample-accounts.json') },
  // Space-separated; each replaces the console's URIs in the clients file when set.
  'console-redirect-uris': { env: 'IDENTITY_CONSOLE_REDIRECT_URIS' },
  'console-post-logout-redirect-uris': { env: 'IDENTITY_CONSOLE_POST_LOGOUT_REDIRECT_URIS' },
  // Shorter only: tests watch a token expire in seconds. Never longer than the 15 minutes
  // the services accept (issue #17).
  'access-token-seconds': { env: 'IDENTITY_ACCESS_TOKEN_SECONDS', default: '900' },
};

export const MAX_ACCESS_TOKEN_SECONDS = 15 * 60;

export function readConfig(argv, { allowPositionals = false } = {}) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals,
    options: Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: 'string' }])),
  });
  const setting = (name) => values[name] ?? process.env[OPTIONS[name].env] ?? OPTIONS[name].default;
  const spaced = (name) => setting(name)?.split(/\s+/).filter(Boolean);

  const host = setting('host');
  const port = Number(setting('port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`port must be a number from 1 to 65535, not ${setting('port')}`);
  }
  const accessTokenSeconds = Number(setting('access-token-seconds'));
  if (!Number.isInteger(accessTokenSeconds) || accessTokenSeconds < 1 || accessTokenSeconds > MAX_ACCESS_TOKEN_SECONDS) {
    throw new Error(`access-token-seconds must be a number from 1 to ${MAX_ACCESS_TOKEN_SECONDS}, `
      + `not ${setting('access-token-seconds')}`);
  }
  return {
    host,
    port,
    issuer: setting('issuer') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    dataDir: path.resolve(setting('data-dir')),
    audience: setting('audience'),
    clientsFile: path.resolve(setting('clients')),
    accountsSeed: path.resolve(setting('accounts-seed')),
    consoleRedirectUris: spaced('console-redirect-uris'),
    consolePostLogoutRedirectUris: spaced('console-post-logout-redirect-uris'),
    accessTokenSeconds,
    positionals,
  };
}
