import type { z } from "zod";
import { SCHEMA_VERSION, recoEventSchema, type RecoEvent } from "./events.ts";

export const MAX_EVENT_BYTES = 64 * 1024;

export type DecodeResult = { ok: true; event: RecoEvent } | { ok: false; reason: string };

/** One line per problem, naming the field: "itemId: Too big: expected string to have <=256 characters". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

/** Decodes raw bus bytes into a validated event, or a reason fit for the dead-letter queue. */
export function decodeEvent(bytes: Uint8Array | string): DecodeResult {
  const size = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > MAX_EVENT_BYTES)
    return { ok: false, reason: `oversized: ${size} bytes > ${MAX_EVENT_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    return { ok: false, reason: `bad json: ${(error as Error).message}` };
  }
  if (
    json &&
    typeof json === "object" &&
    "schemaVersion" in json &&
    json.schemaVersion !== SCHEMA_VERSION
  ) {
    return { ok: false, reason: `unknown schemaVersion: ${JSON.stringify(json.schemaVersion)}` };
  }
  const parsed = recoEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `invalid: ${describeZodError(parsed.error)}` };
  return { ok: true, event: parsed.data };
}
