"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import { useWhoami } from "../../src/session.ts";
import { useTRPC } from "../../src/trpc.tsx";

const ACCOUNT_ROLES = ["viewer", "pm", "engineer", "admin"] as const;
const KEY_ROLES = ["client", "viewer", "pm", "engineer", "admin"] as const;

/** Accounts and API keys, for admins; the api refuses every call here to anyone else (403). */
export default function AdminPage() {
  const whoami = useWhoami();
  if (whoami.isPending) return <p className="muted">Loading…</p>;
  if (!whoami.data?.may.manageKeys) {
    return (
      <section>
        <h1>Admin</h1>
        <p className="error" role="alert">
          Only admins manage accounts and API keys
          {whoami.data ? ` (you are ${whoami.data.role})` : ": sign in first"}.
        </p>
      </section>
    );
  }
  return (
    <section>
      <h1>Admin</h1>
      <Accounts />
      <ApiKeys />
    </section>
  );
}

function Accounts() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const accounts = useQuery(trpc.accounts.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.accounts.pathKey() });
  const create = useMutation(trpc.accounts.create.mutationOptions({ onSuccess: refresh }));
  const disable = useMutation(trpc.accounts.disable.mutationOptions({ onSuccess: refresh }));
  const enable = useMutation(trpc.accounts.enable.mutationOptions({ onSuccess: refresh }));
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<(typeof ACCOUNT_ROLES)[number]>("viewer");
  const [password, setPassword] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { email, name, role, password },
      {
        onSuccess: () => {
          setEmail("");
          setName("");
          setPassword("");
        },
      },
    );
  }

  return (
    <>
      <h2>Accounts</h2>
      <ErrorNote error={accounts.error} action="Could not load the accounts" />
      <table>
        <thead>
          <tr>
            <th>Email</th>
            <th>Name</th>
            <th>Role</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(accounts.data ?? []).map((account) => (
            <tr key={account.id}>
              <td>{account.email}</td>
              <td>{account.name}</td>
              <td>{account.role}</td>
              <td>{account.disabled ? "disabled" : "active"}</td>
              <td>
                {account.disabled ? (
                  <button type="button" onClick={() => enable.mutate({ id: account.id })}>
                    Enable
                  </button>
                ) : (
                  <button type="button" onClick={() => disable.mutate({ id: account.id })}>
                    Disable
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="form" onSubmit={submit} aria-label="New account">
        <label>
          Email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Role{" "}
          <select
            value={role}
            onChange={(e) => setRole(e.target.value as (typeof ACCOUNT_ROLES)[number])}
          >
            {ACCOUNT_ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Initial password (12+ characters){" "}
          <input
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button className="button" type="submit">
          Create account
        </button>
      </form>
      <ErrorNote error={create.error ?? disable.error ?? enable.error} action="Not done" />
    </>
  );
}

function ApiKeys() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKeys.pathKey() });
  const create = useMutation(trpc.apiKeys.create.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions({ onSuccess: refresh }));
  const [name, setName] = useState("");
  const [role, setRole] = useState<(typeof KEY_ROLES)[number]>("client");
  const [shown, setShown] = useState<string | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { name, role },
      {
        onSuccess: (created) => {
          setShown(created.key);
          setName("");
        },
      },
    );
  }

  return (
    <>
      <h2>API keys</h2>
      <ErrorNote error={keys.error} action="Could not load the keys" />
      {shown ? (
        <div className="verdict" role="status" data-testid="new-key">
          <p>New key (shown once: copy it now, only its hash is kept):</p>
          <code data-testid="new-key-value">{shown}</code>{" "}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(shown)}>
            Copy
          </button>{" "}
          <button type="button" onClick={() => setShown(null)}>
            Done
          </button>
        </div>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Prefix</th>
            <th>Name</th>
            <th>Role</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(keys.data ?? []).map((key) => (
            <tr key={key.prefix}>
              <td>
                <code>{key.prefix}</code>
              </td>
              <td>{key.name}</td>
              <td>{key.role}</td>
              <td>{key.revoked ? "revoked" : "active"}</td>
              <td>
                {key.revoked ? null : (
                  <button type="button" onClick={() => revoke.mutate({ prefix: key.prefix })}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="form" onSubmit={submit} aria-label="New API key">
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Role{" "}
          <select
            value={role}
            onChange={(e) => setRole(e.target.value as (typeof KEY_ROLES)[number])}
          >
            {KEY_ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button className="button" type="submit">
          Create key
        </button>
      </form>
      <ErrorNote error={create.error ?? revoke.error} action="Not done" />
    </>
  );
}
