// node-oidc-provider with its in-memory adapter, set up to issue what authd issues for client
// credentials: JWT access tokens signed RS256 (resource api://default) or ES256 (api://es),
// and opaque ones (api://opaque) for introspection, which it cannot do on its JWTs.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }],
  jwks: {
    keys: [
      { ...rsa, kid: 'rs', use: 'sig', alg: 'RS256' },
      { ...ec, kid: 'es', use: 'sig', alg: 'ES256' },
    ],
  },
  features: {
    clientCredentials: { enabled: true },
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

provider.listen(port, '127.0.0.1', () => console.log(`ready on ${port}`));
