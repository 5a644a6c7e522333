// The start-up steps of posd, in the order RunDaemon runs them. Each reads
// what earlier steps put into the DaemonContext, adds its part and pushes how
// to stop it onto context.stops. An error stops the start: RunDaemon logs it
// under the step's name and the stack stops what had started.
//
// A new part of posd is one more step: a function here, its body in a file
// of its own, and one line in RunDaemon's list.
#pragma once

#include "absl/status/status.h"
#include "service/posd/daemon_context.h"

namespace posd {

// start_core.cc
absl::Status LoadConfiguration(DaemonContext& context);
absl::Status LoadPluginSet(DaemonContext& context);
absl::Status OpenDatabase(DaemonContext& context);
absl::Status StartEngine(DaemonContext& context);  // with the hook chain and outbox

// start_terminals.cc
absl::Status StartTerminals(DaemonContext& context);
absl::Status StartDiscovery(DaemonContext& context);

// start_api.cc
absl::Status PrepareApiListeners(DaemonContext& context);  // reads certificates and tokens
absl::Status BuildApiServices(DaemonContext& context);
absl::Status ServeApi(DaemonContext& context);

// start_http.cc
absl::Status StartHttpEdge(DaemonContext& context);  // gRPC-Web, bundles, /metrics

}  // namespace posd
