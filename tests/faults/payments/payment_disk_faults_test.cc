// posd taking payments on simulated terminals while its database's file
// system fills up or turns read-only: callers get clear errors, nothing is
// half written, nothing is sent to a terminal that posd could not record,
// and once the fault is lifted every payment ends as the terminal's ledger
// says.
//
// The database lives on a small tmpfs mounted in a private mount namespace
// of this test process (posd, started from here, inherits it), so filling
// it or remounting it read-only touches nothing outside. Without root or
// namespaces the tests skip themselves and say why.
//
// A read-only file system cannot be imposed on a running posd: Linux
// refuses to remount a file system read-only while a process has a file on
// it open for writing (EBUSY). So the read-only case is the one a shop
// meets: posd crashes mid-payment, the disk comes back read-only, posd is
// started again.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "service/store/store.h"
#include "tests/faults/payments/payment_harness.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_filesystem.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr int kStepMs = 25;
constexpr int kSlowMs = 2500;  // amounts ending in .53: time to break the disk meanwhile

std::string& NamespaceProblem() {
  static std::string problem;
  return problem;
}

posd::v1::CreatePaymentRequest Sale(const std::string& request_id, const std::string& device,
                                    int64_t amount_minor) {
  posd::v1::CreatePaymentRequest request;
  request.set_request_id(request_id);
  request.mutable_payment()->set_device_id(device);
  request.mutable_payment()->mutable_amount()->set_amount_minor(amount_minor);
  request.mutable_payment()->mutable_amount()->set_currency_code("EUR");
  return request;
}

class PaymentDiskFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { NamespaceProblem() = EnterPrivateMountNamespace(); }

  void SetUp() override {
    if (!NamespaceProblem().empty()) GTEST_SKIP() << NamespaceProblem();
    auto mounted = TinyFilesystem::Mount(dir_.File("fs"), "size=12m,mode=0700");
    ASSERT_TRUE(mounted.ok()) << mounted.status();
    fs_ = *std::move(mounted);
    mount_point_ = fs_->root();
    paths_.database = mount_point_ / "posd.db";
    for (const char* id : {"t1", "t2"}) {
      terminals_.push_back(std::make_unique<Terminal>(id, dir_.path()));
      std::string error;
      ASSERT_TRUE(terminals_.back()->Start(kStepMs, kSlowMs, &error)) << error;
      views_.push_back(terminals_.back().get());
    }
    fs::create_directories(dir_.File("posd"));
    WritePosdConfig(paths_, DevicesYaml(views_));
    ASSERT_TRUE(StartPosd()) << PosdLog();
    for (const Terminal* terminal : views_) {
      ASSERT_TRUE(client_->WaitDeviceReady(terminal->device_id(), 60s)) << PosdLog();
    }
  }

  void TearDown() override {
    if (posd_ && posd_->Running()) {
      posd_->Signal(SIGKILL);
      posd_->WaitForExit(10s);
    }
    for (auto& terminal : terminals_) terminal->Stop();
    fs_.reset();
  }

  bool StartPosd() {
    posd_.emplace(posd::testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd"), 60s));
    client_ = std::make_unique<Client>(paths_.address());
    return posd_->Running() && UnixSocketAccepts(paths_.socket);
  }

  std::string PosdLog() const { return posd_ ? Tail(posd_->Stderr(), 60) : ""; }

  void Remount(bool read_only) {
    const absl::Status remounted = fs_->SetReadOnly(read_only);
    ASSERT_TRUE(remounted.ok()) << remounted;
  }

  void FillFileSystem() {
    const absl::Status filled = fs_->Fill();
    ASSERT_TRUE(filled.ok()) << filled;
  }

  void FreeFileSystem() { fs_->Free(); }

  // Creates the payment and waits until the terminal has it (AUTHORIZING)
  // or it is final; the payment as last seen.
  posd::v1::Payment Pay(const posd::v1::CreatePaymentRequest& request, bool until_final) {
    posd::v1::Payment payment;
    const grpc::Status status = client_->CreatePayment(request, &payment);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) return payment;
    EXPECT_TRUE(WaitUntil(
        [&] {
          if (!client_->GetPayment(payment.id(), &payment).ok()) return false;
          return until_final ? IsFinal(payment.status())
                             : payment.status() != posd::v1::PAYMENT_STATUS_DISPATCHED;
        },
        30s))
        << payment.ShortDebugString();
    return payment;
  }

  // The ledger of `terminal` holds a finished `transaction_id`.
  bool Finished(const Terminal& terminal, const std::string& transaction_id) {
    auto transactions = terminal.Transactions();
    if (!transactions.ok()) return false;
    for (const auto& t : *transactions) {
      if (t.request().transaction_id() == transaction_id && t.has_result()) return true;
    }
    return false;
  }

  // Everything final, posd and the ledgers and the event log agree, posd
  // stops cleanly and the database passes integrity_check.
  void ExpectAgreementAndIntegrity() {
    std::string open;
    EXPECT_TRUE(client_->WaitAllFinal(60s, &open)) << open << "\n" << PosdLog();
    auto all = client_->ListAllPayments();
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_THAT(CompareWithLedgers(*all, views_), ::testing::IsEmpty()) << PosdLog();
    auto events = client_->ListAllEvents();
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_THAT(CompareWithEvents(*all, *events), ::testing::IsEmpty());
    posd_->Signal(SIGTERM);
    EXPECT_EQ(posd_->WaitForExit(60s), 0) << PosdLog();
    posd_.reset();
    auto store = store::Store::Open({.path = paths_.database.string()});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(*(*store)->writer().QueryText("PRAGMA integrity_check"), "ok");
  }

  TempDir dir_;
  PosdPaths paths_{dir_.path()};
  std::unique_ptr<TinyFilesystem> fs_;
  fs::path mount_point_;
  std::vector<std::unique_ptr<Terminal>> terminals_;
  std::vector<const Terminal*> views_;
  std::optional<Subprocess> posd_;
  std::unique_ptr<Client> client_;
};

