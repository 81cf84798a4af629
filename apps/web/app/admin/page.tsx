"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import { ChoiceField, TextField } from "../../src/components/fields.tsx";
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
      <RecordTable
        rows={accounts.data ?? []}
        rowKey={(account) => account.id}
        columns={[
          ["Email", (account) => account.email],
          ["Name", (account) => account.name],
          ["Role", (account) => account.role],
          ["State", (account) => (account.disabled ? "disabled" : "active")],
        ]}
        action={(account) =>
          account.disabled ? (
            <button type="button" onClick={() => enable.mutate({ id: account.id })}>
              Enable
            </button>
          ) : (
            <button type="button" onClick={() => disable.mutate({ id: account.id })}>
              Disable
            </button>
          )
        }
      />
      <form className="form" onSubmit={submit} aria-label="New account">
        <TextField label="Email" type="email" value={email} onChange={setEmail} />
        <TextField label="Name" value={name} onChange={setName} />
        <ChoiceField label="Role" options={ACCOUNT_ROLES} value={role} onChange={setRole} />
        <TextField
          label="Initial password (12+ characters)"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
        />
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
      <RecordTable
        rows={keys.data ?? []}
        rowKey={(key) => key.prefix}
        columns={[
          ["Prefix", (key) => <code>{key.prefix}</code>],
          ["Name", (key) => key.name],
          ["Role", (key) => key.role],
          ["State", (key) => (key.revoked ? "revoked" : "active")],
        ]}
        action={(key) =>
          key.revoked ? null : (
            <button type="button" onClick={() => revoke.mutate({ prefix: key.prefix })}>
              Revoke
            </button>
          )
        }
      />
      <form className="form" onSubmit={submit} aria-label="New API key">
        <TextField label="Name" value={name} onChange={setName} />
        <ChoiceField label="Role" options={KEY_ROLES} value={role} onChange={setRole} />
        <button className="button" type="submit">
          Create key
        </button>
      </form>
      <ErrorNote error={create.error ?? revoke.error} action="Not done" />
    </>
  );
}

/** The accounts' and the keys' lists: a row each, its columns, and the one action it allows. */
function RecordTable<Row>({
  rows,
  rowKey,
  columns,
  action,
}: {
  rows: readonly Row[];
  rowKey: (row: Row) => string | number;
  columns: Array<[heading: string, cell: (row: Row) => ReactNode]>;
  action: (row: Row) => ReactNode;
}) {
  return (
    <table className="table">
      <thead>
        <tr>
          {columns.map(([heading]) => (
            <th key={heading}>{heading}</th>
          ))}
          <th>
            <span className="visually-hidden">Action</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map(([heading, cell]) => (
              <td key={heading}>{cell(row)}</td>
            ))}
            <td>{action(row)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
