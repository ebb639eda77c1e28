// Micro-benchmarks of qd's hot paths (issue 9): the wire codec, the disk record codec, disk
// queue append and read, and channel delivery (publish -> queue -> consumer -> FIN) from
// memory and from a disk backlog. No sockets: the channel benchmarks use a fake consumer
// that frames each message as a connection would. Run under callgrind for instruction
// counts that do not depend on the machine's load:
//   valgrind --tool=callgrind build/release/benchmarks/micro_benchmarks
//     --benchmark_filter=ChannelDrainFromDisk --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/message.h"
#include "common/wire.h"
#include "qd/backed_queue.h"
#include "qd/channel.h"
#include "qd/disk_queue.h"
#include "qd/qd.h"
#include "qd/subscriber.h"
#include "qd/topic.h"

namespace q {
namespace {

std::string TempDir(const char* what) {
  std::string tmpl = std::string("/tmp/qd-bench-") + what + "-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  if (!d) std::abort();
  return d;
}

Message MakeMessage(size_t size) {
  Message m;
  m.id = MessageId::FromView("0123456789abcdef");
  m.timestamp = 1'700'000'000'000'000'000;
  m.attempts = 1;
  m.body = MakeBody(std::string(size, 'a'));
  return m;
}

// --- Wire codec ----------------------------------------------------------------------------

void BM_AppendMessageFrame(benchmark::State& state) {
  Message m = MakeMessage(static_cast<size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    wire::AppendMessageFrame(out, m);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendMessageFrame)->Arg(100)->Arg(1000)->Arg(65536);

void BM_ParseAndDecodeMessageFrame(benchmark::State& state) {
  std::string frame;
  wire::AppendMessageFrame(frame, MakeMessage(static_cast<size_t>(state.range(0))));
  for (auto _ : state) {
    size_t consumed = 0;
    auto f = wire::ParseFrame(frame, &consumed);
    auto d = wire::DecodeMessage(f->data);
    benchmark::DoNotOptimize(d->body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAndDecodeMessageFrame)->Arg(100)->Arg(1000);

// --- Disk record codec ---------------------------------------------------------------------

void BM_EncodeRecord(benchmark::State& state) {
  Message m = MakeMessage(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::string r = EncodeRecord(m);
    benchmark::DoNotOptimize(r.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeRecord)->Arg(100)->Arg(1000);

void BM_DecodeRecord(benchmark::State& state) {
  std::string r = EncodeRecord(MakeMessage(static_cast<size_t>(state.range(0))));
  for (auto _ : state) {
    auto m = DecodeRecord(r);
    benchmark::DoNotOptimize(m->body.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRecord)->Arg(100)->Arg(1000);

// --- Disk queue ----------------------------------------------------------------------------

std::unique_ptr<DiskQueue> OpenQueue(const std::string& dir) {
  DiskQueue::Options o;
  o.dir = dir;
  o.name = "bench";
  o.sync_every = int64_t{1} << 40;  // the page cache, not the disk's fsync, is measured
  std::string error;
  auto q = DiskQueue::Open(o, &error);
  if (!q) std::abort();
  return q;
}

// Append (buffered 64 KB writes, no fsync). The queue is emptied every 1M records so the
// benchmark does not fill the disk.
void BM_DiskQueueAppend(benchmark::State& state) {
  const std::string dir = TempDir("append");
  auto q = OpenQueue(dir);
  const std::string record = EncodeRecord(MakeMessage(static_cast<size_t>(state.range(0))));
  std::string error;
  int64_t n = 0;
  for (auto _ : state) {
    if (!q->Put(record, &error)) std::abort();
    if (++n % 1'000'000 == 0) {
      state.PauseTiming();
      q->Clear(&error);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(record.size()));
  q->Close(&error);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DiskQueueAppend)->Arg(100)->Arg(1000);

// Take + Ack of records that are only on disk (the read path of a backlog).
void BM_DiskQueueTakeAck(benchmark::State& state) {
  const std::string dir = TempDir("take");
  auto q = OpenQueue(dir);
  const std::string record = EncodeRecord(MakeMessage(static_cast<size_t>(state.range(0))));
  std::string error;
  for (auto _ : state) {
    auto t = q->Take();
    if (!t) {
      state.PauseTiming();
      q->Clear(&error);
      for (int i = 0; i < 200'000; ++i) q->Put(record, &error);
      q->Flush(&error);
      state.ResumeTiming();
      t = q->Take();
    }
    q->Ack(t->seq);
    benchmark::DoNotOptimize(t->data.data());
  }
  state.SetItemsProcessed(state.iterations());
  q->Close(&error);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DiskQueueTakeAck)->Arg(100)->Arg(1000);

// --- Channel delivery ----------------------------------------------------------------------

// Frames every message as ClientV2 does and remembers its id to FIN it afterwards.
class FramingConsumer : public Subscriber {
 public:
  uint64_t id() const override { return 1; }
  bool IsReadyForMessages() const override { return in_flight < rdy; }
  void SendMessage(const Message& m) override {
    ++in_flight;
    wire::AppendMessageFrame(out, m);
    ids.push_back(m.id);
  }
  void InFlightDone() override { --in_flight; }
  void ResetInFlight() override { in_flight = 0; }
  int64_t msg_timeout_ns() const override { return 60'000'000'000; }
  int sample_rate() const override { return 0; }
  void DetachFromChannel() override {}
  ClientStats Stats() const override { return {}; }

  int64_t rdy = 0, in_flight = 0;
  std::string out;
  std::vector<MessageId> ids;
};

struct ChannelRig {
  explicit ChannelRig(int64_t mem_queue_size) {
    dir = TempDir("channel");
    Options o;
    o.data_path = dir;
    o.mem_queue_size = mem_queue_size;
    o.worker_threads = 1;
    qd = std::make_unique<Qd>(o);
    topic = std::make_shared<Topic>(qd.get(), qd->shards()[0], "t");
    topic->Init();
    channel = topic->GetOrCreateChannel("c");
    std::string error;
    channel->AddClient(&consumer, &error);
  }
  ~ChannelRig() {
    topic->Close();
    topic.reset();
    qd.reset();
    std::filesystem::remove_all(dir);
  }
  void Publish(const std::vector<Body>& batch) {
    std::string error;
    if (!topic->Publish(batch, 0, &error)) std::abort();
  }
  // Delivers up to RDY, FINs what was delivered; returns how many.
  size_t DeliverAndFinish() {
    channel->Pump();
    size_t n = consumer.ids.size();
    for (const MessageId& id : consumer.ids) channel->Finish(&consumer, id);
    consumer.ids.clear();
    consumer.out.clear();
    return n;
  }

  std::string dir;
  std::unique_ptr<Qd> qd;
  std::shared_ptr<Topic> topic;
  Channel* channel = nullptr;
  FramingConsumer consumer;
};

// A consumer that keeps up: MPUB of 200 delivered from the memory cache, then FINed.
void BM_ChannelPublishDeliverFinish(benchmark::State& state) {
  ChannelRig rig(10000);
  rig.consumer.rdy = 2500;
  const std::vector<Body> batch(200, MakeBody(std::string(static_cast<size_t>(state.range(0)), 'a')));
  size_t delivered = 0;
  for (auto _ : state) {
    rig.Publish(batch);
    delivered += rig.DeliverAndFinish();
  }
  state.SetItemsProcessed(static_cast<int64_t>(delivered));
}
BENCHMARK(BM_ChannelPublishDeliverFinish)->Arg(100)->Arg(1000);

// A consumer (RDY 2500) draining a backlog that is only on disk (--mem-queue-size 10000,
// 200,000 queued): qd's read path for NSQ's bench_reader shape without the network.
void BM_ChannelDrainFromDisk(benchmark::State& state) {
  ChannelRig rig(10000);
  const std::vector<Body> batch(200, MakeBody(std::string(static_cast<size_t>(state.range(0)), 'a')));
  size_t delivered = 0;
  for (auto _ : state) {
    size_t n = rig.DeliverAndFinish();
    if (n == 0) {
      state.PauseTiming();
      rig.consumer.rdy = 0;
      for (int i = 0; i < 1000; ++i) rig.Publish(batch);
      rig.channel->Flush();
      rig.consumer.rdy = 2500;
      state.ResumeTiming();
      n = rig.DeliverAndFinish();
    }
    delivered += n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(delivered));
}
BENCHMARK(BM_ChannelDrainFromDisk)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace q

BENCHMARK_MAIN();
