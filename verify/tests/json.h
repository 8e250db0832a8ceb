// Test-only: a small JSON reader, enough for ../shared/vectors/avb/manifest.json
// (objects, arrays, strings with simple escapes, integers, true/false/null).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace verify::testing {

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<Json> object;  // members, each with its `key`
  std::string key;           // set on object members

  // The member `key`, or a null value.
  const Json& operator[](std::string_view name) const {
    static const Json kNull;
    for (const auto& member : object) {
      if (member.key == name) return member;
    }
    return kNull;
  }
  bool is_null() const { return kind == Kind::kNull; }
  bool has(std::string_view name) const { return !(*this)[name].is_null(); }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  std::optional<Json> parse() {
    auto v = value();
    ws();
    if (!v || pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' ||
                                s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  std::optional<std::string> str() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return std::nullopt;
      char e = s_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return std::nullopt;
          const unsigned long cp = std::strtoul(std::string(s_.substr(pos_, 4)).c_str(), nullptr, 16);
          pos_ += 4;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          }
          break;
        }
        default: out += e; break;  // \" \\ \/
      }
    }
    return std::nullopt;
  }
  std::optional<Json> value() {
    ws();
    if (pos_ >= s_.size()) return std::nullopt;
    Json j;
    const char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      j.kind = Json::Kind::kObject;
      if (eat('}')) return j;
      do {
        auto k = str();
        if (!k || !eat(':')) return std::nullopt;
        auto v = value();
        if (!v) return std::nullopt;
        v->key = std::move(*k);
        j.object.push_back(std::move(*v));
      } while (eat(','));
      if (!eat('}')) return std::nullopt;
    } else if (c == '[') {
      ++pos_;
      j.kind = Json::Kind::kArray;
      if (eat(']')) return j;
      do {
        auto v = value();
        if (!v) return std::nullopt;
        j.array.push_back(std::move(*v));
      } while (eat(','));
      if (!eat(']')) return std::nullopt;
    } else if (c == '"') {
      auto s = str();
      if (!s) return std::nullopt;
      j.kind = Json::Kind::kString;
      j.string = std::move(*s);
    } else if (word("true")) {
      j.kind = Json::Kind::kBool;
      j.boolean = true;
    } else if (word("false")) {
      j.kind = Json::Kind::kBool;
    } else if (word("null")) {
      j.kind = Json::Kind::kNull;
    } else {
      size_t end = pos_;
      while (end < s_.size() && std::string_view("+-0123456789.eE").find(s_[end]) !=
                                    std::string_view::npos) {
        ++end;
      }
      if (end == pos_) return std::nullopt;
      j.kind = Json::Kind::kNumber;
      j.number = std::strtoll(std::string(s_.substr(pos_, end - pos_)).c_str(), nullptr, 10);
      pos_ = end;
    }
    return j;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace verify::testing
