'use strict'
// AUTH with the real nsqjs client (its authSecret option) against a qd run with
// --auth-http-address, the auth server being a small HTTP server in this test: a granted
// secret publishes and consumes and /stats shows the identity; a refused one fails the
// connection with E_AUTH_FAILED and publishes nothing.
const {test, after} = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const h = require('./harness')

// Answers as an NSQ auth server: "good" may publish and subscribe on every topic.
let authServer
const authRequests = []
async function startAuthServer() {
  authServer = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    authRequests.push(Object.fromEntries(url.searchParams))
    if (url.pathname !== '/auth' || url.searchParams.get('secret') !== 'good') {
      res.writeHead(403).end('{"message":"NOT_AUTHORIZED"}')
      return
    }
    res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({
      ttl: 3600,
      identity: 'conformance-user',
      identity_url: 'http://example.test/users/conformance-user',
      authorizations: [{topic: '.*', channels: ['.*'], permissions: ['subscribe', 'publish']}],
    }))
  })
  await new Promise((resolve) => authServer.listen(0, '127.0.0.1', resolve))
  return [`--auth-http-address=127.0.0.1:${authServer.address().port}`]
}
const getQd = h.useQd(startAuthServer)
after(() => new Promise((resolve) => authServer.close(resolve)))

test('authSecret: Writer and Reader authenticate, publish and consume; qd shows the identity', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const reader = await h.connectReader(qd, 'authed', 'ch', {authSecret: 'good', onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd, {authSecret: 'good'})
  await h.publish(writer, 'authed', ['one', 'two'])
  await h.waitForReceived(reader, 2, {qd})
  assert.deepEqual(reader.received.map((r) => r.body.toString()).sort(), ['one', 'two'])
  const ch = await h.waitForChannel(qd, 'authed', 'ch', (c) => c.clients && c.clients.length === 1, 'consumer listed')
  assert.equal(ch.clients[0].authed, true)
  assert.equal(ch.clients[0].auth_identity, 'conformance-user')
  assert.ok(authRequests.some((r) => r.secret === 'good' && r.remote_ip === '127.0.0.1'), 'qd asked the auth server')
  assert.deepEqual(reader.errors, [])
})

test('a refused authSecret fails the nsqjs connection with E_AUTH_FAILED; nothing is published', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  await assert.rejects(h.connectWriter(qd, {authSecret: 'wrong'}), /E_AUTH_FAILED|closed/)
  const t = await h.topicStats(qd, 'refused')
  assert.equal(t, null, 'no topic was created')
})
