import type { PrismaClient } from "@reco/db";
import { countInteractions } from "@reco/snapshots";

export interface CatalogCounts {
  items: number;
  users: number;
  ratings: number;
}

export interface CatalogStats {
  counts(): Promise<CatalogCounts>;
}

/**
 * Items come from the catalog table; users and ratings from the interaction snapshots (they are
 * events, not rows). The snapshot scan is cached for `cacheMs` so a dashboard polling it stays cheap.
 */
export function createCatalogStats(deps: {
  prisma: PrismaClient;
  snapshotsRoot: string;
  cacheMs?: number;
}): CatalogStats {
  const cacheMs = deps.cacheMs ?? 10_000;
  let cached: { at: number; value: Promise<{ users: number; ratings: number }> } | undefined;
  return {
    async counts() {
      const now = Date.now();
      if (!cached || now - cached.at > cacheMs) {
        const value = countInteractions(deps.snapshotsRoot).then(({ users, ratings }) => ({
          users,
          ratings,
        }));
        cached = { at: now, value };
        value.catch(() => {
          if (cached?.value === value) cached = undefined; // do not cache a failure
        });
      }
      const [items, interactions] = await Promise.all([deps.prisma.item.count(), cached.value]);
      return { items, ...interactions };
    },
  };
}
