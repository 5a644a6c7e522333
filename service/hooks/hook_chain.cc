#include "service/hooks/hook_chain.h"

#include <exception>
#include <functional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/cord.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/strings.h"

namespace posd::hooks {
namespace {

constexpr char kPluginPayloadUrl[] = "type.posd.dev/posd.hooks.plugin";

absl::Status Attribute(const absl::Status& status, std::string_view plugin) {
  absl::Status attributed(status.code(), ToAbsl(StrCat(plugin, ": ", status.message())));
  attributed.SetPayload(kPluginPayloadUrl, absl::Cord(ToAbsl(plugin)));
  return attributed;
}

// Plugins are not supposed to throw, but an exception escaping onto the
// worker thread would terminate posd mid-payment; it becomes a status.
template <typename Draft, typename Call>
absl::Status CallHook(Plugin& plugin, Draft& draft, Call& call) {
  try {
    return call(plugin, draft);
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("hook threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("hook threw");
  }
}

}  // namespace

std::string HookIdempotencyKey(std::string_view subject_id, HookPoint point,
                               std::string_view plugin) {
  return StrCat(subject_id, ":", ToString(point), ":", plugin);
}

std::optional<std::string> VetoingPlugin(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPluginPayloadUrl);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

// One thread that runs submitted hooks one at a time. Its state is shared
// with the thread, so a worker abandoned mid-hook can be detached and finish
// (or never finish) without touching the chain.
class HookChain::Worker {
 public:
  Worker() : state_(std::make_shared<State>()) {
    thread_ = std::thread([state = state_] { Loop(*state); });
  }
  ~Worker() {
    Retire();
    if (thread_.joinable()) thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Submit(std::function<void()> task) {
    absl::MutexLock lock(&state_->mu);
    state_->task = std::move(task);
  }

  // Lets the thread go without waiting for it: it exits after its task.
  void Abandon() {
    Retire();
    thread_.detach();
  }

 private:
  struct State {
    absl::Mutex mu;
    std::function<void()> task ABSL_GUARDED_BY(mu);
    bool retired ABSL_GUARDED_BY(mu) = false;
  };

  static void Loop(State& state) {
    for (;;) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&state.mu);
        auto ready = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
          return state.task != nullptr || state.retired;
        };
        state.mu.Await(absl::Condition(&ready));
        if (state.task == nullptr) return;
        task = std::exchange(state.task, nullptr);
      }
      task();
    }
  }

  void Retire() {
    absl::MutexLock lock(&state_->mu);
    state_->retired = true;
  }

  std::shared_ptr<State> state_;
  std::thread thread_;
};

HookChain::HookChain(const PluginSet& plugins, HookChainOptions options)
    : plugins_(plugins), options_(options) {}

HookChain::~HookChain() = default;

template <typename Draft, typename Call>
absl::Status HookChain::RunOne(const std::shared_ptr<Plugin>& plugin, Draft& draft, Call call) {
  if (options_.time_limit.count() <= 0) {
    Draft copy = draft;
    absl::Status status = CallHook(*plugin, copy, call);
    if (status.ok()) draft = std::move(copy);
    return status;
  }

  struct CallState {
    explicit CallState(Draft d) : draft(std::move(d)) {}
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::Status status ABSL_GUARDED_BY(mu);
    Draft draft;  // owned by the worker until done
  };
  auto state = std::make_shared<CallState>(draft);
  if (worker_ == nullptr) worker_ = std::make_shared<Worker>();
  worker_->Submit([state, plugin, call]() mutable {
    absl::Status status = CallHook(*plugin, state->draft, call);
    absl::MutexLock lock(&state->mu);
    state->status = std::move(status);
    state->done = true;
  });

  absl::MutexLock lock(&state->mu);
  auto done = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) { return state->done; };
  if (!state->mu.AwaitWithTimeout(absl::Condition(&done),
                                  absl::FromChrono(options_.time_limit))) {
    worker_->Abandon();
    worker_ = nullptr;
    ++abandoned_workers_;
    return absl::DeadlineExceededError(
        StrCat("did not answer within ", options_.time_limit.count(), " ms"));
  }
  if (state->status.ok()) draft = std::move(state->draft);
  return state->status;
}

template <typename Draft, typename Call>
absl::Status HookChain::RunChain(HookPoint point, Draft& draft, Call call) {
  for (const std::shared_ptr<Plugin>& plugin : plugins_.For(point)) {
    absl::Status status = RunOne(plugin, draft, call);
    if (!status.ok()) return Attribute(status, plugin->name());
  }
  return absl::OkStatus();
}

absl::Status HookChain::RunBeforeOrder(OrderDraft& draft) {
  absl::Status status =
      RunChain(HookPoint::kBeforeOrder, draft, [](Plugin& plugin, OrderDraft& d) {
        d.acting_plugin_ = std::string(plugin.name());
        return plugin.BeforeOrder(d);
      });
  draft.acting_plugin_.clear();
  return status;
}

absl::Status HookChain::RunBeforePayment(PaymentDraft& draft) {
  return RunChain(HookPoint::kBeforePayment, draft,
                  [](Plugin& plugin, PaymentDraft& d) { return plugin.BeforePayment(d); });
}

absl::Status HookChain::RunBeforeRefund(RefundDraft& draft) {
  return RunChain(HookPoint::kBeforeRefund, draft,
                  [](Plugin& plugin, RefundDraft& d) { return plugin.BeforeRefund(d); });
}

std::vector<PlannedHookRun> HookChain::PlanAfterRuns(HookPoint point,
                                                     std::string_view subject_id) const {
  std::vector<PlannedHookRun> runs;
  if (IsBeforeHook(point)) return runs;
  for (const std::shared_ptr<Plugin>& plugin : plugins_.For(point)) {
    runs.push_back(PlannedHookRun{
        .hook_point = point,
        .plugin = std::string(plugin->name()),
        .subject_id = std::string(subject_id),
        .idempotency_key = HookIdempotencyKey(subject_id, point, plugin->name()),
    });
  }
  return runs;
}

}  // namespace posd::hooks
