// AdminService: what is running, with which configuration, at which log level.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "posd/v1/admin.pb.h"
#include "service/api/api_adapter.h"
#include "service/common/clock.h"
#include "service/engine/request_journal.h"

namespace posd::api {

// Facts about this posd process, fixed once it has started.
struct ServerFacts {
  std::string version;
  std::chrono::system_clock::time_point started_at;
  std::chrono::steady_clock::time_point started_steady;
  std::string database_path;  // absolute
  int schema_version = 0;
  std::string instance_id;
  std::string config_json;  // effective configuration, secrets redacted
  std::string config_path;  // absolute, or empty for built-in defaults
};

// Serves posd.v1.AdminService behind the API edge (api_adapter.h). The log level is
// spdlog's default logger's level. Thread-safe; `clock` and `journal` must
// outlive the service.
class AdminService final : public ApiAdapter {
 public:
  AdminService(ServerFacts facts, const Clock& clock, engine::RequestJournal& journal);

  // Known only once the server listens; shown by GetServerInfo.
  void SetListenAddresses(std::vector<std::string> addresses);

  void GetServerInfo(grpc::CallbackServerContext& context,
                     const posd::v1::GetServerInfoRequest& request,
                     engine::Callback<posd::v1::ServerInfo> done);
  void GetConfig(grpc::CallbackServerContext& context, const posd::v1::GetConfigRequest& request,
                 engine::Callback<posd::v1::GetConfigResponse> done);
  void SetLogLevel(grpc::CallbackServerContext& context,
                   const posd::v1::SetLogLevelRequest& request,
                   engine::Callback<posd::v1::SetLogLevelResponse> done);

 private:
  const ServerFacts facts_;
  const Clock& clock_;
  engine::RequestJournal& journal_;
  std::mutex mutex_;
  std::vector<std::string> listen_addresses_;  // guarded by mutex_
};

}  // namespace posd::api
