// Authorization code + PKCE and refresh against authd with the `openid-client` library:
//   node oidc.mjs <base-url> <client-id> <client-secret> <redirect-uri> <username> <password>
// Prints what the library received and validated as one JSON line.
import * as client from 'openid-client';

const [baseUrl, clientId, clientSecret, redirectUri, username, password] = process.argv.slice(2);

const authn = await fetch(`${baseUrl}/api/v1/authn`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify({ username, password }),
}).then((response) => response.json());

// Plain http is only ever localhost here; an https issuer is trusted as any other (with
// NODE_EXTRA_CA_CERTS naming authd's development CA).
const config = await client.discovery(
  new URL(`${baseUrl}/oauth2/default`),
  clientId,
  clientSecret,
  undefined,
  baseUrl.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined,
);
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
  sessionToken: authn.sessionToken,
});
const redirect = await fetch(authorizationUrl, { redirect: 'manual' });
const callback = new URL(redirect.headers.get('location'));

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);

console.log(JSON.stringify({
  issuer: config.serverMetadata().issuer,
  sub: claims.sub,
  email: userinfo.email,
  refreshed: typeof refreshed.access_token === 'string',
  rotated: refreshed.refresh_token !== tokens.refresh_token,
}));
