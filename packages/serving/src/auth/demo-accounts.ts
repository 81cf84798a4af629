import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ACCOUNT_ROLES, type AccountRole, type AccountStore } from "./account-store.ts";

export interface DemoAccount {
  role: AccountRole;
  email: string;
  /** Known only when this start created the account or found it in the file. */
  password?: string;
}

/** `viewer@reco.local`, `pm@reco.local`, …: one demo account per role. */
export const demoAccountEmail = (role: AccountRole) => `${role}@reco.local`;

/**
 * One demo account per role, each with a generated password saved in `file` (mode 0600, one
 * `role email password` line each) for the launcher's banner. An account that already exists keeps
 * its password: it is listed with the one saved in the file, or without one when the file lacks it.
 */
export async function ensureDemoAccounts(
  store: AccountStore,
  file: string,
): Promise<DemoAccount[]> {
  const saved = new Map<string, string>();
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [, email, password] = line.trim().split(/\s+/);
    if (email && password) saved.set(email, password);
  }
  const accounts: DemoAccount[] = [];
  for (const role of ACCOUNT_ROLES) {
    const email = demoAccountEmail(role);
    const password = randomBytes(12).toString("base64url");
    const created = await store.ensure({ email, name: `Demo ${role}`, role, password });
    accounts.push({ role, email, password: created ? password : saved.get(email) });
  }
  await mkdir(path.dirname(file), { recursive: true });
  const lines = accounts
    .filter((account) => account.password)
    .map((account) => `${account.role} ${account.email} ${account.password}\n`);
  await writeFile(file, lines.join(""), { mode: 0o600 });
  await chmod(file, 0o600);
  return accounts;
}
