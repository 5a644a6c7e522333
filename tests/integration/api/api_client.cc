#include "tests/integration/api/api_client.h"

#include <chrono>
#include <memory>

#include "grpcpp/support/client_callback.h"

namespace posd::testing {
namespace {

// One call: writes the request, half-closes, reads every response.
class RawCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  RawCall(grpc::GenericStub& stub, grpc::ClientContext& context, const std::string& method,
          const std::string& bytes) {
    const grpc::Slice slice(bytes);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub.PrepareBidiStreamingCall(&context, method, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::vector<grpc::Slice> slices;
    std::string flat;
    if (response_.Dump(&slices).ok()) {
      for (const auto& slice : slices) {
        flat.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    {
      const std::lock_guard lock(mutex_);
      answer_.responses.push_back(std::move(flat));
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    const std::lock_guard lock(mutex_);
    answer_.status = status;
    done_ = true;
    finished_.notify_all();
  }

  RawAnswer Await() {
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [this] { return done_; });
    return answer_;
  }

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::mutex mutex_;
  std::condition_variable finished_;
  bool done_ = false;     // guarded by mutex_
  RawAnswer answer_;      // guarded by mutex_
};

}  // namespace

RawAnswer CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& request_bytes,
                  const std::vector<std::pair<std::string, std::string>>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  // A stream that was wrongly accepted ends here instead of hanging the test.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  RawCall call(stub, context, method, request_bytes);
  RawAnswer answer = call.Await();
  if (!answer.status.ok() && answer.error_status.ParseFromString(answer.status.error_details()) &&
      answer.error_status.details_size() == 1 &&
      answer.error_status.details(0).UnpackTo(&answer.error_info)) {
    answer.has_error_info = true;
  }
  return answer;
}

}  // namespace posd::testing
