// Helpers for the tests that read the AVB test vectors (AVB_VECTORS_DIR) in place.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.h"  // parse_hex
#include "file_io.h"

namespace pvm::testing {

// AVB_VECTORS_DIR comes from host/meson.build.
inline std::filesystem::path vectors_dir() { return AVB_VECTORS_DIR; }
inline bool have_vectors() { return std::filesystem::exists(vectors_dir() / "manifest.json"); }

// Skips the calling test, visibly, when the vectors are not there.
#define SKIP_WITHOUT_AVB_VECTORS()                                                   \
  do {                                                                               \
    if (!::pvm::testing::have_vectors()) {                                           \
      GTEST_SKIP() << "AVB vectors not found at " << ::pvm::testing::vectors_dir()   \
                   << ": skipping";                                                  \
    }                                                                                \
  } while (0)

inline std::vector<uint8_t> vector_file(const std::string& name) {
  auto bytes = read_file(vectors_dir() / name);
  EXPECT_TRUE(bytes.has_value()) << name << ": " << to_string(bytes.error());
  return bytes.value_or(std::vector<uint8_t>{});
}

// A salt_*.hex file: hex digits and a trailing newline.
inline std::vector<uint8_t> vector_salt(const std::string& name) {
  std::vector<uint8_t> text = vector_file(name);
  std::string hex(text.begin(), text.end());
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
    hex.pop_back();
  }
  auto salt = parse_hex(hex);
  EXPECT_TRUE(salt.has_value()) << name;
  return salt.value_or(std::vector<uint8_t>{});
}

}  // namespace pvm::testing
