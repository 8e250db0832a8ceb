// Helpers for the tests that run `pvm` commands in-process: an Io writing to
// memory, a scratch folder, and environment variables set for one test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "file_io.h"

namespace pvm::testing {

// The project's test keys (verify/testkeys/), from host/meson.build.
inline std::string test_key_pem() { return PVM_TEST_KEY_DIR "/pvmfw-test-rsa4096.pem"; }
inline std::string test_key_avbpubkey() { return PVM_TEST_KEY_DIR "/pvmfw-test-rsa4096.avbpubkey"; }
inline std::string other_key_pem() { return PVM_TEST_KEY_DIR "/other-test-rsa4096.pem"; }
// The hypervisor's platform test key (hypervisor/testkeys/), which signs pvmfw.img.
inline std::string platform_key_pem() { return PVM_PLATFORM_KEY_DIR "/platform-test-rsa4096.pem"; }
inline std::string platform_key_avbpubkey() {
  return PVM_PLATFORM_KEY_DIR "/platform-test-rsa4096.avbpubkey";
}

// What a command printed and returned.
struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `command` with `words`, its out and err going to memory.
template <typename Command>
Outcome run_words(Command command, std::span<const std::string_view> words) {
  char* out_buf = nullptr;
  char* err_buf = nullptr;
  size_t out_size = 0, err_size = 0;
  std::FILE* out = open_memstream(&out_buf, &out_size);
  std::FILE* err = open_memstream(&err_buf, &err_size);
  const Io io{out, err};
  Outcome outcome;
  outcome.status = command(io, words);
  std::fclose(out);
  std::fclose(err);
  outcome.out.assign(out_buf, out_size);
  outcome.err.assign(err_buf, err_size);
  ::free(out_buf);
  ::free(err_buf);
  return outcome;
}
template <typename Command>
Outcome run_command(Command command, std::initializer_list<std::string_view> words) {
  return run_words(command, std::span<const std::string_view>(words.begin(), words.size()));
}

// A fresh folder, removed with its contents when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pvm-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // PATH/name as a string.
  std::string operator/(std::string_view name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

  // Writes `bytes` to PATH/name (mode 0600 when `private_mode`); the path.
  std::string write(std::string_view name, std::span<const uint8_t> bytes,
                    bool private_mode = false) const {
    const std::string path = *this / name;
    auto written = private_mode ? write_private_file(path, bytes) : write_file(path, bytes);
    EXPECT_TRUE(written.has_value()) << path;
    return path;
  }
  std::string write(std::string_view name, std::string_view text) const {
    return write(name, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }

 private:
  std::filesystem::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable until the end of
// the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

inline std::vector<uint8_t> file_bytes(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.has_value()) << path;
  return bytes.value_or(std::vector<uint8_t>{});
}

inline unsigned file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// "pvm: MESSAGE\npvm: see `pvm COMMAND --help`\n": what a usage error prints.
inline std::string usage_text(std::string_view command, std::string_view message) {
  return "pvm: " + std::string(message) + "\npvm: see `pvm " + std::string(command) + " --help`\n";
}

}  // namespace pvm::testing
