'use strict'
// Heartbeats: with IDENTIFY heartbeat_interval=1000 (nsqjs heartbeatInterval: 1) qd sends
// `_heartbeat_` to consumers and producers every second; nsqjs answers NOP and the idle
// connections stay up well past 2 intervals (qd's read deadline). A client that stops
// answering is dropped by qd.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

/** Counts `_heartbeat_` response frames seen by an nsqjs connection (nsqjs internals). */
function countHeartbeats(conn) {
  const counter = {n: 0}
  const sm = conn.statemachine
  const raise = sm.raise.bind(sm)
  sm.raise = (event, data) => {
    if (event === 'response' && data && data.toString() === '_heartbeat_') counter.n++
    return raise(event, data)
  }
  return counter
}

test('idle Reader and Writer receive heartbeats every ~1 s, answer NOP and stay connected', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'heartbeat_ok'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {heartbeatInterval: 1, onMessage: (m) => m.finish()})
  let readerClosed = false
  reader.on('nsqd_closed', () => { readerClosed = true })
  const writer = await h.connectWriter(qd, {heartbeatInterval: 1})
  let writerClosed = false
  writer.on('closed', () => { writerClosed = true })

  const rhb = countHeartbeats(h.readerConnections(reader)[0])
  const whb = countHeartbeats(writer.conn)
  const t0 = h.now()
  await h.waitFor(() => rhb.n >= 3 && whb.n >= 3, {
    message: `3 heartbeats each (reader ${rhb.n}, writer ${whb.n})`,
    timeout: 8000,
    qd,
  })
  const elapsed = h.now() - t0
  assert.ok(elapsed >= 1500, `3 heartbeats took ${elapsed.toFixed(0)} ms: they should come ~1 s apart, not in a burst`)
  assert.equal(readerClosed, false, 'reader connection stays up across > 2 heartbeat intervals')
  assert.equal(writerClosed, false, 'writer connection stays up across > 2 heartbeat intervals')

  // Both connections still work.
  await h.publish(writer, topic, 'still-alive')
  await h.waitForReceived(reader, 1, {qd})
  assert.equal(reader.received[0].body.toString(), 'still-alive')
  assert.deepEqual(reader.errors, [])
  assert.deepEqual(writer.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})

test('a consumer that stops answering heartbeats is disconnected by qd', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'heartbeat_silent'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {heartbeatInterval: 1})
  const closed = new Promise((resolve) => reader.once('nsqd_closed', resolve))
  const [conn] = h.readerConnections(reader)
  // Swallow the NOP replies (and everything else) from now on.
  conn.write = () => {}
  await h.waitForChannel(qd, topic, channel, (c) => c.client_count === 1, 'consumer registered')
  const t0 = h.now()
  await h.withTimeout(closed, 10_000, 'qd closes the silent connection', qd)
  const elapsed = h.now() - t0
  // qd's read deadline is 2 x heartbeat_interval; allow for scheduling slack.
  assert.ok(elapsed <= 6000, `dropped after ${elapsed.toFixed(0)} ms`)
  await h.waitForChannel(qd, topic, channel, (c) => c.client_count === 0, 'consumer removed from channel')
  h.closeClient(reader)
})
