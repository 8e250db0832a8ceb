// PSCI (Arm DEN0022) over an SMCCC conduit: the calls pvmfw needs.
#pragma once

#include <cstdint>
#include <expected>

#include "hvc/smccc.h"

namespace hvc::psci {

inline constexpr uint32_t kVersion = 0x8400'0000;
inline constexpr uint32_t kSystemOff = 0x8400'0008;
inline constexpr uint32_t kSystemReset = 0x8400'0009;

// PSCI_VERSION: {major, minor}; kNotSupported when nothing answers.
[[nodiscard]] std::expected<Version, Status> version(Conduit conduit);

// These return only when the call failed (the status says why).
Status system_off(Conduit conduit);
Status system_reset(Conduit conduit);

}  // namespace hvc::psci
