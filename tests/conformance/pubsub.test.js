'use strict'
// Basic publish/subscribe with the real nsqjs Writer and Reader: bodies arrive intact
// (text, every byte value 0..255, a large body), message metadata is sane, FIN clears the
// message from the channel.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()

test('Writer PUB -> Reader receives text and binary bodies intact and FINs them', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'pubsub_basic'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {
    maxInFlight: 10,
    onMessage: (msg) => msg.finish(),
  })
  const writer = await h.connectWriter(qd)

  const text = Buffer.from('hello, qd — ünïcödé ✓')
  const binary = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) binary[i] = i
  const large = Buffer.alloc(512 * 1024)
  for (let i = 0; i < large.length; i++) large[i] = (i * 31 + 7) & 0xff

  const t0 = Date.now()
  await h.publish(writer, topic, text)
  await h.publish(writer, topic, binary)
  await h.publish(writer, topic, large)

  await h.waitForReceived(reader, 3, {qd})
  const bodies = reader.received.map((r) => r.body)
  const find = (b) => bodies.filter((x) => x.equals(b)).length
  assert.equal(find(text), 1, 'text body received once, byte-for-byte')
  assert.equal(find(binary), 1, 'binary body 0..255 received once, byte-for-byte')
  assert.equal(find(large), 1, '512 KiB body received once, byte-for-byte')

  const ids = new Set()
  for (const r of reader.received) {
    assert.equal(r.attempts, 1, 'first delivery has attempts 1')
    assert.match(r.id, /^[\x21-\x7e]{16}$/, `message id is 16 printable non-space bytes (got ${JSON.stringify(r.id)})`)
    ids.add(r.id)
    const tsMs = Number(r.msg.timestamp / 1000000n)
    assert.ok(Math.abs(tsMs - t0) < 60_000, `timestamp is ns since epoch near now (got ${r.msg.timestamp})`)
  }
  assert.equal(ids.size, 3, 'message ids are unique')

  const ch = await h.waitForChannel(
    qd, topic, channel,
    (c) => c.in_flight_count === 0 && c.depth === 0 && c.message_count === 3,
    'all 3 messages FINed (in_flight 0, depth 0, message_count 3)'
  )
  assert.equal(ch.requeue_count, 0)
  assert.equal(ch.timeout_count, 0)
  assert.equal(ch.deferred_count, 0)
  const t = await h.topicStats(qd, topic)
  assert.equal(t.message_count, 3, 'topic message_count counts the 3 publishes')
  assert.deepEqual(reader.errors, [], 'reader saw no error frames')
  assert.deepEqual(writer.errors, [], 'writer saw no error frames')
  h.closeClient(reader)
  h.closeClient(writer)
})

test('HTTP /pub -> nsqjs Reader receives the body intact', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'pubsub_http'
  const channel = 'ch'
  const reader = await h.connectReader(qd, topic, channel, {onMessage: (msg) => msg.finish()})
  const body = Buffer.from([0, 1, 2, 10, 13, 32, 255, 254, 0])
  await h.httpPub(qd, topic, body)
  await h.waitForReceived(reader, 1, {qd})
  assert.ok(reader.received[0].body.equals(body), 'body intact through HTTP publish')
  assert.equal(reader.received[0].attempts, 1)
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'message FINed')
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
})

test('messages published before the first SUB are kept by the topic and delivered', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'pubsub_backlog'
  const channel = 'ch'
  const writer = await h.connectWriter(qd)
  for (let i = 0; i < 5; i++) await h.publish(writer, topic, `backlog-${i}`)
  const t = await h.topicStats(qd, topic)
  assert.ok(t, 'topic created by PUB')
  assert.equal(t.message_count, 5)

  const reader = await h.connectReader(qd, topic, channel, {maxInFlight: 5, onMessage: (msg) => msg.finish()})
  await h.waitForReceived(reader, 5, {qd})
  const got = reader.received.map((r) => r.body.toString()).sort()
  assert.deepEqual(got, [0, 1, 2, 3, 4].map((i) => `backlog-${i}`))
  await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, 'backlog FINed')
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
  h.closeClient(writer)
})
