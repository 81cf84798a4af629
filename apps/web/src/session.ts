"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc.tsx";

/**
 * The signed-in key's or account's role and what it may change (session.whoami), so pages offer
 * only the controls it can use; the api still checks every call. Kept a minute: a sign-in reloads.
 */
export function useWhoami() {
  const trpc = useTRPC();
  return useQuery({ ...trpc.session.whoami.queryOptions(), staleTime: 60_000 });
}
