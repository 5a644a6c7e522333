// The API edge: one adapter through which every call of a posd.v1 service
// passes before any domain code runs.
//
// An ApiAdapter is the grpc::Service of one posd.v1 service. Its methods are
// raw callback methods: they receive the request's bytes, so posd (not
// gRPC's typed handler, which answers a request that does not parse with an
// empty UNIMPLEMENTED) decides what a bad request hears. Each call is
//   1. parsed: bytes that are not the request message (invalid UTF-8 in a
//      string, a truncated message) are INVALID_ARGUMENT saying so;
//   2. authorized: the caller's role against the method-to-role table
//      (method_roles.h); PERMISSION_DENIED, reason ROLE_REQUIRED;
//   3. validated: the request against its declared limits
//      (request_limits.h); INVALID_ARGUMENT, reason INVALID_FIELD and the
//      field;
//   4. handed to the domain handler, a plain member function of the service
//      that gets the parsed request and a completion callback; the adapter
//      serializes the response and turns the status into grpc::Status with
//      posd.v1.ErrorInfo (status_conversion.h).
// A refusal in 1-3 of an audited method (the table names its audit action)
// is recorded through engine::Engine::RecordRefusal before the caller hears
// it, like a refusal in the engine.
//
// Server-streaming methods pass the same steps; their handler returns the
// write reactor of the stream. Its request lives only while the handler
// runs: a reactor copies what it keeps.
//
// A service derives from ApiAdapter and declares each of its methods in its
// constructor (Unary / ServerStreaming). CheckComplete() tells whether every
// method of the posd.v1 service has a handler; ApiServer::Start refuses to
// serve otherwise. Handlers run on gRPC's callback threads; the adapter keeps
// no mutable state, so it is thread-safe once constructed.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // SerializationTraits of typed stream messages
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/support/byte_buffer.h"
#include "service/api/method_roles.h"
#include "service/engine/engine.h"

namespace posd::api {

class ApiAdapter : public grpc::Service {
 public:
  ApiAdapter(const ApiAdapter&) = delete;
  ApiAdapter& operator=(const ApiAdapter&) = delete;

  // "posd.v1.PaymentService".
  const std::string& service_name() const { return service_name_; }

  // OK when every method of the posd.v1 service has a handler;
  // FAILED_PRECONDITION naming the first one without.
  absl::Status CheckComplete() const;

 protected:
  // `service_name` is the full name of a posd.v1 service. `audit` records
  // refusals of audited methods; it may be null only for a service without
  // any (CheckComplete reports the gap) and must outlive the adapter.
  ApiAdapter(std::string_view service_name, engine::Engine* audit);

  // Declares the unary method `method` (its short name, "CreatePayment"),
  // served by `handler` of `self`. The handler calls `done` exactly once,
  // from any thread; the request stays alive until then.
  template <typename Self, typename Request, typename Response>
  void Unary(std::string_view method, Self* self,
             void (Self::*handler)(grpc::CallbackServerContext&, const Request&,
                                   engine::Callback<Response>)) {
    AddUnary(method, Request::default_instance(),
             [self, handler](grpc::CallbackServerContext& context,
                             const google::protobuf::Message& request, ErasedDone done) {
               (self->*handler)(context, static_cast<const Request&>(request),
                                [done = std::move(done)](absl::StatusOr<Response> result) {
                                  done(result.status(), result.ok() ? &*result : nullptr);
                                });
             });
  }

  // Declares the server-streaming method `method`, served by `handler`.
  template <typename Self, typename Request, typename Response>
  void ServerStreaming(std::string_view method, Self* self,
                       grpc::ServerWriteReactor<Response>* (Self::*handler)(
                           grpc::CallbackServerContext*, const Request&)) {
    const Method& declared = Declare(method, Request::default_instance(),
                                     grpc::internal::RpcMethod::SERVER_STREAMING);
    MarkMethodRawCallback(
        declared.index,
        new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, Response>(
            [this, &declared, self, handler](grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* bytes)
                -> grpc::ServerWriteReactor<Response>* {
              Request request;
              if (absl::Status admitted = Admit(*context, declared, *bytes, request);
                  !admitted.ok()) {
                return new RefusedStream<Response>(admitted);
              }
              return (self->*handler)(context, request);
            }));
  }

 private:
  struct Method {
    std::string path;       // "/posd.v1.PaymentService/CreatePayment", as gRPC routes it
    std::string full_name;  // "posd.v1.PaymentService.CreatePayment"
    const MethodRule* rule = nullptr;  // null: no entry, every call is denied
    const google::protobuf::Message* prototype = nullptr;
    int index = 0;
  };
  using ErasedDone = std::function<void(const absl::Status&, const google::protobuf::Message*)>;
  using ErasedUnary = std::function<void(grpc::CallbackServerContext&,
                                         const google::protobuf::Message&, ErasedDone)>;

  // A stream refused before its handler ran: finishes at once.
  template <typename Response>
  class RefusedStream final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit RefusedStream(const absl::Status& status) { this->Finish(GrpcStatusOf(status)); }
    void OnDone() override { delete this; }
  };
  static grpc::Status GrpcStatusOf(const absl::Status& status);

  const Method& Declare(std::string_view method, const google::protobuf::Message& prototype,
                        grpc::internal::RpcMethod::RpcType type);
  void AddUnary(std::string_view method, const google::protobuf::Message& prototype,
                ErasedUnary handler);
  // Steps 1-3: parse `bytes` into `request`, authorize, validate.
  absl::Status Admit(grpc::CallbackServerContext& context, const Method& method,
                     const grpc::ByteBuffer& bytes, google::protobuf::Message& request) const;
  // Records the refusal of an audited method (if it is one), then `done`.
  void Refuse(grpc::CallbackServerContext& context, const Method& method,
              const google::protobuf::Message& request, const absl::Status& error,
              ErasedDone done) const;

  const std::string service_name_;
  engine::Engine* const audit_;
  std::deque<Method> declared_;  // stable addresses: handlers keep pointers
};

}  // namespace posd::api
