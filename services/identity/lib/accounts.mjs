// People who sign in: accounts.json in the data directory, created on first start from a
// seed whose passwords are in clear (SAMPLE ones, printed for local sign-in) and stored only
// as scrypt hashes. The file is looked at on every use, so an operator's edit (or
// `admin.mjs disable`) applies to the next sign-in or refresh without a restart; it is parsed
// again only when it changed (each write replaces it: a new inode), since parsing and checking
// every account on every lookup made a sign-in cost time in proportion to the accounts (a
// benchmark's 13,000 units took the provider minutes to sign in).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { checkClaims, USER_ROLES } from './claims.mjs';
import { readJson, writePrivateJson } from './datadir.mjs';

const scrypt = promisify(crypto.scrypt);
const SCRYPT = { N: 16384, r: 8, p: 1 }; // node's defaults: about 16 MiB and 50 ms a hash
const KEY_LENGTH = 32;

const accountsFile = (dataDir) => path.join(dataDir, 'accounts.json');

function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password.normalize('NFC'), salt, KEY_LENGTH, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

// Checked against when the username is unknown, so that a wrong username costs the same
// time as a wrong password and the form does not tell which accounts exist.
const UNKNOWN_USER_HASH = hashPassword(crypto.randomUUID());

export async function passwordMatches(account, password) {
  const [, N, r, p, salt, hash] = (account?.password_hash ?? UNKNOWN_USER_HASH).split('$');
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length,
    { N: Number(N), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(actual, expected) && account !== undefined;
}

function checkAccounts(accounts, source) {
  const seen = new Set();
  for (const account of accounts) {
    if (typeof account.username !== 'string' || !account.username || seen.has(account.username)) {
      throw new Error(`${source}: every account needs a username of its own (${account.username})`);
    }
    seen.add(account.username);
    checkClaims(account, USER_ROLES, `${source}: account ${account.username}`);
  }
  return accounts;
}

export function seedAccounts(dataDir, seedFile) {
  if (fs.existsSync(accountsFile(dataDir))) return false;
  const seed = checkAccounts(readJson(seedFile).accounts, seedFile);
  const accounts = seed.map(({ password, ...account }) => ({ ...account, password_hash: hashPassword(password) }));
  writePrivateJson(accountsFile(dataDir), { accounts });
  return true;
}

// Adds accounts given with clear passwords (the seed's shape), replacing any of the same
// username: how an operator creates accounts, and how tests create the people they need.
export function upsertAccounts(dataDir, given, source) {
  const added = checkAccounts(given, source);
  const accounts = readAccounts(dataDir).filter((account) => !added.some((a) => a.username === account.username));
  for (const { password, ...account } of added) {
    if (typeof password !== 'string' || password.length < 12) {
      throw new Error(`${source}: account ${account.username} needs a password of at least 12 characters`);
    }
    accounts.push({ ...account, password_hash: hashPassword(password) });
  }
  writePrivateJson(accountsFile(dataDir), { accounts });
  return added.map((account) => account.username);
}

let parsed = { version: null, accounts: [], byUsername: new Map() };

function current(dataDir) {
  const file = accountsFile(dataDir);
  const stat = fs.statSync(file);
  const version = [file, stat.ino, stat.mtimeMs, stat.ctimeMs, stat.size].join(':');
  if (parsed.version !== version) {
    const accounts = checkAccounts(readJson(file).accounts, file).map((account) => Object.freeze(account));
    parsed = { version, accounts, byUsername: new Map(accounts.map((account) => [account.username, account])) };
  }
  return parsed;
}

// A copy: the admin commands change accounts and write the file back.
export function readAccounts(dataDir) {
  return current(dataDir).accounts.map((account) => ({ ...account }));
}

export function findAccount(dataDir, username) {
  return current(dataDir).byUsername.get(username);
}

export function setDisabled(dataDir, username, disabled) {
  const accounts = readAccounts(dataDir);
  const account = accounts.find((candidate) => candidate.username === username);
  if (!account) throw new Error(`no account ${username}`);
  if (disabled) account.disabled = true;
  else delete account.disabled;
  writePrivateJson(accountsFile(dataDir), { accounts });
}
