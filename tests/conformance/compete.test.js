'use strict'
// Competing consumers: two Readers on the same channel split the channel's messages —
// together they get every message, nobody gets a duplicate, and both get some.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

test('two Readers on one channel split 200 messages with no duplicates and nothing missing', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'compete_split'
  const channel = 'workers'
  const N = 200
  // Finish a little later than immediately, so that a consumer is busy (in_flight == RDY)
  // for a moment and the other one has to take the next message.
  const slowFinish = (msg) => setTimeout(() => msg.finish(), 2)
  const r1 = await h.connectReader(qd, topic, channel, {maxInFlight: 2, onMessage: slowFinish})
  const r2 = await h.connectReader(qd, topic, channel, {maxInFlight: 2, onMessage: slowFinish})

  // Both consumers subscribed and have sent RDY before anything is published.
  await h.waitForChannel(
    qd, topic, channel,
    (c) => c.client_count === 2 && c.clients.length === 2 && c.clients.every((cl) => cl.ready_count === 2),
    'two consumers with RDY 2'
  )

  const writer = await h.connectWriter(qd)
  const expected = Array.from({length: N}, (_, i) => `work-${i}`)
  for (const body of expected) await h.publish(writer, topic, body)

  await h.waitFor(() => r1.received.length + r2.received.length >= N, {
    message: `${N} messages received in total`,
    qd,
  })
  const ch = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.in_flight_count === 0 && c.depth === 0 && c.message_count === N,
    'everything FINed'
  )

  const b1 = r1.received.map((r) => r.body.toString())
  const b2 = r2.received.map((r) => r.body.toString())
  const all = [...b1, ...b2]
  assert.deepEqual(h.duplicates(all), [], 'no message delivered twice (within or across consumers)')
  assert.deepEqual([...all].sort(), [...expected].sort(), 'every message delivered')
  assert.ok(b1.length > 0 && b2.length > 0, `both consumers got messages (split ${b1.length}/${b2.length})`)
  assert.ok(all.length === N)

  assert.equal(ch.requeue_count, 0)
  assert.equal(ch.timeout_count, 0)
  const perClient = ch.clients.map((c) => c.message_count).sort((a, b) => a - b)
  assert.deepEqual(perClient, [b1.length, b2.length].sort((a, b) => a - b), 'per-client message_count matches what each reader got')
  assert.equal(ch.clients.reduce((s, c) => s + c.finish_count, 0), N, 'finish_count sums to N')
  assert.deepEqual(r1.errors, [])
  assert.deepEqual(r2.errors, [])
  h.closeClient(r1)
  h.closeClient(r2)
  h.closeClient(writer)
})

test('with maxInFlight 1 each, a message held by one consumer goes nowhere else', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'compete_hold'
  const channel = 'workers'
  const held = []
  const r1 = await h.connectReader(qd, topic, channel, {maxInFlight: 1, onMessage: (m) => held.push(m)})
  const r2 = await h.connectReader(qd, topic, channel, {maxInFlight: 1, onMessage: (m) => held.push(m)})
  await h.waitForChannel(
    qd, topic, channel,
    (c) => c.clients.length === 2 && c.clients.every((cl) => cl.ready_count === 1),
    'two consumers with RDY 1'
  )
  const writer = await h.connectWriter(qd)
  for (let i = 0; i < 3; i++) await h.publish(writer, topic, `held-${i}`)

  // Each consumer holds one; the third stays queued.
  await h.waitFor(() => r1.received.length === 1 && r2.received.length === 1, {message: 'one message each', qd})
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 2 && c.depth === 1, 'in_flight 2, depth 1')
  assert.notEqual(r1.received[0].body.toString(), r2.received[0].body.toString())

  // Release them: the third one is delivered to one of them, exactly once.
  for (const m of held.splice(0)) m.finish()
  await h.waitFor(() => r1.received.length + r2.received.length === 3, {message: 'third delivered', qd})
  for (const m of held.splice(0)) m.finish()
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'drained')
  const all = [...r1.received, ...r2.received].map((r) => r.body.toString()).sort()
  assert.deepEqual(all, ['held-0', 'held-1', 'held-2'])
  h.closeClient(r1)
  h.closeClient(r2)
  h.closeClient(writer)
})
