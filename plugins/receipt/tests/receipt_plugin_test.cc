#include "plugins/receipt/receipt_plugin.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "plugins/receipt/escpos_receipt.h"
#include "plugins/receipt/file_receipt_sink.h"
#include "plugins/receipt/serial_receipt_sink.h"
#include "service/hooks/plugin_registry.h"
#include "service/transport/testing/pty_pair.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::plugins {
namespace {

using ::posd::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::string_literals;

core::Money Eur(int64_t cents) { return core::Money(cents, *core::CurrencyCode::Parse("EUR")); }
const auto kWhen = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

hooks::HookSubject Sale() {
  core::Order order{.id = *core::OrderId::Parse("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB"),
                    .currency = *core::CurrencyCode::Parse("EUR"),
                    .state = core::OrderState::kPaid,
                    .lines = {core::OrderLine{.sku = "ESP", .name = "Espresso", .quantity = 2,
                                              .unit_price = Eur(250)},
                              core::OrderLine{.sku = "CRO", .name = "Croissant", .quantity = 1,
                                              .unit_price = Eur(320)}}};
  core::Payment payment{
      .id = *core::PaymentId::Parse("pay_01HF7YAT00V3DQ4XK2M8E9R6ZC"),
      .order_id = order.id,
      .device_id = *core::DeviceId::Parse("dev_01HF7YAT00V3DQ4XK2M8E9R6ZD"),
      .amount = Eur(820),
      .tip = Eur(100),
      .state = core::PaymentState::kApproved,
      .card = core::CardData{.brand = "VISA",
                             .masked_pan = *core::MaskedPan::Parse("411111******1111")},
      .approval_code = "A1B2C3",
      .terminal_reference = "T-000042",
      .refunded_amount = Eur(0),
      .updated_at = kWhen};
  return hooks::HookSubject{.order = order, .payment = payment};
}

hooks::HookSubject Refund() {
  hooks::HookSubject subject = Sale();
  subject.refund = core::Refund{.id = *core::RefundId::Parse("ref_01HF7YAT00V3DQ4XK2M8E9R6ZE"),
                                .payment_id = subject.payment->id,
                                .amount = Eur(320),
                                .state = core::RefundState::kCompleted,
                                .reason = "cold croissant",
                                .terminal_reference = "T-000043",
                                .updated_at = kWhen};
  return subject;
}

const ReceiptLayout kLayout{.header_lines = {"CAFE POSD"}, .footer_lines = {"Thank you"},
                            .line_width = 32};

TEST(EscPosReceiptTest, GoldenSaleReceipt) {
  const std::string dashes(32, '-');
  const std::string expected =
      "\x1b@"s + "\x1b" "a\x01"s + "CAFE POSD\n" + "\x1b" "a\x00"s + dashes + "\n" +
      "2 x Espresso            5.00 EUR\n" +
      "1 x Croissant           3.20 EUR\n" + dashes + "\n" +
      "Amount                  8.20 EUR\n" +
      "Tip                     1.00 EUR\n" +
      "\x1b" "E\x01"s + "\x1d!\x11"s + "TOTAL   9.20 EUR\n" + "\x1d!\x00"s + "\x1b" "E\x00"s +
      dashes + "\n" +
      "VISA ************1111\n" +
      "Approval                  A1B2C3\n" +
      "Terminal ref            T-000042\n" +
      "Payment id\n" + "pay_01HF7YAT00V3DQ4XK2M8E9R6ZC\n" +
      "2023-11-14 22:13 UTC\n" +
      "\x1b" "a\x01"s + "Thank you\n" + "\x1b" "a\x00"s + "\x1b" "d\x04"s + "\x1dV\x42\x00"s;
  absl::StatusOr<std::string> bytes =
      RenderEscPosReceipt(Sale(), hooks::HookPoint::kAfterPayment, kLayout);
  POSD_ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, expected);
}

