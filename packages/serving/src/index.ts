export * from "./auth/index.ts";
export { createCatalogStats, type CatalogCounts, type CatalogStats } from "./stats.ts";
export { PopularityRanker, type PopularItem, type PopularityCounts } from "./popularity.ts";
