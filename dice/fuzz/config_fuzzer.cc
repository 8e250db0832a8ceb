// libFuzzer harness for the pvmfw config blob parser: no input may crash,
// read outside the input or break what parse_config promises; an accepted
// blob is rewritten with write_config and must parse back to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dice/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const base::Bytes blob = std::as_bytes(std::span(data, size));
  auto config = dice::parse_config(blob);
  if (!config) return 0;
  // Promises: entries inside total_size, 8-byte aligned, in order, handover present.
  if (config->total_size > size || !config->entries[0]) std::abort();
  uint64_t end = 0;
  for (size_t i = 0; i < dice::kConfigEntries; ++i) {
    if (!config->entries[i]) continue;
    const auto* start = reinterpret_cast<const uint8_t*>(config->entries[i]->data());
    const uint64_t offset = static_cast<uint64_t>(start - data);
    if (offset % 8 != 0 || offset < end ||
        offset + config->entries[i]->size() > config->total_size) {
      std::abort();
    }
    end = offset + config->entries[i]->size();
  }
  // Round trip through the writer.
  dice::ConfigSpec spec;
  spec.version = {1, config->parsed_minor};
  spec.entries = config->entries;
  auto needed = dice::write_config(spec, {});
  if (!needed) std::abort();
  std::vector<std::byte> out(*needed);
  if (dice::write_config(spec, out) != *needed) std::abort();
  auto again = dice::parse_config(out);
  if (!again) std::abort();
  for (size_t i = 0; i < dice::kConfigEntries; ++i) {
    const auto& a = config->entries[i];
    const auto& b = again->entries[i];
    if (a.has_value() != b.has_value()) std::abort();
    if (a && (a->size() != b->size() || std::memcmp(a->data(), b->data(), a->size()) != 0)) {
      std::abort();
    }
  }
  return 0;
}
