'use strict'
// REQ: msg.requeue(delay) defers the message on the channel for `delay` ms (deferred_count),
// then it comes back with attempts+1, same id/body/timestamp. REQ 0 puts it back at once.
// requeue(..., backoff=false) so that nsqjs's own backoff (RDY 0 for a while) does not
// interfere with what is measured: the daemon's timing.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

const DELAY_MS = 1000
const EARLY_TOLERANCE_MS = 20 // timer granularity only: the REQ is sent after t0
const LATE_BOUND_MS = 3000 // scanner granularity is ~100 ms; be generous on a loaded machine

test('requeue(1000): redelivered with attempts 2 no earlier than the delay; deferred meanwhile', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'requeue_delay'
  const channel = 'ch'
  let requeuedAt = null
  const reader = await h.connectReader(qd, topic, channel, {
    maxInFlight: 1,
    onMessage: (msg, rec) => {
      if (msg.attempts === 1) {
        requeuedAt = h.now()
        msg.requeue(DELAY_MS, false)
      }
      // later deliveries are left for the test body to inspect and finish
    },
  })
  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'requeue-me')

  await h.waitForReceived(reader, 1, {qd})
  // While deferred: deferred_count 1, nothing in flight, not in depth, requeue_count 1.
  const during = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.deferred_count === 1,
    'deferred_count 1 after REQ with delay',
    {interval: 20, timeout: DELAY_MS}
  )
  assert.equal(during.in_flight_count, 0, 'a deferred message is not in flight')
  assert.equal(during.depth, 0, 'a deferred message is not counted in depth')
  assert.equal(during.requeue_count, 1, 'requeue_count counts the REQ')
  assert.equal(reader.received.length, 1, 'not redelivered yet')

  await h.waitForReceived(reader, 2, {qd, timeout: DELAY_MS + LATE_BOUND_MS})
  const [first, second] = reader.received
  const elapsed = second.at - requeuedAt
  assert.ok(elapsed >= DELAY_MS - EARLY_TOLERANCE_MS, `redelivered after ${elapsed.toFixed(0)} ms, expected >= ${DELAY_MS} ms`)
  assert.ok(elapsed <= DELAY_MS + LATE_BOUND_MS, `redelivered after ${elapsed.toFixed(0)} ms, expected well within ${DELAY_MS + LATE_BOUND_MS} ms`)
  assert.equal(second.attempts, 2, 'attempts incremented on redelivery')
  assert.equal(second.id, first.id, 'same message id')
  assert.ok(second.body.equals(first.body), 'same body')
  assert.equal(second.msg.timestamp, first.msg.timestamp, 'timestamp unchanged by requeue')

  second.msg.finish()
  const after = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.in_flight_count === 0 && c.deferred_count === 0 && c.depth === 0,
    'finished after redelivery'
  )
  assert.equal(after.requeue_count, 1)
  assert.equal(after.timeout_count, 0)
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})

test('requeue(0): put back immediately and redelivered with attempts 2', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'requeue_now'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {
    maxInFlight: 1,
    onMessage: (msg) => {
      if (msg.attempts < 3) msg.requeue(0, false)
      else msg.finish()
    },
  })
  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'again-and-again')
  await h.waitForReceived(reader, 3, {qd})
  assert.deepEqual(reader.received.map((r) => r.attempts), [1, 2, 3], 'attempts count every delivery')
  assert.equal(new Set(reader.received.map((r) => r.id)).size, 1, 'same message each time')
  const ch = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.in_flight_count === 0 && c.depth === 0 && c.deferred_count === 0,
    'finished on 3rd attempt'
  )
  assert.equal(ch.requeue_count, 2)
  assert.equal(ch.message_count, 1, 'requeues do not count as new channel messages')
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})
