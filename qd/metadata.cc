#include "qd/metadata.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/log.h"
#include "common/names.h"

namespace q {

Metadata::Metadata(std::string data_path) : path_(data_path + "/qd.dat"), dir_(std::move(data_path)) {}

bool Metadata::Load(std::vector<TopicMeta>* out, std::string* error) {
  std::ifstream in(path_);
  if (!in) return true;  // first start
  std::stringstream buf;
  buf << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(buf.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "failed to parse metadata " + path_;
    return false;
  }
  std::lock_guard lock(mu_);
  for (const auto& t : j.value("topics", nlohmann::json::array())) {
    TopicMeta tm;
    tm.name = t.value("name", "");
    tm.paused = t.value("paused", false);
    if (!IsValidTopicName(tm.name) || IsEphemeral(tm.name)) {
      LOG_WARN("METADATA: skipping invalid topic name \"", tm.name, "\"");
      continue;
    }
    Entry& e = topics_[tm.name];
    e.paused = tm.paused;
    for (const auto& c : t.value("channels", nlohmann::json::array())) {
      ChannelMeta cm{c.value("name", ""), c.value("paused", false)};
      if (!IsValidChannelName(cm.name) || IsEphemeral(cm.name)) {
        LOG_WARN("METADATA: skipping invalid channel name \"", cm.name, "\" of topic ", tm.name);
        continue;
      }
      e.channels[cm.name] = cm.paused;
      tm.channels.push_back(cm);
    }
    out->push_back(std::move(tm));
  }
  return true;
}

void Metadata::TopicCreated(const std::string& topic) {
  if (IsEphemeral(topic)) return;
  {
    std::lock_guard lock(mu_);
    if (!topics_.try_emplace(topic).second) return;
  }
  Changed();
}

void Metadata::TopicDeleted(const std::string& topic) {
  {
    std::lock_guard lock(mu_);
    if (topics_.erase(topic) == 0) return;
  }
  Changed();
}

void Metadata::TopicPaused(const std::string& topic, bool paused) {
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    it->second.paused = paused;
  }
  Changed();
}

void Metadata::ChannelCreated(const std::string& topic, const std::string& channel) {
  if (IsEphemeral(topic) || IsEphemeral(channel)) return;
  {
    std::lock_guard lock(mu_);
    if (!topics_[topic].channels.try_emplace(channel, false).second) return;
  }
  Changed();
}

void Metadata::ChannelDeleted(const std::string& topic, const std::string& channel) {
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end() || it->second.channels.erase(channel) == 0) return;
  }
  Changed();
}

void Metadata::ChannelPaused(const std::string& topic, const std::string& channel, bool paused) {
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    auto ch = it->second.channels.find(channel);
    if (ch == it->second.channels.end()) return;
    ch->second = paused;
  }
  Changed();
}

void Metadata::Hold(bool hold) {
  {
    std::lock_guard lock(mu_);
    hold_ = hold;
  }
  if (!hold) Changed();
}

void Metadata::Changed() {
  std::string error;
  if (!Save(&error)) LOG_ERROR("METADATA: failed to persist: ", error);
}

bool Metadata::Save(std::string* error) {
  // One writer at a time: the lock is held across the write so two changes cannot race
  // each other's renames and leave the older list in place.
  std::lock_guard lock(mu_);
  if (hold_) return true;
  nlohmann::json topics = nlohmann::json::array();
  for (const auto& [name, e] : topics_) {
    nlohmann::json channels = nlohmann::json::array();
    for (const auto& [cname, cpaused] : e.channels) channels.push_back({{"name", cname}, {"paused", cpaused}});
    topics.push_back({{"name", name}, {"paused", e.paused}, {"channels", channels}});
  }
  std::string data = nlohmann::json{{"topics", topics}, {"version", Q_VERSION}}.dump() + "\n";
  std::string tmp = path_ + "." + std::to_string(std::random_device{}()) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "open " + tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    if (ok) saved_errno = errno;
    ::unlink(tmp.c_str());
    *error = "write " + path_ + ": " + std::strerror(saved_errno);
    return false;
  }
  // The rename is durable only once the directory entry is.
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace q
