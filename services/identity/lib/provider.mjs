// oidc-provider configured for the platform: every access token is a JWT for the platform's
// API (audience `caseplatform` by default) carrying the caller's role, org and, for a
// unit, its region, so that a service needs nothing but the provider's JWKS to know who calls.
import Provider, { errors } from 'oidc-provider';

import { findAccount } from './accounts.mjs';
import { platformClaims } from './claims.mjs';
import { interactionRoutes } from './interactions.mjs';
import { ALG } from './keys.mjs';
import { errorPage, logoutPage, signedOutPage } from './pages.mjs';
import { fileAdapter } from './store.mjs';

// The name clients may give in a `resource` parameter; tokens carry the configured audience.
export const API_RESOURCE = 'urn:caseplatform:api';

const ID_TOKEN_SECONDS = 15 * 60;
const WORKING_DAY_SECONDS = 8 * 60 * 60; // a sign-in, and the refresh tokens bound to it

// No external resources on any page; oidc-provider adds the hashes of its own inline
// scripts (the form_post response) to script-src. No form-action: browsers would apply it
// to the redirect to the client that follows the sign-in form.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function createProvider(config, { jwks, clients, cookieKeys }) {
  const { dataDir, audience } = config;
  // At most 15 minutes, the most the services accept (lib/config.mjs); that is also how long
  // a disabled account's access tokens already out keep working.
  const tokenSeconds = config.accessTokenSeconds;

  const provider = new Provider(config.issuer, {
    adapter: fileAdapter(dataDir),
    clients,
    jwks,
    cookies: { keys: cookieKeys },
    extraClientMetadata: { properties: ['authority'] },
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    // The authorization code flow only (no implicit or hybrid), and the client authentication
    // the clients file uses.
    responseTypes: ['code'],
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],

    // A disabled account is not found: its sign-in, its codes and its refresh tokens stop at
    // the next use. Access tokens already out live on until they expire (15 minutes at most).
    async findAccount(ctx, sub) {
      const account = findAccount(dataDir, sub);
      if (!account || account.disabled) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, name: account.name, ...(account.email ? { email: account.email } : {}) }),
      };
    },

    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const { client } = ctx.oidc;
        return platformClaims({ ...client.authority, name: client.clientName });
      }
      // The grant has just found the account active (findAccount above) in this request.
      return platformClaims(findAccount(dataDir, token.accountId));
    },

    features: {
      devInteractions: { enabled: false }, // its pages load remote CSS; interactions.mjs replaces them
      clientCredentials: { enabled: true },
      // Every access token is for the platform's API, so none is for the userinfo endpoint:
      // the ID token carries the person's name instead.
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource: logoutPage, postLogoutSuccessSource: signedOutPage },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API_RESOURCE,
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, indicator) {
          if (indicator !== API_RESOURCE) throw new errors.InvalidTarget(`the only resource is ${API_RESOURCE}`);
          return {
            scope: '',
            audience,
            accessTokenTTL: tokenSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: ALG } },
          };
        },
      },
    },

    // The platform's own public clients get refresh tokens without asking for offline_access
    // (which would need a consent prompt): they stay bound to the sign-in session, so signing
    // out, or the session's end, stops them.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),

    // A browser on the console's origin may call the token endpoint.
    clientBasedCORS: (ctx, origin, client) => client.redirectUris.some((uri) => new URL(uri).origin === origin),

    renderError: errorPage,
    ttl: {
      AccessToken: tokenSeconds,
      ClientCredentials: tokenSeconds,
      IdToken: ID_TOKEN_SECONDS,
      AuthorizationCode: 60,
      Interaction: 10 * 60,
      Session: WORKING_DAY_SECONDS,
      Grant: WORKING_DAY_SECONDS,
      RefreshToken: WORKING_DAY_SECONDS,
    },
  });

  provider.use(async (ctx, next) => {
    ctx.set(SECURITY_HEADERS);
    await next();
  });
  provider.use(interactionRoutes(provider, { dataDir }));
  return provider;
}
