// The provider's interaction routes (oidc-provider leaves them to the deployment): the
// sign-in form, and consent, which is given without asking because every client is one of
// the platform's own, registered by its operator in the clients file.
import { errors } from 'oidc-provider';

import { findAccount, passwordMatches } from './accounts.mjs';
import { errorPage, loginPage } from './pages.mjs';

const ROUTE = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;
const MAX_FORM_BYTES = 8 * 1024;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_FORM_BYTES) throw new errors.InvalidRequest('form too large');
  }
  return new URLSearchParams(body);
}

// Back to the authorization endpoint with this step's result (the session already holds the
// sign-in of a step before).
async function finish(provider, ctx, result) {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

// The grant covers exactly what oidc-provider found missing for this request.
async function consent(provider, ctx, { grantId, prompt: { details }, params, session }) {
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return finish(provider, ctx, { consent: { grantId: await grant.save() } });
}

async function signIn(provider, ctx, interaction, dataDir) {
  const form = await readForm(ctx.req);
  const username = form.get('username') ?? '';
  const account = findAccount(dataDir, username);
  const client = await provider.Client.find(interaction.params.client_id);
  const retry = (status, error) => loginPage(ctx, {
    uid: interaction.uid, clientName: client.clientName, username, status, error,
  });

  if (!(await passwordMatches(account, form.get('password') ?? ''))) {
    return retry(401, '用户名或密码错误 Wrong username or password');
  }
  if (account.disabled) {
    return retry(403, '该账户已停用 This account is disabled');
  }
  return finish(provider, ctx, { login: { accountId: account.username, amr: ['pwd'] } });
}

export function interactionRoutes(provider, { dataDir }) {
  return async function interactions(ctx, next) {
    const route = ROUTE.exec(ctx.path);
    if (!route) return next();
    const step = route[2];
    ctx.set('cache-control', 'no-store');
    try {
      const interaction = await provider.interactionDetails(ctx.req, ctx.res);
      const prompt = interaction.prompt.name;
      if (ctx.method === 'GET' && step === undefined && prompt === 'login') {
        const client = await provider.Client.find(interaction.params.client_id);
        return loginPage(ctx, { uid: interaction.uid, clientName: client.clientName });
      }
      if (ctx.method === 'GET' && step === undefined && prompt === 'consent') {
        return consent(provider, ctx, interaction);
      }
      if (ctx.method === 'POST' && step === 'login' && prompt === 'login') {
        return signIn(provider, ctx, interaction, dataDir);
      }
      if (ctx.method === 'GET' && step === 'abort') {
        return finish(provider, ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
      }
      throw new errors.InvalidRequest(`${ctx.method} ${ctx.path} does not fit the ${prompt} step of this sign-in`);
    } catch (error) {
      // An expired or unknown interaction (a stale tab, a reused link) is the user's to
      // restart, not a server failure: say so on a page like the provider's own errors.
      if (!(error instanceof errors.OIDCProviderError)) throw error;
      ctx.status = error.status;
      return errorPage(ctx, { error: error.message, error_description: error.error_description });
    }
  };
}
