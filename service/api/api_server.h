// The gRPC server of posd: listeners, health, reflection and shutdown.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "service/api/caller_role.h"
#include "service/api/pending_services.h"

namespace posd::api {

struct TcpListenerOptions {
  // "HOST:PORT"; port 0 picks a free port (see ApiServer::listen_addresses).
  std::string address;
  std::string tls_certificate_chain_pem;
  std::string tls_private_key_pem;
  // Every accepted bearer token and the role it grants. Must not be empty.
  std::map<std::string, Role> roles_by_token;
};

struct ApiServerOptions {
  std::string unix_socket_path;
  // Permission bits of the socket file, e.g. 0660.
  unsigned unix_socket_mode = 0660;
  std::optional<TcpListenerOptions> tcp;
};

// A running gRPC server. Start() returns once it accepts calls; the services
// passed in must outlive the ApiServer. Shutdown() and the destructor may be
// called from any thread, once.
class ApiServer {
 public:
  // Prepares the socket path (see PrepareUnixSocketPath), binds every
  // listener and starts serving `services`, plus standard health checking
  // (SERVING) and server reflection. FAILED_PRECONDITION or UNAVAILABLE with
  // the address when a listener cannot be bound.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options,
                                                          std::vector<grpc::Service*> services);
  ~ApiServer();

  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Where clients reach this server, in gRPC target syntax
  // ("unix:/run/posd/posd.sock", "127.0.0.1:7443").
  const std::vector<std::string>& listen_addresses() const { return listen_addresses_; }

  // A channel into this server that never leaves the process (for the
  // gRPC-Web bridge). Every call on it runs with the UI role.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Health goes NOT_SERVING (watchers are told), new calls are refused, calls
  // in flight get up to `grace` to finish and are cancelled after that. Then
  // the socket file is removed. Blocks until all of that is done.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  ApiServer() = default;

  std::unique_ptr<PendingServices> pending_services_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> listen_addresses_;
  std::string unix_socket_path_;
  bool shut_down_ = false;
};

}  // namespace posd::api
