#include "instance/error.h"

namespace instance {

std::string_view to_string(Error error) {
  switch (error) {
    case Error::kInvalidArgument: return "INVALID_ARGUMENT";
    case Error::kReadFailed: return "READ_FAILED";
    case Error::kWriteFailed: return "WRITE_FAILED";
    case Error::kCryptoFailure: return "CRYPTO_FAILURE";
    case Error::kRandomFailed: return "RANDOM_FAILED";
    case Error::kNoGpt: return "NO_GPT";
    case Error::kBadGptHeader: return "BAD_GPT_HEADER";
    case Error::kBadGptCrc: return "BAD_GPT_CRC";
    case Error::kBadPartitionEntries: return "BAD_PARTITION_ENTRIES";
    case Error::kNoInstancePartition: return "NO_INSTANCE_PARTITION";
    case Error::kDuplicateInstancePartition: return "DUPLICATE_INSTANCE_PARTITION";
    case Error::kPartitionOutOfRange: return "PARTITION_OUT_OF_RANGE";
    case Error::kInstanceImageInvalid: return "INSTANCE_IMAGE_INVALID";
    case Error::kInstanceImageCorrupt: return "INSTANCE_IMAGE_CORRUPT";
    case Error::kInstanceImageMismatch: return "INSTANCE_IMAGE_MISMATCH";
    case Error::kRollback: return "ROLLBACK";
  }
  return "UNKNOWN";
}

}  // namespace instance
