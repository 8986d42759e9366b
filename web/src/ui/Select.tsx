import { useId, type SelectHTMLAttributes } from "react";

export interface SelectOption {
  value: string;
  label: string;
}

export interface SelectProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> {
  label: string;
  options: readonly SelectOption[];
  /** Hide the label visually (still read by screen readers), e.g. in a toolbar. */
  hideLabel?: boolean;
}

export function Select({ label, options, hideLabel = false, className, ...rest }: SelectProps) {
  const id = useId();
  return (
    <div className={["field", className ?? ""].filter(Boolean).join(" ")}>
      <label className={hideLabel ? "visually-hidden" : "field__label"} htmlFor={id}>
        {label}
      </label>
      <select id={id} className="field__input field__select" {...rest}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
