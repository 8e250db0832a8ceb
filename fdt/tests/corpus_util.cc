#include "corpus_util.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace fdt::testing {

std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::transform(raw.begin(), raw.end(), out.begin(), [](char c) { return std::byte(c); });
  return out;
}

namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  const auto last = s.find_last_not_of(" \t");
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

}  // namespace

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  for (const auto& entry : std::filesystem::directory_iterator(FDT_CORPUS_SRC)) {
    if (entry.path().extension() != ".dts") continue;
    std::ifstream f(entry.path());
    std::string line;
    std::getline(f, line);
    Case c;
    c.name = entry.path().stem().string();
    c.dtb = std::filesystem::path(FDT_CORPUS_BUILD) / (c.name + ".dtb");
    // "/* expect: NAME; psci: smc; debuggable */"
    const auto open = line.find("/*"), close = line.rfind("*/");
    if (open == std::string::npos || close == std::string::npos) continue;
    std::stringstream fields(line.substr(open + 2, close - open - 2));
    std::string field;
    while (std::getline(fields, field, ';')) {
      field = trim(field);
      if (field.starts_with("expect:")) c.expect = trim(field.substr(7));
      if (field == "psci: smc") c.smc = true;
      if (field == "debuggable") c.debuggable = true;
    }
    cases.push_back(c);
  }
  std::ifstream manifest(std::filesystem::path(FDT_CORPUS_BUILD) / "hostile.expect");
  std::string line;
  while (std::getline(manifest, line)) {
    std::stringstream words(line);
    Case c;
    words >> c.name >> c.expect;
    c.dtb = std::filesystem::path(FDT_CORPUS_BUILD) / (c.name + ".dtb");
    cases.push_back(c);
  }
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

Options options_for(const Case& c) {
  Options o;
  o.conduit = c.smc ? PsciMethod::kSmc : PsciMethod::kHvc;
  o.debuggable = c.debuggable;
  return o;
}

std::string verdict(const std::vector<std::byte>& blob, const Case& c,
                    std::vector<std::byte>* output) {
  std::vector<std::byte> out(64 * 1024);
  auto done = sanitize(blob, board::kQemuVirt, options_for(c), out);
  if (!done) return to_string(done.error());
  out.resize(done->size);
  if (output != nullptr) *output = std::move(out);
  return "ok";
}

}  // namespace fdt::testing
