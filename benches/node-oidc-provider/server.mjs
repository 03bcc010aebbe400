// node-oidc-provider in memory, set up to issue what authd issues in the
// benchmark: JWT access tokens signed RS256 (resource api://default) or ES256 (api://es) for
// client credentials, opaque ones (api://opaque) for introspection, which it cannot do on its
// JWTs, and for the web app the code flow with PKCE and rotated refresh tokens, each issuing a
// JWT access token and an ID token. Its sign-in and consent pages are replaced by one that
// signs in the account named by `login_hint` and grants what the app asks for, so that, as in
// authd's benchmark, a signed-in browser's authorization request goes straight back to the app.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

// Its in-memory adapter, over a store that keeps everything: the default one holds at most
// 1,000 entries, and under this load drops sessions, grants and tokens still in use. Nothing
// here outlives one benchmark run, so nothing needs to expire.
const everything = new Map();
const store = {
  get: (key) => everything.get(key),
  set: (key, value) => { everything.set(key, value); },
  delete: (key) => { everything.delete(key); },
};

const port = Number(process.env.PORT);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }, {
    client_id: process.env.WEB_CLIENT_ID,
    client_secret: process.env.WEB_CLIENT_SECRET,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [process.env.WEB_REDIRECT_URI],
    response_types: ['code'],
  }],
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: id }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // authd rotates every refresh token it redeems.
  rotateRefreshToken: () => true,
  jwks: {
    keys: [
      { ...rsa, kid: 'rs', use: 'sig', alg: 'RS256' },
      { ...ec, kid: 'es', use: 'sig', alg: 'ES256' },
    ],
  },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'api://default',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'api.read',
        accessTokenFormat: resource === 'api://opaque' ? 'opaque' : 'jwt',
        jwt: { sign: { alg: resource === 'api://es' ? 'ES256' : 'RS256' } },
      }),
    },
  },
});

provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) {
    return next();
  }
  const { prompt, params, session, grantId } = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: params.login_hint } };
  } else {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  }));
});

provider.listen(port, '127.0.0.1', () => console.log(`ready on ${port}`));
