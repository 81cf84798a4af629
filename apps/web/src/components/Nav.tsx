"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useWhoami } from "../session.ts";

const PAGES: Array<[href: string, label: string]> = [
  ["/", "Overview"],
  ["/experiments", "Experiments"],
  ["/models", "Models"],
  ["/rollouts", "Rollouts"],
  ["/retraining", "Retraining"],
  ["/recommendations", "Recommendations"],
  ["/monitoring", "Monitoring"],
];

/** The page's section: `/models/x/v1` is under Models; `/` only itself. */
const isCurrent = (pathname: string, href: string) =>
  href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);

/**
 * The dashboard's pages, wrapping onto more lines where the width runs out (tablets), plus Admin
 * for admins only, and who is signed in (a link to the sign-in page, where one signs out). Plain
 * links: Tab reaches each in order.
 */
export function Nav() {
  const pathname = usePathname();
  const whoami = useWhoami();
  const links = whoami.data?.may.manageKeys ? [...PAGES, ["/admin", "Admin"] as const] : PAGES;
  const signedInAs = whoami.data
    ? `${whoami.data.email ?? whoami.data.name} (${whoami.data.role})`
    : null;
  return (
    <nav aria-label="Main">
      <ul className="nav-links">
        {links.map(([href, label]) => (
          <li key={href}>
            <Link href={href} aria-current={isCurrent(pathname, href) ? "page" : undefined}>
              {label}
            </Link>
          </li>
        ))}
        <li className="nav-account">
          <Link
            href="/signin"
            aria-current={pathname === "/signin" ? "page" : undefined}
            data-testid="nav-account"
          >
            {signedInAs ?? "Sign in"}
          </Link>
        </li>
      </ul>
    </nav>
  );
}
