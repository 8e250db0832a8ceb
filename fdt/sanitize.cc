#include "fdt/sanitize.h"

#include <cstdint>

namespace fdt {

namespace {

using Unexpected = std::unexpected<SanitizeError>;

// Whether two byte spans share a byte (compared as addresses: they may lie in
// different objects).
bool overlap(std::span<const std::byte> a, std::span<const std::byte> b) {
  if (a.empty() || b.empty()) return false;
  const auto a0 = reinterpret_cast<uintptr_t>(a.data());
  const auto b0 = reinterpret_cast<uintptr_t>(b.data());
  return a0 < b0 + b.size() && b0 < a0 + a.size();
}

}  // namespace

OutputOptions output_options(const board::Board& board, const Options& options) {
  OutputOptions o;
  o.dice_handover = board.handover;
  o.debuggable = options.debuggable;
  o.kaslr_seed = options.kaslr_seed;
  o.rng_seed = options.rng_seed;
  // AOSP's pvmfw writes it on every boot; so does pvmfw here.
  o.strict_boot = true;
  // The first boot of an instance with an instance disk (docs/instance.md).
  o.new_instance = options.new_instance;
  return o;
}

const char* to_string(Step step) {
  switch (step) {
    case Step::kRead:
      return "read";
    case Step::kValidate:
      return "validate";
    case Step::kRebuild:
      return "rebuild";
  }
  return "?";
}

const char* to_string(SanitizeError e) {
  if (auto r = e.read_error()) return to_string(*r);
  if (auto v = e.validate_error()) return to_string(*v);
  if (auto b = e.build_error()) return to_string(*b);
  return "SANITIZE_UNKNOWN";
}

const char* describe(SanitizeError e) {
  if (auto r = e.read_error()) return describe(*r);
  if (auto v = e.validate_error()) return describe(*v);
  if (auto b = e.build_error()) return describe(*b);
  return "unknown refusal";
}

std::expected<Accepted, SanitizeError> accept(std::span<const std::byte> input,
                                              const board::Board& board, const Options& options) {
  auto tree = Tree::open(input);
  if (!tree) return Unexpected(SanitizeError(tree.error()));
  // The firmware reads no more than the window and rebuilds into it.
  if (tree->size() > board.dt_window.size) return Unexpected(SanitizeError(Error::kTooBig));
  auto platform = validate_platform(*tree, board_limits(board, options.conduit));
  if (!platform) return Unexpected(SanitizeError(platform.error()));
  // Built in the caller's return slot: no third copy of the two on the
  // firmware's stack.
  return std::expected<Accepted, SanitizeError>(std::in_place, *tree, *platform);
}

std::expected<size_t, SanitizeError> rebuild(const Accepted& accepted, const board::Board& board,
                                             const Options& options, std::span<std::byte> out) {
  if (overlap(out, accepted.tree.bytes())) {
    return Unexpected(SanitizeError(BuildError::kInconsistent));
  }
  auto size =
      build_output(platform_template(), accepted.platform, output_options(board, options), out);
  if (!size) return Unexpected(SanitizeError(size.error()));
  return *size;
}

std::expected<Sanitized, SanitizeError> sanitize(std::span<const std::byte> input,
                                                 const board::Board& board, const Options& options,
                                                 std::span<std::byte> out) {
  auto accepted = accept(input, board, options);
  if (!accepted) return Unexpected(accepted.error());
  auto size = rebuild(*accepted, board, options, out);
  if (!size) return Unexpected(size.error());
  return Sanitized{accepted->platform, *size};
}

}  // namespace fdt
