/** A failed query or mutation, with the api's message (which names the field at fault). */
export function ErrorNote({
  error,
  action,
}: {
  error: { message: string } | null;
  action: string;
}) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {action}: {error.message}
    </p>
  );
}
