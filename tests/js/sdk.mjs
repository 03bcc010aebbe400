// Okta's management SDK, @okta/okta-sdk-nodejs, sets up and tears down a test tenant on
// authd: a user, an OIDC app with a rolled-over secret, an authorization server with a scope,
// a policy and a rule, then a token issued to that app for that user. Prints one JSON line of
// what it saw; any call the SDK cannot complete throws and fails the run.
//
// Usage: node sdk.mjs <orgUrl> <apiToken>
import { Client, DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';

const [orgUrl, token] = process.argv.slice(2);
const client = new Client({
  orgUrl,
  token,
  cacheMiddleware: null,
  requestExecutor: new DefaultRequestExecutor({ maxRetries: 0 }),
});
const seen = {};

// Users.
const login = 'sdk.user@example.com';
const password = 'Sdk-passw0rd-1';
const user = await client.userApi.createUser({
  activate: true,
  body: {
    profile: { firstName: 'Sdk', lastName: 'User', email: login, login },
    credentials: { password: { value: password } },
  },
});
seen.userStatus = user.status;
seen.userByLogin = (await client.userApi.getUser({ userId: login })).id === user.id;
seen.searched = [];
for await (const found of await client.userApi.listUsers({ search: `profile.login eq "${login}"` })) {
  seen.searched.push(found.profile.login);
}
// A page of one at a time: the SDK follows the Link headers to the end.
const other = await client.userApi.createUser({
  activate: false,
  body: { profile: { firstName: 'Other', lastName: 'User', email: 'o@example.com', login: 'o@example.com' } },
});
seen.otherStatus = other.status;
seen.paged = 0;
for await (const _ of await client.userApi.listUsers({ limit: 1 })) {
  seen.paged += 1;
}
const updated = await client.userApi.updateUser({
  userId: user.id,
  user: { profile: { nickName: 'sdk' } },
});
seen.nickName = updated.profile.nickName;
seen.keptLastName = updated.profile.lastName;

// An OIDC app.
const app = await client.applicationApi.createApplication({
  activate: true,
  application: {
    name: 'oidc_client',
    label: 'SDK app',
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_post' } },
    settings: {
      oauthClient: {
        redirect_uris: ['http://localhost:7777/callback'],
        grant_types: ['password', 'client_credentials'],
        response_types: ['code'],
        application_type: 'web',
      },
    },
  },
});
seen.appClass = app.constructor.name;
const clientId = app.credentials.oauthClient.client_id;
// As on Okta, a new app has no users until they are assigned.
const appUser = await client.applicationApi.assignUserToApplication({
  appId: app.id,
  appUser: { id: user.id, scope: 'USER' },
});
seen.appUserScope = appUser.scope;
const fetched = await client.applicationApi.getApplication({ appId: app.id });
fetched.label = 'SDK app renamed';
await client.applicationApi.replaceApplication({ appId: app.id, application: fetched });
seen.listedApps = [];
for await (const listed of await client.applicationApi.listApplications({ q: 'SDK app' })) {
  seen.listedApps.push(listed.label);
}

// The secret rolled over: a new one added, the first deactivated and deleted.
const secrets = client.applicationSSOPublicKeysApi;
const [first] = await toArray(await secrets.listOAuth2ClientSecrets({ appId: app.id }));
const second = await secrets.createOAuth2ClientSecret({ appId: app.id });
await secrets.deactivateOAuth2ClientSecret({ appId: app.id, secretId: first.id });
await secrets.deleteOAuth2ClientSecret({ appId: app.id, secretId: first.id });
seen.secretsLeft = (await toArray(await secrets.listOAuth2ClientSecrets({ appId: app.id }))).length;

// An authorization server that lets this app, and only it, have orders:read.
const servers = client.authorizationServerApi;
const server = await servers.createAuthorizationServer({
  authorizationServer: { name: 'SDK orders', description: 'Orders API', audiences: ['api://orders'] },
});
await servers.createOAuth2Scope({
  authServerId: server.id,
  oAuth2Scope: { name: 'orders:read', description: 'Read orders' },
});
const policy = await servers.createAuthorizationServerPolicy({
  authServerId: server.id,
  policy: {
    type: 'OAUTH_AUTHORIZATION_POLICY',
    name: 'SDK app only',
    description: 'The SDK app',
    priority: 1,
    status: 'ACTIVE',
    conditions: { clients: { include: [clientId] } },
  },
});
await servers.createAuthorizationServerPolicyRule({
  authServerId: server.id,
  policyId: policy.id,
  policyRule: {
    type: 'RESOURCE_ACCESS',
    name: 'Password and client credentials',
    conditions: {
      people: { groups: { include: ['EVERYONE'] } },
      grantTypes: { include: ['password', 'client_credentials'] },
      scopes: { include: ['openid', 'orders:read'] },
    },
    actions: { token: { accessTokenLifetimeMinutes: 15 } },
  },
});
seen.rules = (await toArray(await servers.listAuthorizationServerPolicyRules({
  authServerId: server.id,
  policyId: policy.id,
}))).map((rule) => rule.name);

// What the setup was for: tokens from the new server, with the new secret.
const tokenUrl = `${orgUrl}/oauth2/${server.id}/v1/token`;
const issued = await post(tokenUrl, {
  grant_type: 'password',
  username: login,
  password,
  scope: 'openid orders:read',
  client_id: clientId,
  client_secret: second.client_secret,
});
seen.passwordGrant = { scope: issued.scope, expiresIn: issued.expires_in };
seen.oldSecret = (await post(tokenUrl, {
  grant_type: 'client_credentials',
  scope: 'orders:read',
  client_id: clientId,
  client_secret: app.credentials.oauthClient.client_secret,
}, false)).error;

// Teardown, as a suite's afterAll would do it.
await client.userApi.deactivateUser({ userId: user.id });
await client.userApi.deleteUser({ userId: user.id });
await client.userApi.deactivateUser({ userId: other.id });
await client.userApi.deleteUser({ userId: other.id });
try {
  await client.userApi.getUser({ userId: user.id });
} catch (err) {
  seen.deletedUser = { status: err.status, errorCode: err.errorCode };
}
await client.applicationApi.deactivateApplication({ appId: app.id });
await client.applicationApi.deleteApplication({ appId: app.id });
await servers.deactivateAuthorizationServer({ authServerId: server.id });
await servers.deleteAuthorizationServer({ authServerId: server.id });
seen.serversLeft = (await toArray(await servers.listAuthorizationServers())).map((s) => s.name);

console.log(JSON.stringify(seen));

async function toArray(collection) {
  const items = [];
  for await (const item of collection) {
    items.push(item);
  }
  return items;
}

async function post(url, form, mustSucceed = true) {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  const body = await response.json();
  if (mustSucceed && !response.ok) {
    throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body;
}
