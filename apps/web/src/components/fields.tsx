import type { InputHTMLAttributes, ReactNode } from "react";

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange">;

/** A labelled text input (the label names it for screen readers and `getByLabel`). */
export function TextField({
  label,
  value,
  onChange,
  ...input
}: { label: ReactNode; value: string; onChange: (value: string) => void } & InputProps) {
  return (
    <label>
      {label} <input {...input} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

/** A labelled choice among fixed options, typed by them. */
export function ChoiceField<Option extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: ReactNode;
  options: readonly Option[];
  value: Option;
  onChange: (value: Option) => void;
}) {
  return (
    <label>
      {label}{" "}
      <select value={value} onChange={(e) => onChange(e.target.value as Option)}>
        {options.map((option) => (
          <option key={option}>{option}</option>
        ))}
      </select>
    </label>
  );
}
