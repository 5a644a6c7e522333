// What a failed call means to the cashier. posd's message is for
// developers; the UI maps the status code and posd.v1.ErrorInfo's reason
// (from grpc-status-details-bin) to its own words.
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, ErrorReason, type ErrorInfo } from "../gen/posd/v1/errors_pb";

export interface CallFailure {
  code: Code;
  codeName: string;  // e.g. "PERMISSION_DENIED", as gRPC spells it
  reason: ErrorReason;
  reasonName: string;  // e.g. "ROLE_REQUIRED"; "" when posd sent none
  subjectId: string;
  message: string;  // posd's developer message, for the log and tooltips
  cashierText: string;  // what the screen says
  retryable: boolean;  // safe and useful to retry with the same request_id
}

function grpcCodeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

const reasonText: Partial<Record<ErrorReason, string>> = {
  [ErrorReason.ROLE_REQUIRED]: "Not allowed from the till: a manager must do this with their own credentials.",
  [ErrorReason.DEVICE_NOT_READY]: "The terminal is not ready. Check that it is on and connected, then try again.",
  [ErrorReason.PAYMENT_IN_DOUBT]: "A payment of this order is being checked with the terminal. Do not take another payment yet.",
  [ErrorReason.PAYMENT_IN_FLIGHT]: "A payment of this order is still running on a terminal.",
  [ErrorReason.AMOUNT_TOO_LARGE]: "The amount is more than what is still due.",
  [ErrorReason.HOOK_VETO]: "Refused by a shop rule",
  [ErrorReason.CURRENCY_MISMATCH]: "The currencies of the order do not match.",
  [ErrorReason.INVALID_FIELD]: "The request is incomplete or malformed.",
  [ErrorReason.INSTANCE_MISMATCH]: "posd's database was replaced; reload the page.",
};

const codeText: Partial<Record<Code, string>> = {
  [Code.Unavailable]: "posd cannot be reached.",
  [Code.DeadlineExceeded]: "posd did not answer in time.",
  [Code.PermissionDenied]: "Not allowed from the till.",
  [Code.Unauthenticated]: "The till is not signed in to posd.",
  [Code.NotFound]: "Not found; the screen may be out of date.",
};

// fetch() rejects with a TypeError when nothing answers (posd stopped, the
// connection dropped); connect-web passes that on as UNKNOWN. For the till
// it is what UNAVAILABLE means: posd cannot be reached, retry.
function isNetworkFailure(error: unknown): boolean {
  if (error instanceof TypeError) return true;
  return error instanceof ConnectError && error.code === Code.Unknown && error.cause instanceof TypeError;
}

export function describeFailure(error: unknown): CallFailure {
  const connectError = isNetworkFailure(error)
    ? new ConnectError(`network error: ${error instanceof Error ? error.message : String(error)}`,
                       Code.Unavailable, undefined, undefined, error)
    : ConnectError.from(error);
  const info: ErrorInfo | undefined = connectError.findDetails(ErrorInfoSchema)[0];
  const reason = info?.reason ?? ErrorReason.UNSPECIFIED;
  const reasonName = reason === ErrorReason.UNSPECIFIED ? "" : (ErrorReason[reason] ?? String(reason));
  let cashierText = reasonText[reason] ?? codeText[connectError.code] ?? "The request failed.";
  if (reason === ErrorReason.HOOK_VETO) cashierText = `${cashierText}: ${connectError.rawMessage}`;
  return {
    code: connectError.code,
    codeName: grpcCodeName(connectError.code),
    reason,
    reasonName,
    subjectId: info?.subjectId ?? "",
    message: connectError.rawMessage,
    cashierText,
    retryable: connectError.code === Code.Unavailable || connectError.code === Code.DeadlineExceeded,
  };
}

// Runs `call` (which must reuse one request_id on every attempt) until it
// succeeds, fails for a reason a retry cannot fix, or `attempts` run out.
// Retrying is what the request_id is for: a lost answer never charges twice.
export async function withRetries<T>(call: () => Promise<T>, attempts = 8,
                                     firstDelayMs = 250): Promise<T> {
  let delay = firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !describeFailure(error).retryable) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 4000);
    }
  }
}
