import { BadInput, describeZodError } from "@reco/contracts";
import type { z } from "zod";

/** Validates one part of a request; the error names the part and each bad field. */
export function parseRequestPart<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: "path" | "query" | "body",
): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new BadInput(`invalid ${part}: ${describeZodError(parsed.error)}`, {
    issues: parsed.error.issues.map((issue) => ({
      in: part,
      path: issue.path.join("."),
      message: issue.message,
    })),
  });
}
