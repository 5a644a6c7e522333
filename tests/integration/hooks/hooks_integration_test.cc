// Lifecycle hooks end to end: the real posd with the discount and receipt
// plugins, posctl, and posd-termsim as the terminal on a pseudo-terminal.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;
using testing::WaitUntil;

constexpr int kExitFailedPrecondition = 64 + 9;
constexpr int kExitNotFound = 64 + 5;
constexpr int kExitUsage = 2;

// The first "<prefix>..." token of `text` (ids are letters, digits and '_').
std::string IdIn(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  size_t end = at + prefix.size();
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0)) ++end;
  return text.substr(at, end - at);
}

class HooksIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* logs : {"sim", "posd", "posd2"}) std::filesystem::create_directories(dir_.File(logs));
    receipts_ = dir_.File("receipts");
    std::filesystem::create_directories(receipts_);
    link_ = dir_.File("terminal.pty");
    sim_.emplace(Subprocess::Start({POSD_TERMSIM_BINARY, "--pty", "--link", link_.string(),
                                    "--ledger", dir_.File("terminal-ledger").string(),
                                    "--step-ms", "20"},
                                   dir_.File("sim")));
    ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(link_); }, 45s)) << sim_->Stderr();
  }

  // Starts posd with the discount and receipt plugins and `hooks_yaml` (the
  // hooks: section's keys, indented by two spaces).
  void StartPosd(const std::string& hooks_yaml, const char* logs = "posd") {
    testing::WritePosdConfig(
        paths_,
        "devices:\n  - id: counter-1\n    serial:\n      port: " + link_.string() +
            "\nplugins:\n"
            "  - name: discount\n"
            "    settings:\n"
            "      coupons:\n"
            "        - code: LUNCH10\n"
            "          description: \"10% lunch\"\n"
            "          percent_bp: 1000\n"
            "  - name: tip\n"
            "    settings:\n"
            "      presets_bp: [1000, 1500]\n"
            "  - name: receipt\n"
            "    settings:\n"
            "      header_lines: [\"CAFE POSD\"]\n"
            "      file:\n"
            "        directory: " + receipts_.string() + "\n"
            "hooks:\n" + hooks_yaml);
    posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File(logs)));
    ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
    ASSERT_TRUE(WaitUntil(
        [&] {
          const CommandResult shown = Posctl({"-o", "json", "devices", "show", "counter-1"});
          return shown.out.find("DEVICE_STATE_READY") != std::string::npos;
        },
        45s))
        << posd_->Stderr();
  }

  void TearDown() override {
    if (posd_ && posd_->Running()) {
      posd_->Signal(SIGTERM);
      EXPECT_EQ(posd_->WaitForExit(30s), 0) << posd_->Stderr();
    }
    if (sim_) {
      sim_->Signal(SIGTERM);
      sim_->WaitForExit(10s);
    }
  }

  CommandResult Posctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {POSCTL_BINARY, "--address", paths_.address()});
    return RunCommand(args, timeout);
  }

  // Pays `amount` on the terminal; the payment id (the payment is APPROVED).
  std::string Pay(const std::string& amount) {
    const CommandResult paid = Posctl({"pay", "--amount", amount, "--device", "counter-1"}, 60s);
    EXPECT_EQ(paid.exit_code, 0) << paid.out << paid.err;
    EXPECT_THAT(paid.out, HasSubstr("APPROVED"));
    return IdIn(paid.out, "pay_");
  }

  // The payment's receipt run, as `posctl hooks list` prints it.
  std::string ReceiptRunLine(const std::string& payment) {
    const CommandResult list = Posctl({"hooks", "list", "--subject", payment, "--plugin", "receipt"});
    return list.exit_code == 0 ? list.out : "";
  }

  bool WaitForReceiptRun(const std::string& payment, const std::string& state) {
    return WaitUntil([&] { return ReceiptRunLine(payment).find(state) != std::string::npos; }, 60s);
  }

  std::filesystem::path ReceiptFile(const std::string& payment) const {
    return receipts_ / (payment + "_afterPayment_receipt.escpos");
  }

  posd::testing::TempDir dir_;
  testing::PosdPaths paths_{dir_.path()};
  std::filesystem::path receipts_;
  std::filesystem::path link_;
  std::optional<Subprocess> sim_;
  std::optional<Subprocess> posd_;
};

