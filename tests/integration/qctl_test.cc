// qctl's consuming, inspecting and admin subcommands end to end: the real qctl binary against
// real qd (and qlookupd) processes.
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "q/producer.h"
#include "tests/integration/lookupd_process.h"
#include "tests/integration/qctl_runner.h"
#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

namespace fs = std::filesystem;

class QctlTest : public QdFixture {
 protected:
  void SetUp() override {
    QdFixture::SetUp();
    char dir[] = "/tmp/qctl_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    QdFixture::TearDown();
  }
  std::string Tcp() const { return "127.0.0.1:" + std::to_string(qd_->tcp_port()); }
  std::string Http() const { return "127.0.0.1:" + std::to_string(qd_->http_port()); }
  void Publish(const std::string& topic, const std::vector<std::string>& bodies) {
    Producer p(Tcp());
    ASSERT_TRUE(p.MultiPublish(topic, bodies).get().ok());
  }
  // The topic's (or topic/channel's) stats object from qd, null if absent.
  json Stats(const std::string& topic, const std::string& channel = "") {
    httplib::Client cli("127.0.0.1", qd_->http_port());
    auto res = cli.Get("/stats?format=json");
    if (!res || res->status != 200) return nullptr;
    json j = json::parse(res->body, nullptr, false);
    const json* t = FindByName(j["topics"], "topic_name", topic);
    if (!t) return nullptr;
    if (channel.empty()) return *t;
    const json* c = FindByName((*t)["channels"], "channel_name", channel);
    return c ? *c : json(nullptr);
  }
  std::vector<std::string> Numbered(int n, const std::string& prefix) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) v.push_back(prefix + std::to_string(100 + i));
    return v;
  }
  std::string dir_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::string ReadGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  std::string out;
  char buf[4096];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

TEST_F(QctlTest, ToFileWritesEveryMessageAndRotatesBySize) {
  auto bodies = Numbered(20, "message-");  // 12 bytes per line with the newline
  Publish("t", bodies);
  CommandResult r = RunQctl("to-file --topic t -n 20 --nsqd-tcp-address " + Tcp() +
                            " --output-dir " + dir_ +
                            " --filename-format '<TOPIC><REV>.log' --rotate-size 50");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> all;
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_LE(fs::file_size(e.path()), 50u) << e.path();
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    for (auto& l : Lines(ss.str())) all.push_back(l);
  }
  EXPECT_EQ(files, 5);  // 4 lines (48 bytes) per file
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "t.log"));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "t-4.log"));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, bodies);
  // Every message was FINished after its write.
  EXPECT_TRUE(WaitFor([&] {
    json c = Stats("t", "nsq_to_file");
    return Val<int64_t>(c, "depth", -1) == 0 && Val<int64_t>(c, "in_flight_count", -1) == 0;
  }, 5s));
}

