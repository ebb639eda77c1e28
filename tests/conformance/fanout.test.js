'use strict'
// Topic -> channel fan-out: every channel gets its own copy of every message, exactly once;
// a channel created later only sees messages published after it exists.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

test('two channels each receive every message exactly once', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'fanout_two'
  const N = 100
  const readerA = await h.connectReader(qd, topic, 'chan_a', {maxInFlight: 20, onMessage: (m) => m.finish()})
  const readerB = await h.connectReader(qd, topic, 'chan_b', {maxInFlight: 20, onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd)

  const expected = []
  for (let i = 0; i < N; i++) expected.push(`fan-${i}`)
  // Half as single PUBs, half as one MPUB.
  for (const body of expected.slice(0, N / 2)) await h.publish(writer, topic, body)
  await h.publish(writer, topic, expected.slice(N / 2))

  for (const [reader, name] of [[readerA, 'chan_a'], [readerB, 'chan_b']]) {
    await h.waitForReceived(reader, N, {qd})
    const ch = await h.waitForChannel(
      qd, topic, name,
      (c) => c.in_flight_count === 0 && c.depth === 0 && c.message_count === N,
      `all ${N} messages copied and FINed`
    )
    assert.equal(ch.requeue_count, 0, `${name} requeue_count`)
    assert.equal(ch.timeout_count, 0, `${name} timeout_count`)
    assert.equal(ch.clients.length, 1)
    assert.equal(ch.clients[0].message_count, N, `${name}: qd sent exactly ${N} messages to the consumer`)
    assert.equal(ch.clients[0].finish_count, N, `${name}: ${N} FINs accepted`)
  }
  for (const [reader, name] of [[readerA, 'chan_a'], [readerB, 'chan_b']]) {
    const bodies = reader.received.map((r) => r.body.toString())
    assert.deepEqual(h.duplicates(bodies), [], `${name} got no duplicates`)
    assert.deepEqual([...bodies].sort(), [...expected].sort(), `${name} got every message`)
    assert.ok(reader.received.every((r) => r.attempts === 1), `${name}: all first deliveries`)
    assert.deepEqual(reader.errors, [], `${name} reader errors`)
  }
  // Channel copies share the publish-time id and timestamp.
  const byBodyA = new Map(readerA.received.map((r) => [r.body.toString(), r]))
  for (const r of readerB.received) {
    const a = byBodyA.get(r.body.toString())
    assert.equal(r.id, a.id, 'both channels see the same message id')
    assert.equal(r.msg.timestamp, a.msg.timestamp, 'both channels see the same timestamp')
  }
  const t = await h.topicStats(qd, topic)
  assert.equal(t.message_count, N)
  assert.equal(t.depth, 0)
  h.closeClient(readerA)
  h.closeClient(readerB)
  h.closeClient(writer)
})

test('a channel created later gets only messages published after it exists', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'fanout_late'
  const readerA = await h.connectReader(qd, topic, 'early', {maxInFlight: 20, onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd)
  for (let i = 0; i < 10; i++) await h.publish(writer, topic, `before-${i}`)
  // Wait until the topic has handed all 10 to the existing channel.
  await h.waitForChannel(qd, topic, 'early', (c) => c.message_count === 10, 'first 10 copied')
  await h.waitFor(async () => (await h.topicStats(qd, topic)).depth === 0, {message: 'topic drained', qd})

  const readerB = await h.connectReader(qd, topic, 'late', {maxInFlight: 20, onMessage: (m) => m.finish()})
  for (let i = 0; i < 10; i++) await h.publish(writer, topic, `after-${i}`)

  await h.waitForReceived(readerA, 20, {qd})
  await h.waitForReceived(readerB, 10, {qd})
  await h.waitForChannel(qd, topic, 'late', (c) => c.in_flight_count === 0 && c.depth === 0, 'late channel drained')
  await h.waitForChannel(qd, topic, 'early', (c) => c.in_flight_count === 0 && c.depth === 0, 'early channel drained')

  const late = readerB.received.map((r) => r.body.toString()).sort()
  assert.deepEqual(late, Array.from({length: 10}, (_, i) => `after-${i}`).sort(), 'late channel: only the newer messages')
  assert.equal(readerA.received.length, 20, 'early channel: all 20')
  const lateCh = await h.channelStats(qd, topic, 'late')
  assert.equal(lateCh.message_count, 10)
  h.closeClient(readerA)
  h.closeClient(readerB)
  h.closeClient(writer)
})
