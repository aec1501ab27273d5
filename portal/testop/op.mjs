// A local OpenID provider standing in for the city's Helsinki-Tunnistus (Suomi.fi login)
// in the portal's tests and demo: node-oidc-provider, a certified OP (RS256 ID tokens,
// JWKS, nonce, state, PKCE, single-use codes), on Keycloak's short paths, so the portal's
// settings differ from production only in OIDC_OP_BASE_URL.
//
// Its development login form takes a test person's `sub` (a UUID, the key of the users
// file) and any password. The users file maps each sub to its claims:
//   {"<uuid>": {"claims": {"given_name": ..., "national_id_num": "140508A912J",
//                          "loa": "substantial", "amr": ["suomi_fi"]}}}
// Identity codes there are fictional (individual numbers 900-999); never put a real one.
//
// Environment: OP_PORT (9000), OP_ISSUER, OP_USERS (users file), OP_CLIENT_ID,
// OP_CLIENT_SECRET, OP_REDIRECT_URIS (comma list), OP_POST_LOGOUT_URIS, OP_CODE_TTL (s).
import fs from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT || 9000);
const issuer = process.env.OP_ISSUER || `http://127.0.0.1:${port}`;
const usersFile = process.env.OP_USERS || new URL('./users.example.json', import.meta.url);
const users = JSON.parse(fs.readFileSync(usersFile, 'utf8'));

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OP_CLIENT_ID || 'ennakko-portal',
    client_secret: process.env.OP_CLIENT_SECRET || 'test-secret',
    redirect_uris: (process.env.OP_REDIRECT_URIS || 'http://127.0.0.1:8000/oidc/callback/').split(','),
    post_logout_redirect_uris: (process.env.OP_POST_LOGOUT_URIS || 'http://127.0.0.1:8000/').split(','),
    token_endpoint_auth_method: 'client_secret_post',
  }],
  routes: { authorization: '/auth', token: '/token', userinfo: '/userinfo', jwks: '/certs', end_session: '/logout' },
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'national_id_num', 'loa', 'amr'],
  },
  scopes: ['openid', 'profile'],
  features: { devInteractions: { enabled: true } },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: Number(process.env.OP_CODE_TTL || 60),
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...user.claims }; } };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err.message));
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider ready on ${issuer}`));
