#include "common/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <mutex>

namespace q {

namespace {
std::mutex prefix_mu;
std::string& PrefixStorage() {
  static std::string prefix;
  return prefix;
}
}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "debug" || s == "DEBUG") return LogLevel::kDebug;
  if (s == "info" || s == "INFO") return LogLevel::kInfo;
  if (s == "warn" || s == "WARN" || s == "warning") return LogLevel::kWarn;
  if (s == "error" || s == "ERROR") return LogLevel::kError;
  if (s == "fatal" || s == "FATAL") return LogLevel::kFatal;
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
    case LogLevel::kFatal: return "FATAL";
  }
  return "?";
}

void Logger::SetPrefix(std::string prefix) {
  std::lock_guard lock(prefix_mu);
  PrefixStorage() = std::move(prefix);
}

void Logger::Write(LogLevel level, std::string_view text) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
            1000000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[64];
  size_t n = std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%06lld ", static_cast<long long>(us));
  std::string line;
  {
    std::lock_guard lock(prefix_mu);
    line = PrefixStorage();
  }
  line += stamp;
  line += LogLevelName(level);
  line += ": ";
  line += text;
  line += '\n';
  // One write() per line keeps lines whole when threads log at once.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace q
