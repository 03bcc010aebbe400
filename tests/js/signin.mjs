// Signs in against authd with Okta's own okta-auth-js, as an app would against Okta:
//   node signin.mjs <base-url> <username> <password>
// Prints the transaction's status, session token and user as one JSON line.
import { OktaAuth } from '@okta/okta-auth-js';

const [baseUrl, username, password] = process.argv.slice(2);
const authClient = new OktaAuth({
  issuer: `${baseUrl}/oauth2/default`,
  clientId: '0oatrustedwebapp0001',
  redirectUri: 'http://app.example.com/callback',
});

try {
  const transaction = await authClient.signInWithCredentials({ username, password });
  console.log(JSON.stringify({
    status: transaction.status,
    sessionToken: transaction.sessionToken,
    user: transaction.user,
  }));
} catch (error) {
  console.log(JSON.stringify({
    error: error.name,
    errorCode: error.errorCode,
    errorSummary: error.errorSummary,
  }));
}
