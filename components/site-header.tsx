import Link from "next/link";
import { OutsideFarmerApp } from "./farmer/outside-farmer-app";

const LINKS = [
  ["/marketplace", "Marketplace"],
  ["/analytics", "Analytics"],
  ["/signin", "Sign in"],
] as const;

/** On every page but the farmer app's: the skip link first in tab order, then the site's few destinations. */
export function SiteHeader() {
  return (
    <OutsideFarmerApp>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <nav aria-label="Site">
          <Link href="/" prefetch={false} className="brand">
            GreenLedger
          </Link>
          <ul>
            {LINKS.map(([href, label]) => (
              <li key={href}>
                <Link href={href} prefetch={false}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
    </OutsideFarmerApp>
  );
}
