/**
 * Said where a page leaves out the controls the signed-in role may not use (the api refuses them
 * with 403 anyway), so a viewer knows why there is nothing to click.
 */
export function ReadOnlyNote({ role, who }: { role: string; who: string }) {
  return (
    <p className="muted" data-testid="read-only">
      You are signed in as {role}: you can read this; {who}.
    </p>
  );
}
