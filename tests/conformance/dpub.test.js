'use strict'
// Deferred publish: writer.deferPublish (TCP DPUB) and HTTP /pub?defer= hold the message in
// the channel's deferred queue for the delay, then deliver it (attempts 1).
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

const DELAY_MS = 1500
const EARLY_TOLERANCE_MS = 20 // the clock starts at publish, which is after t0
const LATE_BOUND_MS = 3000

async function checkDeferred(qd, reader, topic, channel, t0) {
  // Deferred on the channel meanwhile (not in depth, not in flight).
  const during = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.deferred_count === 1,
    'deferred_count 1 right after the deferred publish',
    {interval: 20, timeout: DELAY_MS}
  )
  assert.equal(during.depth, 0)
  assert.equal(during.in_flight_count, 0)
  assert.equal(during.message_count, 1, 'channel message_count counts the deferred message when copied')
  assert.equal(reader.received.length, 0, 'not delivered before the delay')

  await h.waitForReceived(reader, 1, {qd, timeout: DELAY_MS + LATE_BOUND_MS})
  const got = reader.received[0]
  const elapsed = got.at - t0
  assert.ok(elapsed >= DELAY_MS - EARLY_TOLERANCE_MS, `delivered after ${elapsed.toFixed(0)} ms, expected >= ${DELAY_MS} ms`)
  assert.ok(elapsed <= DELAY_MS + LATE_BOUND_MS, `delivered after ${elapsed.toFixed(0)} ms`)
  assert.equal(got.attempts, 1, 'a deferred publish is a first delivery')
  await h.waitForChannel(
    qd, topic, channel,
    (c) => c.deferred_count === 0 && c.in_flight_count === 0 && c.depth === 0,
    'finished after deferred delivery'
  )
  return got
}

test('writer.deferPublish(topic, msg, 1500): not delivered before ~1.5 s, delivered after', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'dpub_tcp'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 5, onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd)
  const t0 = h.now()
  await h.deferPublish(writer, topic, 'later', DELAY_MS)
  const got = await checkDeferred(qd, reader, topic, channel, t0)
  assert.equal(got.body.toString(), 'later')
  assert.deepEqual(reader.errors, [])
  assert.deepEqual(writer.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})

test('HTTP /pub?defer=1500: not delivered before ~1.5 s, delivered after', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'dpub_http'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 5, onMessage: (m) => m.finish()})
  const t0 = h.now()
  await h.httpPub(qd, topic, 'later-http', {defer: DELAY_MS})
  const got = await checkDeferred(qd, reader, topic, channel, t0)
  assert.equal(got.body.toString(), 'later-http')
  h.closeClient(reader)
})

test('deferred and immediate publishes: the immediate one is not held back', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'dpub_mixed'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 5, onMessage: (m) => m.finish()})
  const writer = await h.connectWriter(qd)
  const t0 = h.now()
  await h.deferPublish(writer, topic, 'deferred', DELAY_MS)
  await h.publish(writer, topic, 'immediate')
  await h.waitForReceived(reader, 1, {qd})
  assert.equal(reader.received[0].body.toString(), 'immediate')
  assert.ok(reader.received[0].at - t0 < DELAY_MS, 'immediate message delivered before the deferred one is due')
  await h.waitForReceived(reader, 2, {qd, timeout: DELAY_MS + LATE_BOUND_MS})
  assert.equal(reader.received[1].body.toString(), 'deferred')
  assert.ok(reader.received[1].at - t0 >= DELAY_MS - EARLY_TOLERANCE_MS)
  h.closeClient(reader)
  h.closeClient(writer)
})

test('DPUB with a delay above --max-req-timeout (1h) is rejected with E_INVALID', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'dpub_range'
  const writer = await h.connectWriter(qd)
  await assert.rejects(
    h.deferPublish(writer, topic, 'too-late', 3600 * 1000 + 1),
    (err) => /E_INVALID/.test(String(err)),
    'DPUB out of range fails the publish with E_INVALID'
  )
  h.closeClient(writer)
})
