import { Unavailable } from "@reco/contracts";

/** Driver-adapter error kinds that mean "the database cannot be reached right now". */
const LOST_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);

/**
 * PostgreSQL SQLSTATEs of the same kind: connection exceptions (class 08), too many connections,
 * administrator/crash shutdown, and a database closed to new connections (55000 with that text).
 */
function lostSqlState(code: string, message: string): boolean {
  return (
    code.startsWith("08") ||
    ["53300", "57P01", "57P02", "57P03"].includes(code) ||
    (code === "55000" && /accepting connections/.test(message))
  );
}

interface PrismaLike {
  name?: string;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string; message?: string } } };
}

/** True when `error` says the database is unreachable rather than that the request is wrong. */
export function isDatabaseLoss(error: unknown): boolean {
  const e = error as PrismaLike | null;
  if (!e || typeof e !== "object") return false;
  if (e.name === "PrismaClientInitializationError") return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (!cause?.kind) return false;
  if (LOST_KINDS.has(cause.kind)) return true;
  return cause.kind === "postgres" && lostSqlState(cause.code ?? "", cause.message ?? "");
}

/**
 * Runs database work; a lost database becomes Unavailable (503 + Retry-After) instead of an
 * internal error, so clients retry instead of giving up.
 */
export async function unlessDatabaseLost<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isDatabaseLoss(error))
      throw new Unavailable("the experiments database is unreachable; retry shortly", 2);
    throw error;
  }
}
