import type { Principal } from "@reco/serving";

/** Who acts, as the audit log and the model stages record it: the calling key, as set-stage does. */
export const actorOf = (principal: Principal): string => `key:${principal.prefix}`;
