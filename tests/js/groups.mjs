// Groups, app assignments and the groups claim, set up with Okta's management SDK
// (@okta/okta-sdk-nodejs) as an Okta setup script does it, then tokens from openid-client: a
// member gets the filtered `groups` claim, a user outside the assigned group is refused with
// Okta's error, removing the membership refuses the next sign-in, and the org server's `groups`
// scope carries the app's groups claim. Prints one JSON line of what it saw.
//
// Usage: node groups.mjs <orgUrl> <apiToken>
import { Client, DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';
import * as oidc from 'openid-client';

const [orgUrl, token] = process.argv.slice(2);
const okta = new Client({
  orgUrl,
  token,
  cacheMiddleware: null,
  requestExecutor: new DefaultRequestExecutor({ maxRetries: 0 }),
});
const seen = {};
const toArray = async (collection) => {
  const items = [];
  for await (const item of collection) {
    items.push(item);
  }
  return items;
};
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

const password = 'Groups-passw0rd-1';
const newUser = (login) => okta.userApi.createUser({
  activate: true,
  body: {
    profile: { firstName: 'Group', lastName: 'Tester', email: login, login },
    credentials: { password: { value: password } },
  },
});
const member = await newUser('member@example.com');
const outsider = await newUser('outsider@example.com');

const newGroup = (name) => okta.groupApi.createGroup({
  group: { profile: { name, description: `The ${name} group` } },
});
const billing = await newGroup('app-billing');
const reports = await newGroup('app-reports');
const staff = await newGroup('staff');
seen.groupType = billing.type;
// PUT with no body and no content type, as the SDK sends it.
for (const group of [billing, reports, staff]) {
  await okta.groupApi.assignUserToGroup({ groupId: group.id, userId: member.id });
}
await okta.groupApi.assignUserToGroup({ groupId: staff.id, userId: outsider.id });
seen.searched = (await toArray(await okta.groupApi.listGroups({ search: 'profile.name sw "app-"' })))
  .map((group) => group.profile.name)
  .sort();
seen.billingMembers = (await toArray(await okta.groupApi.listGroupUsers({ groupId: billing.id })))
  .map((user) => user.profile.login);
seen.memberGroups = (await toArray(await okta.userApi.listUserGroups({ userId: member.id })))
  .map((group) => group.profile.name)
  .sort();

const redirectUri = 'http://localhost:7777/callback';
const app = await okta.applicationApi.createApplication({
  activate: true,
  application: {
    name: 'oidc_client',
    label: 'Groups app',
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic' } },
    settings: {
      oauthClient: {
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'password'],
        response_types: ['code'],
        application_type: 'web',
      },
    },
  },
});
const clientId = app.credentials.oauthClient.client_id;
const clientSecret = app.credentials.oauthClient.client_secret;
// PUT with `Content-Type: application/json` and an empty body, as the SDK sends it.
const assignment = await okta.applicationApi.assignGroupToApplication({
  appId: app.id,
  groupId: billing.id,
});
seen.assignmentPriority = assignment.priority;
seen.assignedGroups = (await toArray(
  await okta.applicationApi.listApplicationGroupAssignments({ appId: app.id }),
)).map((assigned) => assigned.id === billing.id);
seen.appUserScope = (await okta.applicationApi.getApplicationUser({
  appId: app.id,
  userId: member.id,
})).scope;

