// oidc-provider's storage (sessions, grants, codes, refresh tokens) in the data directory, so
// that a restart (which a key rotation needs) signs no one out. JWT access tokens are not
// stored: they verify on their own. This is one process's store for one machine; a shared
// deployment uses its own provider (Keycloak in compose) instead.
//
// Each change is appended to a journal (provider-state.log) instead of the whole state being
// written again: rewriting it on every change made a write cost time in proportion to the
// sessions held (17 ms among 8,000 entries, several writes a sign-in), so a provider that had
// signed thousands of units in signed the next one in at a few a second. The journal is folded
// into provider-state.json (written whole, then the journal emptied) at start and whenever it has
// grown as long as the state was at the last fold. A crash between the two replays the journal
// over the state it already holds: every line restates an entry whole or removes it, so replaying
// is harmless.
//
// The device flow and CIBA are off, so the adapter's findByUserCode is never called and is
// left out.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { readJson, writePrivateJson } from './datadir.mjs';

const nowSeconds = () => Math.floor(Date.now() / 1000);
// The journal is folded into the state once it has this many lines, or as many as the state had
// entries at the last fold if that is more: a fold costs what the state weighs, so each change
// pays a constant share of the folds.
const FOLD_AT_LEAST = 1000;

export function fileAdapter(dataDir, { foldAtLeast = FOLD_AT_LEAST } = {}) {
  const file = path.join(dataDir, 'provider-state.json');
  const journal = path.join(dataDir, 'provider-state.log');
  // key "<Model>:<id>" -> { payload, expiresAt } (epoch seconds; null: no expiry)
  const entries = new Map(fs.existsSync(file) ? Object.entries(readJson(file)) : []);
  // "<Model>:<uid>" -> key: the provider finds sessions and interactions by uid on every request
  // that carries its cookie; a scan of every entry would cost what the state weighs.
  const byUid = new Map();
  let journaled = 0;
  let foldedEntries = 0;

  const uidKey = (key, entry) => {
    const uid = entry?.payload?.uid;
    return uid === undefined ? undefined : `${key.slice(0, key.indexOf(':'))}:${uid}`;
  };
  const index = (key, entry) => {
    const u = uidKey(key, entry);
    if (u !== undefined) byUid.set(u, key);
  };
  const put = (key, entry) => {
    forget(key);
    entries.set(key, entry);
    index(key, entry);
  };
  const forget = (key) => {
    const u = uidKey(key, entries.get(key));
    if (u !== undefined && byUid.get(u) === key) byUid.delete(u);
    entries.delete(key);
  };
  const live = (key) => {
    const entry = entries.get(key);
    return entry && (entry.expiresAt === null || entry.expiresAt > nowSeconds()) ? entry : undefined;
  };

  const fold = () => {
    for (const key of [...entries.keys()]) if (!live(key)) forget(key);
    writePrivateJson(file, Object.fromEntries(entries));
    fs.writeFileSync(journal, '', { mode: 0o600 });
    journaled = 0;
    foldedEntries = entries.size;
  };
  const record = (change) => {
    fs.appendFileSync(journal, `${JSON.stringify(change)}\n`, { mode: 0o600 });
    journaled += 1;
    if (journaled >= Math.max(foldAtLeast, foldedEntries)) fold();
  };

  for (const [key, entry] of entries) index(key, entry);
  replay(journal, put, forget);
  fold();

  return class FileAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const entry = { payload, expiresAt: expiresIn ? nowSeconds() + expiresIn : null };
      put(this.key(id), entry);
      record({ set: this.key(id), entry });
    }

    async find(id) {
      return live(this.key(id))?.payload;
    }

    async findByUid(uid) {
      const key = byUid.get(`${this.model}:${uid}`);
      return key === undefined ? undefined : live(key)?.payload;
    }

    async consume(id) {
      const key = this.key(id);
      const entry = live(key);
      if (entry) {
        entry.payload.consumed = nowSeconds();
        record({ set: key, entry });
      }
    }

    async destroy(id) {
      forget(this.key(id));
      record({ delete: this.key(id) });
    }

    // Every token of a grant, whatever its model: called when a grant is revoked (sign-out,
    // a refresh token used twice). Rare enough to look through every entry.
    async revokeByGrantId(grantId) {
      for (const [key, { payload }] of [...entries]) {
        if (payload.grantId === grantId) {
          forget(key);
          record({ delete: key });
        }
      }
    }
  };
}

// The journal's changes applied in order. Its last line may be torn (the process stopped while
// appending it): that change never happened. Any other line that does not read is refused, with
// its number: the state would be wrong from there on.
function replay(journal, put, forget) {
  if (!fs.existsSync(journal)) return;
  const lines = fs.readFileSync(journal, 'utf8').split('\n');
  lines.pop(); // what follows the last newline: nothing, or a torn line
  lines.forEach((line, index) => {
    let change;
    try {
      change = JSON.parse(line);
    } catch {
      throw new Error(`${journal} line ${index + 1} is not a change the provider wrote: ${line.slice(0, 80)}`);
    }
    if (change.set !== undefined) put(change.set, change.entry);
    else if (change.delete !== undefined) forget(change.delete);
    else throw new Error(`${journal} line ${index + 1} neither sets nor deletes an entry`);
  });
}
