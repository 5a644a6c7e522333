import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, ErrorReason } from "../src/gen/posd/v1/errors_pb";
import { describeFailure, withRetries } from "../src/api/errors";

test("the reason in the error details decides what the cashier reads", () => {
  const info = create(ErrorInfoSchema, { reason: ErrorReason.ROLE_REQUIRED, subjectId: "pay_1" });
  const error = new ConnectError("RefundPayment needs the operator role", Code.PermissionDenied, undefined,
                                 [{ desc: ErrorInfoSchema, value: info }]);
  const failure = describeFailure(error);
  assert.equal(failure.codeName, "PERMISSION_DENIED");
  assert.equal(failure.reasonName, "ROLE_REQUIRED");
  assert.equal(failure.subjectId, "pay_1");
  assert.match(failure.cashierText, /manager/);
  assert.equal(failure.retryable, false);
});

test("a fetch that reaches nobody is UNAVAILABLE and retryable", () => {
  const failure = describeFailure(new ConnectError("[unknown] Failed to fetch", Code.Unknown, undefined, undefined,
                                                   new TypeError("Failed to fetch")));
  assert.equal(failure.codeName, "UNAVAILABLE");
  assert.equal(failure.retryable, true);
  assert.equal(describeFailure(new TypeError("Failed to fetch")).code, Code.Unavailable);
});

test("withRetries retries only what a retry can fix, with the caller's request", async () => {
  let calls = 0;
  const value = await withRetries(async () => {
    calls++;
    if (calls < 3) throw new ConnectError("down", Code.Unavailable);
    return "done";
  }, 5, 1);
  assert.equal(value, "done");
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(withRetries(async () => {
    calls++;
    throw new ConnectError("no", Code.FailedPrecondition);
  }, 5, 1), (error: unknown) => error instanceof ConnectError && error.code === Code.FailedPrecondition);
  assert.equal(calls, 1);
});
