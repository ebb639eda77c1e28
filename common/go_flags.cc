#include "common/go_flags.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace q {

namespace {

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Unquote(std::string v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

std::vector<std::string> NormaliseGoArgs(int argc, const char* const* argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' && std::isalpha(static_cast<unsigned char>(a[1])))
      a = "-" + a;
    out.push_back(std::move(a));
  }
  return out;
}

bool ReadTomlConfig(const std::string& path, const ConfigAliases& aliases,
                    std::vector<std::string>* flags, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot open config file " + path;
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      *error = path + ":" + std::to_string(lineno) + ": expected key = value";
      return false;
    }
    std::string key = Trim(line.substr(0, eq));
    std::string value = Trim(line.substr(eq + 1));
    if (size_t hash = value.find(" #"); hash != std::string::npos) value = Trim(value.substr(0, hash));
    for (char& c : key)
      if (c == '_') c = '-';
    if (auto alias = aliases.find(key); alias != aliases.end()) key = alias->second;
    if (!value.empty() && value.front() == '[') {
      std::string inner = value.substr(1, value.rfind(']') - 1);
      std::stringstream items(inner);
      std::string item;
      while (std::getline(items, item, ',')) {
        item = Unquote(item);
        if (!item.empty()) flags->push_back("--" + key + "=" + item);
      }
    } else {
      flags->push_back("--" + key + "=" + Unquote(value));
    }
  }
  return true;
}

bool PrependConfigFile(std::vector<std::string>* args, const ConfigAliases& aliases, std::string* error) {
  for (size_t i = 0; i < args->size(); ++i) {
    std::string path;
    const std::string& a = (*args)[i];
    if (a.rfind("--config=", 0) == 0) path = a.substr(9);
    else if (a == "--config" && i + 1 < args->size()) path = (*args)[i + 1];
    if (path.empty()) continue;
    std::vector<std::string> from_file;
    if (!ReadTomlConfig(path, aliases, &from_file, error)) return false;
    args->insert(args->begin(), from_file.begin(), from_file.end());
    return true;
  }
  return true;
}

}  // namespace q