TEST(EscPosReceiptTest, NeverPrintsMoreThanTheLastFourDigits) {
  absl::StatusOr<std::string> bytes =
      RenderEscPosReceipt(Sale(), hooks::HookPoint::kAfterPayment, kLayout);
  POSD_ASSERT_OK(bytes);
  EXPECT_THAT(*bytes, Not(HasSubstr("411111")));
  EXPECT_THAT(*bytes, HasSubstr("VISA ************1111\n"));
}

TEST(EscPosReceiptTest, RefundReceiptIsMarkedAndShowsTheRefundedAmount) {
  absl::StatusOr<std::string> bytes =
      RenderEscPosReceipt(Refund(), hooks::HookPoint::kAfterRefund, kLayout);
  POSD_ASSERT_OK(bytes);
  EXPECT_THAT(*bytes, HasSubstr("\x1b" "E\x01\x1d!\x11REFUND\n"s));
  EXPECT_THAT(*bytes, HasSubstr("REFUND -3.20 EUR\n"));
  EXPECT_THAT(*bytes, HasSubstr("Terminal ref            T-000043\n"));
  EXPECT_THAT(*bytes, HasSubstr("ref_01HF7YAT00V3DQ4XK2M8E9R6ZE\n"));
  EXPECT_THAT(*bytes, Not(HasSubstr("Espresso")));
}

TEST(EscPosReceiptTest, TextCannotInjectPrinterCommands) {
  hooks::HookSubject subject = Sale();
  subject.order->lines[0].name = "Caf\xc3\xa9\x1b@\x1dV";
  absl::StatusOr<std::string> bytes =
      RenderEscPosReceipt(subject, hooks::HookPoint::kAfterPayment, kLayout);
  POSD_ASSERT_OK(bytes);
  EXPECT_THAT(*bytes, HasSubstr("2 x Caf???@?V"));
  EXPECT_EQ(bytes->find("\x1b@"), 0u);  // only the init at the start
  EXPECT_EQ(bytes->find("\x1b@", 1), std::string::npos);
}

TEST(EscPosReceiptTest, OnlyForPaymentsAndRefunds) {
  EXPECT_THAT(RenderEscPosReceipt(Sale(), hooks::HookPoint::kAfterOrder, kLayout),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RenderEscPosReceipt(Sale(), hooks::HookPoint::kAfterRefund, kLayout),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(FileReceiptSinkTest, SameKeyIsWrittenOnce) {
  posd::testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<FileReceiptSink>> sink = FileReceiptSink::Create(dir.path());
  POSD_ASSERT_OK(sink);
  const std::string key = "pay_01HF7YAT00V3DQ4XK2M8E9R6ZC:afterPayment:receipt";
  POSD_ASSERT_OK((*sink)->Deliver(key, "first"));
  POSD_ASSERT_OK((*sink)->Deliver(key, "second"));
  EXPECT_EQ(ReadFile((*sink)->PathFor(key)), "first");
  EXPECT_EQ((*sink)->PathFor(key),
            (dir.path() / "pay_01HF7YAT00V3DQ4XK2M8E9R6ZC_afterPayment_receipt.escpos").string());
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);  // no temporary files left behind
}

TEST(FileReceiptSinkTest, MissingDirectoryIsNotFound) {
  posd::testing::TempDir dir;
  EXPECT_THAT(FileReceiptSink::Create(dir.File("absent")), StatusIs(absl::StatusCode::kNotFound));
}

absl::StatusOr<hooks::PluginSet> Load(const std::string& json) {
  google::protobuf::RepeatedPtrField<config::v1::Plugin> config;
  config::v1::Plugin* entry = config.Add();
  entry->set_name("receipt");
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, entry->mutable_settings()).ok());
  return hooks::LoadPlugins(config);
}

