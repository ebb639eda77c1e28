'use strict'
// RDY flow control: RDY is a cap on un-FINed messages per connection. A Reader with
// maxInFlight 1 that holds a message gets nothing else until it FINs it.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

// The property checked here is an absence (no further delivery), so it is observed over a
// bounded window; this is the only place the suite waits for a fixed time.
const OBSERVE_MS = 500

async function heldSteady(qd, reader, topic, channel, {inFlight, depth, received}) {
  await h.holdsFor(OBSERVE_MS, async () => {
    assert.equal(reader.received.length, received, `reader must not receive more than ${received} message(s) while holding`)
    const ch = await h.channelStats(qd, topic, channel)
    assert.equal(ch.in_flight_count, inFlight, 'channel in_flight_count while holding')
    assert.equal(ch.depth, depth, 'channel depth while holding')
  })
}

test('maxInFlight 1: an un-FINed message blocks the next delivery until FIN', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'flow_rdy1'
  const channel = 'ch'
  const N = 5
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 1}) // no auto-finish
  await h.waitForChannel(qd, topic, channel, (c) => c.clients.length === 1 && c.clients[0].ready_count === 1, 'RDY 1')
  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, Array.from({length: N}, (_, i) => `flow-${i}`))

  await h.waitForReceived(reader, 1, {qd})
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 1 && c.depth === N - 1, `in_flight 1, depth ${N - 1}`)
  await heldSteady(qd, reader, topic, channel, {inFlight: 1, depth: N - 1, received: 1})
  const ch = await h.channelStats(qd, topic, channel)
  assert.equal(ch.clients[0].ready_count, 1)
  assert.equal(ch.clients[0].in_flight_count, 1)

  // FIN re-opens delivery without a new RDY (qd's RDY is a cap, not a credit).
  reader.received[0].msg.finish()
  await h.waitForReceived(reader, 2, {qd})
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 1 && c.depth === N - 2, `in_flight 1, depth ${N - 2}`)
  await heldSteady(qd, reader, topic, channel, {inFlight: 1, depth: N - 2, received: 2})

  // Drain the rest one by one.
  for (let i = 2; i <= N; i++) {
    reader.received[i - 1].msg.finish()
    if (i < N) await h.waitForReceived(reader, i + 1, {qd})
  }
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'drained')
  const bodies = reader.received.map((r) => r.body.toString())
  assert.deepEqual(h.duplicates(bodies), [])
  assert.equal(bodies.length, N)
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})

test('maxInFlight 3: exactly 3 in flight while none is FINed', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'flow_rdy3'
  const channel = 'ch'
  const N = 10
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 3})
  await h.waitForChannel(qd, topic, channel, (c) => c.clients.length === 1 && c.clients[0].ready_count === 3, 'RDY 3')
  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, Array.from({length: N}, (_, i) => `flow3-${i}`))

  await h.waitForReceived(reader, 3, {qd})
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 3 && c.depth === N - 3, `in_flight 3, depth ${N - 3}`)
  await heldSteady(qd, reader, topic, channel, {inFlight: 3, depth: N - 3, received: 3})

  // FIN one: exactly one more arrives.
  reader.received[0].msg.finish()
  await h.waitForReceived(reader, 4, {qd})
  await heldSteady(qd, reader, topic, channel, {inFlight: 3, depth: N - 4, received: 4})

  // Now finish everything as it arrives.
  for (const r of reader.received) r.msg.finish()
  reader.on('message', (m) => m.finish())
  await h.waitForReceived(reader, N, {qd})
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'drained')
  assert.deepEqual(h.duplicates(reader.received.map((r) => r.body.toString())), [])
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})
