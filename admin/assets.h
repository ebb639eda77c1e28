// The page's files, built into the binary from admin/assets/ (admin/embed_assets.cmake), so
// qadmin serves them on a machine without internet.
#pragma once
#include <string_view>

namespace q::admin {

struct Asset {
  std::string_view name;  // file name in admin/assets/, e.g. "app.js"
  std::string_view content_type;
  std::string_view body;
};

// nullptr if there is no such file.
const Asset* FindAsset(std::string_view name);

}  // namespace q::admin
