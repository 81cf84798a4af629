import type { ReactNode } from "react";
import { Nav } from "../src/components/Nav.tsx";
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
        <Providers>
          <header className="topbar">
            <strong>Reco</strong>
            <Nav />
          </header>
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
