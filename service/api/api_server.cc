#include "service/api/api_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "service/api/api_adapter.h"
#include "service/api/request_limits.h"
#include "service/api/token_auth.h"
#include "service/api/unix_socket.h"
#include "service/common/strings.h"
#include "spdlog/spdlog.h"

namespace posd::api {
namespace {

std::shared_ptr<grpc::ServerCredentials> TlsCredentialsWithTokens(const TcpListenerOptions& tcp) {
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({tcp.tls_private_key_pem, tcp.tls_certificate_chain_pem});
  auto credentials = grpc::SslServerCredentials(ssl);
  credentials->SetAuthMetadataProcessor(std::make_shared<TokenAuthProcessor>(tcp.roles_by_token));
  return credentials;
}

// Restores the process umask when it goes out of scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options,
                                                            std::vector<grpc::Service*> services) {
  if (absl::Status status = PrepareUnixSocketPath(options.unix_socket_path); !status.ok()) {
    return status;
  }
  // Every posd.v1 service passes the API edge, and the edge's tables cover
  // the whole API: otherwise a method would go unchecked or be denied.
  if (absl::Status tables = CheckRequestLimits(); !tables.ok()) return tables;
  for (grpc::Service* service : services) {
    const auto* adapter = dynamic_cast<const ApiAdapter*>(service);
    if (adapter == nullptr) {
      return absl::FailedPreconditionError("a service does not pass the API edge (ApiAdapter)");
    }
    if (absl::Status complete = adapter->CheckComplete(); !complete.ok()) return complete;
  }
  if (options.tcp && options.tcp->roles_by_token.empty()) {
    return absl::InvalidArgumentError("a TCP listener needs at least one bearer token");
  }

  std::unique_ptr<ApiServer> api(new ApiServer());
  api->pending_services_ = std::make_unique<PendingServices>();
  api->unix_socket_path_ = options.unix_socket_path;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string unix_address = StrCat("unix:", options.unix_socket_path);
  builder.AddListeningPort(unix_address, grpc::InsecureServerCredentials());
  int tcp_port = 0;
  if (options.tcp) {
    builder.AddListeningPort(options.tcp->address, TlsCredentialsWithTokens(*options.tcp),
                             &tcp_port);
  }
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.RegisterCallbackGenericService(api->pending_services_.get());

  {
    // The socket file is created inside BuildAndStart; a restrictive umask
    // closes the window between its creation and the chmod below.
    const ScopedUmask umask_guard(static_cast<mode_t>(~options.unix_socket_mode & 0777));
    api->server_ = builder.BuildAndStart();
  }
  if (api->server_ == nullptr) {
    return absl::UnavailableError(StrCat("cannot serve on ", unix_address,
                                         options.tcp ? StrCat(" and ", options.tcp->address) : "",
                                         " (address in use or not permitted; see the log)"));
  }
  if (options.tcp && tcp_port == 0) {
    api->server_->Shutdown();
    return absl::UnavailableError(StrCat("cannot listen on TCP ", options.tcp->address));
  }
  if (::chmod(options.unix_socket_path.c_str(), options.unix_socket_mode) != 0) {
    const int error = errno;
    api->server_->Shutdown();
    return absl::FailedPreconditionError(StrCat("cannot set the mode of ",
                                                options.unix_socket_path, ": ",
                                                std::strerror(error)));
  }
  api->listen_addresses_.push_back(unix_address);
  if (options.tcp) {
    const std::string& address = options.tcp->address;
    api->listen_addresses_.push_back(
        StrCat(address.substr(0, address.rfind(':')), ":", tcp_port));
  }
  api->server_->GetHealthCheckService()->SetServingStatus(true);
  return api;
}

std::shared_ptr<grpc::Channel> ApiServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void ApiServer::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Health first, so load balancers and watchers see the drain begin.
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  ::unlink(unix_socket_path_.c_str());
}

ApiServer::~ApiServer() {
  if (server_ != nullptr) Shutdown(std::chrono::milliseconds(0));
}

}  // namespace posd::api