// The groups claim exactly as the SDK's createOAuth2Claim sends it, and an expression claim.
await okta.authorizationServerApi.createOAuth2Claim({
  authServerId: 'default',
  oAuth2Claim: {
    name: 'groups',
    status: 'ACTIVE',
    claimType: 'RESOURCE',
    valueType: 'GROUPS',
    group_filter_type: 'STARTS_WITH',
    value: 'app-',
    conditions: { scopes: [] },
    alwaysIncludeInToken: true,
  },
});
await okta.authorizationServerApi.createOAuth2Claim({
  authServerId: 'default',
  oAuth2Claim: {
    name: 'role',
    status: 'ACTIVE',
    claimType: 'IDENTITY',
    valueType: 'EXPRESSION',
    value: 'isMemberOfGroupName("app-billing") ? "billing-" + String.toLowerCase(user.lastName) : "none"',
    conditions: { scopes: [] },
    alwaysIncludeInToken: true,
  },
});
try {
  await okta.authorizationServerApi.createOAuth2Claim({
    authServerId: 'default',
    oAuth2Claim: {
      name: 'broken',
      status: 'ACTIVE',
      claimType: 'RESOURCE',
      valueType: 'EXPRESSION',
      value: 'Groups.startsWith("OKTA", "app-")',
      conditions: { scopes: [] },
    },
  });
  seen.brokenClaim = 'accepted';
} catch (err) {
  seen.brokenClaim = { status: err.status, errorCode: err.errorCode, causes: err.errorCauses };
}

// Access for the app by people: billing's members for 15 minutes, the outsider by name for 30,
// in a policy evaluated before the default one.
const [defaultPolicy] = await toArray(
  await okta.authorizationServerApi.listAuthorizationServerPolicies({ authServerId: 'default' }),
);
defaultPolicy.priority = 2;
await okta.authorizationServerApi.replaceAuthorizationServerPolicy({
  authServerId: 'default',
  policyId: defaultPolicy.id,
  policy: defaultPolicy,
});
const policy = await okta.authorizationServerApi.createAuthorizationServerPolicy({
  authServerId: 'default',
  policy: {
    type: 'OAUTH_AUTHORIZATION_POLICY',
    name: 'Groups app',
    priority: 1,
    status: 'ACTIVE',
    conditions: { clients: { include: [clientId] } },
  },
});
const rule = (name, priority, people, minutes) => okta.authorizationServerApi
  .createAuthorizationServerPolicyRule({
    authServerId: 'default',
    policyId: policy.id,
    policyRule: {
      type: 'RESOURCE_ACCESS',
      name,
      priority,
      conditions: {
        people,
        grantTypes: { include: ['authorization_code', 'password'] },
        scopes: { include: ['*'] },
      },
      actions: { token: { accessTokenLifetimeMinutes: minutes } },
    },
  });
const billingRule = await rule('Billing', 1, { groups: { include: [billing.id] } }, 15);
seen.ruleGroups = billingRule.conditions.people.groups.include.map((id) => id === billing.id);
await rule('Named', 2, { users: { include: [outsider.id] } }, 30);
const lifetime = (claims) => claims.exp - claims.iat;

