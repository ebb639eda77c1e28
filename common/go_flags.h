// Command lines in the conventions of Go's flag package and NSQ's --config files, shared by
// qd and qlookupd so that deployment scripts written for nsqd/nsqlookupd start them unchanged.
// Pure functions over strings and one file read; no global state.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace q {

// argv[1..] with Go's single-dash long flags ("-tcp-address=x") rewritten to CLI11's
// double-dash form ("--tcp-address=x"). Short flags such as "-h" are left alone.
std::vector<std::string> NormaliseGoArgs(int argc, const char* const* argv);

// Config-file key → flag name, for keys that differ from the flag ("nsqlookupd_tcp_addresses"
// → "lookupd-tcp-address"). Keys are given with '_' already turned into '-'.
using ConfigAliases = std::map<std::string, std::string>;

// Reads the flat subset of TOML NSQ's config files use (key = value, key = ["a", "b"],
// comments, [sections] ignored) and appends one "--key-name=value" flag per value.
// False with *error if the file cannot be read or a line is not key = value.
bool ReadTomlConfig(const std::string& path, const ConfigAliases& aliases,
                    std::vector<std::string>* flags, std::string* error);

// If args contain "--config=path" or "--config path", inserts the file's flags before the
// command line's own, so that flags given on the command line win. False with *error if the
// file could not be read.
bool PrependConfigFile(std::vector<std::string>* args, const ConfigAliases& aliases, std::string* error);

}  // namespace q
