// A minimal QMP client (QEMU Machine Protocol, docs/interop/qmp-spec): enough
// for `pvm stop` to tell a VM's QEMU to quit over its Unix socket.
//
// Callers may rely on: never blocks longer than the timeout given; never
// reads more than a bounded amount per answer; the socket is closed on
// return.
#pragma once

#include <chrono>
#include <expected>
#include <string>

namespace pvm {

// Connects to `socket_path`, reads QEMU's greeting, negotiates
// (qmp_capabilities), then runs `command` (e.g. "quit"). Success when QEMU
// answered {"return": ...} or, for "quit", closed the connection. The error
// says which step failed.
[[nodiscard]] std::expected<void, std::string> qmp_execute(const std::string& socket_path,
                                                           const std::string& command,
                                                           std::chrono::milliseconds timeout);

}  // namespace pvm
