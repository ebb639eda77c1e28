'use strict'
// TOUCH: resets the in-flight deadline to now + msg_timeout, capped at delivery time +
// --max-msg-timeout.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd(['--msg-timeout=1s'])
const getCappedQd = h.useQd(['--msg-timeout=1s', '--max-msg-timeout=2s'])

const TOUCH_EVERY_MS = 400
const HOLD_FOR_MS = 2500

/** Touches `msg` every TOUCH_EVERY_MS until `stopAt` (performance.now() ms). */
function touchUntil(msg, stopAt) {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (h.now() >= stopAt || msg.hasResponded) {
        clearInterval(timer)
        resolve()
        return
      }
      msg.touch()
    }, TOUCH_EVERY_MS)
  })
}

test('touching every 400 ms keeps a message in flight past --msg-timeout=1s', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'touch_keepalive'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 1})
  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'keep-me')
  await h.waitForReceived(reader, 1, {qd})
  const first = reader.received[0]

  // Touch for 2.5 s (2.5 msg-timeouts); meanwhile: no redelivery, no timeout.
  const touching = touchUntil(first.msg, first.at + HOLD_FOR_MS)
  await h.holdsFor(HOLD_FOR_MS - (h.now() - first.at), async () => {
    assert.equal(reader.received.length, 1, 'not redelivered while being touched')
    const ch = await h.channelStats(qd, topic, channel)
    assert.equal(ch.timeout_count, 0, 'no timeout while being touched')
    assert.equal(ch.in_flight_count, 1)
  }, {interval: 100})
  await touching

  first.msg.finish()
  const ch = await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'finished')
  assert.equal(ch.timeout_count, 0, 'timeout_count stays 0')
  assert.equal(ch.requeue_count, 0)
  assert.equal(reader.received.length, 1, 'delivered exactly once')
  assert.deepEqual(reader.errors, [], 'no E_TOUCH_FAILED / E_FIN_FAILED')
  h.closeClient(reader)
  h.closeClient(writer)
})

test('TOUCH cannot extend past --max-msg-timeout=2s: redelivered after ~2 s despite touches', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getCappedQd()
  const topic = 'touch_capped'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 1})
  const [conn] = h.readerConnections(reader)
  assert.equal(conn.maxMsgTimeout, 2000, 'IDENTIFY response max_msg_timeout is --max-msg-timeout')

  const writer = await h.connectWriter(qd)
  await h.publish(writer, topic, 'capped')
  await h.waitForReceived(reader, 1, {qd})
  const first = reader.received[0]
  const touching = touchUntil(first.msg, first.at + 3500)

  await h.waitForReceived(reader, 2, {qd, timeout: 6000})
  const second = reader.received[1]
  const elapsed = second.at - first.at
  assert.ok(elapsed >= 2000 - 100, `redelivered after ${elapsed.toFixed(0)} ms, expected >= ~2000 ms (hard cap)`)
  assert.ok(elapsed < 3500, `redelivered after ${elapsed.toFixed(0)} ms: touches must not extend past the cap`)
  assert.equal(second.attempts, 2)
  first.msg.hasResponded = true // stop touching the stale copy (its TOUCHes would now fail)
  await touching
  second.msg.finish()
  const ch = await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.timeout_count === 1, 'timeout_count 1, finished')
  assert.equal(ch.depth, 0)
  h.closeClient(reader)
  h.closeClient(writer)
})
