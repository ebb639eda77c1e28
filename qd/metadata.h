// The list of durable topics and channels with their paused flags, kept in
// <data-path>/qd.dat as JSON (the shape of nsqd's nsqd.dat) and rewritten atomically on every
// change: temp file, fsync, rename, fsync of the directory. Ephemeral names are never
// written. Thread-safe: any shard may report a change.
#pragma once
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace q {

struct ChannelMeta {
  std::string name;
  bool paused = false;
};
struct TopicMeta {
  std::string name;
  bool paused = false;
  std::vector<ChannelMeta> channels;
};

class Metadata {
 public:
  explicit Metadata(std::string data_path);

  // Reads the file; a missing file is an empty list. False (with *error) if unreadable.
  bool Load(std::vector<TopicMeta>* topics, std::string* error);

  void TopicCreated(const std::string& topic);
  void TopicDeleted(const std::string& topic);
  void TopicPaused(const std::string& topic, bool paused);
  void ChannelCreated(const std::string& topic, const std::string& channel);
  void ChannelDeleted(const std::string& topic, const std::string& channel);
  void ChannelPaused(const std::string& topic, const std::string& channel, bool paused);

  // While loading at start-up, changes are recorded but the file is written once at the end.
  void Hold(bool hold);
  bool Save(std::string* error);

 private:
  struct Entry {
    bool paused = false;
    std::map<std::string, bool> channels;  // name -> paused
  };
  void Changed();

  std::string path_;
  std::string dir_;
  std::mutex mu_;
  bool hold_ = false;
  std::map<std::string, Entry> topics_;
};

}  // namespace q
