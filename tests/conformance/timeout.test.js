'use strict'
// In-flight timeout: a message that is neither FINed, REQed nor TOUCHed within the
// connection's msg_timeout is put back into the channel (timeout_count++) and redelivered
// with attempts+1. qd runs with --msg-timeout=1s; the first Reader sends no msg_timeout in
// IDENTIFY (nsqjs messageTimeout left at null) so qd's default applies; the second one
// negotiates its own msg_timeout.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd(['--msg-timeout=1s'])

const EARLY_TOLERANCE_MS = 100 // receive-time vs qd's delivery time; RDY 1 means no buffering
const LATE_BOUND_MS = 3000 // timeout scanner runs every ~100 ms

test('--msg-timeout=1s: unfinished message is redelivered with attempts 2 after >= 1 s; timeout_count 1', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'timeout_default'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 1}) // never FINs on its own

  const [conn] = h.readerConnections(reader)
  assert.equal(conn.msgTimeout, 1000, 'IDENTIFY response msg_timeout is qd --msg-timeout (1000 ms)')

  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'let-me-time-out')
  await h.waitForReceived(reader, 1, {qd})
  const first = reader.received[0]
  assert.equal(first.attempts, 1)

  // In flight until the timeout fires.
  const ch0 = await h.channelStats(qd, topic, channel)
  assert.equal(ch0.timeout_count, 0)

  await h.waitForReceived(reader, 2, {qd, timeout: 1000 + LATE_BOUND_MS})
  const second = reader.received[1]
  const elapsed = second.at - first.at
  assert.ok(elapsed >= 1000 - EARLY_TOLERANCE_MS, `redelivered after ${elapsed.toFixed(0)} ms, expected >= ~1000 ms`)
  assert.ok(elapsed <= 1000 + LATE_BOUND_MS, `redelivered after ${elapsed.toFixed(0)} ms`)
  assert.equal(second.attempts, 2, 'attempts 2 on redelivery after timeout')
  assert.equal(second.id, first.id, 'same message')
  assert.ok(second.body.equals(first.body))

  const ch1 = await h.waitForChannel(qd, topic, channel, (c) => c.timeout_count === 1, 'timeout_count 1')
  assert.equal(ch1.in_flight_count, 1, 'redelivered copy is in flight again')
  assert.equal(ch1.requeue_count, 0, 'a timeout is not a REQ')

  second.msg.finish()
  const ch2 = await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'finished')
  assert.equal(ch2.timeout_count, 1, 'still exactly one timeout')
  assert.deepEqual(reader.errors, [], 'FIN of the redelivered copy succeeded')
  h.closeClient(reader)
  h.closeClient(writer)
})

test('IDENTIFY msg_timeout=2500 overrides --msg-timeout for that connection', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'timeout_identify'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 1, messageTimeout: 2500})
  const [conn] = h.readerConnections(reader)
  assert.equal(conn.msgTimeout, 2500, 'IDENTIFY response echoes the negotiated msg_timeout')

  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'slow')
  await h.waitForReceived(reader, 1, {qd})
  await h.waitForReceived(reader, 2, {qd, timeout: 2500 + LATE_BOUND_MS})
  const [first, second] = reader.received
  const elapsed = second.at - first.at
  assert.ok(elapsed >= 2500 - EARLY_TOLERANCE_MS, `redelivered after ${elapsed.toFixed(0)} ms, expected >= ~2500 ms`)
  assert.equal(second.attempts, 2)
  second.msg.finish()
  const ch = await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'finished')
  assert.equal(ch.timeout_count, 1)
  h.closeClient(reader)
  h.closeClient(writer)
})

test('a consumer that disconnects with a message in flight: it is redelivered only after its timeout', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'timeout_disconnect'
  const channel = 'ch'
  const r1 = await h.connectReader(qd, topic, channel, {maxInFlight: 1}) // holds the message
  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'orphan')
  await h.waitForReceived(r1, 1, {qd})
  const deliveredAt = r1.received[0].at
  h.closeClient(r1)
  await h.waitForChannel(qd, topic, channel, (c) => c.client_count === 0, 'first consumer gone')

  const r2 = await h.connectReader(qd, topic, channel, {maxInFlight: 1, onMessage: (m) => m.finish()})
  await h.waitForReceived(r2, 1, {qd, timeout: 1000 + LATE_BOUND_MS})
  const got = r2.received[0]
  assert.equal(got.body.toString(), 'orphan')
  assert.equal(got.attempts, 2, 'redelivery of the orphaned message')
  const elapsed = got.at - deliveredAt
  assert.ok(elapsed >= 1000 - EARLY_TOLERANCE_MS, `redelivered ${elapsed.toFixed(0)} ms after the first delivery: in-flight messages of a closed connection wait for their timeout`)
  const ch = await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'finished')
  assert.equal(ch.timeout_count, 1)
  h.closeClient(r2)
  h.closeClient(writer)
})
