import type { ReactNode } from "react";
import { Providers } from "../src/trpc.tsx";
import "./globals.css";

export const metadata = {
  title: "Reco dashboard",
  description: "Recommendations, experiments and rollouts",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <strong>Reco</strong>
          <nav>
            <a href="/">Overview</a>
            <a href="/experiments">Experiments</a>
            <a href="/models">Models</a>
            <a href="/rollouts">Rollouts</a>
            <a href="/retraining">Retraining</a>
            <a href="/recommendations">Recommendations</a>
            <a href="/monitoring">Monitoring</a>
            <a href="/signin">API key</a>
          </nav>
        </header>
        <main>
          <Providers>{children}</Providers>
        </main>
      </body>
    </html>
  );
}
