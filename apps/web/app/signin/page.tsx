"use client";

import { useState, type FormEvent } from "react";

export default function SignInPage() {
  const [key, setKey] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const response = await fetch("/api/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key }),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: { message: string } };
    setMessage(
      response.ok
        ? { ok: true, text: "Signed in: the dashboard now uses this key." }
        : { ok: false, text: body.error?.message ?? `failed (${response.status})` },
    );
    if (response.ok) setKey("");
  }

  async function signOut() {
    await fetch("/api/session", { method: "DELETE" });
    setMessage({ ok: true, text: "Signed out." });
  }

  return (
    <section>
      <h1>API key</h1>
      <p className="muted">
        Paste a key created with <code>npm run keys -- create --role pm</code>. Your role decides
        what you can change: viewers read, product managers run experiments, engineers manage
        models.
      </p>
      <form className="form" onSubmit={submit}>
        <label>
          Key{" "}
          <input
            name="key"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        <div className="row">
          <button className="button" type="submit">
            Use this key
          </button>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </form>
      {message ? (
        <p className={message.ok ? "verdict" : "error"} role="status">
          {message.text}
        </p>
      ) : null}
    </section>
  );
}