// Sign-in through the authorization endpoint with a session token, and the code exchanged by
// openid-client, which checks the ID token.
const config = await oidc.discovery(
  new URL(`${orgUrl}/oauth2/default`),
  clientId,
  clientSecret,
  undefined,
  { execute: [oidc.allowInsecureRequests] },
);
const signIn = async (login, scope = 'openid profile') => {
  const authn = await fetch(`${orgUrl}/api/v1/authn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: login, password }),
  }).then((response) => response.json());
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    sessionToken: authn.sessionToken,
  });
  const redirect = await fetch(url, { redirect: 'manual' });
  const callback = new URL(redirect.headers.get('location'));
  if (callback.searchParams.has('error')) {
    return {
      error: callback.searchParams.get('error'),
      description: callback.searchParams.get('error_description'),
      state: callback.searchParams.get('state') === state,
    };
  }
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  return { access: payload(tokens.access_token), id: tokens.claims() };
};
const passwordGrant = (tokenUrl, login, scope) => fetch(tokenUrl, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
  },
  body: new URLSearchParams({ grant_type: 'password', username: login, password, scope }),
}).then(async (response) => ({ status: response.status, body: await response.json() }));

const signedIn = await signIn('member@example.com');
seen.memberGroupsClaim = signedIn.access.groups;
seen.memberLifetime = lifetime(signedIn.access);
seen.memberRole = signedIn.id.role;
seen.outsider = await signIn('outsider@example.com');
const refused = await passwordGrant(`${orgUrl}/oauth2/default/v1/token`, 'outsider@example.com', 'openid');
seen.outsiderPassword = { status: refused.status, ...refused.body };

// Assigned directly, the outsider signs in, with no group of the claim's filter.
await okta.applicationApi.assignUserToApplication({
  appId: app.id,
  appUser: { id: outsider.id, scope: 'USER' },
});
const direct = await signIn('outsider@example.com');
seen.outsiderDirect = {
  groups: direct.access.groups ?? null,
  role: direct.id.role,
  lifetime: lifetime(direct.access),
};
await okta.applicationApi.unassignUserFromApplication({ appId: app.id, userId: outsider.id });

// Assigned, but excluded by name from the only rule that admits them: no rule applies.
// The SDK's model of a rule has no `exclude`, which Okta's API takes: sent as JSON.
const replaced = await fetch(
  `${orgUrl}/api/v1/authorizationServers/default/policies/${policy.id}/rules/${billingRule.id}`,
  {
    method: 'PUT',
    headers: { authorization: `SSWS ${token}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      type: 'RESOURCE_ACCESS',
      name: 'Billing',
      priority: 1,
      conditions: {
        people: { groups: { include: [billing.id] }, users: { exclude: [member.id] } },
        grantTypes: { include: ['authorization_code', 'password'] },
        scopes: { include: ['*'] },
      },
    }),
  },
).then((response) => response.json());
seen.excludedUsers = replaced.conditions.people.users.exclude.map((id) => id === member.id);
seen.excluded = await signIn('member@example.com');
await okta.authorizationServerApi.deleteAuthorizationServerPolicy({
  authServerId: 'default',
  policyId: policy.id,
});

// Out of the assigned group, the member's next sign-in is refused.
await okta.groupApi.unassignUserFromGroup({ groupId: billing.id, userId: member.id });
seen.afterRemoval = await signIn('member@example.com');

// The org server: the app's groups claim (authd.groupsClaim) in its ID tokens for `groups`.
await okta.groupApi.assignUserToGroup({ groupId: billing.id, userId: member.id });
const raw = await fetch(`${orgUrl}/api/v1/apps/${app.id}`, {
  headers: { authorization: `SSWS ${token}`, accept: 'application/json' },
}).then((response) => response.json());
raw.authd = {
  groupsClaim: { name: 'groups', valueType: 'GROUPS', groupFilterType: 'REGEX', value: 'app-.*|staff' },
};
const updated = await fetch(`${orgUrl}/api/v1/apps/${app.id}`, {
  method: 'PUT',
  headers: { authorization: `SSWS ${token}`, 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify(raw),
}).then((response) => response.json());
seen.storedGroupsClaim = updated.authd.groupsClaim;
const org = await fetch(`${orgUrl}/.well-known/openid-configuration`).then((response) => response.json());
seen.orgScopes = org.scopes_supported.includes('groups');
const orgTokens = await passwordGrant(`${orgUrl}/oauth2/v1/token`, 'member@example.com', 'openid groups');
seen.orgIdTokenGroups = payload(orgTokens.body.id_token).groups;
const orgWithout = await passwordGrant(`${orgUrl}/oauth2/v1/token`, 'member@example.com', 'openid');
seen.orgWithoutScope = payload(orgWithout.body.id_token).groups ?? null;

// Deleting a group takes its memberships and assignments with it.
await okta.groupApi.deleteGroup({ groupId: billing.id });
seen.afterDelete = (await toArray(await okta.userApi.listUserGroups({ userId: member.id })))
  .map((group) => group.profile.name)
  .sort();
seen.appGroupsAfterDelete = (await toArray(
  await okta.applicationApi.listApplicationGroupAssignments({ appId: app.id }),
)).length;

console.log(JSON.stringify(seen));
