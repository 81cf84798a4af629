import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import styles from "./panel.module.css";

export interface VersionChoice {
  name: string;
  version: string;
}

const SEPARATOR = "\n";

/** Which servable version answers; none chosen is the serving one. */
export function VersionSelect({
  value,
  onChange,
}: {
  value: VersionChoice | undefined;
  onChange: (choice: VersionChoice | undefined) => void;
}) {
  const trpc = useTRPC();
  const selectId = useId();
  const versions = useQuery(trpc.recommendations.versions.queryOptions());
  return (
    <div className={styles.search}>
      <label htmlFor={selectId}>Model version</label>
      <select
        id={selectId}
        value={value ? `${value.name}${SEPARATOR}${value.version}` : ""}
        onChange={(event) => {
          const [name, version] = event.target.value.split(SEPARATOR);
          onChange(name && version ? { name, version } : undefined);
        }}
      >
        <option value="">the serving version</option>
        {versions.data?.versions.map((v) => (
          <option key={`${v.name}@${v.version}`} value={`${v.name}${SEPARATOR}${v.version}`}>
            {v.name} {v.version} ({v.stage})
          </option>
        ))}
      </select>
      <ErrorNote error={versions.error} action="Could not list the model versions" />
    </div>
  );
}
