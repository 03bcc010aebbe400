// The Okta Sign-In Widget (Classic Engine) on an app's own page, getting tokens from authd.
/* global OktaSignIn */
(function () {
  'use strict';
  var config = window.AUTHD_TEST_CONFIG;
  var signIn = new OktaSignIn({
    baseUrl: config.baseUrl,
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    useClassicEngine: true,
    // English is built in: nothing is fetched from a CDN.
    language: 'en',
    assets: { baseUrl: '/siw' },
    authParams: {
      issuer: config.issuer,
      pkce: true,
      scopes: ['openid', 'profile', 'email'],
    },
  });

  function show(outcome) {
    var result = document.getElementById('result');
    result.textContent = JSON.stringify(outcome);
    result.setAttribute('data-state', 'done');
  }

  signIn
    .showSignInToGetTokens({ el: '#widget' })
    .then(function (tokens) {
      signIn.remove();
      show({
        ok: true,
        accessToken: tokens.accessToken && {
          value: tokens.accessToken.accessToken,
          claims: tokens.accessToken.claims,
        },
        idToken: tokens.idToken && { value: tokens.idToken.idToken, claims: tokens.idToken.claims },
      });
    })
    .catch(function (error) {
      show({ ok: false, error: { name: error && error.name, message: error && error.message } });
    });
})();
