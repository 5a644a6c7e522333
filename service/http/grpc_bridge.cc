#include "service/http/grpc_bridge.h"

#include <mutex>

#include "google/protobuf/descriptor.h"
#include "grpcpp/support/client_callback.h"

namespace posd::http {
namespace {

HeaderList ToHeaderList(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  HeaderList list;
  for (const auto& [key, value] : metadata) {
    list.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return list;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const auto& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// A bidirectional generic call serves unary and server-streaming methods
// alike: write every request message, half-close, read until the end. The
// read flow runs outside reactions (the HTTP side asks for the next
// message), so it holds the call open with a hold (gRPC's contract) until
// reading is over. Owns itself from Start until OnDone.
class Reactor final : public BridgedCall,
                      public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Reactor(BridgedCallRequest request, std::shared_ptr<BridgedCallObserver> observer)
      : request_(std::move(request)), observer_(std::move(observer)) {
    for (const auto& [key, value] : request_.metadata) context_.AddMetadata(key, value);
    if (request_.deadline) context_.set_deadline(*request_.deadline);
    for (const auto& message : request_.messages) outgoing_.push_back(ToByteBuffer(message));
    request_.messages.clear();
  }

  void Begin(grpc::GenericStub& stub, std::shared_ptr<Reactor> self) {
    self_ = std::move(self);
    stub.PrepareBidiStreamingCall(&context_, request_.method, grpc::StubOptions(), this);
    AddHold();  // the read flow, released when reading ends
    read_pending_ = true;
    StartRead(&incoming_);
    WriteNext();
    StartCall();
  }

  void ReadNext() override {
    {
      const std::lock_guard lock(mutex_);
      if (!reading_ || read_pending_) return;
      read_pending_ = true;
    }
    StartRead(&incoming_);
  }

  void Cancel() override {
    bool release = false;
    {
      const std::lock_guard lock(mutex_);
      if (cancelled_) return;
      cancelled_ = true;
      // No read in flight: nothing else would release the read hold.
      if (reading_ && !read_pending_) {
        reading_ = false;
        release = true;
      }
    }
    context_.TryCancel();
    if (release) RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    if (ok) WriteNext();
  }

  void OnReadDone(bool ok) override {
    bool release = false;
    {
      const std::lock_guard lock(mutex_);
      read_pending_ = false;
      if (!ok || cancelled_) {
        reading_ = false;
        release = true;
      }
    }
    if (release) {
      RemoveHold();
      return;
    }
    HeaderList initial;
    if (!initial_sent_) {
      initial_sent_ = true;
      initial = ToHeaderList(context_.GetServerInitialMetadata());
    }
    observer_->OnMessage(ToString(incoming_), std::move(initial));
  }

  void OnDone(const grpc::Status& status) override {
    HeaderList initial;
    if (!initial_sent_) initial = ToHeaderList(context_.GetServerInitialMetadata());
    observer_->OnFinish(status, std::move(initial),
                        ToHeaderList(context_.GetServerTrailingMetadata()));
    observer_.reset();
    self_.reset();  // may destroy this object when the HTTP side let go
  }

 private:
  // Writes happen only here, from Begin (before StartCall) and OnWriteDone:
  // one at a time, the last one half-closing the call.
  void WriteNext() {
    if (next_write_ == outgoing_.size()) {
      if (outgoing_.empty()) StartWritesDone();
      return;
    }
    const grpc::ByteBuffer* message = &outgoing_[next_write_++];
    if (next_write_ == outgoing_.size()) {
      StartWriteLast(message, grpc::WriteOptions());
    } else {
      StartWrite(message);
    }
  }

  BridgedCallRequest request_;
  std::shared_ptr<BridgedCallObserver> observer_;
  std::shared_ptr<Reactor> self_;
  grpc::ClientContext context_;
  std::vector<grpc::ByteBuffer> outgoing_;
  std::size_t next_write_ = 0;
  grpc::ByteBuffer incoming_;
  bool initial_sent_ = false;  // only touched in reactions, which never overlap

  std::mutex mutex_;
  bool reading_ = true;        // GUARDED_BY(mutex_)
  bool read_pending_ = false;  // GUARDED_BY(mutex_)
  bool cancelled_ = false;     // GUARDED_BY(mutex_)
};

}  // namespace

GrpcBridge::GrpcBridge(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(channel_) {}

std::shared_ptr<BridgedCall> GrpcBridge::Start(BridgedCallRequest request,
                                               std::shared_ptr<BridgedCallObserver> observer) {
  auto reactor = std::make_shared<Reactor>(std::move(request), std::move(observer));
  reactor->Begin(stub_, reactor);
  return reactor;
}

bool GrpcBridge::IsServerStreaming(std::string_view method) {
  // "/package.Service/Method" -> "package.Service.Method"
  if (method.size() < 4 || method.front() != '/') return false;
  std::string full(method.substr(1));
  const auto slash = full.find('/');
  if (slash == std::string::npos) return false;
  full[slash] = '.';
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
  return descriptor != nullptr && descriptor->server_streaming();
}

}  // namespace posd::http
