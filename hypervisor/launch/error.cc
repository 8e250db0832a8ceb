#include "launch/error.h"

namespace launch {

std::string_view to_string(Error error) {
  switch (error) {
    case Error::kBadMagic: return "BAD_MAGIC";
    case Error::kBadVersion: return "BAD_VERSION";
    case Error::kBadSize: return "BAD_SIZE";
    case Error::kBadFlags: return "BAD_FLAGS";
    case Error::kBadMemorySize: return "BAD_MEMORY_SIZE";
    case Error::kBadCpuCount: return "BAD_CPU_COUNT";
    case Error::kReservedNotZero: return "RESERVED_NOT_ZERO";
    case Error::kDtAddress: return "DT_ADDRESS";
    case Error::kPayloadAddress: return "PAYLOAD_ADDRESS";
    case Error::kInitrdAddress: return "INITRD_ADDRESS";
    case Error::kMissingFile: return "MISSING_FILE";
    case Error::kMemoryExceedsMachine: return "MEMORY_EXCEEDS_MACHINE";
    case Error::kPvmfwImageSize: return "PVMFW_IMAGE_SIZE";
    case Error::kUdsSize: return "UDS_SIZE";
    case Error::kDtSize: return "DT_SIZE";
    case Error::kPayloadSize: return "PAYLOAD_SIZE";
    case Error::kInitrdSize: return "INITRD_SIZE";
    case Error::kInitrdMismatch: return "INITRD_MISMATCH";
    case Error::kPayloadOutsideRam: return "PAYLOAD_OUTSIDE_RAM";
    case Error::kInitrdOutsideRam: return "INITRD_OUTSIDE_RAM";
    case Error::kPayloadOverlap: return "PAYLOAD_OVERLAP";
    case Error::kInitrdOverlap: return "INITRD_OVERLAP";
    case Error::kDirectoryTruncated: return "DIRECTORY_TRUNCATED";
    case Error::kDirectoryCount: return "DIRECTORY_COUNT";
    case Error::kDuplicateFile: return "DUPLICATE_FILE";
    case Error::kBadSelect: return "BAD_SELECT";
    case Error::kBadFileName: return "BAD_FILE_NAME";
  }
  return "UNKNOWN";
}

}  // namespace launch