TEST(ReceiptPluginTest, AfterPaymentWritesTheReceiptToTheConfiguredDirectory) {
  posd::testing::TempDir dir;
  absl::StatusOr<hooks::PluginSet> set =
      Load(R"({"header_lines": ["CAFE POSD"], "footer_lines": ["Thank you"], "line_width": 32,
               "file": {"directory": ")" + dir.path().string() + R"("}})");
  POSD_ASSERT_OK(set);
  std::shared_ptr<hooks::Plugin> plugin = set->Find("receipt");
  ASSERT_NE(plugin, nullptr);
  const hooks::AfterHookContext context{.hook_point = hooks::HookPoint::kAfterPayment,
                                        .idempotency_key = "k1", .run_id = "hook_1"};
  POSD_ASSERT_OK(plugin->RunAfterHook(Sale(), context));
  POSD_ASSERT_OK(plugin->RunAfterHook(Sale(), context));  // a retry: still one receipt
  EXPECT_EQ(ReadFile(dir.File("k1.escpos")),
            *RenderEscPosReceipt(Sale(), hooks::HookPoint::kAfterPayment, kLayout));
}

TEST(ReceiptPluginTest, BadSettingsAreRefused) {
  EXPECT_THAT(Load(R"({"file": {"dir": "/tmp"}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "plugin \"receipt\": unknown setting \"file.dir\""));
  EXPECT_THAT(Load(R"({})"), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("set exactly one sink")));
  EXPECT_THAT(Load(R"({"file": {"directory": "/tmp"}, "serial": {"port": "/dev/ttyS0"}})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("set exactly one sink")));
  EXPECT_THAT(Load(R"({"serial": {"port": "/dev/ttyS0", "baud": 12345}})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("baud")));
  EXPECT_THAT(Load(R"({"line_width": 10, "file": {"directory": "/tmp"}})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line_width")));
  EXPECT_THAT(Load(R"({"file": {"directory": "/nonexistent/receipts"}})"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("plugin \"receipt\"")));
}

TEST(SerialReceiptSinkTest, PrintsOverASerialPortOncePerKeyWithAJournal) {
  absl::StatusOr<transport::testing::PtyPair> pty = transport::testing::PtyPair::Create();
  POSD_ASSERT_OK(pty);
  posd::testing::TempDir dir;
  const std::string journal = dir.File("printed").string();
  auto make_sink = [&] {
    return SerialReceiptSink::Create(
        transport::SerialSettings{.port = pty->slave_path(), .baud = 9600}, journal,
        std::chrono::seconds(10));
  };
  absl::StatusOr<std::unique_ptr<SerialReceiptSink>> sink = make_sink();
  POSD_ASSERT_OK(sink);
  const std::string receipt = *RenderEscPosReceipt(Sale(), hooks::HookPoint::kAfterPayment,
                                                   kLayout);
  POSD_ASSERT_OK((*sink)->Deliver("k1", receipt));
  absl::StatusOr<std::vector<std::uint8_t>> got =
      pty->ReadFromMaster(receipt.size(), std::chrono::seconds(10));
  POSD_ASSERT_OK(got);
  EXPECT_EQ(std::string(got->begin(), got->end()), receipt);

  // The same key again, also from a new sink (a restarted posd), prints
  // nothing: the next bytes at the printer are those of the next receipt.
  POSD_ASSERT_OK((*sink)->Deliver("k1", receipt));
  absl::StatusOr<std::unique_ptr<SerialReceiptSink>> restarted = make_sink();
  POSD_ASSERT_OK(restarted);
  POSD_ASSERT_OK((*restarted)->Deliver("k1", receipt));
  POSD_ASSERT_OK((*restarted)->Deliver("k2", "next"));
  got = pty->ReadFromMaster(4, std::chrono::seconds(10));
  POSD_ASSERT_OK(got);
  EXPECT_EQ(std::string(got->begin(), got->end()), "next");
}

TEST(SerialReceiptSinkTest, MissingPrinterIsUnavailableSoTheRunIsRetried) {
  absl::StatusOr<std::unique_ptr<SerialReceiptSink>> sink = SerialReceiptSink::Create(
      transport::SerialSettings{.port = "/dev/posd-no-such-printer", .baud = 9600}, "",
      std::chrono::seconds(1));
  POSD_ASSERT_OK(sink);
  absl::Status status = (*sink)->Deliver("k1", "x");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(hooks::IsPermanentHookError(status));
}

}  // namespace
}  // namespace posd::plugins
