// A single-page app as okta-auth-js users write one: the browser tests serve it from an origin
// other than authd's and drive it through window.app.
/* global OktaAuth */
(function () {
  'use strict';
  var config = window.AUTHD_TEST_CONFIG;
  var authClient = new OktaAuth({
    issuer: config.issuer,
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    pkce: true,
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    tokenManager: { autoRenew: false },
  });

  function describeError(error) {
    return {
      name: error && error.name,
      message: error && error.message,
      errorCode: error && error.errorCode,
      errorSummary: error && error.errorSummary,
    };
  }

  async function tokens() {
    var stored = await authClient.tokenManager.getTokens();
    return {
      // A stored access token keeps no claims; the SDK decodes them.
      accessToken: stored.accessToken
        ? {
            value: stored.accessToken.accessToken,
            claims: authClient.token.decode(stored.accessToken.accessToken).payload,
          }
        : null,
      idToken: stored.idToken ? { value: stored.idToken.idToken, claims: stored.idToken.claims } : null,
      refreshToken: stored.refreshToken ? stored.refreshToken.refreshToken : null,
    };
  }

  // Shown on the page, for the test to read once the callback has been handled.
  function show(outcome) {
    var result = document.getElementById('result');
    result.textContent = JSON.stringify(outcome);
    result.setAttribute('data-state', 'done');
  }

  window.app = { authClient: authClient, tokens: tokens, describeError: describeError };

  if (window.location.pathname === '/callback') {
    authClient
      .handleLoginRedirect()
      .then(async function () {
        show({
          ok: true,
          authenticated: await authClient.isAuthenticated(),
          tokens: await tokens(),
        });
      })
      .catch(function (error) {
        show({ ok: false, error: describeError(error) });
      });
  }
})();
