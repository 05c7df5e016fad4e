import type { z } from "zod";

const statusByCode = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_request_in_progress: 409,
  idempotency_key_reused: 422,
  client_id_reused: 422,
  invalid_transition: 409,
  payload_too_large: 413,
  quota_exceeded: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof statusByCode;

export type FieldError = { path: string; message: string };

export type ErrorBody = {
  error: { code: ErrorCode; message: string; fields?: FieldError[] };
};

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly fields?: FieldError[];
  /** Extra response headers the error implies, such as Retry-After on a 429. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, fields?: FieldError[], headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.fields = fields;
    this.headers = headers;
  }

  get status(): number {
    return statusByCode[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

export function badRequest(message: string, fields?: FieldError[]): ApiError {
  return new ApiError("bad_request", message, fields);
}

export function fromZodError(error: z.ZodError, prefix?: string): ApiError {
  const fields = error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "(root)",
    message: issue.message,
  }));
  return badRequest("The request is invalid.", fields);
}
