// qctl to-file: write the messages of a topic to files, one per line, rotating them (NSQ's
// nsq_to_file). A message is FINished only after its line was handed to the kernel (and,
// with --gzip, flushed through zlib), so a crash loses no FINished message.
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "cli/commands.h"
#include "cli/consumer_flags.h"
#include "common/duration.h"
#include "q/consumer.h"

namespace q::cli {

namespace {

struct ToFileOptions {
  ConsumerFlags consumer;
  std::string output_dir = "/tmp";
  std::string filename_format = "<TOPIC>.<HOST><REV>.<DATETIME>.log";
  std::string datetime_format = "%Y-%m-%d_%H";
  int64_t rotate_size = 0;            // bytes, 0: never
  std::string rotate_interval = "0";  // Go duration, 0: never
  bool gzip = false;
  int gzip_level = 6;
  int64_t count = 0;  // exit after this many messages (for scripts and tests)
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// One output file at a time; Write() rotates by size and age.
class RotatingFile {
 public:
  RotatingFile(const ToFileOptions& o, std::chrono::nanoseconds interval)
      : o_(o), interval_(interval) {
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    host_ = host;
    host_ = host_.substr(0, host_.find('.'));
  }
  ~RotatingFile() { Close(); }

  bool Write(const std::string& body, std::string* error) {
    auto now = std::chrono::steady_clock::now();
    if (IsOpen() && ((o_.rotate_size > 0 && size_ + body.size() + 1 > uint64_t(o_.rotate_size) &&
                      size_ > 0) ||
                     (interval_.count() > 0 && now - opened_ >= interval_))) {
      Close();
    }
    if (!IsOpen() && !Open(error)) return false;
    std::string line = body + "\n";
    bool ok;
    if (gz_ != nullptr) {
      ok = gzwrite(gz_, line.data(), static_cast<unsigned>(line.size())) == int(line.size()) &&
           gzflush(gz_, Z_SYNC_FLUSH) == Z_OK;
    } else {
      ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0;
    }
    if (!ok) {
      *error = "write " + path_ + " failed";
      return false;
    }
    size_ += line.size();
    return true;
  }

  void Close() {
    if (gz_ != nullptr) gzclose(gz_);
    if (file_ != nullptr) std::fclose(file_);
    gz_ = nullptr;
    file_ = nullptr;
  }

 private:
  bool IsOpen() const { return gz_ != nullptr || file_ != nullptr; }

  bool Open(std::string* error) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char datetime[128];
    std::strftime(datetime, sizeof(datetime), o_.datetime_format.c_str(), &tm);
    std::string name = Replace(o_.filename_format, "<TOPIC>", o_.consumer.topic);
    name = Replace(name, "<HOST>", host_);
    name = Replace(name, "<PID>", std::to_string(getpid()));
    name = Replace(name, "<DATETIME>", datetime);
    if (o_.gzip) name += ".gz";
    // <REV> keeps names unique when a rotation happens within one <DATETIME>.
    for (int rev = 0;; ++rev) {
      std::string candidate = Replace(name, "<REV>", rev == 0 ? "" : "-" + std::to_string(rev));
      path_ = (std::filesystem::path(o_.output_dir) / candidate).string();
      std::error_code ec;
      if (!std::filesystem::exists(path_, ec)) break;
      if (name.find("<REV>") == std::string::npos) break;  // append to it
    }
    if (o_.gzip) {
      std::string mode = "ab" + std::to_string(o_.gzip_level);
      gz_ = gzopen(path_.c_str(), mode.c_str());
    } else {
      file_ = std::fopen(path_.c_str(), "ab");
    }
    if (!IsOpen()) {
      *error = "cannot open " + path_ + ": " + std::strerror(errno);
      return false;
    }
    size_ = 0;
    opened_ = std::chrono::steady_clock::now();
    return true;
  }

