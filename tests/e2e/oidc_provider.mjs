// A real OpenID Connect provider for the single sign-on tests: the `oidc-provider` package
// (installed into var/npm by .ci/system-packages), on a free 127.0.0.1 port.
//
// It prints `READY <issuer>` once listening, and stops by itself when its standard input
// closes (the test process ended) or after OIDC_TEST_MAX_SECONDS (default 300).
//
// Environment:
//   OIDC_TEST_REDIRECT_URI   the relying party's redirect URI (both clients share it)
//   OIDC_TEST_SECRET         the clients' secret
//   OIDC_TEST_AUDIENCE       when set, requests by client `heliograph` are answered as if
//                            made by this other registered client: its ID tokens carry that
//                            audience (a provider issuing tokens for another audience)
//   OIDC_TEST_CLOCK_SECONDS  shifts the provider's clock (e.g. -600: its tokens are issued
//                            ten minutes in the past) and gives ID tokens a 60 s lifetime
//
// The login page is `/interaction/<uid>`: it lists the accounts as links; following
// `?account=<id>` signs that account in and grants the scopes asked for (no consent screen).

import http from 'node:http';

const skew = Number(process.env.OIDC_TEST_CLOCK_SECONDS || 0) * 1000;
if (skew) {
  const realNow = Date.now;
  Date.now = () => realNow() + skew;
}

const { default: Provider } = await import(
  new URL('../../var/npm/node_modules/oidc-provider/lib/index.js', import.meta.url));

const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Member',
           groups: ['staff'] },
  olivia: { email: 'olivia@example.com', email_verified: true, name: 'Olivia Ops',
            groups: ['staff', 'status-admins', 'ops'] },
  mallory: { email: 'mallory@elsewhere.test', email_verified: true, name: 'Mallory',
             groups: [] },
  uma: { email: 'uma@example.com', email_verified: false, name: 'Uma Unverified',
         groups: [] },
  gus: { email: 'gus@contractor.test', email_verified: true, name: 'Gus Guest',
         groups: ['status-viewers'] },
  ursula: { email: 'ursula@example.com', email_verified: false, name: 'Ursula Unverified',
            groups: ['status-viewers'] },
  // No email_verified claim at all (as Entra ID): admitted by group, the address unvouched.
  erin: { email: 'erin@example.com', name: 'Erin Entra', groups: ['status-viewers'] },
  // KELVIN SIGN (U+212A) for the K: lower-cased by Unicode rules it is `kevin@example.com`.
  kelvin: { email: '\u212Aevin@example.com', email_verified: true, name: 'Not Kevin',
            groups: ['staff'] },
};

const redirect = process.env.OIDC_TEST_REDIRECT_URI;
const secret = process.env.OIDC_TEST_SECRET || 'test-client-secret-0123456789';
const audience = process.env.OIDC_TEST_AUDIENCE || '';
const maxSeconds = Number(process.env.OIDC_TEST_MAX_SECONDS || 300);

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const client = (id) => ({
  client_id: id, client_secret: secret, redirect_uris: [redirect],
  grant_types: ['authorization_code'], response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client('heliograph'), client('other-app')],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'],
            groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  cookies: { keys: ['heliograph-test-provider-cookie-key'] },
  findAccount: async (ctx, sub) => {
    const account = ACCOUNTS[sub];
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account }) };
  },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, Grant: 600, Interaction: 3600, Session: 3600,
    IdToken: skew ? 60 : 600,
  },
});

function asClient(req) {
  // Make requests by `heliograph` those of `audience` (see OIDC_TEST_AUDIENCE).
  const url = new URL(req.url, issuer);
  if (url.pathname === '/auth' && url.searchParams.get('client_id') === 'heliograph') {
    url.searchParams.set('client_id', audience);
    req.url = url.pathname + url.search;
  }
  const auth = req.headers.authorization || '';
  if (url.pathname === '/token' && auth.startsWith('Basic ')) {
    const [id, pass] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
    if (decodeURIComponent(id) === 'heliograph') {
      req.headers.authorization = 'Basic ' + Buffer.from(`${audience}:${pass}`).toString('base64');
    }
  }
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const account = new URL(req.url, issuer).searchParams.get('account');
  if (!account || !ACCOUNTS[account]) {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<h1>Test provider: choose an account</h1>' + Object.keys(ACCOUNTS).map(
      (id) => `<p><a href="/interaction/${details.uid}?account=${id}">${id}</a></p>`).join(''));
    return;
  }
  const grant = new provider.Grant({ accountId: account, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope || 'openid'));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: account },
                                                 consent: { grantId } },
                                     { mergeWithLastSubmission: false });
}

const handle = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 400;
      res.end(String(err));
    });
    return;
  }
  if (audience) asClient(req);
  handle(req, res);
});

process.stdout.write(`READY ${issuer}\n`);
const stop = () => { server.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
setTimeout(stop, maxSeconds * 1000).unref();
