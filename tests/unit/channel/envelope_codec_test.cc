#include "service/channel/envelope_codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace posd::channel {
namespace {

using ::posd::testing::StatusIs;

TEST(EnvelopeCodec, RoundTrips) {
  v1::Envelope envelope;
  envelope.set_message_id(7);
  envelope.mutable_sale()->set_transaction_id("pay_1");
  absl::StatusOr<v1::Envelope> decoded = DecodeEnvelope(EncodeEnvelope(envelope));
  POSD_ASSERT_OK(decoded);
  EXPECT_EQ(decoded->message_id(), 7u);
  EXPECT_EQ(BodyName(*decoded), "sale");
}

TEST(EnvelopeCodec, GarbageIsInvalidArgument) {
  const std::vector<uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0x0f};
  EXPECT_THAT(DecodeEnvelope(garbage), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EnvelopeCodec, ValidatesSaleFields) {
  v1::Sale sale;
  sale.set_transaction_id("pay_1");
  sale.set_amount_minor(100);
  sale.set_currency_code("EUR");
  POSD_EXPECT_OK(ValidateSale(sale));
  sale.set_amount_minor(0);
  absl::Status bad = ValidateSale(sale);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldOf(bad), "amount_minor");
  sale.set_amount_minor(1);
  sale.set_currency_code("eur");
  EXPECT_EQ(FieldOf(ValidateSale(sale)), "currency_code");
  sale.set_currency_code("EUR");
  sale.set_transaction_id(std::string(65, 'x'));
  EXPECT_EQ(FieldOf(ValidateSale(sale)), "transaction_id");
}

TEST(EnvelopeCodec, MasksPansFurtherNeverLess) {
  EXPECT_EQ(SanitizeMaskedPan("411111******1111"), "411111******1111");
  // A full number is masked down to first 6 + last 4.
  EXPECT_EQ(SanitizeMaskedPan("4111111111111111"), "411111******1111");
  EXPECT_EQ(SanitizeMaskedPan("5500000000000004"), "550000******0004");
  EXPECT_EQ(SanitizeMaskedPan("************1111"), "************1111");
  EXPECT_EQ(SanitizeMaskedPan("4111-1111-1111-1111"), "");
  EXPECT_EQ(SanitizeMaskedPan("1234"), "");
  EXPECT_EQ(SanitizeMaskedPan(""), "");
}

}  // namespace
}  // namespace posd::channel
