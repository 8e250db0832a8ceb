// What `pvm verify` prints: a summary or one JSON object for an accepted
// payload, and the one-line refusal.
//
// Callers may rely on: the JSON is one line with the keys documented in
// verify_usage(); partition names are "boot" for the kernel and
// "initrd_normal" or "initrd_debug" for the initrd, as in the vbmeta.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <verify/verify.h>

#include "json.h"  // json_string, which callers of this header use too

namespace pvm {

// "remote_attest", ... for each set Capability bit ("bit<N>" for unknown ones).
std::vector<std::string> capability_names(uint32_t capabilities);

// Several lines, each ending in '\n'.
std::string describe_verified(const verify::VerifiedPayload& payload);
// {"result":"ok","algorithm":...,"rollback_index":...,"capabilities":[...],
//  "partitions":{"boot":{"hash_algorithm":...,"image_size":...,"digest":...}}}
std::string verified_json(const verify::VerifiedPayload& payload);

// The same for one partition (`pvm verify --partition NAME`): the first line
// "verified: partition NAME, algorithm ALG, rollback index N", then
// "NAME: HASH, SIZE bytes, digest HEX"; the JSON has the payload's keys but
// capabilities, with NAME the one entry of "partitions".
std::string describe_verified_partition(std::string_view partition,
                                        const verify::VerifiedPartition& verified);
std::string verified_partition_json(std::string_view partition,
                                    const verify::VerifiedPartition& verified);

// "error: NAME: detail"
std::string failure_line(const verify::Failure& failure);
// {"result":"error","error":NAME,"detail":...}
std::string failure_json(const verify::Failure& failure);

}  // namespace pvm
