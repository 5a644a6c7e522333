// Orders, payments and events through the real posd, driven by the real
// posctl: what an operator at a shell sees.
#include <signal.h>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "posd/v1/orders.pb.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPosd[] = POSD_BINARY;
constexpr char kPosctl[] = POSCTL_BINARY;

class EngineProcessTest : public ::testing::Test {
 protected:
  EngineProcessTest() : paths_(dir_.path()) {}

  void SetUp() override {
    WritePosdConfig(paths_);
    posd_.emplace(StartPosd(kPosd, paths_, dir_.path()));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
  }

  std::vector<std::string> PosctlArgs(std::vector<std::string> args) {
    args.insert(args.begin(), {kPosctl, "--address", paths_.address(), "--timeout", "5s"});
    return args;
  }
  CommandResult Posctl(std::vector<std::string> args) { return RunCommand(PosctlArgs(args)); }

  posd::v1::Order CreateOrder() {
    const CommandResult created =
        Posctl({"-o", "json", "orders", "create", "--currency", "EUR", "--line",
                "coffee:2:3.50:Coffee", "--line", "cake:1:4.20", "--reference", "T12", "--place"});
    EXPECT_EQ(created.exit_code, 0) << created.err;
    posd::v1::Order order;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(created.out, &order).ok()) << created.out;
    return order;
  }

  TempDir dir_;
  PosdPaths paths_;
  std::optional<Subprocess> posd_;
};

TEST_F(EngineProcessTest, OrdersCreateShowList) {
  const posd::v1::Order order = CreateOrder();
  EXPECT_EQ(order.status(), posd::v1::ORDER_STATUS_PLACED);
  EXPECT_EQ(order.total().amount_minor(), 1120);
  EXPECT_THAT(order.id(), ::testing::StartsWith("ord_"));

  const CommandResult shown = Posctl({"orders", "show", order.id()});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("PLACED  total 11.20 EUR  due 11.20 EUR  ref T12"));
  EXPECT_THAT(shown.out, HasSubstr("2 x coffee (Coffee) @ 3.50 EUR"));

  const CommandResult listed = Posctl({"orders", "list", "--status", "placed"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(order.id()));

  const CommandResult missing = Posctl({"orders", "show", "ord_01M8J3D9B99HP9N0ZRZ88NVM10"});
  EXPECT_EQ(missing.exit_code, 64 + 5) << missing.err;  // NOT_FOUND
  EXPECT_THAT(missing.err, HasSubstr("no order"));

  const CommandResult bad = Posctl({"orders", "create", "--currency", "EUR", "--line", "x:1:1.234"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;  // refused before any call
}

TEST_F(EngineProcessTest, AOrderCanBeCanceled) {
  const posd::v1::Order order = CreateOrder();
  const CommandResult canceled = Posctl({"orders", "cancel", order.id(), "--reason", "left"});
  EXPECT_EQ(canceled.exit_code, 0) << canceled.err;
  EXPECT_THAT(canceled.out, HasSubstr("CANCELED"));
  const CommandResult again = Posctl({"orders", "cancel", order.id()});
  EXPECT_EQ(again.exit_code, 64 + 9) << again.err;  // FAILED_PRECONDITION
}

TEST_F(EngineProcessTest, EventsWatchReplaysFromSinceAndFollows) {
  const posd::v1::Order order = CreateOrder();  // events 1 (OPEN) and 2 (PLACED)
  const CommandResult replay = Posctl({"events", "watch", "--since", "0", "--limit", "2"});
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_THAT(replay.out, HasSubstr("1  ORDER_CHANGED  " + order.id() + "  OPEN"));
  EXPECT_THAT(replay.out, HasSubstr("2  ORDER_CHANGED  " + order.id() + "  PLACED"));

  const CommandResult resumed = Posctl({"events", "watch", "--since", "1", "--limit", "1"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, ::testing::StartsWith("2  ORDER_CHANGED"));

  // A watcher that follows live sees the next change, then ends with
  // UNAVAILABLE when posd stops.
  Subprocess watcher = Subprocess::Start(PosctlArgs({"events", "watch", "--since", "2"}), dir_.path());
  const CommandResult canceled = Posctl({"orders", "cancel", order.id()});
  ASSERT_EQ(canceled.exit_code, 0) << canceled.err;
  EXPECT_TRUE(WaitUntil([&] { return watcher.Stdout().find("3  ORDER_CHANGED") != std::string::npos; },
                        std::chrono::seconds(10)))
      << watcher.Stdout() << watcher.Stderr();
  posd_->Signal(SIGTERM);
  EXPECT_EQ(posd_->WaitForExit(std::chrono::seconds(20)), 0) << posd_->Stderr();
  EXPECT_EQ(watcher.WaitForExit(std::chrono::seconds(10)), 64 + 14) << watcher.Stderr();
  EXPECT_THAT(watcher.Stderr(), HasSubstr("posd is shutting down"));
}

TEST_F(EngineProcessTest, APaymentToAnUnknownTerminalFailsClearly) {
  const posd::v1::Order order = CreateOrder();
  const CommandResult pay = Posctl({"pay", "--order", order.id(), "--device", "counter-9"});
  EXPECT_EQ(pay.exit_code, 64 + 5) << pay.out << pay.err;  // NOT_FOUND
  EXPECT_THAT(pay.err, HasSubstr("no terminal named counter-9"));

  const CommandResult listed = Posctl({"payments", "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "");  // nothing was recorded
  const CommandResult in_doubt = Posctl({"payments", "list", "--status", "in_doubt"});
  EXPECT_EQ(in_doubt.exit_code, 0) << in_doubt.err;
  const CommandResult shown = Posctl({"orders", "show", order.id()});
  EXPECT_THAT(shown.out, HasSubstr("PLACED"));
}

}  // namespace
}  // namespace posd::testing
