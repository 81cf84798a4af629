"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { TextField } from "../../src/components/fields.tsx";
import { csrfHeaders } from "../../src/csrf.ts";

type Message = { ok: boolean; text: string } | null;

async function post(body: unknown): Promise<{ ok: boolean; text: string; role?: string }> {
  const response = await fetch("/api/session", {
    method: "POST",
    headers: { "content-type": "application/json", ...csrfHeaders() },
    body: JSON.stringify(body),
  });
  const json = (await response.json().catch(() => ({}))) as {
    role?: string;
    error?: { message: string };
  };
  return response.ok
    ? { ok: true, text: "", role: json.role }
    : { ok: false, text: json.error?.message ?? `failed (${response.status})` };
}

export default function SignInPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [key, setKey] = useState("");
  const [message, setMessage] = useState<Message>(null);
  // Another key or no session: every query (the nav's whoami among them) asks again.
  const queryClient = useQueryClient();

  async function signInWithPassword(event: FormEvent) {
    event.preventDefault();
    const result = await post({ email, password });
    setPassword("");
    if (!result.ok) return setMessage(result);
    // A full load: every page asks whoami afresh with the new session.
    window.location.assign("/");
  }

  async function useKey(event: FormEvent) {
    event.preventDefault();
    const result = await post({ key });
    setMessage(
      result.ok ? { ok: true, text: "Signed in: the dashboard now uses this key." } : result,
    );
    if (result.ok) setKey("");
    void queryClient.invalidateQueries();
  }

  async function signOut() {
    const response = await fetch("/api/session", { method: "DELETE", headers: csrfHeaders() });
    setMessage(
      response.ok ? { ok: true, text: "Signed out." } : { ok: false, text: "Sign-out failed." },
    );
    void queryClient.invalidateQueries();
  }

  return (
    <section>
      <h1>Sign in with an account or API key</h1>
      <p className="muted">
        Sign in with your account. Your role decides what you can change: viewers read, product
        managers run experiments, engineers manage models and rollouts, admins manage accounts and
        keys. <code>npm start</code> prints one demo account per role.
      </p>
      <form className="form" onSubmit={signInWithPassword} aria-label="Account">
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={setEmail}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
        />
        <div className="row">
          <button className="button" type="submit">
            Sign in
          </button>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </form>

      <h2>API key</h2>
      <p className="muted">
        Or paste a key created with <code>npm run keys -- create --role pm</code> (keys are meant
        for programs).
      </p>
      <form className="form" onSubmit={useKey} aria-label="API key">
        <TextField
          label="Key"
          name="key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={setKey}
        />
        <button className="button" type="submit">
          Use this key
        </button>
      </form>
      {message ? (
        <p className={message.ok ? "verdict" : "error"} role="status">
          {message.text}
        </p>
      ) : null}
    </section>
  );
}