TEST_F(QctlTest, ToFileGzipAndRotateInterval) {
  Publish("t", {"a", "b", "c"});
  CommandResult r = RunQctl("to-file --topic t --channel gz -n 3 --gzip --rotate-interval 1h "
                            "--nsqd-tcp-address " + Tcp() + " --output-dir " + dir_ +
                            " --filename-format '<TOPIC>.<DATETIME><REV>.log'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".gz");
  EXPECT_EQ(ReadGzip(files[0].string()), "a\nb\nc\n");
}

TEST_F(QctlTest, ToFileRotatesByInterval) {
  Producer p(Tcp());
  ASSERT_TRUE(p.Publish("t", "first").get().ok());
  // -n 2: the second message is published once the first is written and the 200ms interval
  // has passed (waiting out the interval is the point), so it opens a new file.
  std::thread late([&] {
    EXPECT_TRUE(WaitFor([&] {
      std::error_code ec;
      return fs::file_size(fs::path(dir_) / "t", ec) == 6 && !ec;
    }, 30s));
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(p.Publish("t", "second").get().ok());
  });
  CommandResult r = RunQctl("to-file --topic t -n 2 --rotate-interval 200ms --nsqd-tcp-address " +
                            Tcp() + " --output-dir " + dir_ + " --filename-format '<TOPIC><REV>'");
  late.join();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream a(fs::path(dir_) / "t"), b(fs::path(dir_) / "t-1");
  std::string la, lb;
  std::getline(a, la);
  std::getline(b, lb);
  EXPECT_EQ(la, "first");
  EXPECT_EQ(lb, "second");
}

TEST_F(QctlTest, ToHttpPostsEveryMessageAndRetriesFailures) {
  httplib::Server server;
  std::mutex mu;
  std::multiset<std::string> got;
  int failures_left = 2;
  server.Post("/in", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    if (req.body == "m102" && failures_left > 0) {
      --failures_left;
      res.status = 503;
      return;
    }
    got.insert(req.body);
    res.status = 200;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  auto bodies = Numbered(5, "m");
  Publish("t", bodies);
  CommandResult r = RunQctl("to-http --topic t -c 5 --n 3 --requeue-delay 0s "
                            "--max-backoff-duration 0 --nsqd-tcp-address " + Tcp() +
                            " --post http://127.0.0.1:" + std::to_string(port) + "/in");
  server.stop();
  serving.join();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(got, std::multiset<std::string>(bodies.begin(), bodies.end()));
  EXPECT_EQ(failures_left, 0);
  EXPECT_NE(r.output.find("HTTP 503"), std::string::npos) << r.output;
  EXPECT_EQ(Val<int64_t>(Stats("t", "nsq_to_http"), "requeue_count", -1), 2);
}

TEST_F(QctlTest, ToHttpGetReplacesPercentS) {
  httplib::Server server;
  std::mutex mu;
  std::vector<std::string> got;
  server.Get("/hit", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    got.push_back(req.get_param_value("data"));
    res.status = 200;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  Publish("t", {"a b&c"});
  CommandResult r = RunQctl("to-http --topic t -c 1 --nsqd-tcp-address " + Tcp() +
                            " --get 'http://127.0.0.1:" + std::to_string(port) + "/hit?data=%s'");
  server.stop();
  serving.join();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(got, std::vector<std::string>{"a b&c"});
  CommandResult bad = RunQctl("to-http --topic t --nsqd-tcp-address " + Tcp());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output, "qctl to-http: give --post or --get (not both)\n");
}

TEST_F(QctlTest, ForwardRepublishesToAnotherQd) {
  QdProcess other;
  ASSERT_TRUE(other.Start()) << other.log();
  auto bodies = Numbered(10, "f");
  Publish("t", bodies);
  CommandResult r = RunQctl("forward --topic t -n 10 --nsqd-tcp-address " + Tcp() +
                            " --destination-nsqd-tcp-address 127.0.0.1:" +
                            std::to_string(other.tcp_port()) + " --destination-topic copy");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  CommandResult tail = RunQctl("tail --topic copy -n 10 --nsqd-tcp-address 127.0.0.1:" +
                               std::to_string(other.tcp_port()));
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  auto lines = Lines(tail.output);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, bodies);
  EXPECT_TRUE(other.Stop());
}

TEST_F(QctlTest, StatPrintsTheChannelRowWithItsDepth) {
  httplib::Client cli("127.0.0.1", qd_->http_port());
  ASSERT_EQ(cli.Post("/topic/create?topic=t", "", "text/plain")->status, 200);
  ASSERT_EQ(cli.Post("/channel/create?topic=t&channel=archive", "", "text/plain")->status, 200);
  Publish("t", Numbered(7, "s"));
  CommandResult r = RunQctl("stat --topic t --count 2 --status-every 100ms --nsqd-http-address " +
                            Http());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lines = Lines(r.output);
  ASSERT_EQ(lines.size(), 3u) << r.output;  // header + 2 rounds
  EXPECT_EQ(lines[0].rfind("channel", 0), 0u) << r.output;
  std::istringstream row(lines[2]);
  std::string name;
  int64_t depth = -1, mem = -1, disk = -1, in_flight = -1;
  row >> name >> depth >> mem >> disk >> in_flight;
  EXPECT_EQ(name, "archive");
  EXPECT_EQ(depth, 7);
  EXPECT_EQ(mem + disk, 7);
  EXPECT_EQ(in_flight, 0);
  EXPECT_NE(lines[2].find(" 0.0"), std::string::npos) << lines[2];  // rate on the 2nd round
  CommandResult bad = RunQctl("stat --topic t --count 1 --nsqd-http-address 127.0.0.1:1");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output.rfind("qctl stat: GET 127.0.0.1:1/stats", 0), 0u) << bad.output;
  EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1);
}

