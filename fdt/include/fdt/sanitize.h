// The whole device-tree path, read -> validate -> rebuild (STYLE.md rule 5),
// as pvmfw runs it, for every caller: the firmware (entry/main.cc),
// `pvm fdt sanitize` (host/cmd_fdt.cc), the corpus tests and the fuzzer.
//
// Two halves, because the firmware verifies the payload and derives the
// VM's DICE layer between them (the rebuilt tree reserves the handover page
// and carries seeds): accept() reads and validates, rebuild() writes the
// guest's tree from the firmware's template. sanitize() is both, for the
// callers with nothing to do in between. Data flows one way: the rebuild
// takes what accept() returned and nothing else of the input.
//
// What pvmfw decides on its own is fixed here, not an option, so no caller
// can differ from the firmware there: the DICE handover's place (the
// board's), /chosen/avf,strict-boot (always, as AOSP's pvmfw writes it), the
// board's DT window as the largest tree. Options hold only
// what changes from one boot to the next. Given the same input, board and
// options, every caller gets the same bytes; a host caller that is not given
// the seeds gets the firmware's tree without /chosen/kaslr-seed and rng-seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "board/board.h"
#include "fdt/output.h"
#include "fdt/tree.h"
#include "fdt/validate.h"

namespace fdt {

struct Options {
  // The PSCI conduit the firmware calls; the tree's /psci must name it
  // (pvmfw at EL1 on qemu-virt: HVC).
  PsciMethod conduit = PsciMethod::kHvc;
  // A debuggable payload (verify/: initrd_debug) keeps its bootargs; others
  // only the allow-list (README.md). Used by rebuild() only.
  bool debuggable = false;
  // /chosen/kaslr-seed (8 bytes) and rng-seed (kMinRngSeed..kMaxRngSeed
  // bytes) from the firmware's entropy source; nothing / empty: not written.
  // The one part of the output a host cannot make up: `pvm fdt sanitize`
  // writes none unless told them. Used by rebuild() only.
  std::optional<uint64_t> kaslr_seed;
  std::span<const std::byte> rng_seed;
  // /chosen/avf,new-instance: the instance disk had no entry yet (AOSP).
  // Used by rebuild() only.
  bool new_instance = false;
};

// The rebuild's options for `board` and `options`: the board's handover
// page, strict boot, and the per-boot values. What rebuild() passes to
// build_output, and nothing else does.
OutputOptions output_options(const board::Board& board, const Options& options);

// Which step refused.
enum class Step : uint8_t { kRead, kValidate, kRebuild };
// "read", "validate", "rebuild".
const char* to_string(Step step);

// One refusal of the path: the step and that step's own error.
class SanitizeError {
 public:
  explicit constexpr SanitizeError(Error e) : step_(Step::kRead), code_(static_cast<uint8_t>(e)) {}
  explicit constexpr SanitizeError(ValidateError e)
      : step_(Step::kValidate), code_(static_cast<uint8_t>(e)) {}
  explicit constexpr SanitizeError(BuildError e)
      : step_(Step::kRebuild), code_(static_cast<uint8_t>(e)) {}

  constexpr Step step() const { return step_; }
  // The failed step's error; nothing for the other steps.
  constexpr std::optional<Error> read_error() const {
    if (step_ != Step::kRead) return std::nullopt;
    return static_cast<Error>(code_);
  }
  constexpr std::optional<ValidateError> validate_error() const {
    if (step_ != Step::kValidate) return std::nullopt;
    return static_cast<ValidateError>(code_);
  }
  constexpr std::optional<BuildError> build_error() const {
    if (step_ != Step::kRebuild) return std::nullopt;
    return static_cast<BuildError>(code_);
  }
  constexpr bool operator==(const SanitizeError&) const = default;

 private:
  Step step_;
  uint8_t code_;  // the step's enum (each is uint8_t)
};
// The step's stable name ("FDT_TRUNCATED", "MEMORY_OVERLAP",
// "OUTPUT_NO_SPACE": no two steps share one) and a one-line description.
const char* to_string(SanitizeError e);
const char* describe(SanitizeError e);

// What accept() found: the input as Tree::open read it and what
// validate_platform() made of it. Both view the input's bytes: keep them
// intact and unmoved until rebuild() has run.
struct Accepted {
  Tree tree;
  VmPlatform platform;
};

// Read and validate: Tree::open on `input` (which may be larger than the
// tree, e.g. the whole DT window), the tree no larger than `board`'s DT
// window (FDT_TOO_BIG), then validate_platform against
// board_limits(board, options.conduit).
[[nodiscard]] std::expected<Accepted, SanitizeError> accept(std::span<const std::byte> input,
                                                            const board::Board& board,
                                                            const Options& options);

// Rebuild: build_output(platform_template(), accepted.platform,
// output_options(board, options), out); the output's size. `out` must not
// overlap the input (OUTPUT_INCONSISTENT): the platform's views point into it.
[[nodiscard]] std::expected<size_t, SanitizeError> rebuild(const Accepted& accepted,
                                                           const board::Board& board,
                                                           const Options& options,
                                                           std::span<std::byte> out);

struct Sanitized {
  VmPlatform platform;  // views into the input, as Accepted's
  size_t size = 0;      // of the output, at the start of `out`
};

// accept() then rebuild(), with the same board and options.
[[nodiscard]] std::expected<Sanitized, SanitizeError> sanitize(std::span<const std::byte> input,
                                                               const board::Board& board,
                                                               const Options& options,
                                                               std::span<std::byte> out);

}  // namespace fdt
