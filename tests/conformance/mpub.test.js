'use strict'
// MPUB: one writer.publish(topic, [array]) call sends one MPUB; every message arrives once.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

test('MPUB of 1000 messages in one publish call: all 1000 received exactly once', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'mpub_1000'
  const channel = 'ch'
  const N = 1000
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 100, onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd)

  // Vary sizes and content (incl. newlines and NULs, which must not matter in binary MPUB).
  const msgs = Array.from({length: N}, (_, i) => {
    const b = Buffer.alloc(8 + (i % 50), i & 0xff)
    b.writeUInt32BE(i, 0)
    b.write('\n\0\r\n', 4, 'latin1')
    return b
  })
  await h.publish(writer, topic, msgs)

  const t = await h.topicStats(qd, topic)
  assert.equal(t.message_count, N, 'topic message_count after one MPUB')

  await h.waitForReceived(reader, N, {qd})
  const ch = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.in_flight_count === 0 && c.depth === 0 && c.message_count === N,
    `all ${N} FINed`
  )
  const indexes = reader.received.map((r) => r.body.readUInt32BE(0))
  assert.deepEqual(h.duplicates(indexes), [], 'no duplicates')
  assert.deepEqual([...indexes].sort((a, b) => a - b), Array.from({length: N}, (_, i) => i), 'nothing missing')
  for (const r of reader.received) {
    const i = r.body.readUInt32BE(0)
    assert.ok(r.body.equals(msgs[i]), `message ${i} body intact`)
  }
  assert.equal(ch.clients[0].message_count, N, 'qd sent exactly N messages')
  assert.equal(ch.requeue_count, 0)
  assert.equal(ch.timeout_count, 0)
  assert.deepEqual(reader.errors, [])
  assert.deepEqual(writer.errors, [])

  // One MPUB from one producer connection.
  const s = await h.stats(qd)
  const producers = (s.producers || []).filter((p) => (p.pub_counts || []).some((pc) => pc.topic === topic))
  assert.equal(producers.length, 1, 'the writer shows up once in /stats producers')
  assert.equal(producers[0].pub_counts.find((pc) => pc.topic === topic).count, N)
  h.closeClient(reader)
  h.closeClient(writer)
})

test('MPUB of string messages (JSON objects serialised by nsqjs) arrives intact', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'mpub_json'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 50, onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd)
  const objs = Array.from({length: 50}, (_, i) => ({i, text: `välue ${i}`}))
  await h.publish(writer, topic, objs)
  await h.waitForReceived(reader, 50, {qd})
  const got = reader.received.map((r) => JSON.parse(r.body.toString('utf8'))).sort((a, b) => a.i - b.i)
  assert.deepEqual(got, objs)
  h.closeClient(reader)
  h.closeClient(writer)
})
