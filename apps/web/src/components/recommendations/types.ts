import type { AppRouter } from "@reco/api-router";
import type { inferRouterOutputs } from "@trpc/server";

type Outputs = inferRouterOutputs<AppRouter>["recommendations"];
export type VersionAnswer = Outputs["similar"];
export type PanelItem = VersionAnswer["items"][number];
export type FoundItem = Outputs["searchItems"]["items"][number];
