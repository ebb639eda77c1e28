'use strict'
// TLS negotiated in IDENTIFY (tls_v1) with the real nsqjs client: a Writer and a Reader that
// verify qd's certificate against a test-made CA, alone and with snappy or deflate layered
// on top (nsqjs upgrades to TLS first, then compression, as nsqd answers). /stats shows the
// session. Certificates come from tests/make_test_certs.sh in a temp dir.
const {test, after} = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const {execFileSync} = require('node:child_process')
const h = require('./harness')

const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-conformance-certs-'))
execFileSync('bash', [path.join(__dirname, '..', 'make_test_certs.sh'), certDir], {stdio: 'inherit'})
after(() => fs.rmSync(certDir, {recursive: true, force: true}))
const cert = (name) => path.join(certDir, name)
const ca = fs.readFileSync(cert('ca.pem'))

// Client certificates are verified too, so the test also covers nsqjs' key/cert options.
const getQd = h.useQd([
  `--tls-cert=${cert('server.pem')}`,
  `--tls-key=${cert('server.key')}`,
  `--tls-root-ca-file=${cert('ca.pem')}`,
  '--tls-client-auth-policy=require-verify',
  '--tls-required=tcp-https', // the policy alone would refuse the harness' plain HTTP
  '--https-address=127.0.0.1:0',
])
const tlsOpts = {
  tls: true,
  tlsVerification: true,
  ca,
  cert: fs.readFileSync(cert('client.pem')),
  key: fs.readFileSync(cert('client.key')),
}

function bodies(n) {
  const out = []
  for (let i = 0; i < n; i++) out.push(Buffer.from(`tls message ${i} `.repeat(100) + Math.random().toString(36)))
  out.push(Buffer.alloc(100 * 1024, 3)) // spans several TLS records
  return out
}

for (const codec of ['none', 'snappy', 'deflate']) {
  test(`tls with compression ${codec}: Writer and Reader exchange messages intact`, {timeout: h.TEST_TIMEOUT_MS}, async () => {
    const qd = getQd()
    const topic = `tls_${codec}`
    const opts = {...tlsOpts}
    if (codec === 'snappy') opts.snappy = true
    if (codec === 'deflate') Object.assign(opts, {deflate: true, deflateLevel: 6})
    const reader = await h.connectReader(qd, topic, 'ch', {maxInFlight: 50, onMessage: (msg) => msg.finish(), ...opts})
    const writer = await h.connectWriter(qd, opts)
    const sent = bodies(20)
    await h.publish(writer, topic, sent.slice(0, 10)) // MPUB
    for (const b of sent.slice(10)) await h.publish(writer, topic, b) // PUB
    await h.waitForReceived(reader, sent.length, {qd})
    const got = reader.received.map((r) => r.body.toString('base64')).sort()
    assert.deepEqual(got, sent.map((b) => b.toString('base64')).sort(), 'every body arrives once, byte for byte')

    const ch = await h.waitForChannel(qd, topic, 'ch', (c) => c.clients && c.clients.length === 1, 'consumer listed')
    const client = ch.clients[0]
    assert.equal(client.tls, true, '/stats shows the consumer uses TLS')
    assert.match(client.tls_version, /^TLS1\.[23]$/)
    if (codec !== 'none') assert.equal(client[codec], true, `/stats shows ${codec} on top of TLS`)
    assert.deepEqual(reader.errors, [])
    assert.deepEqual(writer.errors, [])
  })
}
