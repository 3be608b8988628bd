// The local OpenID Connect provider of caseplatform:
//   node services/identity/server.mjs [--host 127.0.0.1] [--port 8110] [--issuer URL]
//        [--data-dir var/identity] [--audience caseplatform] [--clients FILE] [--accounts-seed FILE]
//        [--access-token-seconds 900]   (at most 900: the services refuse longer-lived tokens)
// (or the IDENTITY_* environment variables, see lib/config.mjs). On first start it creates
// its data directory: a signing key, the accounts (from the SAMPLE seed), client secrets.
import { seedAccounts } from './lib/accounts.mjs';
import { loadClients } from './lib/clients.mjs';
import { readConfig } from './lib/config.mjs';
import { preparePrivateDir } from './lib/datadir.mjs';
import { loadOrCreateCookieKeys, loadOrCreateKeys } from './lib/keys.mjs';
import { createProvider } from './lib/provider.mjs';

function fail(error) {
  console.error(`identity: ${error.message}`);
  process.exit(1);
}

try {
  const config = readConfig(process.argv.slice(2));
  preparePrivateDir(config.dataDir);
  if (seedAccounts(config.dataDir, config.accountsSeed)) {
    console.log(`identity: accounts created in ${config.dataDir} from ${config.accountsSeed}`);
  }
  const provider = createProvider(config, {
    jwks: loadOrCreateKeys(config.dataDir),
    clients: loadClients(config),
    cookieKeys: loadOrCreateCookieKeys(config.dataDir),
  });
  const server = provider.listen(config.port, config.host, () => {
    console.log(`identity: issuer ${config.issuer} listening on ${config.host}:${config.port}, data in ${config.dataDir}`);
  });
  server.on('error', fail); // the port taken, the address not this machine's
} catch (error) {
  fail(error);
}