TEST_F(QctlTest, TopicAndChannelCommandsChangeQdState) {
  auto run = [&](const std::string& args) {
    CommandResult r = RunQctl(args + " --nsqd-http-address " + Http());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.output;
    return r;
  };
  CommandResult created = run("topic create --topic admin");
  EXPECT_EQ(created.output, "create admin: done on " + Http() + "\n");
  EXPECT_FALSE(Stats("admin").is_null());
  run("channel create --topic admin --channel c");
  EXPECT_FALSE(Stats("admin", "c").is_null());
  run("channel pause --topic admin --channel c");
  EXPECT_TRUE(Val<bool>(Stats("admin", "c"), "paused", false));
  run("channel unpause --topic admin --channel c");
  EXPECT_FALSE(Val<bool>(Stats("admin", "c"), "paused", true));
  run("topic pause --topic admin");
  EXPECT_TRUE(Val<bool>(Stats("admin"), "paused", false));
  run("topic unpause --topic admin");
  EXPECT_FALSE(Val<bool>(Stats("admin"), "paused", true));
  Publish("admin", {"1", "2", "3"});
  ASSERT_TRUE(WaitFor([&] { return Val<int64_t>(Stats("admin", "c"), "depth", -1) == 3; }, 5s));
  run("channel empty --topic admin --channel c");
  EXPECT_EQ(Val<int64_t>(Stats("admin", "c"), "depth", -1), 0);
  run("topic pause --topic admin");
  Publish("admin", {"4"});
  EXPECT_EQ(Val<int64_t>(Stats("admin"), "depth", -1), 1);
  run("topic empty --topic admin");
  EXPECT_EQ(Val<int64_t>(Stats("admin"), "depth", -1), 0);
  run("channel delete --topic admin --channel c");
  EXPECT_TRUE(Stats("admin", "c").is_null());
  run("topic delete --topic admin");
  EXPECT_TRUE(Stats("admin").is_null());

  CommandResult missing = RunQctl("topic delete --topic admin --nsqd-http-address " + Http());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "qctl topic delete: POST " + Http() +
                                "/topic/delete?topic=admin: HTTP 404 TOPIC_NOT_FOUND\n");
  CommandResult bad = RunQctl("channel create --topic t --channel 'x y' --nsqd-http-address " +
                              Http());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output, "qctl channel create: invalid channel name \"x y\"\n");
}

TEST_F(QctlTest, HelpShowsNsqFlagNamesAndExamples) {
  for (const char* cmd : {"stat", "to-file", "to-http", "forward", "topic create", "channel pause",
                          "tail", "pub"}) {
    CommandResult r = RunQctl(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Examples:"), std::string::npos) << cmd << ": " << r.output;
  }
  EXPECT_NE(RunQctl("to-file --help").output.find("--nsqd-tcp-address"), std::string::npos);
  EXPECT_NE(RunQctl("to-http --help").output.find("--http-client-request-timeout"), std::string::npos);
  EXPECT_NE(RunQctl("forward --help").output.find("--destination-nsqd-tcp-address"), std::string::npos);
}

// Through qlookupd: stat and the admin commands find the qd of a topic, tail discovers it.
class QctlLookupdTest : public ::testing::Test {};

TEST_F(QctlLookupdTest, StatTailAndAdminFindQdThroughLookupd) {
  LookupdProcess lookupd;
  ASSERT_TRUE(lookupd.Start()) << lookupd.log();
  QdProcess qd({"--lookupd-tcp-address=" + lookupd.tcp_address(), "--broadcast-address=127.0.0.1"});
  ASSERT_TRUE(qd.Start()) << qd.log();
  std::string tcp = "127.0.0.1:" + std::to_string(qd.tcp_port());
  std::string l = " --lookupd-http-address " + lookupd.http_address();
  {
    Producer p(tcp);
    ASSERT_TRUE(p.MultiPublish("lt", {"x", "y"}).get().ok());
  }
  ASSERT_TRUE(WaitFor([&] {
    httplib::Client cli("127.0.0.1", lookupd.http_port());
    auto res = cli.Get("/lookup?topic=lt");
    return res && res->status == 200;
  }, 10s));
  CommandResult ch = RunQctl("channel create --topic lt --channel viewer" + l);
  ASSERT_EQ(ch.exit_code, 0) << ch.output;
  EXPECT_NE(ch.output.find("done on 127.0.0.1:" + std::to_string(qd.http_port())), std::string::npos)
      << ch.output;
  // The messages went to the only channel, viewer.
  CommandResult tail = RunQctl("tail --topic lt --channel viewer -n 2" + l);
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  auto lines = Lines(tail.output);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"x", "y"}));
  CommandResult stat = RunQctl("stat --topic lt --count 1" + l);
  ASSERT_EQ(stat.exit_code, 0) << stat.output;
  EXPECT_NE(stat.output.find("\nviewer "), std::string::npos) << stat.output;
  // No qd has "fresh" yet: topic create goes to every node lookupd knows.
  CommandResult fresh = RunQctl("topic create --topic fresh" + l);
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_EQ(fresh.output, "create fresh: done on 127.0.0.1:" + std::to_string(qd.http_port()) + "\n");
  CommandResult unknown = RunQctl("stat --topic nope --count 1" + l);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.output, "qctl stat: no qd has topic \"nope\"\n");
  EXPECT_TRUE(qd.Stop());
}


