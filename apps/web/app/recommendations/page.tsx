"use client";

import { NewUserTry } from "../../src/components/recommendations/NewUserTry.tsx";
import { SimilarExplorer } from "../../src/components/recommendations/SimilarExplorer.tsx";
import { UserExplorer } from "../../src/components/recommendations/UserExplorer.tsx";

export default function RecommendationsPage() {
  return (
    <section>
      <h1>Recommendations</h1>
      <p className="muted">
        What each servable model version recommends, read from the serving runtime. Nothing here is
        logged as an exposure or feedback.
      </p>
      <UserExplorer />
      <SimilarExplorer />
      <NewUserTry />
    </section>
  );
}
