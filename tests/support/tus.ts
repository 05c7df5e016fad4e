import * as tus from "tus-js-client";

export type UploadOutcome = { ok: true } | { ok: false; status: number; body: unknown };

/** Sends `bytes` to a declared attachment's upload with tus-js-client (creation with upload: one request if it fits). */
export function tusUpload(
  endpoint: string,
  attachmentId: string,
  bytes: Buffer,
  cookie: string,
  options: Partial<tus.UploadOptions> = {},
): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    const upload = new tus.Upload(bytes, {
      endpoint,
      metadata: { attachmentId },
      headers: { cookie },
      uploadDataDuringCreation: true,
      retryDelays: [],
      ...options,
      onSuccess: () => resolve({ ok: true }),
      onError: (error) => {
        const response = (error as tus.DetailedError).originalResponse;
        const text = response?.getBody() ?? "";
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ ok: false, status: response?.getStatus() ?? 0, body });
      },
    });
    upload.start();
  });
}
