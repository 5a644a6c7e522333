#include "service/api/pending_services.h"

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "google/protobuf/descriptor.h"
#include "service/common/strings.h"

namespace posd::api {
namespace {

// Which piece of work makes each not-yet-live service live. docs/api.md
// carries the same table for UI developers.
// Empty while every service of the published API is live; the mechanism
// stays for the next service that is published before it is served.
constexpr std::array<std::pair<std::string_view, std::string_view>, 0> kPendingServices = {};

// "/posd.v1.PaymentService/CreatePayment" -> "posd.v1.PaymentService.CreatePayment"
std::string FullMethodName(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string name(path);
  if (const auto slash = name.find('/'); slash != std::string::npos) name[slash] = '.';
  return name;
}

grpc::Status PendingStatus(std::string_view path) {
  const std::string method = FullMethodName(path);
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(method);
  if (descriptor == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        StrCat("unknown method ", path, ": posd's API does not define it"));
  }
  const std::string& service = descriptor->service()->full_name();
  for (const auto& [pending_service, work] : kPendingServices) {
    if (service == pending_service) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          StrCat(method, " is not live yet: it arrives with '", work,
                                 "' (docs/api.md lists the live methods)"));
    }
  }
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      StrCat(method, " is not served by this posd build"));
}

// Ends the call at once; deletes itself when gRPC is done with it.
class UnimplementedReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit UnimplementedReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerGenericBidiReactor* PendingServices::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  return new UnimplementedReactor(PendingStatus(context->method()));
}

}  // namespace posd::api