  const ToFileOptions& o_;
  std::chrono::nanoseconds interval_;
  std::string host_;
  std::string path_;
  FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
  uint64_t size_ = 0;
  std::chrono::steady_clock::time_point opened_;
};

int RunToFile(const ToFileOptions& o) {
  Consumer::Options co;
  std::string error;
  if (!ApplyConsumerFlags(o.consumer, &co, &error)) return Fail("to-file", error);
  auto interval = ParseGoDuration(o.rotate_interval);
  if (!interval || interval->count() < 0) {
    return Fail("to-file", "--rotate-interval: invalid duration \"" + o.rotate_interval + "\"");
  }
  if (o.rotate_size < 0) return Fail("to-file", "--rotate-size must be >= 0");
  if (o.gzip_level < 1 || o.gzip_level > 9) return Fail("to-file", "--gzip-level must be 1..9");
  if (o.count < 0) return Fail("to-file", "-n must be >= 0");
  if (o.filename_format.find("<TOPIC>") == std::string::npos) {
    return Fail("to-file", "--filename-format must contain <TOPIC>");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.output_dir, ec);
  if (ec || !std::filesystem::is_directory(o.output_dir)) {
    return Fail("to-file", "cannot create --output-dir " + o.output_dir);
  }
  co.concurrency = 1;  // one writer keeps the file's lines in delivery order
  if (o.count > 0) co.max_in_flight = static_cast<int>(std::min<int64_t>(co.max_in_flight, o.count));
  RotatingFile out(o, *interval);
  std::mutex mu;
  std::string write_error;
  std::atomic<int64_t> written{0};
  std::atomic<bool> done{false};
  BlockStopSignals();
  Consumer consumer(o.consumer.topic, o.consumer.channel, [&](Delivery& m) {
    std::lock_guard lock(mu);
    if (done) {
      m.RequeueWithoutBackoff(std::chrono::milliseconds(0));
      return false;
    }
    std::string e;
    if (!out.Write(m.body(), &e)) {
      write_error = e;
      done = true;  // a full disk or a missing dir will not fix itself: stop
      return false;
    }
    if (++written == o.count) done = true;
    return true;
  }, co);
  Status s = ConnectConsumer(consumer, o.consumer);
  if (!s.ok()) return Fail("to-file", s.message());
  WaitForSignalOr([&] { return done.load(); });
  consumer.Stop();
  std::lock_guard lock(mu);
  out.Close();
  if (!write_error.empty()) return Fail("to-file", write_error);
  return 0;
}

}  // namespace

void AddToFileCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ToFileOptions>();
  o->consumer.channel = "nsq_to_file";
  CLI::App* cmd = app.add_subcommand("to-file", "Write the messages of a topic to rotating files");
  AddConsumerFlags(cmd, &o->consumer, /*channel_required=*/false);
  cmd->add_option("--output-dir", o->output_dir, "directory for the files")->capture_default_str();
  cmd->add_option("--filename-format", o->filename_format,
                  "file name: <TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced")
      ->capture_default_str();
  cmd->add_option("--datetime-format", o->datetime_format, "strftime format of <DATETIME> (UTC)")
      ->capture_default_str();
  cmd->add_option("--rotate-size", o->rotate_size, "start a new file past this many bytes (0: never)")
      ->capture_default_str();
  cmd->add_option("--rotate-interval", o->rotate_interval,
                  "start a new file after this long (Go duration; 0: never)")
      ->capture_default_str();
  cmd->add_flag("--gzip", o->gzip, "gzip the files (name gets .gz)");
  cmd->add_option("--gzip-level", o->gzip_level, "gzip level 1..9")->capture_default_str();
  cmd->add_option("-n,--count", o->count, "exit after this many messages (0: never)")
      ->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  qctl to-file --topic events --output-dir /var/log/events\n"
      "  qctl to-file --topic events --lookupd-http-address 10.0.0.2:4161 --gzip \\\n"
      "      --rotate-size 104857600 --rotate-interval 1h");
  cmd->callback([o, exit_code] { *exit_code = RunToFile(*o); });
}

}  // namespace q::cli
