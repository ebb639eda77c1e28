// qctl bench fsync: how long this disk takes to make one small write durable, by the ways a
// log can ask for it. With --sync-every=1 every acknowledged publish waits for one such
// write, so a producer that keeps one PUB in flight can never publish faster than
// 1 / latency, and N of them no faster than N / latency, whatever qd does (the same idea as
// PostgreSQL's pg_test_fsync).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace q::cli {

namespace {

struct FsyncOptions {
  std::string path = ".";
  int writes = 1000;
  int size = 200;
  int producers = 16;
};

// How a method opens its file and makes each write durable.
struct Method {
  const char* name;
  int open_flags;      // besides O_RDWR | O_CREAT
  bool preallocate;    // written with zeros (and synced) before timing: no size change later
  bool fdatasync;      // after each write (else the open flags make the write synchronous)
  bool direct;         // O_DIRECT: aligned 4 KiB writes
};

constexpr Method kMethods[] = {
    {"append, then fdatasync (qd's log today)", 0, false, true, false},
    {"overwrite preallocated, then fdatasync", 0, true, true, false},
    {"overwrite preallocated with O_DSYNC", O_DSYNC, true, false, false},
    {"overwrite preallocated with O_DIRECT|O_DSYNC", O_DIRECT | O_DSYNC, true, false, true},
};

constexpr size_t kAlign = 4096;

// Microseconds per durable write, sorted once measured.
struct Latencies {
  std::vector<double> us;
  double Percentile(double p) const {
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  }
  double Mean() const {
    double sum = 0;
    for (double v : us) sum += v;
    return sum / static_cast<double>(us.size());
  }
};

struct AlignedFree {
  void operator()(char* p) const { std::free(p); }
};

// Times o.writes durable writes by method m into a scratch file in o.path. Returns false
// with *error set when the file system refuses the method (O_DIRECT on tmpfs) or fails.
bool Measure(const FsyncOptions& o, const Method& m, Latencies* out, std::string* error) {
  std::string file = o.path + "/qctl-bench-fsync.tmp";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | m.open_flags, 0600);
  if (fd < 0) {
    *error = file + ": " + std::strerror(errno);
    return false;
  }
  size_t len = m.direct ? kAlign : static_cast<size_t>(o.size);
  size_t step = m.direct ? kAlign : len;
  size_t total = step * static_cast<size_t>(o.writes) + kAlign;
  std::unique_ptr<char, AlignedFree> buf(static_cast<char*>(std::aligned_alloc(kAlign, kAlign * 256)));
  bool ok = true;
  auto fail = [&](const char* what) {
    *error = std::string(what) + ": " + std::strerror(errno);
    ok = false;
  };
  std::memset(buf.get(), 0, kAlign * 256);
  for (size_t off = 0; ok && m.preallocate && off < total; off += kAlign * 256) {
    if (::pwrite(fd, buf.get(), kAlign * 256, static_cast<off_t>(off)) != static_cast<ssize_t>(kAlign * 256)) fail("write");
  }
  if (ok && m.preallocate && ::fsync(fd) != 0) fail("fsync");
  std::memset(buf.get(), 'q', kAlign);
  for (int i = 0; ok && i < o.writes; ++i) {
    auto start = std::chrono::steady_clock::now();
    off_t off = static_cast<off_t>(step * static_cast<size_t>(i));
    if (::pwrite(fd, buf.get(), len, off) != static_cast<ssize_t>(len)) {
      fail("write");
      break;
    }
    if (m.fdatasync && ::fdatasync(fd) != 0) {
      fail("fdatasync");
      break;
    }
    out->us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  ::close(fd);
  ::unlink(file.c_str());
  std::sort(out->us.begin(), out->us.end());
  return ok;
}

int RunFsync(const FsyncOptions& o) {
  if (o.writes < 1) return Fail("bench", "--writes must be >= 1");
  if (o.size < 1 || o.size > static_cast<int>(kAlign)) return Fail("bench", "--size must be 1..4096");
  if (o.producers < 1) return Fail("bench", "--producers must be >= 1");
  if (::access(o.path.c_str(), W_OK) != 0) {
    return Fail("bench", "cannot write in --path " + o.path + ": " + std::strerror(errno));
  }
  std::printf("fsync: %d durable writes of %d bytes per method in %s\n", o.writes, o.size, o.path.c_str());
  std::printf("%-46s %9s %9s %9s %9s  %s\n", "method", "mean us", "p50 us", "p99 us", "max us",
              ("ceiling for " + std::to_string(o.producers) + " producers, 1 PUB in flight each").c_str());
  int measured = 0;
  for (const Method& m : kMethods) {
    Latencies l;
    std::string error;
    if (!Measure(o, m, &l, &error)) {
      std::printf("%-46s not available here (%s)\n", m.name, error.c_str());
      continue;
    }
    ++measured;
    double mean = l.Mean();
    std::printf("%-46s %9.1f %9.1f %9.1f %9.1f  %.0f msg/s\n", m.name, mean, l.Percentile(0.5),
                l.Percentile(0.99), l.Percentile(1.0), o.producers * 1e6 / mean);
    std::fflush(stdout);
  }
  if (measured == 0) return Fail("bench", "no method could write in " + o.path);
  return 0;
}

}  // namespace

void AddBenchFsyncCommand(CLI::App* bench, int* exit_code) {
  auto o = std::make_shared<FsyncOptions>();
  CLI::App* fsync = bench->add_subcommand(
      "fsync", "Measure how long this disk takes to make one small write durable (--sync-every=1's floor)");
  fsync->add_option("--path", o->path, "directory on the disk to test (e.g. qd's --data-path)")->capture_default_str();
  fsync->add_option("--writes", o->writes, "durable writes per method")->capture_default_str();
  fsync->add_option("--size", o->size, "bytes per write")->capture_default_str();
  fsync->add_option("--producers", o->producers, "producers for the ceiling column")->capture_default_str();
  fsync->footer("Example:\n  qctl bench fsync --path /var/lib/qd --writes 2000");
  fsync->callback([o, exit_code] { *exit_code = RunFsync(*o); });
}

}  // namespace q::cli
