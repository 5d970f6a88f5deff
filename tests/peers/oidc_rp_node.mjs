#!/usr/bin/env node
// An independent OpenID Connect relying party, npm `openid-client` 6 (OpenID-certified, built on oauth4webapi),
// driving hcpki's provider end to end. The npm counterpart of tests/peers/oidc_rp.py (authlib); its modules come
// from tests/peers/node (package-lock.json, installed by scripts/deps).
//
//   oidc_rp_node.mjs flow --issuer URL --ca PEM --client-id ID --key PEM --redirect-uri URI --post-logout URI \
//                    --username U --password-file F --totp-secret BASE32 \
//                    [--assertion-alg ES256|RS256|PS256] [--id-token-alg ES256|RS256|PS256] [--totp-step N] \
//                    [--userinfo-alg ES256|RS256|PS256] [--mtls-client-id ID --mtls-cert PEM --mtls-key PEM] \
//                    [--par-only]
//   oidc_rp_node.mjs iua (the options of flow) [--purpose CODE]
//   oidc_rp_node.mjs dpop (the options of flow) [--mtls-client-id ID --mtls-cert PEM --mtls-key PEM] \
//                    [--exchange-audience CLIENT-ID]
//   oidc_rp_node.mjs public (the options of flow but --key)
//   oidc_rp_node.mjs rfc9700 (the options of flow)
//
// `flow` logs in through the portal's password + TOTP form (the TOTP code computed here, RFC 6238, N steps
// ahead), runs the code flow with PKCE S256 and private_key_jwt (openid-client's own client assertion, signed
// with --key for ES256 or rsa.pem beside it for RS256/PS256), has openid-client validate the ID token (signature
// against the published JWKS, alg, iss, aud, exp, nonce), refuses a reused code, pushes the second authorization
// request (PAR, RFC 9126), calls userinfo, introspects (RFC 7662), shows openid-client refusing an ID token for
// another nonce and another algorithm, revokes (RFC 7009), refreshes (the old refresh token must then be refused,
// the grant revoked and the session ended: prompt=none is login_required), logs out with id_token_hint and checks
// prompt=none is then login_required.
// With --mtls-*: a tls_client_auth client (openid-client's TlsClientAuth, use_mtls_endpoint_aliases, a
// customFetch through an undici Agent holding the certificate) gets an access token bound to that certificate
// (RFC 8705): introspection shows its cnf.x5t#S256, userinfo accepts it over mTLS and refuses it without.
// With --par-only the client is registered to push (require_pushed_authorization_requests, RFC 9126 §6): its plain
// authorization request must come back as invalid_request, which openid-client reads off the redirect (after
// checking its state and iss), and every authorization of the flow is pushed, the first one included, so the
// login form sits between the push and the code and its return trip must carry a request_uri, never the pushed
// parameters.
// `iua` logs in and runs one code flow (with purpose_of_use=CODE when given, IHE IUA / issue #29): openid-client
// validates the ID token, oauth4webapi's validateJwtAccessToken validates the access token as an RFC 9068
// resource server does (typ at+jwt, signature against the JWKS, iss, aud = the client, exp, iat, jti, sub,
// client_id), userinfo is called, and the three claim sets are printed for the test to read extensions.ihe_iua.
// `dpop` (RFC 9449, issue #30 item 3) logs in and runs the code flow with a DPoP key openid-client made
// (randomDPoPKeyPair, getDPoPHandle: its proofs, and its answer to use_dpop_nonce): the token response's
// token_type, the access token's cnf.jkt, userinfo with the proof, the same token as a bearer token and with
// another key's proof, introspection, refreshes with another key, without a proof and with the key. Then proofs
// made here by hand (WebCrypto, one per flaw: htu, htm, iat stale and ahead and at i64's end, signature, a
// private jwk, alg none, no or a made-up nonce, a replayed jti; at userinfo a wrong ath and htu, no nonce, a
// replay) go to /token with the live refresh token and to userinfo with the live access token; each answer is
// recorded for the test to judge, and the refresh token must still work at the end (nothing was spent or
// issued). With --mtls-*, a good proof from a tls_client_auth client over the mTLS token alias asks for both
// bindings at once (refused).
// With --exchange-audience (RFC 8693 token exchange through openid-client's genericGrantRequest, issue #42 item
// 2): the DPoP-bound access token exchanged for one for that client with the key (bound to it again), and the
// attacks of a thief holding the client's credentials but not the key: without a proof, with another key's.
// `public` (RFC 8252 and RFC 9449, issue #30 items 2 and 3) is a native app: a public client (openid-client's
// None(): no credentials at all) whose redirect URI is a loopback address on the port it was given, logging in
// with PKCE S256 and a DPoP key of its own, since it has no certificate for mutual TLS: the ID token validated,
// the access token bound to the key (cnf.jkt, token_type dpop), userinfo with a proof and refused as a bearer
// token, a refresh with another key refused, the refresh with the key rotated and bound again, the rotated-out
// refresh token refused (its reuse ends the grant: the new access token is then refused at userinfo); and a token
// exchange of its bound token, with its key, refused (issue #42: a public client's client_id is no credential).
// `rfc9700` (issue #51 item 1, D152) is a confidential client that also knows a second issuer, an attacker's: the
// mix-up attack (hcpki's answer taken for the attacker's: refused by openid-client for its iss, with no request
// to the attacker; the answer with iss stripped refused too), the authorization errors (no PKCE, PKCE plain,
// invalid_scope, access_denied, login_required) each read by openid-client after its iss check and refused at
// the attacker's configuration, and a refresh-token replay (a made-up secret spends nothing; the rotated-out
// token ends the grant and the session: the holder's next refresh, its access token and prompt=none all fail).
// It prints one JSON object of what it saw and exits 1 on the first expectation that fails.