TEST_F(QctlTest, BenchIdleHoldsSubscribedConnectionsAnsweringHeartbeats) {
  // 1 s heartbeats for 2.5 s: a connection that did not answer them would be closed by qd
  // (client timeout = 2 heartbeat intervals) and counted as lost.
  CommandResult r = RunQctl("bench idle --connections 20 --duration 2500ms --heartbeat-interval 1s "
                            "--nsqd-tcp-address " + Tcp());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("idle: 20 connection(s) subscribed"), std::string::npos) << r.output;
  unsigned long long heartbeats = 0;
  int lost = -1;
  auto held = r.output.find("idle: held 20 connection(s)");
  ASSERT_NE(held, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + held, "idle: held 20 connection(s) for 2500ms, answered %llu heartbeats, %d lost",
                        &heartbeats, &lost), 2) << r.output;
  EXPECT_GE(heartbeats, 20u);  // at least one per connection
  EXPECT_EQ(lost, 0);
  CommandResult bad = RunQctl("bench idle --connections 0 --nsqd-tcp-address " + Tcp());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output, "qctl bench: --connections must be >= 1\n");
}

TEST(QctlBenchFsyncTest, ReportsEachMethodWithTheCeilingItImplies) {
  char dir[] = "/tmp/qctl_fsync_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  CommandResult r = RunQctl(std::string("bench fsync --writes 20 --producers 16 --path ") + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Every method either gives its figures or says why this file system cannot do it.
  for (const char* method : {"append, then fdatasync", "overwrite preallocated, then fdatasync",
                             "overwrite preallocated with O_DSYNC", "overwrite preallocated with O_DIRECT|O_DSYNC"}) {
    auto at = r.output.find(std::string(method) + " ");
    ASSERT_NE(at, std::string::npos) << method << "\n" << r.output;
    std::string line = r.output.substr(at, r.output.find('\n', at) - at);
    if (line.find("not available here") != std::string::npos) continue;
    double mean = 0, p50 = 0, p99 = 0, max = 0, ceiling = 0;
    const char* numbers = r.output.c_str() + at + std::strlen(method) + 1;
    ASSERT_EQ(std::sscanf(numbers, "%*[^0-9]%lf %lf %lf %lf %lf msg/s", &mean, &p50, &p99, &max, &ceiling), 5) << line;
    EXPECT_GT(mean, 0) << line;
    EXPECT_LE(p50, max) << line;
    EXPECT_NEAR(ceiling, 16 * 1e6 / mean, ceiling * 0.01 + 1) << line;
  }
  // The scratch file is gone.
  EXPECT_EQ(std::system((std::string("rmdir ") + dir).c_str()), 0) << "bench fsync left files in " << dir;
  CommandResult missing = RunQctl("bench fsync --path /nonexistent/dir");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "qctl bench: cannot write in --path /nonexistent/dir: No such file or directory\n");
}

}  // namespace
}  // namespace q::test
