import { Unavailable } from "@reco/contracts";

/**
 * The cache backend cannot answer right now (not connected, command timed out, connection lost).
 * Raised fast — never after waiting on an offline queue — so callers can treat it as a miss.
 */
export class CacheUnavailable extends Unavailable {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message, 1);
  }
}
