// A small leveled logger. Lines go to stderr as "<prefix><LEVEL>: <text>", like NSQ's
// ("[nsqd] INFO: TCP: listening on ..."). Thread-safe: one write() per line.
// Usage: LOG_INFO("TOPIC(", name, "): created").
#pragma once
#include <atomic>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace q {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kFatal = 4 };

std::optional<LogLevel> ParseLogLevel(std::string_view s);
std::string_view LogLevelName(LogLevel level);

class Logger {
 public:
  static void SetLevel(LogLevel level) { level_.store(level); }
  static LogLevel Level() { return level_.load(); }
  static void SetPrefix(std::string prefix);
  static bool Enabled(LogLevel level) { return level >= level_.load(); }
  static void Write(LogLevel level, std::string_view text);

 private:
  static inline std::atomic<LogLevel> level_{LogLevel::kInfo};
};

template <class... Args>
void Log(LogLevel level, const Args&... args) {
  if (!Logger::Enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  Logger::Write(level, out.str());
}

#define LOG_DEBUG(...) ::q::Log(::q::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) ::q::Log(::q::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) ::q::Log(::q::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) ::q::Log(::q::LogLevel::kError, __VA_ARGS__)

}  // namespace q
