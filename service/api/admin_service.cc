#include "service/api/admin_service.h"

#include "google/protobuf/util/time_util.h"
#include "service/api/caller_role.h"
#include "service/common/strings.h"
#include "spdlog/spdlog.h"

namespace posd::api {
namespace {

using google::protobuf::util::TimeUtil;

posd::v1::LogLevel ToProto(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return posd::v1::LOG_LEVEL_TRACE;
    case spdlog::level::debug: return posd::v1::LOG_LEVEL_DEBUG;
    case spdlog::level::info: return posd::v1::LOG_LEVEL_INFO;
    case spdlog::level::warn: return posd::v1::LOG_LEVEL_WARN;
    case spdlog::level::err: return posd::v1::LOG_LEVEL_ERROR;
    case spdlog::level::critical: return posd::v1::LOG_LEVEL_CRITICAL;
    case spdlog::level::off: return posd::v1::LOG_LEVEL_OFF;
    case spdlog::level::n_levels: break;
  }
  return posd::v1::LOG_LEVEL_UNSPECIFIED;
}

absl::StatusOr<spdlog::level::level_enum> FromProto(posd::v1::LogLevel level) {
  switch (level) {
    case posd::v1::LOG_LEVEL_TRACE: return spdlog::level::trace;
    case posd::v1::LOG_LEVEL_DEBUG: return spdlog::level::debug;
    case posd::v1::LOG_LEVEL_INFO: return spdlog::level::info;
    case posd::v1::LOG_LEVEL_WARN: return spdlog::level::warn;
    case posd::v1::LOG_LEVEL_ERROR: return spdlog::level::err;
    case posd::v1::LOG_LEVEL_CRITICAL: return spdlog::level::critical;
    case posd::v1::LOG_LEVEL_OFF: return spdlog::level::off;
    default: break;
  }
  return absl::InvalidArgumentError(
      StrCat("level must be one of LOG_LEVEL_TRACE .. LOG_LEVEL_OFF, got ",
             posd::v1::LogLevel_Name(level)));
}

}  // namespace

AdminService::AdminService(ServerFacts facts, const Clock& clock, engine::RequestJournal& journal)
    : ApiAdapter("posd.v1.AdminService", nullptr),
      facts_(std::move(facts)),
      clock_(clock),
      journal_(journal) {
  Unary("GetServerInfo", this, &AdminService::GetServerInfo);
  Unary("GetConfig", this, &AdminService::GetConfig);
  Unary("SetLogLevel", this, &AdminService::SetLogLevel);
}

void AdminService::SetListenAddresses(std::vector<std::string> addresses) {
  const std::lock_guard lock(mutex_);
  listen_addresses_ = std::move(addresses);
}

void AdminService::GetServerInfo(grpc::CallbackServerContext&, const posd::v1::GetServerInfoRequest&,
                                 engine::Callback<posd::v1::ServerInfo> done) {
  posd::v1::ServerInfo info;
  posd::v1::ServerInfo* response = &info;
  response->set_version(facts_.version);
  *response->mutable_started_at() = TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(facts_.started_at.time_since_epoch())
          .count());
  *response->mutable_uptime() = TimeUtil::NanosecondsToDuration(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now() - facts_.started_steady)
          .count());
  response->set_database_path(facts_.database_path);
  response->set_schema_version(facts_.schema_version);
  response->set_instance_id(facts_.instance_id);
  {
    const std::lock_guard lock(mutex_);
    for (const auto& address : listen_addresses_) response->add_listen_addresses(address);
  }
  response->set_log_level(ToProto(spdlog::default_logger()->level()));
  done(std::move(info));
}

void AdminService::GetConfig(grpc::CallbackServerContext&, const posd::v1::GetConfigRequest&,
                             engine::Callback<posd::v1::GetConfigResponse> done) {
  posd::v1::GetConfigResponse response;
  response.set_config_json(facts_.config_json);
  response.set_config_path(facts_.config_path);
  done(std::move(response));
}

void AdminService::SetLogLevel(grpc::CallbackServerContext& context,
                               const posd::v1::SetLogLevelRequest& request,
                               engine::Callback<posd::v1::SetLogLevelResponse> done) {
  const auto level = FromProto(request.level());
  if (!level.ok()) return done(level.status());

  engine::AuditEntry audit{
      .actor = CallerName(context),
      .role = std::string(RoleName(CallerRole(context))),
      .action = "set_log_level",
      .subject = "log_level",
      .reason = "",
      .details = StrCat("log level set to ", posd::v1::LogLevel_Name(request.level())),
  };
  const auto stored = journal_.Execute(
      request.request_id(), "posd.v1.AdminService.SetLogLevel", request.SerializeAsString(),
      audit,
      [&]() -> absl::StatusOr<std::string> {
        posd::v1::SetLogLevelResponse prepared;
        prepared.set_previous_level(ToProto(spdlog::default_logger()->level()));
        prepared.set_current_level(request.level());
        return prepared.SerializeAsString();
      },
      [&] {
        spdlog::set_level(*level);
        spdlog::info("log level set to {} by {}", posd::v1::LogLevel_Name(request.level()),
                     audit.actor);
      });
  if (!stored.ok()) return done(stored.status());
  posd::v1::SetLogLevelResponse response;
  if (!response.ParseFromString(*stored)) {
    return done(absl::DataLossError("the stored response of this request is unreadable"));
  }
  done(std::move(response));
}

}  // namespace posd::api
