'use strict'
// Compression negotiated in IDENTIFY with the real nsqjs client: snappy (framing format)
// and raw deflate, for both a Writer and a Reader, with bodies large enough to span several
// compressed chunks. /stats shows what each consumer negotiated.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

function bodies(n) {
  const out = []
  for (let i = 0; i < n; i++) {
    // Compressible text plus a random tail so chunks are not all alike.
    out.push(Buffer.from(`message ${i} `.repeat(200) + Math.random().toString(36)))
  }
  out.push(Buffer.alloc(200 * 1024, 7)) // one body bigger than a 64 KiB snappy chunk
  return out
}

for (const codec of ['snappy', 'deflate']) {
  test(`${codec}: Writer and Reader exchange messages intact`, {timeout: h.TEST_TIMEOUT_MS}, async () => {
    const qd = getQd()
    const topic = `compression_${codec}`
    const opts = codec === 'snappy' ? {snappy: true} : {deflate: true, deflateLevel: 6}
    const reader = await h.connectReader(qd, topic, 'ch', {
      maxInFlight: 50,
      onMessage: (msg) => msg.finish(),
      ...opts,
    })
    const writer = await h.connectWriter(qd, opts)
    const sent = bodies(40)
    await h.publish(writer, topic, sent.slice(0, 20)) // MPUB
    for (const b of sent.slice(20)) await h.publish(writer, topic, b) // PUB
    await h.waitForReceived(reader, sent.length, {qd})
    const got = reader.received.map((r) => r.body.toString('base64')).sort()
    assert.deepEqual(got, sent.map((b) => b.toString('base64')).sort(), 'every body arrives once, byte for byte')

    const ch = await h.waitForChannel(qd, topic, 'ch', (c) => c.clients && c.clients.length === 1, 'consumer listed')
    assert.equal(ch.clients[0][codec], true, `/stats shows the consumer uses ${codec}`)
    assert.deepEqual(reader.errors, [])
    assert.deepEqual(writer.errors, [])
  })
}