TEST_F(PaymentDiskFaultsTest, FullDiskMidPaymentFailsCallsClearlyAndLosesNoOutcome) {
  const auto first = Pay(Sale("disk-first", "t1", 1000), /*until_final=*/true);
  ASSERT_EQ(first.status(), posd::v1::PAYMENT_STATUS_APPROVED) << first.ShortDebugString();

  // A slow sale: the terminal has it when the disk fills up.
  const auto slow = Pay(Sale("disk-slow", "t1", 1253), /*until_final=*/false);
  ASSERT_EQ(slow.status(), posd::v1::PAYMENT_STATUS_AUTHORIZING) << slow.ShortDebugString();
  ASSERT_NO_FATAL_FAILURE(FillFileSystem());

  // Callers hear that the disk is full. (The first writes may still fit in
  // what the database files already hold; a few orders use that up.)
  grpc::Status order_refused;
  for (int i = 0; i < 500 && order_refused.ok(); ++i) {
    posd::v1::Order ignored;
    order_refused = client_->CreateOrder("disk-order-" + std::to_string(i), &ignored);
  }
  ASSERT_EQ(order_refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << order_refused.error_message();
  posd::v1::Payment ignored;
  const grpc::Status refused = client_->CreatePayment(Sale("disk-full", "t2", 700), &ignored);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("disk is full"));
  EXPECT_THAT(refused.error_message(), HasSubstr(paths_.database.string()));
  const size_t t2_before = views_[1]->Transactions()->size();

  // The terminal charges the slow sale while posd cannot write it down.
  ASSERT_TRUE(WaitUntil([&] { return Finished(*views_[0], slow.id()); }, 30s));
  // posd got the Result and could not store it (it says so).
  ASSERT_TRUE(WaitUntil([&] { return posd_->Stderr().find("not stored") != std::string::npos; },
                        30s))
      << PosdLog();
  posd::v1::Payment during;
  ASSERT_TRUE(client_->GetPayment(slow.id(), &during).ok());
  EXPECT_EQ(during.status(), posd::v1::PAYMENT_STATUS_AUTHORIZING)
      << "nothing can be recorded on a full disk: " << during.ShortDebugString();
  // The refused sale never reached the terminal.
  EXPECT_EQ(views_[1]->Transactions()->size(), t2_before);

  // Space is back: the outcome the terminal reported is recorded without a
  // restart, and the refused call, retried with its request_id, goes through.
  FreeFileSystem();
  posd::v1::Payment after;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return client_->GetPayment(slow.id(), &after).ok() &&
               after.status() == posd::v1::PAYMENT_STATUS_APPROVED;
      },
      20s))
      << "the terminal's approval was lost: " << after.ShortDebugString() << "\n" << PosdLog();
  posd::v1::Payment retried;
  const grpc::Status again = client_->CreatePayment(Sale("disk-full", "t2", 700), &retried);
  EXPECT_TRUE(again.ok()) << again.error_message();

  // And after a restart everything still agrees.
  posd_->Signal(SIGTERM);
  EXPECT_EQ(posd_->WaitForExit(60s), 0) << PosdLog();
  ASSERT_TRUE(StartPosd()) << PosdLog();
  ASSERT_NO_FATAL_FAILURE(ExpectAgreementAndIntegrity());
}

TEST_F(PaymentDiskFaultsTest, ReadOnlyDatabaseAfterACrashMidPaymentIsRefusedThenRecovered) {
  const auto first = Pay(Sale("ro-first", "t1", 1000), /*until_final=*/true);
  ASSERT_EQ(first.status(), posd::v1::PAYMENT_STATUS_APPROVED);
  const auto slow = Pay(Sale("ro-slow", "t1", 1253), /*until_final=*/false);
  ASSERT_EQ(slow.status(), posd::v1::PAYMENT_STATUS_AUTHORIZING) << slow.ShortDebugString();

  // posd dies mid-payment and its disk comes back read-only.
  posd_->Signal(SIGKILL);
  ASSERT_TRUE(posd_->WaitForExit(20s).has_value());
  ASSERT_NO_FATAL_FAILURE(Remount(true));
  posd_.emplace(posd::testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd"), 60s));
  const auto exit = posd_->WaitForExit(60s);
  ASSERT_TRUE(exit.has_value()) << "posd serves on a read-only database\n" << PosdLog();
  EXPECT_EQ(*exit, 1);  // kExitStartFailed
  EXPECT_THAT(posd_->Stderr(), HasSubstr("Read-only file system"));
  EXPECT_THAT(posd_->Stderr(), HasSubstr(paths_.database.string()));

  // Meanwhile the terminal charged; once the disk is writable again posd
  // learns it from the terminal.
  ASSERT_TRUE(WaitUntil([&] { return Finished(*views_[0], slow.id()); }, 30s));
  ASSERT_NO_FATAL_FAILURE(Remount(false));
  ASSERT_TRUE(StartPosd()) << PosdLog();
  posd::v1::Payment after;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return client_->GetPayment(slow.id(), &after).ok() &&
               after.status() == posd::v1::PAYMENT_STATUS_APPROVED;
      },
      30s))
      << after.ShortDebugString() << "\n" << PosdLog();
  ASSERT_NO_FATAL_FAILURE(ExpectAgreementAndIntegrity());
}

}  // namespace
}  // namespace posd::testing