TEST_F(HooksIntegrationTest, ADiscountAdjustsTheOrderAndAVetoRefusesNamingThePlugin) {
  StartPosd("  before_hook_time_limit_ms: 5000\n");
  const CommandResult created = Posctl(
      {"-o", "json", "orders", "create", "--line", "menu:2:5.00:Lunch", "--coupon", "lunch10",
       "--place"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_THAT(created.out, HasSubstr("\"plugin\": \"discount\""));
  EXPECT_THAT(created.out, HasSubstr("\"coupon_code\": \"LUNCH10\""));
  EXPECT_THAT(created.out, HasSubstr("\"description\": \"10% lunch\""));
  EXPECT_THAT(created.out, HasSubstr("\"amount_minor\": \"900\""));  // total 10.00 - 1.00
  EXPECT_THAT(created.out, HasSubstr("ORDER_STATUS_PLACED"));

  const CommandResult vetoed =
      Posctl({"orders", "create", "--line", "menu:1:5.00", "--coupon", "NOSUCH"});
  EXPECT_EQ(vetoed.exit_code, kExitFailedPrecondition) << vetoed.out << vetoed.err;
  EXPECT_THAT(vetoed.err, HasSubstr("discount: unknown coupon code \"NOSUCH\""));
  // Nothing of the refused order exists.
  const CommandResult orders = Posctl({"orders", "list"});
  ASSERT_EQ(orders.exit_code, 0) << orders.err;
  EXPECT_EQ(std::count(orders.out.begin(), orders.out.end(), '\n'), 1) << orders.out;

  // The placed order got its afterOrder runs? Neither plugin implements
  // afterOrder, so none are listed.
  const CommandResult runs = Posctl({"hooks", "list", "--hook-point", "afterOrder"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(runs.out, "");
}

TEST_F(HooksIntegrationTest, ATipPresetChosenWithPosctlIsChargedOnTheTerminal) {
  StartPosd("  before_hook_time_limit_ms: 5000\n");
  const CommandResult paid =
      Posctl({"pay", "--amount", "10.00", "--tip-preset", "1", "--device", "counter-1"}, 60s);
  ASSERT_EQ(paid.exit_code, 0) << paid.out << paid.err;
  const std::string id = IdIn(paid.out, "pay_");
  const CommandResult shown = Posctl({"-o", "json", "payments", "show", id});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  // 15 % of 10.00, set by the tip plugin.
  EXPECT_THAT(shown.out, HasSubstr("\"amount_minor\": \"150\""));

  // A preset the plugin does not have, and a parameter posd refuses: nothing
  // reaches the terminal. A malformed option is posctl's usage error.
  constexpr int kExitInvalidArgument = 64 + 3;
  const CommandResult no_preset =
      Posctl({"pay", "--amount", "10.00", "--tip-preset", "7", "--device", "counter-1"});
  EXPECT_EQ(no_preset.exit_code, kExitInvalidArgument) << no_preset.out << no_preset.err;
  EXPECT_THAT(no_preset.err, HasSubstr("tip.preset \"7\" is not a preset"));
  const CommandResult bad_key =
      Posctl({"pay", "--amount", "10.00", "--param", "tip preset=1", "--device", "counter-1"});
  EXPECT_EQ(bad_key.exit_code, kExitInvalidArgument) << bad_key.out << bad_key.err;
  EXPECT_THAT(bad_key.err, HasSubstr("may only contain"));
  const CommandResult usage =
      Posctl({"pay", "--amount", "10.00", "--param", "tip.preset", "--device", "counter-1"});
  EXPECT_EQ(usage.exit_code, kExitUsage) << usage.out << usage.err;
  const CommandResult payments = Posctl({"payments", "list"});
  ASSERT_EQ(payments.exit_code, 0) << payments.err;
  EXPECT_EQ(std::count(payments.out.begin(), payments.out.end(), '\n'), 1) << payments.out;
}

TEST_F(HooksIntegrationTest, AnApprovedPaymentGetsItsReceiptAndHooksCanBeListed) {
  StartPosd("  after_hook_initial_backoff_ms: 200\n");
  const std::string payment = Pay("12.50");
  ASSERT_FALSE(payment.empty());
  ASSERT_TRUE(WaitForReceiptRun(payment, "SUCCEEDED")) << ReceiptRunLine(payment) << posd_->Stderr();
  ASSERT_TRUE(std::filesystem::exists(ReceiptFile(payment)));
  std::ifstream in(ReceiptFile(payment), std::ios::binary);
  std::stringstream receipt;
  receipt << in.rdbuf();
  EXPECT_THAT(receipt.str(), HasSubstr("CAFE POSD"));
  EXPECT_THAT(receipt.str(), HasSubstr("12.50 EUR"));
  EXPECT_THAT(receipt.str(), HasSubstr(payment));

  const std::string line = ReceiptRunLine(payment);
  EXPECT_THAT(line, HasSubstr("  AFTER_PAYMENT receipt  " + payment + "  SUCCEEDED"));
  EXPECT_THAT(line, HasSubstr("attempts 1/10"));
  const std::string run = IdIn(line, "hook_");
  ASSERT_FALSE(run.empty()) << line;

  const CommandResult shown = Posctl({"-o", "json", "hooks", "show", run});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("\"payment_id\": \"" + payment + "\""));
  EXPECT_THAT(shown.out, HasSubstr("\"idempotency_key\": \"" + payment + ":afterPayment:receipt\""));
  EXPECT_THAT(shown.out, HasSubstr("HOOK_RUN_STATE_SUCCEEDED"));
  EXPECT_THAT(shown.out, HasSubstr("completed_at"));

  // Bad input: a clear error and a script-friendly exit code.
  const CommandResult succeeded_retry = Posctl({"hooks", "retry", run});
  EXPECT_EQ(succeeded_retry.exit_code, kExitFailedPrecondition) << succeeded_retry.err;
  EXPECT_THAT(succeeded_retry.err, HasSubstr("SUCCEEDED"));
  const CommandResult unknown = Posctl({"hooks", "show", "hook_doesnotexist"});
  EXPECT_EQ(unknown.exit_code, kExitNotFound) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("no hook run hook_doesnotexist"));
  const CommandResult bad_state = Posctl({"hooks", "list", "--state", "sleeping"});
  EXPECT_EQ(bad_state.exit_code, kExitUsage);
  EXPECT_THAT(bad_state.err, HasSubstr("not a hook run state"));
  const CommandResult bad_token = Posctl({"hooks", "list", "--page-token", "nonsense"});
  EXPECT_EQ(bad_token.exit_code, 64 + 3) << bad_token.err;
  EXPECT_THAT(bad_token.err, HasSubstr("page_token"));
  const CommandResult before = Posctl({"hooks", "list", "--hook-point", "beforeOrder"});
  EXPECT_EQ(before.exit_code, 64 + 3) << before.err;
  EXPECT_THAT(before.err, HasSubstr("before-hook"));
  // The run is unchanged by all that.
  EXPECT_THAT(ReceiptRunLine(payment), HasSubstr("SUCCEEDED  attempts 1/10"));
}

TEST_F(HooksIntegrationTest, APendingRunSurvivesSigkillAndCompletesAfterRestart) {
  // The receipt directory disappears (a full or unmounted disk): the run
  // keeps failing transiently, the payment is approved regardless.
  StartPosd("  after_hook_initial_backoff_ms: 300\n  after_hook_max_backoff_ms: 1000\n");
  const std::filesystem::path away = dir_.File("receipts.away");
  std::filesystem::rename(receipts_, away);
  const std::string payment = Pay("7.00");
  ASSERT_FALSE(payment.empty());
  ASSERT_TRUE(WaitForReceiptRun(payment, "RETRY_SCHEDULED")) << ReceiptRunLine(payment);
  EXPECT_THAT(ReceiptRunLine(payment), HasSubstr("cannot create a file in"));

  posd_->Signal(SIGKILL);
  ASSERT_TRUE(posd_->WaitForExit(20s).has_value());
  posd_.reset();
  std::filesystem::rename(away, receipts_);
  ASSERT_FALSE(std::filesystem::exists(ReceiptFile(payment)));

  // The same database: the run is resumed by the new process.
  posd_.emplace(testing::StartPosd(POSD_BINARY, paths_, dir_.File("posd2")));
  ASSERT_TRUE(posd_->Running()) << posd_->Stderr();
  ASSERT_TRUE(WaitForReceiptRun(payment, "SUCCEEDED")) << ReceiptRunLine(payment) << posd_->Stderr();
  EXPECT_TRUE(std::filesystem::exists(ReceiptFile(payment)));
  const CommandResult shown = Posctl({"-o", "json", "payments", "show", payment});
  EXPECT_THAT(shown.out, HasSubstr("PAYMENT_STATUS_APPROVED"));
}

TEST_F(HooksIntegrationTest, AnAbandonedRunIsRetriedByAnOperatorAndTheRetryIsAudited) {
  StartPosd("  after_hook_max_attempts: 2\n  after_hook_initial_backoff_ms: 100\n");
  const std::filesystem::path away = dir_.File("receipts.away");
  std::filesystem::rename(receipts_, away);
  const std::string payment = Pay("3.00");
  ASSERT_FALSE(payment.empty());
  ASSERT_TRUE(WaitForReceiptRun(payment, "ABANDONED")) << ReceiptRunLine(payment);
  const std::string run = IdIn(ReceiptRunLine(payment), "hook_");
  const CommandResult attention = Posctl({"hooks", "list", "--state", "abandoned", "--state", "failed"});
  ASSERT_EQ(attention.exit_code, 0) << attention.err;
  EXPECT_THAT(attention.out, HasSubstr(run));

  std::filesystem::rename(away, receipts_);
  const CommandResult retried =
      Posctl({"hooks", "retry", run, "--reason", "receipt disk mounted again"});
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_THAT(retried.out, HasSubstr(run));
  ASSERT_TRUE(WaitForReceiptRun(payment, "SUCCEEDED")) << ReceiptRunLine(payment);
  EXPECT_TRUE(std::filesystem::exists(ReceiptFile(payment)));

  // Operator actions are in the audit log: the retry, and a log level change.
  const CommandResult level = Posctl({"log-level", "debug"});
  ASSERT_EQ(level.exit_code, 0) << level.err;
  const CommandResult audit = Posctl({"audit", "list"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("RETRY_HOOK_RUN hook_run " + run));
  EXPECT_THAT(audit.out, HasSubstr("reason: receipt disk mounted again"));
  EXPECT_THAT(audit.out, HasSubstr("SET_LOG_LEVEL server"));
  const CommandResult only_retries = Posctl({"-o", "json", "audit", "list", "--action", "retry_hook_run"});
  ASSERT_EQ(only_retries.exit_code, 0) << only_retries.err;
  EXPECT_THAT(only_retries.out, HasSubstr("AUDIT_ACTION_RETRY_HOOK_RUN"));
  EXPECT_THAT(only_retries.out, Not(HasSubstr("SET_LOG_LEVEL")));
  const CommandResult bad_action = Posctl({"audit", "list", "--action", "dance"});
  EXPECT_EQ(bad_action.exit_code, kExitUsage);
  EXPECT_THAT(bad_action.err, HasSubstr("not an audit action"));
}

}  // namespace
}  // namespace posd
