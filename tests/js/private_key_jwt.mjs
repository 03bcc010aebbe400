// An app that authenticates with private_key_jwt, registered with Okta's management SDK
// (@okta/okta-sdk-nodejs puts the public keys in settings.oauthClient.jwks) and then used by
// openid-client, which signs its assertions for the issuer as audience by default. Prints one
// JSON line of what it saw.
//
// Usage: node private_key_jwt.mjs <orgUrl> <apiToken>
import { Client, DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';
import * as oidc from 'openid-client';

const [orgUrl, token] = process.argv.slice(2);
const okta = new Client({
  orgUrl,
  token,
  cacheMiddleware: null,
  requestExecutor: new DefaultRequestExecutor({ maxRetries: 0 }),
});

const { publicKey, privateKey } = await crypto.subtle.generateKey(
  { name: 'ECDSA', namedCurve: 'P-256' },
  true,
  ['sign', 'verify'],
);
const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
const kid = 'sdk-key-1';

const app = await okta.applicationApi.createApplication({
  activate: true,
  application: {
    name: 'oidc_client',
    label: 'Signed assertions from the SDK',
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'private_key_jwt' } },
    settings: {
      oauthClient: {
        grant_types: ['client_credentials'],
        response_types: ['token'],
        application_type: 'service',
        jwks: { keys: [{ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }] },
      },
    },
  },
});
const clientId = app.credentials.oauthClient.client_id;
const fetched = await okta.applicationApi.getApplication({ appId: app.id });

// Plain http is only ever localhost here.
const config = await oidc.discovery(
  new URL(`${orgUrl}/oauth2/default`),
  clientId,
  {},
  oidc.PrivateKeyJwt({ key: privateKey, kid }),
  { execute: [oidc.allowInsecureRequests] },
);
const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api.read' });
const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'));

console.log(JSON.stringify({
  clientId,
  registeredKeys: fetched.settings.oauthClient.jwks?.keys?.length ?? 0,
  tokenType: tokens.token_type,
  cid: payload.cid,
  scope: tokens.scope,
}));