import { createHash, createHmac, createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// The pinned modules live in tests/peers/node/node_modules, which Node's own lookup (upwards from this file)
// does not search: resolve them from that package.
const peerModules = createRequire(new URL('./node/package.json', import.meta.url));
async function load(name) {
  let path;
  try {
    path = peerModules.resolve(name);
  } catch (e) {
    console.error(`oidc_rp_node.mjs: ${name} is not installed in tests/peers/node (run scripts/deps): ${e.message}`);
    process.exit(2);
  }
  return import(pathToFileURL(path).href);
}
const undici = await load('undici');
const client = await load('openid-client');
const oauth = await load('oauth4webapi');

const seen = {};

class Expectation extends Error {}

function expect(cond, what) {
  if (!cond) throw new Expectation(what);
}

// RFC 6238: SHA-1, 6 digits, 30 s steps; `step` steps ahead of now.
function totp(secretB32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[19] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// The PKCS#8 PEM as a non-extractable WebCrypto key for `alg`: what openid-client's PrivateKeyJwt signs with.
async function signingKey(pem, alg) {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  const algorithm = {
    ES256: { name: 'ECDSA', namedCurve: 'P-256' },
    RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  }[alg];
  return webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
}

// openid-client's fetch: undici with our CA only (never the system roots), and a client certificate when given.
function fetchWith(ca, cert, key) {
  const dispatcher = new undici.Agent({ connect: { ca, cert, key } });
  return (url, options) => undici.fetch(url, { ...options, dispatcher });
}

// A browser: cookies kept per name, redirects not followed (each hop is checked).
function browser(fetch) {
  const jar = new Map();
  return async (url, init = {}) => {
    const headers = { ...(init.headers ?? {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return r;
  };
}

// The error openid-client threw for `promise`, or a failed expectation naming `what` if it did not throw.
async function refusal(promise, what) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof Expectation) throw e;
    return e;
  }
  throw new Expectation(`${what} was accepted`);
}

async function flow(a) {
  const ca = readFileSync(a.ca);
  const fetch = fetchWith(ca);
  const options = { [client.customFetch]: fetch };
  // A public client has no credentials (RFC 6749 §2.1); the others sign an assertion (private_key_jwt).
  const auth =
    a.command === 'public'
      ? client.None()
      : client.PrivateKeyJwt(
          a['assertion-alg'] === 'ES256'
            ? { key: await signingKey(readFileSync(a.key), 'ES256'), kid: 'rp-key-1' }
            : {
                key: await signingKey(readFileSync(join(dirname(a.key), 'rsa.pem')), a['assertion-alg']),
                kid: 'rp-rsa-1',
              },
        );
  // With --userinfo-alg the client is registered for signed userinfo: openid-client then insists on a JWT and
  // verifies it (signature, iss, aud) before fetchUserInfo returns.
  const metadata = (alg) => ({
    redirect_uris: [a['redirect-uri']],
    id_token_signed_response_alg: alg,
    ...(a['userinfo-alg'] && { userinfo_signed_response_alg: a['userinfo-alg'] }),
  });
  const discover = (alg) =>
    client.discovery(new URL(a.issuer), a['client-id'], metadata(alg), auth, options);
  const config = await discover(a['id-token-alg']);
  const conf = config.serverMetadata();
  seen.discovery = {
    issuer: conf.issuer,
    token_endpoint: conf.token_endpoint,
    code_challenge_methods_supported: conf.code_challenge_methods_supported,
  };
  expect(conf.issuer === a.issuer, 'discovery issuer');
  expect(conf.id_token_signing_alg_values_supported.includes(a['id-token-alg']), 'id_token alg not in discovery');
  const get = browser(fetch);

  // Authorization request (plain, or pushed with PAR; always pushed with --par-only) → the login form if asked →
  // the redirect back to the client.
  const authorize = async (cfg, { par = a['par-only'], expectLogin = false, extra = {}, dpop } = {}) => {
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const params = {
      redirect_uri: a['redirect-uri'],
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      ...extra,
    };
    const url = par
      ? await client.buildAuthorizationUrlWithPAR(cfg, params, dpop && { DPoP: dpop })
      : client.buildAuthorizationUrl(cfg, params);
    if (par) expect(url.searchParams.has('request_uri') && !url.searchParams.has('nonce'), `PAR URL: ${url}`);
    let r = await get(url);
    expect([302, 303].includes(r.status), `authorize answered ${r.status}`);
    let loc = r.headers.get('location');
    if (loc.startsWith('/login')) {
      expect(expectLogin, 'a login was asked for although a session exists');
      const returnTo = new URL(loc, a.issuer).searchParams.get('return_to');
      if (par) {
        // The login's return trip names a request_uri of its own, not what was pushed.
        const back = new URL(returnTo, a.issuer).searchParams;
        expect(
          back.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:') &&
            !['code_challenge', 'nonce', 'state', 'redirect_uri'].some((k) => back.has(k)),
          `the login's return trip of a pushed request: ${returnTo}`,
        );
        seen.login_return = 'pushed';
      }
      const page = await get(new URL(loc, a.issuer));
      expect(
        page.status === 200 && (await page.text()).includes('password-totp'),
        'the login page does not mark password-totp',
      );
      const form = new URLSearchParams({
        username: a.username,
        password: readFileSync(a['password-file'], 'utf8').trim(),
        totp: totp(a['totp-secret'], Number(a['totp-step'])),
        return_to: returnTo,
      });
      r = await get(new URL('/login', a.issuer), { method: 'POST', body: form, headers: { origin: a.issuer } });
      expect([302, 303].includes(r.status), `login answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
      r = await get(new URL(r.headers.get('location'), a.issuer));
      loc = r.headers.get('location');
    }
    expect(loc?.startsWith(a['redirect-uri']), `not redirected to the client: ${loc}`);
    return {
      back: new URL(loc),
      checks: { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true },
    };
  };

  if (a.command === 'iua') return iua(a, config, authorize, fetch);
  if (a.command === 'dpop') return dpop(a, config, authorize, fetch);
  if (a.command === 'public') return nativeApp(a, config, authorize);
  if (a.command === 'rfc9700') return bcp(a, config, authorize, { auth, fetch, get });

  if (a['par-only']) {
    // The client must push: its plain request comes back refused, and openid-client reads the refusal.
    const { back, checks } = await authorize(config, { par: false });
    const plain = await refusal(client.authorizationCodeGrant(config, back, checks), 'a plain authorization request');
    expect(
      plain.error === 'invalid_request' && /must push/.test(plain.error_description),
      `plain request of a client that must push: ${plain}`,
    );
    seen.plain_refused = { error: plain.error, error_description: plain.error_description };
  }

  // Code flow: openid-client checks state and iss (RFC 9207) on the redirect, then the ID token.
  let { back, checks } = await authorize(config, { expectLogin: true });
  let tokens = await client.authorizationCodeGrant(config, back, checks);
  const claims = tokens.claims();
  seen.id_token = claims;
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
  seen.id_token_header = header;
  expect(header.alg === a['id-token-alg'], `ID token signed with ${header.alg}, registered ${a['id-token-alg']}`);
  expect(
    claims.iss === a.issuer && claims.aud === a['client-id'] && claims.nonce === checks.expectedNonce,
    'ID token claims',
  );
  expect(claims.acr === 'urn:hcpki:acr:password-totp', 'acr');
  expect([...claims.amr].sort().join() === 'mfa,otp,pwd', 'amr');
  // The code is single-use, and its reuse revokes the tokens issued from it.
  const reused = await refusal(client.authorizationCodeGrant(config, back, checks), 'a reused code');
  expect(reused.error === 'invalid_grant', `reused code: ${reused}`);
  seen.reused_code = { error: reused.error, error_description: reused.error_description };
  const dead = await refusal(
    client.fetchUserInfo(config, tokens.access_token, claims.sub),
    'userinfo after code reuse',
  );
  expect(dead.status === 401, `userinfo after code reuse: ${dead}`);

  // A second authorization, pushed (PAR), in the same session: no login form (SSO).
  ({ back, checks } = await authorize(config, { par: true }));
  tokens = await client.authorizationCodeGrant(config, back, checks);
  seen.par = 'pushed; code issued';
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  seen.userinfo = userinfo;
  seen.userinfo_signed = Boolean(a['userinfo-alg']);
  let intro = await client.tokenIntrospection(config, tokens.access_token);
  expect(intro.active === true && intro.client_id === a['client-id'], `introspection: ${JSON.stringify(intro)}`);
  intro = await client.tokenIntrospection(config, tokens.refresh_token);
  expect(intro.active === true, `refresh token introspection: ${JSON.stringify(intro)}`);

  // openid-client refuses an ID token for another nonce, and one signed with an algorithm it was not told.
  ({ back, checks } = await authorize(config));
  const wrongNonce = await refusal(
    client.authorizationCodeGrant(config, back, { ...checks, expectedNonce: 'other' }),
    'an ID token for another nonce',
  );
  const otherAlg = a['id-token-alg'] === 'ES256' ? 'PS256' : 'ES256';
  const expectsOther = await discover(otherAlg);
  ({ back, checks } = await authorize(expectsOther));
  const wrongAlg = await refusal(
    client.authorizationCodeGrant(expectsOther, back, checks),
    `an ID token when ${otherAlg} is expected`,
  );
  // openid-client wraps oauth4webapi's OperationProcessingError, whose cause names the check that failed.
  const why = (e) => ({ code: e.code, check: e.cause?.message });
  seen.id_token_refused = { nonce: why(wrongNonce), alg: why(wrongAlg) };
  expect(wrongNonce.cause?.cause?.claim === 'nonce', `another nonce: ${JSON.stringify(why(wrongNonce))}`);
  expect(
    wrongAlg.cause?.cause?.header?.alg === a['id-token-alg'] && /"alg"/.test(wrongAlg.cause?.message),
    `another alg: ${JSON.stringify(why(wrongAlg))}`,
  );

  // Revocation (RFC 7009): revoking the refresh token revokes the grant.
  ({ back, checks } = await authorize(config));
  tokens = await client.authorizationCodeGrant(config, back, checks);
  await client.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  intro = await client.tokenIntrospection(config, tokens.access_token);
  expect(intro.active === false, `access token active after revocation: ${JSON.stringify(intro)}`);
  seen.revocation = 'ok';

  if (a['mtls-cert']) await boundToken(a, ca, get, authorize, claims.sub);

  // Refresh rotation and reuse detection (RFC 9700 §4.14.2, D152): the rotated-out refresh token presented again
  // revokes its grant and ends the sign-in session it belongs to (prompt=none then finds none; openid-client reads
  // login_required after checking iss), so it comes last; the logout below then finds no session and still sends
  // the browser to the post-logout URI.
  ({ back, checks } = await authorize(config));
  tokens = await client.authorizationCodeGrant(config, back, checks);
  const oldRefresh = tokens.refresh_token;
  const renewed = await client.refreshTokenGrant(config, oldRefresh);
  expect(renewed.refresh_token && renewed.refresh_token !== oldRefresh, 'the refresh token was not rotated');
  const replay = await refusal(client.refreshTokenGrant(config, oldRefresh), 'the rotated-out refresh token');
  expect(replay.error === 'invalid_grant', `old refresh token: ${replay}`);
  intro = await client.tokenIntrospection(config, renewed.access_token);
  expect(intro.active === false, `grant not revoked after refresh token reuse: ${JSON.stringify(intro)}`);
  seen.refresh_reuse = 'refused; grant revoked';
  ({ back, checks } = await authorize(config, { extra: { prompt: 'none' } }));
  const ended = await refusal(client.authorizationCodeGrant(config, back, checks), 'prompt=none after the reuse');
  expect(ended.error === 'login_required', `prompt=none after the reuse: ${ended}`);
  seen.refresh_reuse = 'refused; grant revoked; session ended';

  // RP-initiated logout, then prompt=none finds no session: openid-client reads the error off the redirect.
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: a['post-logout'],
    state: 'bye',
  });
  const r = await get(logout);
  expect(
    [302, 303].includes(r.status) && r.headers.get('location') === `${a['post-logout']}?state=bye`,
    `logout: ${r.status} ${r.headers.get('location')}`,
  );
  ({ back, checks } = await authorize(config, { extra: { prompt: 'none' } }));
  const noSession = await refusal(client.authorizationCodeGrant(config, back, checks), 'prompt=none after logout');
  expect(noSession.error === 'login_required', `prompt=none after logout: ${noSession}`);
  seen.logout = 'ok; prompt=none → login_required';
}

// RFC 8705 with the facility PC certificate: tls_client_auth through openid-client's mTLS endpoint aliases.
async function boundToken(a, ca, get, authorize, sub) {
  const pem = readFileSync(a['mtls-cert']);
  const mtls = { [client.customFetch]: fetchWith(ca, pem, readFileSync(a['mtls-key'])) };
  const metadata = {
    redirect_uris: [a['redirect-uri']],
    id_token_signed_response_alg: 'ES256',
    use_mtls_endpoint_aliases: true,
  };
  const config = await client.discovery(new URL(a.issuer), a['mtls-client-id'], metadata, client.TlsClientAuth(), mtls);
  const aliases = config.serverMetadata().mtls_endpoint_aliases ?? {};
  expect(
    aliases.token_endpoint && !aliases.token_endpoint.startsWith(a.issuer),
    `no mTLS token alias: ${JSON.stringify(aliases)}`,
  );
  const { back, checks } = await authorize(config);
  const tokens = await client.authorizationCodeGrant(config, back, checks);
  const thumbprint = createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
  const intro = await client.tokenIntrospection(config, tokens.access_token);
  expect(
    intro.active === true && intro.cnf?.['x5t#S256'] === thumbprint,
    `bound token introspection: ${JSON.stringify(intro)}`,
  );
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
  expect(userinfo.sub === sub, `userinfo over mTLS: ${JSON.stringify(userinfo)}`);
  // The same token on the portal's own userinfo endpoint, without the certificate.
  const plainMetadata = { ...metadata, use_mtls_endpoint_aliases: false };
  const plain = await client.discovery(new URL(a.issuer), a['mtls-client-id'], plainMetadata, client.TlsClientAuth(), {
    [client.customFetch]: fetchWith(ca),
  });
  const refused = await refusal(
    client.fetchUserInfo(plain, tokens.access_token, sub),
    'the bound token without its certificate',
  );
  // openid-client's WWWAuthenticateChallengeError: the challenges of the 401 answer.
  const challenge = refused.cause?.[0]?.parameters?.error;
  expect(
    refused.status === 401 && challenge === 'invalid_token',
    `bound token without its certificate: ${refused} ${challenge}`,
  );
  seen.mtls = {
    token_endpoint: aliases.token_endpoint,
    'x5t#S256': thumbprint,
    userinfo_without_certificate: `${refused.status} ${challenge}`,
  };
}

// One code flow for IHE IUA's claims: the ID token (openid-client), the access token (oauth4webapi's RFC 9068
// validation, as a resource server), userinfo.
async function iua(a, config, authorize, fetch) {
  seen.purposes_supported = config.serverMetadata().purpose_of_use_values_supported;
  const extra = a.purpose ? { purpose_of_use: a.purpose } : {};
  const { back, checks } = await authorize(config, { par: false, expectLogin: true, extra });
  const tokens = await client.authorizationCodeGrant(config, back, checks);
  seen.id_token = tokens.claims();
  // What a resource server receives: the bearer token on a request to it.
  const request = new Request('https://resource.example/fhir/Patient', {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  seen.access_token = await oauth.validateJwtAccessToken(config.serverMetadata(), request, a['client-id'], {
    [oauth.customFetch]: fetch,
  });
  seen.access_token_header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0], 'base64url'));
  seen.userinfo = await client.fetchUserInfo(config, tokens.access_token, seen.id_token.sub);
}

// RFC 9449 with openid-client's own DPoP support, then hand-made proofs with one flaw each.
async function dpop(a, config, authorize, fetch) {
  const conf = config.serverMetadata();
  seen.dpop_signing_alg_values_supported = conf.dpop_signing_alg_values_supported;
  const keys = await client.randomDPoPKeyPair('ES256');
  const handle = client.getDPoPHandle(config, keys);
  seen.dpop_jwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey);
  const { back, checks } = await authorize(config, { par: false, expectLogin: true });
  let tokens = await client.authorizationCodeGrant(config, back, checks, undefined, { DPoP: handle });
  const sub = tokens.claims().sub;
  seen.token_type = tokens.token_type;
  seen.access_token = jwtPayload(tokens.access_token);
  seen.userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP: handle });
  const asBearer = await refusal(
    client.fetchUserInfo(config, tokens.access_token, sub),
    'a DPoP-bound token as a bearer token',
  );
  seen.userinfo_as_bearer = challenge(asBearer);
  const otherKeys = await client.randomDPoPKeyPair('ES256');
  const other = client.getDPoPHandle(config, otherKeys);
  const otherKey = await refusal(
    client.fetchUserInfo(config, tokens.access_token, sub, { DPoP: other }),
    'userinfo with another key',
  );
  seen.userinfo_other_key = challenge(otherKey);
  const intro = await client.tokenIntrospection(config, tokens.access_token);
  seen.introspection = { active: intro.active, token_type: intro.token_type, jkt: intro.cnf?.jkt };
  const otherRefresh = await refusal(
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }),
    'a refresh with another key',
  );
  const bareRefresh = await refusal(client.refreshTokenGrant(config, tokens.refresh_token), 'a refresh without proof');
  seen.refresh_refused = { other_key: otherRefresh.error, no_proof: bareRefresh.error };
  tokens = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: handle });
  seen.refreshed = { token_type: tokens.token_type, jkt: jwtPayload(tokens.access_token).cnf?.jkt };
  if (a['exchange-audience']) {
    seen.exchange = await exchanges(config, tokens.access_token, a['exchange-audience'], handle, other);
  }
  await boundCodes(config, authorize, { handle, other, otherKeys, keys });
  await handMade(a, conf, fetch, keys, tokens);
}

// RFC 8693 token exchange of `subjectToken` for `audience` (openid-client's genericGrantRequest), with DPoP
// handle `dpop`, or none.
function exchange(config, subjectToken, audience, dpop) {
  const parameters = {
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience,
  };
  const grant = 'urn:ietf:params:oauth:grant-type:token-exchange';
  return client.genericGrantRequest(config, grant, parameters, { DPoP: dpop });
}

// The DPoP-bound `subjectToken` exchanged for `audience`: with its key (the new token bound to it), then as a thief
// with the client's credentials would: without a proof, with another key's (`other`). seen.exchange.
async function exchanges(config, subjectToken, audience, handle, other) {
  const issued = await exchange(config, subjectToken, audience, handle);
  const claims = jwtPayload(issued.access_token);
  const noProof = await refusal(exchange(config, subjectToken, audience, undefined), 'an exchange without a proof');
  const otherKey = await refusal(exchange(config, subjectToken, audience, other), 'an exchange with another key');
  return {
    issued: { token_type: issued.token_type, jkt: claims.cnf?.jkt, aud: claims.aud, act: claims.act },
    no_proof: { status: noProof.status, error: noProof.error, description: noProof.error_description },
    other_key: { status: otherKey.status, error: otherKey.error, description: otherKey.error_description },
  };
}

// RFC 7638 thumbprint of a P-256 public key: SHA-256 of its required members in lexical order.
async function thumbprint(publicKey) {
  const jwk = await webcrypto.subtle.exportKey('jwk', publicKey);
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

// Codes bound to the DPoP key when they are asked for (RFC 9449 §10): pushed with openid-client's proof
// (§10.1), and with dpop_jkt in a plain request. Each bound code is refused with another key and without a
// proof, and is still good for its key afterwards (a refusal spends nothing). Then a push whose dpop_jkt is not
// its proof's key, and a malformed dpop_jkt at /authorize (read off the redirect). seen.code_binding.
async function boundCodes(config, authorize, { handle, other, otherKeys, keys }) {
  const out = {};
  const attempts = async (back, checks, what) => {
    const grant = (opts) => client.authorizationCodeGrant(config, back, checks, undefined, opts);
    const otherKey = await refusal(grant({ DPoP: other }), `${what}: another key`);
    const noProof = await refusal(grant(undefined), `${what}: no proof`);
    const tokens = await grant({ DPoP: handle });
    return { other_key: otherKey.error, no_proof: noProof.error, redeemed_jkt: jwtPayload(tokens.access_token).cnf?.jkt };
  };
  let { back, checks } = await authorize(config, { par: true, dpop: handle });
  out.pushed = await attempts(back, checks, 'a code pushed with a proof');
  ({ back, checks } = await authorize(config, { par: false, extra: { dpop_jkt: await thumbprint(keys.publicKey) } }));
  out.plain = await attempts(back, checks, 'a code asked for with dpop_jkt');
  const mismatch = await refusal(
    authorize(config, { par: true, dpop: handle, extra: { dpop_jkt: await thumbprint(otherKeys.publicKey) } }),
    'a push whose dpop_jkt is another key',
  );
  out.push_mismatch = { error: mismatch.error, status: mismatch.status };
  ({ back, checks } = await authorize(config, { par: false, extra: { dpop_jkt: 'not-a-thumbprint' } }));
  const malformed = await refusal(client.authorizationCodeGrant(config, back, checks), 'a malformed dpop_jkt');
  out.malformed = malformed.error;
  seen.code_binding = out;
}

// `rfc9700` (issue #51 item 1, D152): what RFC 9700 and RFC 9207 defend against, seen by openid-client.
async function bcp(a, config, authorize, { auth, fetch, get }) {
  // Mix-up (RFC 9700 §4.4): the client also signs in at a second issuer, an attacker's. A sign-in it started
  // there comes back with hcpki's answer (the attacker's authorization endpoint sent the browser on to hcpki);
  // hcpki names itself in `iss` (RFC 9207), so openid-client, expecting the attacker's issuer for this state,
  // refuses the response before anything is sent anywhere: the code never reaches the attacker's token endpoint.
  const evil = 'https://attacker.invalid';
  const attacker = new client.Configuration(
    {
      issuer: evil,
      authorization_endpoint: `${evil}/authorize`,
      token_endpoint: `${evil}/token`,
      authorization_response_iss_parameter_supported: true,
    },
    a['client-id'],
    { redirect_uris: [a['redirect-uri']], id_token_signed_response_alg: a['id-token-alg'] },
    auth,
  );
  // openid-client's error wraps oauth4webapi's, whose message names the check that failed.
  const why = (e) => `${e.message}: ${e.cause?.message ?? ''}`;
  let toAttacker = 0;
  attacker[client.customFetch] = (url, options) => {
    toAttacker += 1;
    return fetch(url, options);
  };
  const { back, checks } = await authorize(config, { expectLogin: true });
  expect(back.searchParams.get('iss') === a.issuer, `the code's redirect without hcpki's iss: ${back}`);
  const mixUp = await refusal(client.authorizationCodeGrant(attacker, back, checks), "hcpki's answer as the attacker's");
  // The attacker strips iss: openid-client refuses an answer without it from an issuer that announces it.
  const stripped = new URL(back);
  stripped.searchParams.delete('iss');
  const noIss = await refusal(client.authorizationCodeGrant(config, stripped, checks), 'an answer without iss');
  // At the issuer it names, the same answer is good: the refusals spent nothing.
  const tokens = await client.authorizationCodeGrant(config, back, checks);
  seen.mix_up = {
    attacker: why(mixUp),
    stripped: why(noIss),
    requests_to_attacker: toAttacker,
    then_at_hcpki: Boolean(tokens.id_token),
  };
  expect(toAttacker === 0, 'a request went to the attacker');

  // Errors carry iss too (RFC 9207 §2): openid-client reads each error only after checking iss, and refuses it
  // for iss at the attacker's configuration. A confidential client without PKCE is refused (RFC 9700 §2.1.1).
  const errors = {};
  const refusedWith = async (name, params) => {
    const state = client.randomState();
    const r = await get(client.buildAuthorizationUrl(config, { redirect_uri: a['redirect-uri'], state, ...params }));
    const at = new URL(r.headers.get('location') ?? '', a.issuer);
    expect(at.href.startsWith(a['redirect-uri']), `${name}: not sent back to the client: ${r.status} ${at}`);
    const read = await refusal(client.authorizationCodeGrant(config, at, { expectedState: state }), name);
    const asAttacker = await refusal(client.authorizationCodeGrant(attacker, at, { expectedState: state }), name);
    errors[name] = {
      error: read.error,
      error_description: read.error_description,
      iss: at.searchParams.get('iss'),
      at_attacker: why(asAttacker),
    };
  };
  const pkce = { code_challenge_method: 'S256', code_challenge: client.randomPKCECodeVerifier() };
  await refusedWith('no_pkce', { scope: 'openid' });
  await refusedWith('pkce_plain', { scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
  await refusedWith('invalid_scope', { scope: 'profile', ...pkce });
  await refusedWith('access_denied', { scope: 'openid', purpose_of_use: 'HPAYMT', ...pkce });

  // Refresh-token replay (RFC 9700 §4.14.2). A made-up secret for the grant (its id is in the access token)
  // spends nothing. Then the holder refreshes, a thief presents the rotated-out token: refused, and the grant
  // and the session are ended — the holder's next refresh and access token are dead, prompt=none finds no
  // session (login_required, read after iss).
  const gid = jwtPayload(tokens.access_token).gid;
  const madeUp = await refusal(client.refreshTokenGrant(config, `${gid}.made-up`), 'a made-up refresh secret');
  const renewed = await client.refreshTokenGrant(config, tokens.refresh_token);
  expect(renewed.refresh_token !== tokens.refresh_token, 'the refresh token was not rotated');
  const replay = await refusal(client.refreshTokenGrant(config, tokens.refresh_token), 'the replayed refresh token');
  const next = await refusal(client.refreshTokenGrant(config, renewed.refresh_token), "the holder's next refresh");
  const userinfo = await refusal(
    client.fetchUserInfo(config, renewed.access_token, tokens.claims().sub),
    'userinfo after the replay',
  );
  seen.replay = {
    made_up: madeUp.error,
    replayed: { error: replay.error, error_description: replay.error_description },
    next_refresh: next.error,
    userinfo: challenge(userinfo),
  };
  await refusedWith('login_required', { scope: 'openid', prompt: 'none', ...pkce });
  seen.errors = errors;
}

// What a resource's refusal said: the status and its WWW-Authenticate challenge (scheme, error).
function challenge(e) {
  return { status: e.status, scheme: e.cause?.[0]?.scheme, error: e.cause?.[0]?.parameters?.error };
}

// The native app as a public client with DPoP-bound tokens (`public`).
async function nativeApp(a, config, authorize) {
  const conf = config.serverMetadata();
  seen.token_methods = conf.token_endpoint_auth_methods_supported;
  const keys = await client.randomDPoPKeyPair('ES256');
  const handle = client.getDPoPHandle(config, keys);
  seen.dpop_jwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey);
  const { back, checks } = await authorize(config, { par: false, expectLogin: true });
  const tokens = await client.authorizationCodeGrant(config, back, checks, undefined, { DPoP: handle });
  const claims = tokens.claims();
  seen.id_token = claims;
  seen.token_type = tokens.token_type;
  seen.expires_in = tokens.expires_in;
  seen.access_token = jwtPayload(tokens.access_token);
  seen.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: handle });
  const bearer = await refusal(client.fetchUserInfo(config, tokens.access_token, claims.sub), 'a bearer DPoP token');
  seen.userinfo_as_bearer = challenge(bearer);
  // Issue #42: a public client exchanges nothing, not even its own bound token with its key.
  const exchanged = await refusal(
    exchange(config, tokens.access_token, a['client-id'], handle),
    'an exchange by a public client',
  );
  seen.exchange = challenge(exchanged); // a 401 invalid_client, whose WWW-Authenticate oauth4webapi reads
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const otherRefresh = await refusal(
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }),
    'a refresh with another key',
  );
  const renewed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: handle });
  seen.refresh = {
    other_key: otherRefresh.error,
    rotated: Boolean(renewed.refresh_token) && renewed.refresh_token !== tokens.refresh_token,
    token_type: renewed.token_type,
    jkt: jwtPayload(renewed.access_token).cnf?.jkt,
  };
  const reused = await refusal(
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: handle }),
    'the rotated-out refresh token',
  );
  const ended = await refusal(
    client.fetchUserInfo(config, renewed.access_token, claims.sub, { DPoP: handle }),
    'userinfo after the refresh token was reused',
  );
  seen.reused_refresh = { error: reused.error, then_userinfo: challenge(ended) };
}

function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
}

// Hand-made proofs, one flaw each, at /token (refresh grant, private_key_jwt) and userinfo; seen.refusals.
async function handMade(a, conf, fetch, keys, tokens) {
  const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
  const jws = async (key, header, claims) => {
    const input = `${b64(header)}.${b64(claims)}`;
    if (!key) return `${input}.`;
    const signature = await webcrypto.subtle.sign(ecdsa, key, Buffer.from(input));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  };
  const jwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey);
  const now = () => Math.floor(Date.now() / 1000);
  let nonce;
  const proof = async (url, method, change = {}, { header = {}, key = keys.privateKey } = {}) => {
    const claims = { jti: webcrypto.randomUUID(), htm: method, htu: url, iat: now(), nonce, ...change };
    return jws(key, { typ: 'dpop+jwt', alg: 'ES256', jwk, ...header }, claims);
  };
  const rpKey = await signingKey(readFileSync(a.key), 'ES256');
  const token = async (dpopProof, refresh = tokens.refresh_token) => {
    const assertion = await jws(
      rpKey,
      { alg: 'ES256', kid: 'rp-key-1', typ: 'JWT' },
      {
        iss: a['client-id'],
        sub: a['client-id'],
        aud: conf.token_endpoint,
        iat: now(),
        exp: now() + 60,
        jti: webcrypto.randomUUID(),
      },
    );
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    return answer(await fetch(conf.token_endpoint, { method: 'POST', body, headers: { dpop: dpopProof } }));
  };
  const userinfo = async (dpopProof) =>
    answer(
      await fetch(conf.userinfo_endpoint, {
        headers: { authorization: `DPoP ${tokens.access_token}`, dpop: dpopProof },
      }),
    );
  const refusals = {};
  const T = conf.token_endpoint;
  const U = conf.userinfo_endpoint;
  // No nonce: use_dpop_nonce and one to use.
  refusals.token_no_nonce = await token(await proof(T, 'POST'));
  nonce = refusals.token_no_nonce.dpop_nonce;
  expect(nonce, `no DPoP-Nonce with use_dpop_nonce: ${JSON.stringify(refusals.token_no_nonce)}`);
  refusals.token_made_up_nonce = await token(await proof(T, 'POST', { nonce: 'made-up' }));
  refusals.token_htu = await token(await proof(T, 'POST', { htu: U }));
  refusals.token_htm = await token(await proof(T, 'GET'));
  refusals.token_iat_stale = await token(await proof(T, 'POST', { iat: now() - 600 }));
  refusals.token_iat_ahead = await token(await proof(T, 'POST', { iat: now() + 600 }));
  // iat at the far end of i64, where iat - now is exactly i64::MIN for the server's clock (issue #42 item 6: its
  // abs() wrapped to itself in a release build, "within the leeway"): one proof per second around our clock.
  // Written as text: a JavaScript number cannot hold it.
  const farIat = async (offset) => {
    const iat = (-(2n ** 63n) + BigInt(now() + offset)).toString();
    const claims = JSON.stringify({ jti: webcrypto.randomUUID(), htm: 'POST', htu: T, nonce });
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
    return token(await jws(keys.privateKey, header, claims.replace(/}$/, `,"iat":${iat}}`)));
  };
  for (const [name, offset] of [['before', -1], ['now', 0], ['after', 1]]) {
    refusals[`token_iat_wraps_${name}`] = await farIat(offset);
  }
  const stranger = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  refusals.token_signature = await token(await proof(T, 'POST', {}, { key: stranger.privateKey }));
  const privateJwk = await webcrypto.subtle.exportKey('jwk', stranger.privateKey);
  refusals.token_private_jwk = await token(
    await proof(T, 'POST', {}, { key: stranger.privateKey, header: { jwk: privateJwk } }),
  );
  refusals.token_alg_none = await token(await proof(T, 'POST', {}, { key: null, header: { alg: 'none' } }));
  // The same good proof twice: first with an unknown refresh token (refused, the proof spent), then the live one.
  const once = await proof(T, 'POST');
  refusals.token_first_use = await token(once, 'nope.nope');
  refusals.token_replayed = await token(once);
  refusals.userinfo_ath = await userinfo(await proof(U, 'GET', { ath: b64('another token') }));
  const ath = createHash('sha256').update(tokens.access_token).digest('base64url');
  refusals.userinfo_htu = await userinfo(await proof(T, 'GET', { ath }));
  refusals.userinfo_no_nonce = await userinfo(await proof(U, 'GET', { ath, nonce: undefined }));
  const twice = await proof(U, 'GET', { ath });
  refusals.userinfo_first_use = await userinfo(twice);
  refusals.userinfo_replayed = await userinfo(twice);
  if (a['mtls-cert']) {
    // A certificate-bound and a DPoP-bound token at once: the tls_client_auth client, its certificate, a proof.
    const mtlsFetch = fetchWith(readFileSync(a.ca), readFileSync(a['mtls-cert']), readFileSync(a['mtls-key']));
    const alias = conf.mtls_endpoint_aliases?.token_endpoint;
    expect(alias, `no mTLS token alias: ${JSON.stringify(conf.mtls_endpoint_aliases)}`);
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'nope.nope',
      client_id: a['mtls-client-id'],
    });
    refusals.token_mtls_and_dpop = await answer(
      await mtlsFetch(alias, { method: 'POST', body, headers: { dpop: await proof(alias, 'POST') } }),
    );
  }
  seen.refusals = refusals;
  // Nothing above spent the refresh token or issued one: it still refreshes, bound to the key.
  const last = await token(await proof(T, 'POST'));
  seen.after_refusals = last;
}

// What a raw answer said: status, error, the DPoP challenge and nonce, whether a token was issued.
async function answer(r) {
  const text = await r.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { text: text.slice(0, 200) };
  }
  return {
    status: r.status,
    error: body.error,
    description: body.error_description,
    www_authenticate: r.headers.get('www-authenticate'),
    dpop_nonce: r.headers.get('dpop-nonce'),
    issued: Boolean(body.access_token),
    token_type: body.token_type,
    sub: body.sub,
  };
}

const REQUIRED = [
  'issuer',
  'ca',
  'client-id',
  'redirect-uri',
  'post-logout',
  'username',
  'password-file',
  'totp-secret',
];
const DEFAULTS = { 'assertion-alg': 'ES256', 'id-token-alg': 'ES256', 'totp-step': '0' };
const MTLS = ['mtls-client-id', 'mtls-cert', 'mtls-key'];
const OPTIONAL = ['userinfo-alg', 'purpose', 'exchange-audience'];
const FLAGS = ['par-only'];
const ALGS = ['ES256', 'RS256', 'PS256'];

// The command line as an object of option values, or exit 2 naming what is wrong.
function parsed() {
  const options = [...REQUIRED, 'key', ...Object.keys(DEFAULTS), ...MTLS, ...OPTIONAL];
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: Object.fromEntries([
      ...options.map((o) => [o, { type: 'string' }]),
      ...FLAGS.map((o) => [o, { type: 'boolean' }]),
    ]),
  });
  const a = { ...DEFAULTS, ...values, command: positionals[0] };
  const problems = [
    !['flow', 'iua', 'dpop', 'public', 'rfc9700'].includes(positionals[0]) &&
      'the commands are flow, iua, dpop, public and rfc9700',
    ...REQUIRED.filter((o) => !a[o]).map((o) => `--${o} is missing`),
    // Every client but a public one signs its assertions with --key.
    a.command !== 'public' && !a.key && '--key is missing',
    ![a['assertion-alg'], a['id-token-alg'], a['userinfo-alg'] ?? 'ES256'].every((x) => ALGS.includes(x)) &&
      `algorithms are ${ALGS.join(', ')}`,
    MTLS.filter((o) => a[o]).length % MTLS.length && `give all of --${MTLS.join(', --')} or none`,
  ].filter(Boolean);
  if (problems.length) {
    console.error(`oidc_rp_node.mjs: ${problems.join('; ')} (usage: the comment at the top of the script)`);
    process.exit(2);
  }
  return a;
}

async function main() {
  const a = parsed();
  try {
    await flow(a);
    seen.ok = true;
    console.log(JSON.stringify(seen, null, 1));
  } catch (e) {
    // An expectation says what it saw; anything openid-client threw keeps its cause and stack.
    const cause = e.cause ? ` (${JSON.stringify(e.cause)})` : '';
    seen.failed = e instanceof Expectation ? e.message : `${e.name}: ${e.message}${cause}`;
    if (!(e instanceof Expectation)) seen.stack = e.stack;
    console.log(JSON.stringify(seen, null, 1));
    process.exit(1);
  }
}

await main();
