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

/**
 * parseRequestPart for a query string, remembering the answers for the last `capacity` distinct
 * raw query strings: client apps send the same few (`k=10`) again and again, and validating them
 * anew was a few per cent of a cached /recommend. Answers are frozen, so no caller can change
 * what the next request receives. Invalid queries are not remembered (they throw each time).
 */
export function queryParser<S extends z.ZodType>(
  schema: S,
  capacity = 1024,
): (rawQuery: string, query: unknown) => Readonly<z.infer<S>> {
  const remembered = new Map<string, Readonly<z.infer<S>>>();
  return (rawQuery, query) => {
    const known = remembered.get(rawQuery);
    if (known !== undefined) return known;
    const parsed = deepFreeze(parseRequestPart(schema, query, "query"));
    if (remembered.size >= capacity) remembered.clear();
    remembered.set(rawQuery, parsed);
    return parsed;
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
