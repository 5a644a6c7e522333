#include "service/api/api_adapter.h"

#include <optional>

#include "google/protobuf/descriptor.h"
#include "service/api/engine_call.h"
#include "service/api/request_parsing.h"
#include "service/api/request_validator.h"
#include "service/api/status_conversion.h"
#include "service/common/error_info.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

using google::protobuf::FieldDescriptor;

void SerializeResponse(const google::protobuf::Message& response, grpc::ByteBuffer* bytes) {
  const grpc::Slice slice(response.SerializeAsString());
  *bytes = grpc::ByteBuffer(&slice, 1);
}

// The text of the string field `name` of `request`, cut to `max_bytes`, or
// empty when the request has no such field. For audit records of refusals:
// the caller's input may be anything, so it is bounded.
std::string TextField(const google::protobuf::Message& request, std::string_view name,
                      size_t max_bytes) {
  const FieldDescriptor* field = request.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return {};
  }
  std::string text = request.GetReflection()->GetString(request, field);
  if (text.size() > max_bytes) {
    size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
  }
  return text;
}

// The caller's role through one wrapper: nullopt is an unknown caller, who is
// denied everything.
std::optional<Role> CallerRoleOf(const grpc::ServerContextBase& context) {
  return CallerRole(context);
}

}  // namespace

ApiAdapter::ApiAdapter(std::string_view service_name, engine::Engine* audit)
    : service_name_(service_name), audit_(audit) {}

grpc::Status ApiAdapter::GrpcStatusOf(const absl::Status& status) { return ToGrpcStatus(status); }

absl::Status ApiAdapter::CheckComplete() const {
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name_);
  if (service == nullptr) {
    return absl::FailedPreconditionError(StrCat(service_name_, " is not a service of the API"));
  }
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string& full_name = service->method(i)->full_name();
    bool declared = false;
    for (const Method& method : declared_) declared = declared || method.full_name == full_name;
    if (!declared) {
      return absl::FailedPreconditionError(StrCat(full_name, " has no handler"));
    }
  }
  for (const Method& method : declared_) {
    if (method.rule == nullptr) {
      return absl::FailedPreconditionError(
          StrCat(method.full_name, " has no entry in the method-to-role table"));
    }
    if (!method.rule->audit_action.empty() && audit_ == nullptr) {
      return absl::FailedPreconditionError(
          StrCat(method.full_name, " is audited but its service records no refusals"));
    }
  }
  return absl::OkStatus();
}

const ApiAdapter::Method& ApiAdapter::Declare(std::string_view method,
                                              const google::protobuf::Message& prototype,
                                              grpc::internal::RpcMethod::RpcType type) {
  Method& declared = declared_.emplace_back();
  declared.path = StrCat("/", service_name_, "/", method);
  declared.full_name = StrCat(service_name_, ".", method);
  declared.rule = FindMethodRule(declared.full_name);
  declared.prototype = &prototype;
  declared.index = static_cast<int>(declared_.size()) - 1;
  // gRPC keeps the name's pointer; `declared_` never moves its elements.
  AddMethod(new grpc::internal::RpcServiceMethod(declared.path.c_str(), type, nullptr));
  return declared;
}

void ApiAdapter::AddUnary(std::string_view method, const google::protobuf::Message& prototype,
                          ErasedUnary handler) {
  const Method& declared = Declare(method, prototype, grpc::internal::RpcMethod::NORMAL_RPC);
  MarkMethodRawCallback(
      declared.index,
      new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
          [this, &declared, handler = std::move(handler)](
              grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes,
              grpc::ByteBuffer* response) {
            grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
            // Shared with `done`, so the request outlives an asynchronous handler.
            std::shared_ptr<google::protobuf::Message> request(declared.prototype->New());
            ErasedDone done = [reactor, response, request](const absl::Status& status,
                                                           const google::protobuf::Message* out) {
              if (status.ok() && out != nullptr) SerializeResponse(*out, response);
              reactor->Finish(ToGrpcStatus(status));
            };
            if (absl::Status admitted = Admit(*context, declared, *bytes, *request);
                !admitted.ok()) {
              Refuse(*context, declared, *request, admitted, std::move(done));
              return reactor;
            }
            handler(*context, *request, std::move(done));
            return reactor;
          }));
}

absl::Status ApiAdapter::Admit(grpc::CallbackServerContext& context, const Method& method,
                               const grpc::ByteBuffer& bytes,
                               google::protobuf::Message& request) const {
  if (absl::Status parsed = ParseRequest(bytes, request); !parsed.ok()) return parsed;
  if (absl::Status allowed = AuthorizeCall(method.full_name, CallerRoleOf(context));
      !allowed.ok()) {
    return allowed;
  }
  return ValidateRequest(request);
}

void ApiAdapter::Refuse(grpc::CallbackServerContext& context, const Method& method,
                        const google::protobuf::Message& request, const absl::Status& error,
                        ErasedDone done) const {
  if (method.rule == nullptr || method.rule->audit_action.empty() || audit_ == nullptr) {
    done(error, nullptr);
    return;
  }
  engine::Refusal refusal{.actor = ActorOf(context),
                          .action = std::string(method.rule->audit_action),
                          .subject = TextField(request, method.rule->subject_field, 128),
                          .reason = TextField(request, "reason", 500),
                          .request_id = TextField(request, "request_id", 128),
                          .error = error};
  audit_->RecordRefusal(std::move(refusal),
                        [done = std::move(done), error](const absl::Status&) { done(error, nullptr); });
}

}  // namespace posd::api
