// Operator commands on the provider's data directory (--data-dir or IDENTITY_DATA_DIR):
//   node services/identity/admin.mjs list
//   node services/identity/admin.mjs disable <username>   # next sign-in and refresh refused
//   node services/identity/admin.mjs enable <username>
//   node services/identity/admin.mjs rotate-keys          # takes effect when the provider restarts
//   node services/identity/admin.mjs add-accounts < FILE   # {"accounts": [...]} as in sample-accounts.json;
//                                                          # an account of the same username is replaced
import * as fs from 'node:fs';

import { readAccounts, setDisabled, upsertAccounts } from './lib/accounts.mjs';
import { readConfig } from './lib/config.mjs';
import { rotateKeys } from './lib/keys.mjs';

const USAGE = 'usage: node services/identity/admin.mjs [--data-dir DIR] list | disable <username> | enable <username> | rotate-keys | add-accounts < FILE';

function list(dataDir) {
  const rows = readAccounts(dataDir).map((account) => [
    account.username, account.role, account.org, account.disabled ? 'DISABLED' : 'active', account.name,
  ]);
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) {
    console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  }
}

function run([command, username, ...extra], dataDir) {
  const needsUser = command === 'disable' || command === 'enable';
  if (extra.length || needsUser !== (username !== undefined)) throw new Error(USAGE);
  switch (command) {
    case 'list':
      return list(dataDir);
    case 'disable':
    case 'enable':
      setDisabled(dataDir, username, command === 'disable');
      return console.log(`${username} ${command}d; the provider reads this on the account's next sign-in or refresh`);
    case 'add-accounts': {
      const given = JSON.parse(fs.readFileSync(0, 'utf8')).accounts;
      if (!Array.isArray(given)) throw new Error('add-accounts reads {"accounts": [...]} from standard input');
      const added = upsertAccounts(dataDir, given, 'standard input');
      return console.log(`added or replaced: ${added.join(', ')}`);
    }
    case 'rotate-keys': {
      const { signing, kept, dropped } = rotateKeys(dataDir);
      console.log(`new signing key ${signing}; ${kept} kept to verify the tokens it signed`);
      if (dropped.length) {
        console.log(`dropped ${dropped.join(', ')}: tokens it signed in the last 15 minutes no longer verify`);
      }
      return console.log('restart the provider to sign with the new key');
    }
    default:
      throw new Error(USAGE);
  }
}

try {
  const config = readConfig(process.argv.slice(2), { allowPositionals: true });
  run(config.positionals, config.dataDir);
} catch (error) {
  console.error(`admin: ${error.message}`);
  process.exitCode = 1;
}
